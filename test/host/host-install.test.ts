import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import {join, sep} from 'node:path'

import {DEMO_KEYS, generateSeed, startEmulator, type Emulator} from '../emulator/index.js'
import {cleanEnv, logoutsByUser, tempDir, type CliRun} from '../helpers/cli.js'
import {
  configuredRegistry,
  createHost,
  envPrefix,
  packPlugin,
  PROJECT_ROOT,
  sandboxEnv,
  traceModules,
  type Host,
  type ModuleKind,
} from './hosts.js'

const PACKAGE = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  name: string
  version: string
}

type Arrival = 'dependency' | 'install' | 'link'

const HOSTS: {module: ModuleKind; bin: string}[] = [
  {module: 'esm', bin: 'myhost'},
  {module: 'cjs', bin: 'cjs-host'},
]
const ARRIVALS: Arrival[] = ['dependency', 'install', 'link']
/** Logs in from the environment, without a saved profile. */
const ATLAS_KEYS = {
  MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey,
  MONGODB_ATLAS_PRIVATE_API_KEY: DEMO_KEYS.privateKey,
}

function show(run: CliRun): string {
  return `exit ${run.signal ?? run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`
}

/** Files in a directory tree, relative to it. */
function listFiles(root: string, relative = ''): string[] {
  return readdirSync(join(root, relative)).flatMap((entry) => {
    const path = join(relative, entry)
    return statSync(join(root, path)).isDirectory() ? listFiles(root, path) : [path]
  })
}

