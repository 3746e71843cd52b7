import {expect} from 'chai'
import {execFileSync, spawn} from 'node:child_process'
import {chmodSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {DEMO_KEYS, generateSeed, startEmulator, type Emulator, type Seed} from '../emulator/index.js'
import {
  BIN,
  cleanEnv,
  login,
  logoutsByUser,
  runCli,
  tempDir,
  type CliRun,
  type RunOptions,
} from '../helpers/cli.js'
import {KEYS, runCliInPty, type PtyRun} from '../helpers/pty.js'

const ESC = '\u001B'

/** Every option of PRODUCT.md §3, through the built CLI, against the emulator over real HTTP. */
describe('inherited options (PRODUCT.md §3), end to end', function () {
  this.timeout(60_000)

  let emulator: Emulator
  let seed: Seed
  let config: {path: string; remove: () => void}
  const cleanups: (() => void)[] = []
  const terminals: PtyRun[] = []

  const users = () => seed.projects[0].apps[0].users
  const run = (args: string[], options: Partial<RunOptions> = {}) =>
    runCli(args, {configDir: config.path, emulator, ...options})
  const revoke = (args: string[], options: Partial<RunOptions> = {}) =>
    run(['users', 'revoke', '-a', 'demo', ...args], options)
  const logoutCount = () => [...logoutsByUser(emulator).values()].reduce((sum, count) => sum + count, 0)
  const scratch = () => {
    const dir = tempDir('appservices-options-')
    cleanups.push(dir.remove)
    return dir.path
  }
  const inTerminal = (args: string[], options: Partial<RunOptions> = {}) => {
    const terminal = runCliInPty(args, {configDir: config.path, emulator, timeoutMs: 20_000, ...options})
    terminals.push(terminal)
    return terminal
  }

  before(async () => {
    seed = generateSeed({users: 12})
    emulator = await startEmulator({seed})
    config = tempDir()
    await login(emulator, config.path)
  })

  after(async () => {
    config.remove()
    await emulator.close()
  })

  beforeEach(() => {
    emulator.setFaults({})
    emulator.state.clearLog()
  })

  afterEach(() => {
    for (const terminal of terminals.splice(0)) terminal.kill()
    for (const cleanup of cleanups.splice(0)) cleanup()
  })

  describe('--profile', () => {
    it('selects the profile file <configDir>/<name>.yaml, with the profile name as its top-level key', async () => {
      const dir = join(scratch(), 'fresh', 'config')

      const loggedIn = await runCli(
        [
          'login',
          '--api-key',
          'demo-public-key',
          '--private-api-key',
          'demo-private-key-0000',
          '--profile',
          'ci_2-b',
        ],
        {configDir: dir, emulator},
      )

      expect(loggedIn.code, loggedIn.stderr).to.equal(0)
      expect(readdirSync(dir)).to.deep.equal(['ci_2-b.yaml'])
      expect(readFileSync(join(dir, 'ci_2-b.yaml'), 'utf8')).to.match(
        /^ci_2-b:\n {2}public_api_key: demo-public-key\n/,
      )
      const named = await runCli(['whoami', '--profile', 'ci_2-b', '--json'], {configDir: dir, emulator})
      expect(JSON.parse(named.stdout)).to.deep.include({profile: 'ci_2-b', logged_in: true})
      const standard = await runCli(['whoami', '--json'], {configDir: dir, emulator})
      expect(JSON.parse(standard.stdout)).to.deep.include({profile: 'default', logged_in: false})
    })

    it('writes the profile 0600 in a directory created 0700', async () => {
      const dir = join(scratch(), 'made', 'here')

      const loggedIn = await runCli(
        [
          'login',
          '--api-key',
          'demo-public-key',
          '--private-api-key',
          'demo-private-key-0000',
          '--profile',
          'modes',
        ],
        {configDir: dir, emulator},
      )

      expect(loggedIn.code, loggedIn.stderr).to.equal(0)
      expect(statSync(dir).mode & 0o777).to.equal(0o700)
      expect(statSync(join(dir, 'modes.yaml')).mode & 0o777).to.equal(0o600)
    })

    for (const name of ['../escape', 'a/b', 'dots.yaml', 'with space', '', 'naïve']) {
      it(`refuses the profile name ${JSON.stringify(name)} with exit 2 before any request or file`, async () => {
        const dir = scratch()

        const result = await runCli(['users', 'revoke', '-a', 'demo', '-y', `--profile=${name}`], {
          configDir: join(dir, 'config'),
          emulator,
        })

        expect(result.code, result.stderr).to.equal(2)
        expect(result.stderr).to.match(/^Error: Invalid profile name /)
        expect(result.stdout).to.equal('')
        expect(readdirSync(dir)).to.deep.equal([])
        expect(emulator.state.requests).to.have.length(0)
      })
    }

    it('names a non-default profile in the "not logged in" hint, and not the default one', async () => {
      const named = await revoke(['-y', '--profile', 'nobody-here'])
      const standard = await revoke(['-y'], {configDir: scratch()})

      expect(named.code).to.equal(1)
      expect(named.stderr).to.contain('Error: You are not logged in with profile "nobody-here"')
      expect(named.stderr).to.match(/^Try: appservices login --profile nobody-here\b/m)
      expect(standard.code).to.equal(1)
      expect(standard.stderr).to.match(/^Error: You are not logged in$/m)
      expect(standard.stderr).to.match(/^Try: appservices login /m)
      expect(standard.stderr).not.to.contain('--profile')
      expect(emulator.state.requests).to.have.length(0)
    })
  })

  describe('-o, --output-target', () => {
    it('writes the text result to a new file created 0600, and nothing to stdout', async () => {
      const target = join(scratch(), 'report.txt')

      const result = await revoke(['-u', users()[0]._id, '-o', target])

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.equal('')
      expect(result.stderr).to.equal('')
      expect(readFileSync(target, 'utf8')).to.contain('Revoked sessions for 1 of 1 user')
      expect(statSync(target).mode & 0o777).to.equal(0o600)
    })

    it('replaces an existing file (content and mode), so a JSON run leaves exactly one document', async () => {
      const target = join(scratch(), 'report.json')
      writeFileSync(target, `${'{"stale": true}\n'.repeat(500)}`, {mode: 0o644})
      chmodSync(target, 0o644)

      const result = await revoke(['-u', users()[1]._id, '--output-target', target, '-f', 'json'])

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.equal('')
      const report = JSON.parse(readFileSync(target, 'utf8'))
      expect(report.summary).to.deep.include({matched: 1, revoked: 1, failed: 0})
      expect(statSync(target).mode & 0o777).to.equal(0o600)
    })

    it('with -f json, leaves one JSON error document in the file when the command fails', async () => {
      const target = join(scratch(), 'error.json')
      writeFileSync(target, 'previous content that must go\n'.repeat(100))

      const result = await run(['users', 'revoke', '-a', 'no-such-app', '-y', '-o', target, '-f', 'json'])

      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      expect(result.stderr).to.equal('')
      const document = JSON.parse(readFileSync(target, 'utf8'))
      expect(Object.keys(document)).to.deep.equal(['error'])
      expect(document.error.code).to.equal('AppNotFound')
      expect(document.error.message).to.be.a('string').and.contain('no-such-app')
      expect(logoutCount()).to.equal(0)
    })

    it('with --json, puts a "not logged in" error document in the file', async () => {
      const target = join(scratch(), 'error.json')

      const result = await revoke(['-y', '--profile', 'ghost', '--json', '-o', target])

      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      expect(JSON.parse(readFileSync(target, 'utf8')).error.code).to.equal('NotLoggedIn')
    })

    it('with a partial failure in JSON mode, leaves the one report document (exit 1)', async () => {
      const target = join(scratch(), 'partial.json')

      const result = await revoke([
        '-u',
        `${users()[2]._id},ffffffffffffffffffffffff`,
        '--json',
        '-o',
        target,
      ])

      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      const report = JSON.parse(readFileSync(target, 'utf8'))
      expect(report.summary).to.deep.include({matched: 2, revoked: 1, failed: 1})
    })

    const unwritable: [string, (dir: string) => string][] = [
      ['a path whose directory does not exist', (dir) => join(dir, 'missing', 'report.txt')],
      ['a directory', (dir) => dir],
      [
        'a read-only file',
        (dir) => {
          const path = join(dir, 'read-only.txt')
          writeFileSync(path, 'keep me\n')
          chmodSync(path, 0o444)
          return path
        },
      ],
    ]
    for (const [what, makePath] of unwritable) {
      it(`fails first, exit 1, and changes nothing when PATH is ${what}`, async () => {
        const dir = scratch()
        const target = makePath(dir)
        const before = readdirSync(dir)
        const profileBefore = readFileSync(join(config.path, 'default.yaml'), 'utf8')

        const result = await revoke(['-y', '--telemetry', 'off', '-o', target])

        expect(result.code).to.equal(1)
        expect(result.stdout).to.equal('')
        expect(result.stderr).to.match(/^Error: Cannot write the output target .+\nTry: .+\n$/)
        expect(emulator.state.requests, 'no Admin API request at all').to.have.length(0)
        expect(readdirSync(dir)).to.deep.equal(before)
        expect(readFileSync(join(config.path, 'default.yaml'), 'utf8'), '--telemetry off not saved').to.equal(
          profileBefore,
        )
        if (what === 'a read-only file') expect(readFileSync(target, 'utf8')).to.equal('keep me\n')
      })
    }

    it('never puts prompts or progress in the file (they stay on the terminal)', async () => {
      const target = join(scratch(), 'picked.txt')
      emulator.setFaults({rules: [{route: 'logout', latencyMs: 150}]})

      const terminal = inTerminal(['users', 'revoke', '-a', 'demo', '--concurrency', '1', '-o', target])
      await terminal.waitFor('Select the users to log out')
      await terminal.press('a', KEYS.enter)
      const exit = await terminal.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.match(/Revoking sessions: \d+\/12/)
      const written = readFileSync(target, 'utf8')
      expect(written).to.contain('Revoked sessions for 12 of 12 users')
      expect(written).not.to.contain('Select the users')
      expect(written).not.to.contain('Revoking sessions')
      expect(written).not.to.contain('\r')
      expect(exit.output).not.to.contain('Revoked sessions for 12 of 12 users')
    })

    it('writes the whole report into a named pipe that a reader has open', async () => {
      const dir = scratch()
      const fifo = join(dir, 'fifo')
      execFileSync('mkfifo', [fifo])
      // The shell opens the pipe once, then reads it to the end: had the CLI opened and closed it to check
      // for a reader, this reader would stop at that first end, and the report would be lost (or the CLI hang).
      const reader = spawn('sh', ['-c', 'echo >&2 ready; exec 3<"$1"; cat <&3', 'sh', fifo], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let received = ''
      reader.stdout.on('data', (chunk) => (received += chunk))
      const readerDone = new Promise((resolve) => reader.on('close', resolve))
      await new Promise((resolve) => reader.stderr.once('data', resolve))

      // The shell may not be waiting in its open yet: the CLI then refuses the pipe, changing nothing, and is run again.
      let result: CliRun
      for (let attempt = 1; ; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
        result = await revoke(['-u', users()[2]._id, '--json', '-o', fifo], {timeoutMs: 15_000})
        if (attempt === 10 || !result.stdout.includes('nothing reads from')) break
      }
      await readerDone

      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.equal('')
      expect(JSON.parse(received).summary).to.deep.include({matched: 1, revoked: 1})
    })

    it('takes - as stdout, as curl and tar do, and leaves no file named -', async () => {
      const dir = scratch()

      const result = await revoke(['-u', users()[3]._id, '--json', '-o', '-'], {cwd: dir})

      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout).summary).to.deep.include({matched: 1, revoked: 1})
      expect(readdirSync(dir)).to.deep.equal([])
    })
  })

  describe('-f, --output-format and --json', () => {
    const spellings = [
      ['-f', 'json'],
      ['-fjson'],
      ['--output-format', 'json'],
      ['--output-format=json'],
      ['--json'],
    ]
    for (const spelling of spellings) {
      it(`${spelling.join(' ')} prints exactly one JSON document on stdout and nothing else`, async () => {
        const result = await revoke(['-u', users()[3]._id, ...spelling])

        expect(result.code, result.stderr).to.equal(0)
        expect(result.stdout.endsWith('}\n')).to.equal(true)
        const report = JSON.parse(result.stdout)
        expect(report.app.client_app_id).to.equal('demo-abcde')
        expect(report.summary).to.deep.include({matched: 1, revoked: 1})
        expect(result.stderr).to.equal('')
      })
    }

    it('"" and text give the text report', async () => {
      for (const format of ['', 'text']) {
        const result = await revoke(['-u', users()[4]._id, '-f', format])
        expect(result.code, result.stderr).to.equal(0)
        expect(result.stdout).to.match(/^Revoked sessions for 1 of 1 user$/m)
        expect(() => JSON.parse(result.stdout)).to.throw()
      }
    })

    it('keeps warnings on stderr, out of the JSON document', async () => {
      const dir = scratch()
      await login(emulator, dir, 'warned')
      emulator.setFaults({rules: [{route: 'deleteSession', errorRate: 1, errorStatus: 400}]})

      const result = await runCli(['logout', '--profile', 'warned', '--json'], {configDir: dir, emulator})

      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout)).to.deep.equal({profile: 'warned', was_logged_in: true})
      expect(result.stderr).to.match(/^Warning: the server session could not be ended/)
    })

    it('answers a usage error in JSON mode with one JSON error document on stdout (exit 2)', async () => {
      const result = await revoke(['--json', '--no-such-flag'])

      expect(result.code).to.equal(2)
      expect(result.stderr).to.equal('')
      const document = JSON.parse(result.stdout)
      expect(document.error.code).to.equal('UsageError')
      expect(document.error.message).to.contain('--no-such-flag')
      expect(emulator.state.requests).to.have.length(0)
    })

    it('refuses an unknown format naming the flag, the value and the allowed values (exit 2, no request)', async () => {
      const result = await revoke(['-y', '-f', 'xml'])

      expect(result.code).to.equal(2)
      expect(result.stdout).to.equal('')
      const [first, second, ...rest] = result.stderr.trimEnd().split('\n')
      expect(first).to.equal(
        'Error: Invalid value for --output-format: "xml"; allowed values: "" (text), text, json',
      )
      expect(second).to.equal('Try: appservices users revoke --help')
      expect(rest).to.deep.equal([])
      expect(emulator.state.requests).to.have.length(0)

      const inJson = await revoke(['-y', '--output-format=yaml', '--json'])
      expect(inJson.code).to.equal(2)
      expect(JSON.parse(inJson.stdout).error).to.deep.include({code: 'UsageError'})
      expect(JSON.parse(inJson.stdout).error.message).to.contain('--output-format: "yaml"')
    })

    it('shows its values as ""|json in the help', async () => {
      const help = await run(['users', 'revoke', '--help'])

      expect(help.code).to.equal(0)
      expect(help.stdout).to.contain('[-f ""|json]')
      expect(help.stdout).to.match(/-f, --output-format=""\|json +Output format/)
      expect(help.stdout).not.to.contain('|text|json')
    })
  })

  describe('colour', () => {
    /** A report with styled cells on stdout and an error with a styled "Error:" on stderr. */
    async function styledRuns(flags: string[], env: Record<string, string | undefined>): Promise<CliRun[]> {
      return Promise.all([
        revoke(['-u', 'ffffffffffffffffffffffff', ...flags], {env}),
        run(['users', 'revoke', '-a', 'no-such-app', '-y', ...flags], {env}),
      ])
    }

    it('FORCE_COLOR forces colour on a stdout that is not a terminal (the control case)', async () => {
      const [report, failure] = await styledRuns([], {FORCE_COLOR: '1'})

      expect(report.stdout).to.contain(`${ESC}[1mID${ESC}[22m`)
      expect(failure.stderr).to.contain(`${ESC}[31mError:${ESC}[39m`)
    })

    const plainCases: [string, string[], Record<string, string | undefined>][] = [
      ['a stdout that is not a terminal', [], {}],
      ['NO_COLOR, even with FORCE_COLOR', [], {NO_COLOR: '1', FORCE_COLOR: '1'}],
      ['--disable-colors, even with FORCE_COLOR', ['--disable-colors'], {FORCE_COLOR: '3'}],
      ['JSON, even with FORCE_COLOR', ['--json'], {FORCE_COLOR: '1'}],
      ['-f json, even with FORCE_COLOR', ['-f', 'json'], {FORCE_COLOR: '1'}],
    ]
    for (const [what, flags, env] of plainCases) {
      it(`leaves no escape code anywhere with ${what}`, async () => {
        for (const result of await styledRuns(flags, env)) {
          expect(result.stdout).not.to.contain(ESC)
          expect(result.stderr).not.to.contain(ESC)
          expect(result.stdout + result.stderr).to.match(/ffffffffffffffffffffffff|no-such-app/)
        }
      })
    }

    it('never writes colour into the output target, even with FORCE_COLOR', async () => {
      const dir = scratch()
      // One target per run: the two run at once, and each replaces its target when it starts.
      const env = {FORCE_COLOR: '1'}
      const [report, failure] = await Promise.all([
        revoke(['-u', 'ffffffffffffffffffffffff', '-o', join(dir, 'report.txt')], {env}),
        run(['users', 'revoke', '-a', 'no-such-app', '-y', '-o', join(dir, 'failure.txt')], {env}),
      ])

      expect(readFileSync(join(dir, 'report.txt'), 'utf8'))
        .to.contain('ffffffffffffffffffffffff')
        .and.not.contain(ESC)
      expect(readFileSync(join(dir, 'failure.txt'), 'utf8')).not.to.contain(ESC)
      for (const result of [report, failure]) expect(result.stdout + result.stderr).not.to.contain(ESC)
    })

    describe('in a terminal', () => {
      it('colours the report by default (the control case)', async () => {
        const result = await rawTerminal(['users', 'revoke', '-a', 'demo', '-u', users()[5]._id], {
          configDir: config.path,
          emulator,
        })

        expect(result.code, result.output).to.equal(0)
        expect(result.output).to.contain(`${ESC}[32myes${ESC}[39m`)
      })

      it('colours the report with an empty NO_COLOR, which asks for nothing (no-color.org)', async () => {
        const result = await rawTerminal(['users', 'revoke', '-a', 'demo', '-u', users()[6]._id], {
          configDir: config.path,
          emulator,
          env: {NO_COLOR: ''},
        })

        expect(result.code, result.output).to.equal(0)
        expect(result.output).to.contain(`${ESC}[32myes${ESC}[39m`)
      })

      const plainTerminal: [string, string[], Record<string, string>][] = [
        ['NO_COLOR', [], {NO_COLOR: '1'}],
        ['--disable-colors', ['--disable-colors'], {}],
        ['--disable-colors with FORCE_COLOR', ['--disable-colors'], {FORCE_COLOR: '1'}],
        ['FORCE_COLOR=0', [], {FORCE_COLOR: '0'}],
        ['TERM=dumb', [], {TERM: 'dumb'}],
        // node judges a terminal under an unnamed CI to have no colour, and so do the prompts.
        ['CI=true', [], {CI: 'true'}],
        ['--json', ['--json'], {}],
      ]
      for (const [what, flags, env] of plainTerminal) {
        it(`leaves no escape code on the terminal with ${what}, progress line included`, async () => {
          // Slow logouts, one at a time, so that the progress counter is drawn (after the first second).
          emulator.setFaults({rules: [{route: 'logout', latencyMs: 120}]})

          const result = await rawTerminal(
            ['users', 'revoke', '-a', 'demo', '-y', '--concurrency', '1', ...flags],
            {
              configDir: config.path,
              emulator,
              env,
            },
          )

          expect(result.code, result.output).to.equal(0)
          if (!flags.includes('--json')) expect(result.output).to.match(/Revoking sessions: \d+\/12/)
          expect(result.output).to.contain('12')
          expect(result.output).not.to.contain(ESC)
        })
      }

      const colourCode = new RegExp(`${ESC}\\[[0-9;]*m`)
      const promptCases: [string, string[], Record<string, string>, boolean][] = [
        ['colours the prompt by default (the control case)', [], {}, true],
        [
          'draws the prompt without colour with --disable-colors, even with FORCE_COLOR',
          ['--disable-colors'],
          {FORCE_COLOR: '1'},
          false,
        ],
        [
          'draws the prompt without colour with NO_COLOR, even with FORCE_COLOR',
          [],
          {NO_COLOR: '1', FORCE_COLOR: '1'},
          false,
        ],
        ['draws the prompt without colour under CI=true, like the report', [], {CI: 'true'}, false],
        [
          'colours the prompt under CI=true with FORCE_COLOR, like the report',
          [],
          {CI: 'true', FORCE_COLOR: '1'},
          true,
        ],
      ]
      for (const [title, flags, env, coloured] of promptCases) {
        it(title, async () => {
          const session = inTerminal(['users', 'revoke', '-a', 'demo', ...flags], {env})
          await session.waitFor('Select the users to log out')
          await session.press(KEYS.ctrlC)
          const {code} = await session.exited

          expect(code).to.equal(130)
          if (coloured) expect(session.rawOutput).to.match(colourCode)
          else expect(session.rawOutput).not.to.match(colourCode)
        })
      }

      it('judges stderr on its own: no escape code in a file that stderr is redirected to', async () => {
        const errors = join(scratch(), 'stderr.txt')

        const result = await rawTerminal(['users', 'revoke', '-a', 'no-such-app', '-y'], {
          configDir: config.path,
          emulator,
          stderrTo: errors,
        })

        expect(result.code).to.equal(1)
        expect(readFileSync(errors, 'utf8')).to.equal(
          'Error: No app matches "no-such-app" in 2 projects\nTry: check --app (a name, client app id or _id) and --project\n',
        )
      })

      it('leaves no escape code on the terminal nor in the file with -o', async () => {
        const target = join(scratch(), 'out.txt')

        const result = await rawTerminal(['users', 'revoke', '-a', 'no-such-app', '-y', '-o', target], {
          configDir: config.path,
          emulator,
        })

        expect(result.code).to.equal(1)
        expect(result.output).to.contain('Error: No app matches')
        expect(result.output).not.to.contain(ESC)
        expect(readFileSync(target, 'utf8')).not.to.contain(ESC)
      })
    })
  })

  describe('-y, --yes', () => {
    it('in a terminal, revokes every matched user without waiting for input', async () => {
      const terminal = inTerminal(['users', 'revoke', '-a', 'demo', '-y'])

      const exit = await terminal.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.contain('Revoked sessions for 12 of 12 users')
      expect(exit.output).not.to.contain('Select the users')
      expect(logoutCount()).to.equal(12)
    })

    it('in a terminal, makes login fail at once on a missing key instead of prompting', async () => {
      const terminal = inTerminal(['login', '--yes', '--profile', 'unprompted'])

      const exit = await terminal.exited

      expect(exit.code, exit.output).to.equal(2)
      expect(exit.output).to.contain('Error: Missing required flag --api-key')
      expect(exit.output).not.to.contain('Public API key:')
    })

    it('without a terminal, is what lets a run act on every matched user', async () => {
      const refused = await revoke([])
      expect(refused.code).to.equal(2)
      expect(refused.stderr).to.match(/^Error: 12 users matched; .*--user.*--yes/)
      expect(logoutCount()).to.equal(0)

      const confirmed = await revoke(['--yes'])
      expect(confirmed.code, confirmed.stderr).to.equal(0)
      expect(logoutCount()).to.equal(12)
    })
  })

  describe('--realm-url (hidden) and APPSERVICES_BASE_URL', () => {
    const closedPort = 'http://127.0.0.1:9'

    it('is hidden from the help', async () => {
      const help = await run(['users', 'revoke', '--help'])

      expect(help.stdout).not.to.contain('realm-url')
    })

    it('takes the flag over the environment, the environment over the profile', async () => {
      const byFlag = await revoke(['-u', users()[6]._id, '--realm-url', emulator.url], {
        env: {APPSERVICES_BASE_URL: closedPort},
      })
      expect(byFlag.code, byFlag.stderr).to.equal(0)

      // The profile logged in to the emulator, so at another URL it has no session (and sends nothing there).
      const byEnv = await revoke(['-u', users()[6]._id], {env: {APPSERVICES_BASE_URL: closedPort}})
      expect(byEnv.code).to.equal(1)
      expect(byEnv.stderr).to.contain(
        `Error: You are not logged in to http://127.0.0.1:9 (the profile's session is for ${emulator.url})`,
      )

      const byProfile = await revoke(['-u', users()[6]._id], {env: {APPSERVICES_BASE_URL: undefined}})
      expect(byProfile.code, byProfile.stderr).to.equal(0)
    })

    it('allows plain http:// for loopback hosts', async () => {
      const localhost = emulator.url.replace('127.0.0.1', 'localhost')

      // Another origin than the profile's, so the environment's keys log in there.
      const result = await revoke(['-u', users()[7]._id, '--realm-url', localhost], {
        env: {
          MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey,
          MONGODB_ATLAS_PRIVATE_API_KEY: DEMO_KEYS.privateKey,
        },
      })

      expect(result.code, result.stderr).to.equal(0)
    })

    for (const [source, args, env] of [
      ['--realm-url', ['--realm-url', 'http://admin.example.com'], {}],
      ['APPSERVICES_BASE_URL', [], {APPSERVICES_BASE_URL: 'http://10.0.0.1:8080'}],
    ] as [string, string[], Record<string, string>][]) {
      it(`refuses a plain http:// URL of a remote host from ${source} with exit 2 before any request`, async () => {
        const result = await revoke(['-u', users()[8]._id, ...args], {env})

        expect(result.code).to.equal(2)
        expect(result.stderr).to.match(
          new RegExp(`^Error: Refusing plain http:// Admin API base URL from ${source}`),
        )
        expect(emulator.state.requests).to.have.length(0)
      })
    }
  })

  describe('errors and exit codes', () => {
    it('prints one "Error:" line and a "Try:" line, no stack, and exits 1 on a failure', async () => {
      const result = await run(['users', 'revoke', '-a', 'no-such-app', '-y'])

      expect(result.code).to.equal(1)
      expect(result.stdout).to.equal('')
      expect(result.stderr).to.equal(
        'Error: No app matches "no-such-app" in 2 projects\nTry: check --app (a name, client app id or _id) and --project\n',
      )
    })

    it('adds the stack trace when DEBUG is set', async () => {
      const result = await run(['users', 'revoke', '-a', 'no-such-app', '-y'], {env: {DEBUG: '1'}})

      expect(result.code).to.equal(1)
      expect(result.stderr).to.match(/^Error: No app matches/)
      expect(result.stderr).to.match(/^\s+at .+\(.+\.js:\d+:\d+\)$/m)
    })

    it('exits 2 on usage errors, with one line and a hint', async () => {
      for (const args of [['--no-such-flag'], ['--concurrency', '0'], ['--state', 'sleeping']]) {
        const result = await revoke(['-y', ...args])
        expect(result.code, args.join(' ')).to.equal(2)
        expect(result.stderr, args.join(' ')).to.match(/^Error: [^\n]+\nTry: [^\n]+\n$/)
      }
      expect(emulator.state.requests).to.have.length(0)
    })

    it('exits 130 on Ctrl-C, reporting what was done', async () => {
      emulator.setFaults({rules: [{route: 'logout', latencyMs: 300}]})
      const child = spawn(
        process.execPath,
        [BIN, 'users', 'revoke', '-a', 'demo', '-y', '--concurrency', '1'],
        {
          env: cleanEnv({configDir: config.path, emulator}),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let stdout = ''
      child.stdout.on('data', (chunk) => (stdout += chunk))
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      const deadline = Date.now() + 15_000
      while (logoutCount() < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20))

      child.kill('SIGINT')
      const code = await exited

      expect(code).to.equal(130)
      expect(stdout).to.match(/^Interrupted\. Revoked sessions for \d+ of 12 users/m)
      expect(logoutCount()).to.be.below(12)
    })
  })
})

/** Runs the CLI in a pseudo-terminal and returns everything it showed, escape codes kept. */
function rawTerminal(
  args: string[],
  options: RunOptions & {stderrTo?: string},
): Promise<{code: number | null; output: string}> {
  const script = 'import os, pty, sys\nsys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))'
  const command = [process.execPath, BIN, ...args]
  // With stderrTo, only stdout (and stdin) stay on the terminal: stderr goes to that file.
  const argv = options.stderrTo
    ? ['sh', '-c', 'f=$1; shift; exec "$@" 2>"$f"', 'sh', options.stderrTo, ...command]
    : command
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script, ...argv], {
      env: {TERM: 'xterm-256color', ...cleanEnv(options)},
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, output})
    })
  })
}