describe('the plugin in real oclif hosts', function () {
  // npm pack, npm installs and plugin-plugins' own npm runs: slow on a cold npm cache.
  this.timeout(300_000)

  let sandbox: {path: string; remove: () => void}
  let emulator: Emulator
  let tarball: string
  let decoyConfigDir: string
  let baseEnv: NodeJS.ProcessEnv
  let userIds: string[]
  let nextUser = 0

  before(async function () {
    expect(
      existsSync(join(PROJECT_ROOT, 'dist', 'commands', 'users', 'revoke.js')),
      'run `npm run build` first',
    ).to.equal(true)
    sandbox = tempDir('appservices-hosts-')
    const seed = generateSeed({users: 30, pendingUsers: 0})
    emulator = await startEmulator({seed})
    userIds = seed.projects[0].apps
      .find((app) => app.client_app_id === 'demo-abcde')!
      .users.map((user) => user._id)
    decoyConfigDir = join(sandbox.path, 'appservices-config-must-stay-empty')
    baseEnv = sandboxEnv(sandbox.path, {
      registry: await configuredRegistry(),
      base: cleanEnv({configDir: decoyConfigDir, emulator}),
    })
    tarball = await packPlugin(sandbox.path, baseEnv)
  })

  after(async () => {
    await emulator?.close()
    sandbox?.remove()
  })

  describe('the packed tarball', () => {
    let files: string[]

    before(() => {
      const unpacked = join(sandbox.path, 'unpacked')
      mkdirSync(unpacked, {recursive: true})
      execFileSync('tar', ['-xzf', tarball, '-C', unpacked])
      files = listFiles(join(unpacked, 'package'))
    })

    it('holds dist, bin/run.js, package.json and a manifest of the package version', () => {
      expect(files).to.include.members([
        'package.json',
        'bin/run.js',
        'oclif.manifest.json',
        'dist/index.js',
        'dist/commands/users/revoke.js',
        'dist/commands/login.js',
      ])
      const manifest = JSON.parse(
        readFileSync(join(sandbox.path, 'unpacked', 'package', 'oclif.manifest.json'), 'utf8'),
      )
      expect(manifest.version).to.equal(PACKAGE.version)
      expect(Object.keys(manifest.commands)).to.include('users:revoke')
    })

    it('holds no tests, emulator, sources, source maps or development entry points', () => {
      const unwanted = files.filter(
        (file) =>
          /^(test|src|scripts|bench|docs|\.ci)\//.test(file) ||
          file.endsWith('.map') ||
          (file.endsWith('.ts') && !file.endsWith('.d.ts')) ||
          file === 'bin/dev.js' ||
          /^tsconfig|^\.|eslint|package-lock/.test(file),
      )
      expect(unwanted).to.deep.equal([])
      expect(
        files.filter((file) => file.startsWith('dist/')).every((file) => /\.(js|d\.ts)$/.test(file)),
      ).to.equal(true)
    })
  })

  for (const {module, bin} of HOSTS) {
    for (const arrival of ARRIVALS) {
      describe(`a ${module === 'esm' ? 'ESM' : 'CommonJS'} host, plugin ${
        arrival === 'dependency'
          ? 'listed in oclif.plugins as a dependency'
          : arrival === 'install'
            ? 'added by `plugins install file:<tarball>`'
            : 'added by `plugins link <checkout>`'
      }`, () => {
        let host: Host
        let installRun: CliRun | undefined

        before(async () => {
          host = await createHost({
            dir: join(sandbox.path, `${module}-${arrival}`, 'host'),
            stateDir: join(sandbox.path, `${module}-${arrival}`, 'state'),
            bin,
            module,
            env: baseEnv,
            pluginTarball: arrival === 'dependency' ? tarball : undefined,
          })
          if (arrival === 'install') {
            installRun = await host.run(['plugins', 'install', `file:${tarball}`], {timeoutMs: 240_000})
            expect(installRun.code, show(installRun)).to.equal(0)
          } else if (arrival === 'link') {
            // --no-install: plugin-plugins would otherwise run `npm install` in the checkout.
            const run = await host.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])
            expect(run.code, show(run)).to.equal(0)
          }
        })

        it('lists the users topic and the plugin commands in the host help', async () => {
          const run = await host.run(['--help'])
          expect(run.code, show(run)).to.equal(0)
          expect(run.stdout).to.match(/^\s+users\s+Manage the users of an App Services app\./m)
          expect(run.stdout).to.match(/^\s+login\s+Log in/m)
          expect(run.stdout).to.match(/^\s+hello\s+Say hello/m)
          expect(run.stdout).to.match(/^\s+plugins\s/m)
        })

        it('shows the revoke flags and examples with the host bin', async () => {
          const run = await host.run(['users', 'revoke', '--help'])
          expect(run.code, show(run)).to.equal(0)
          for (const flag of [
            '--app',
            '--user',
            '--pending',
            '--state',
            '--provider',
            '--concurrency',
            '--profile',
            '--json',
          ])
            expect(run.stdout, flag).to.include(flag)
          expect(run.stdout).to.include('EXAMPLES')
          expect(run.stdout).to.include(`$ ${bin} users revoke --app myapp-abcde --user`)
          expect(run.stdout).not.to.include('appservices users revoke')
        })

        it('names the host bin in its hints', async () => {
          const run = await host.run(['users', 'revoke', '--no-such-flag'])
          expect(run.code, show(run)).to.equal(2)
          expect(run.stderr).to.include(`Try: ${bin} users revoke --help`)
          // A profile of its own, so that the login below still finds the default one untouched.
          writeFileSync(join(host.configDir, 'broken.yaml'), 'broken: [not, a, mapping]\n')
          const invalid = await host.run(['whoami', '--profile', 'broken'])
          expect(invalid.code, show(invalid)).to.equal(1)
          expect(invalid.stderr).to.include(
            `Try: fix or delete the file, then run: ${bin} login --profile broken`,
          )
        })

        // Installed or linked, the plugin runs its own copy of @oclif/core, whose exits the host's handler
        // would not know for its own and would print as "Error: EEXIT: 1".
        it("prints its errors in its own one-line form, with nothing added by the host's error handler", async () => {
          const usage = await host.run(['users', 'revoke', '--no-such-flag'])
          expect(usage.code, show(usage)).to.equal(2)
          expect(usage.stderr).to.equal(
            `Error: Nonexistent flag: --no-such-flag\nTry: ${bin} users revoke --help\n`,
          )

          const failure = await host.run(['users', 'revoke', '--app', 'no-such-app', '--user', userIds[0]], {
            env: ATLAS_KEYS,
          })
          expect(failure.code, show(failure)).to.equal(1)
          expect(failure.stderr).to.match(
            /^Error: No app matches "no-such-app" in \d+ projects?\nTry: [^\n]+\n$/,
          )

          const partial = await host.run(
            ['users', 'revoke', '--app', 'demo-abcde', '--user', 'f'.repeat(24)],
            {
              env: ATLAS_KEYS,
            },
          )
          expect(partial.code, show(partial)).to.equal(1)
          expect(partial.stdout).to.include('user not found')
          expect(partial.stderr).to.equal('')

          const help = await host.run(['users', 'revoke', '-h'])
          expect(help.code, show(help)).to.equal(0)
          expect(help.stdout).to.include('--concurrency')
          expect(help.stderr).to.equal('')
        })

        if (arrival === 'install') {
          it('installs without warnings', () => {
            // plugin-plugins checks that every entry of `files` exists: a negated glob there is reported as missing.
            expect(
              installRun!.stderr,
              'package.json `files` must name plain paths (no "!" patterns)',
            ).not.to.match(/warn/i)
            expect(
              existsSync(join(host.dataDir, 'node_modules', PACKAGE.name, 'oclif.manifest.json')),
            ).to.equal(true)
          })
        }

        it('lists the plugin among the host plugins', async () => {
          const run = await host.run(['plugins'])
          expect(run.code, show(run)).to.equal(0)
          if (arrival === 'dependency') {
            // Core plugins show only with --core.
            const core = await host.run(['plugins', '--core'])
            expect(core.stdout, show(core)).to.include(PACKAGE.name)
          } else {
            expect(run.stdout).to.include(PACKAGE.name)
            if (arrival === 'link') expect(run.stdout).to.include('(link)')
          }
        })

        it('logs in and revokes a user on the emulator, with the host config dir', async () => {
          const user = userIds[nextUser++]
          const login = await host.run([
            'login',
            '--api-key',
            DEMO_KEYS.publicKey,
            '--private-api-key',
            DEMO_KEYS.privateKey,
          ])
          expect(login.code, show(login)).to.equal(0)
          const profile = join(host.configDir, 'default.yaml')
          expect(existsSync(profile), `profile in ${envPrefix(bin)}_CONFIG_DIR`).to.equal(true)
          expect(readFileSync(profile, 'utf8')).to.include(DEMO_KEYS.publicKey)

          const revoke = await host.run(['users', 'revoke', '--app', 'demo-abcde', '--user', user])
          expect(revoke.code, show(revoke)).to.equal(0)
          expect(revoke.stdout).to.include('Revoked sessions for 1 of 1 user')
          expect(logoutsByUser(emulator).get(user)).to.equal(1)
          expect(existsSync(decoyConfigDir), 'the stand-alone config dir stays unused').to.equal(false)
        })

        it('loads none of the plugin code for help, --version and the host commands, and no prompts or proxy agent for a scripted revoke', async () => {
          const root = realpathSync(
            arrival === 'dependency'
              ? join(host.dir, 'node_modules', PACKAGE.name)
              : arrival === 'install'
                ? join(host.dataDir, 'node_modules', PACKAGE.name)
                : PROJECT_ROOT,
          )
          const pluginCode = (modules: string[]) =>
            modules.filter((module) => module.startsWith(join(root, 'dist') + sep))
          const runJs = join(host.dir, 'bin', 'run.js')
          for (const args of [['--version'], ['--help'], ['hello'], ['users', 'revoke', '--help']]) {
            const modules = await traceModules([process.execPath, runJs, ...args], {
              cwd: host.dir,
              env: host.env,
            })
            expect(modules.length, args.join(' ')).to.be.greaterThan(10)
            expect(pluginCode(modules), args.join(' ')).to.deep.equal([])
          }
          const revoke = await traceModules(
            [
              process.execPath,
              runJs,
              'users',
              'revoke',
              '--app',
              'demo-abcde',
              '--user',
              userIds[nextUser++],
            ],
            {cwd: host.dir, env: {...host.env, ...ATLAS_KEYS}},
          )
          expect(pluginCode(revoke)).to.include(join(root, 'dist', 'commands', 'users', 'revoke.js'))
          expect(
            revoke.filter((module) => /[/\\]node_modules[/\\](@inquirer|hpagent)[/\\]/.test(module)),
          ).to.deep.equal([])
        })

        it('keeps the host own commands working', async () => {
          const run = await host.run(['hello'])
          expect(run.code, show(run)).to.equal(0)
          expect(run.stdout.trim()).to.equal(`hello from ${bin}`)
        })
      })
    }
  }

  describe('a host with the colon topic separator, plugin linked', () => {
    let host: Host

    before(async () => {
      host = await createHost({
        dir: join(sandbox.path, 'colon-link', 'host'),
        stateDir: join(sandbox.path, 'colon-link', 'state'),
        bin: 'colonhost',
        module: 'cjs',
        env: baseEnv,
        topicSeparator: ':',
      })
      const run = await host.run(['plugins:link', PROJECT_ROOT, '--no-install'])
      expect(run.code, show(run)).to.equal(0)
    })

    it('lists the users topic and runs `users:revoke`, with examples and hints in the colon form', async () => {
      const help = await host.run(['--help'])
      expect(help.stdout, show(help)).to.match(/^\s+users\s+Manage the users of an App Services app\./m)
      const revokeHelp = await host.run(['users:revoke', '--help'])
      expect(revokeHelp.code, show(revokeHelp)).to.equal(0)
      expect(revokeHelp.stdout).to.include('$ colonhost users:revoke --app myapp-abcde --user')
      const usage = await host.run(['users:revoke', '--no-such-flag'])
      expect(usage.code, show(usage)).to.equal(2)
      expect(usage.stderr).to.include('Try: colonhost users:revoke --help')

      const user = userIds[nextUser++]
      const revoke = await host.run(['users:revoke', '--app', 'demo-abcde', '--user', user], {
        env: ATLAS_KEYS,
      })
      expect(revoke.code, show(revoke)).to.equal(0)
      expect(logoutsByUser(emulator).get(user)).to.equal(1)
    })

    it('takes `users revoke` with a space for the users topic, as oclif does in such a host', async () => {
      const user = userIds[nextUser++]
      const run = await host.run(['users', 'revoke', '--app', 'demo-abcde', '--user', user])
      expect(run.stdout, show(run)).to.include('colonhost users:COMMAND')
      expect(logoutsByUser(emulator).get(user)).to.equal(undefined)
    })
  })
})
