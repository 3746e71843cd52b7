import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import type {CliRun} from '../helpers/cli.js'

/** The plugin's checkout: what `npm pack` packs and `plugins link` links. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The host's own oclif packages, taken from the project's installed devDependencies (no download). */
const HOST_OCLIF_PACKAGES = ['@oclif/core', '@oclif/plugin-help', '@oclif/plugin-plugins']

const MODULE_TRACE = pathToFileURL(fileURLToPath(new URL('module-trace.mjs', import.meta.url))).href

export type ModuleKind = 'esm' | 'cjs'

export interface HostOptions {
  /** Where the host's package lives; created. */
  dir: string
  /** The host's bin, e.g. `myhost`: its variables are MYHOST_CONFIG_DIR and so on. */
  bin: string
  module: ModuleKind
  /** Where the host's config, data and cache dirs go; created. */
  stateDir: string
  /** The environment shared by every host: see `sandboxEnv`. */
  env: NodeJS.ProcessEnv
  /** The packed plugin, listed in the host's oclif.plugins and installed as a dependency by npm. */
  pluginTarball?: string
  topicSeparator?: string
}

export interface Host {
  bin: string
  dir: string
  module: ModuleKind
  configDir: string
  dataDir: string
  cacheDir: string
  /** The host's environment, with its own config, data and cache dirs. */
  env: NodeJS.ProcessEnv
  /** Runs `node <host>/bin/run.js ...args` asynchronously (an emulator may live in this process). */
  run(args: string[], options?: {env?: NodeJS.ProcessEnv; timeoutMs?: number}): Promise<CliRun>
}

function installedVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string
    }
  ).version
}

/** The variable prefix oclif derives from a bin name (`myhost` -> `MYHOST`). */
export function envPrefix(bin: string): string {
  return bin.replaceAll('-', '_').toUpperCase()
}

/**
 * An environment that keeps every write inside `root`: HOME and the XDG dirs,
 * npm's cache and logs. The developer's npm settings (npm_* variables that
 * `npm test` exports, ~/.npmrc) are left out so that a nested npm behaves the
 * same under `npm test`, in a shell and in CI; only the registry is kept.
 */
export function sandboxEnv(
  root: string,
  options: {registry?: string; base?: NodeJS.ProcessEnv} = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(options.base ?? process.env)) {
    if (/^(npm_|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$|OCLIF_|XDG_)/i.test(key)) continue
    env[key] = value
  }
  const home = join(root, 'home')
  mkdirSync(home, {recursive: true})
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    npm_config_cache: join(root, 'npm-cache'),
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_progress: 'false',
  })
  if (options.registry) env.npm_config_registry = options.registry
  return env
}

/** Runs a program to completion, asynchronously; rejects with its output when it fails. */
export function exec(
  command: string,
  args: string[],
  options: {cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; allowFailure?: boolean},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const run = {code, signal, stdout, stderr}
      if ((code !== 0 || signal) && !options.allowFailure) {
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ?? code}) in ${options.cwd}\n${stdout}\n${stderr}`,
          ),
        )
      } else resolve(run)
    })
  })
}

/** The npm registry the developer's npm uses, so that a sandboxed npm reaches the same one. */
export async function configuredRegistry(): Promise<string | undefined> {
  const run = await exec('npm', ['config', 'get', 'registry'], {
    cwd: PROJECT_ROOT,
    env: process.env,
    allowFailure: true,
  })
  const registry = run.stdout.trim()
  return run.code === 0 && /^https?:\/\//.test(registry) ? registry : undefined
}

/** `npm pack` of the checkout into `destination`; returns the tarball's absolute path. */
export async function packPlugin(destination: string, env: NodeJS.ProcessEnv): Promise<string> {
  const run = await exec('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: PROJECT_ROOT,
    env,
  })
  const [packed] = JSON.parse(run.stdout.slice(run.stdout.indexOf('['))) as {filename: string}[]
  return join(destination, packed.filename)
}

/**
 * Creates a real oclif host CLI: package.json (ESM or CommonJS), bin/run.js,
 * one command of its own (`hello`), @oclif/plugin-help and
 * @oclif/plugin-plugins in oclif.plugins. With `pluginTarball`, the plugin is
 * a dependency installed by npm and listed in oclif.plugins.
 */
export async function createHost(options: HostOptions): Promise<Host> {
  const {dir, bin} = options
  const esm = options.module === 'esm'
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(join(dir, 'commands'), {recursive: true})
  const pluginDependency: Record<string, string> = options.pluginTarball
    ? {'appservices-plugin-users': `file:${options.pluginTarball}`}
    : {}
  const pjson = (dependencies: Record<string, string>) => ({
    name: `${bin}-cli`,
    version: '3.2.1',
    private: true,
    ...(esm ? {type: 'module'} : {}),
    bin: {[bin]: './bin/run.js'},
    dependencies,
    oclif: {
      bin,
      dirname: bin,
      commands: './commands',
      topicSeparator: options.topicSeparator ?? ' ',
      plugins: [
        '@oclif/plugin-help',
        '@oclif/plugin-plugins',
        ...(options.pluginTarball ? ['appservices-plugin-users'] : []),
      ],
    },
  })
  const writePjson = (dependencies: Record<string, string>) =>
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pjson(dependencies), null, 2)}\n`)
  writeFileSync(
    join(dir, 'bin', 'run.js'),
    esm
      ? "#!/usr/bin/env node\nimport {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n"
      : "#!/usr/bin/env node\nconst oclif = require('@oclif/core')\n\noclif.execute({dir: __dirname}).catch(oclif.handle)\n",
  )
  const hello = `static summary = 'Say hello from ${bin}.'\n  async run() {\n    this.log('hello from ${bin}')\n  }`
  writeFileSync(
    join(dir, 'commands', 'hello.js'),
    esm
      ? `import {Command} from '@oclif/core'\n\nexport default class Hello extends Command {\n  ${hello}\n}\n`
      : `const {Command} = require('@oclif/core')\n\nclass Hello extends Command {\n  ${hello}\n}\n\nmodule.exports = Hello\n`,
  )

  // oclif loads only the core plugins that are also dependencies, so the host declares all three.
  const oclifDependencies = Object.fromEntries(
    HOST_OCLIF_PACKAGES.map((name) => [name, installedVersion(name)]),
  )
  if (options.pluginTarball) {
    // npm installs the plugin and the @oclif/core that host and plugin share. The host's two plugins are
    // linked from the project afterwards (npm would run scripts in linked folders, and remove extraneous links).
    writePjson({'@oclif/core': oclifDependencies['@oclif/core'], ...pluginDependency})
    await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      env: options.env,
      timeoutMs: 180_000,
    })
  }
  writePjson({...oclifDependencies, ...pluginDependency})
  mkdirSync(join(dir, 'node_modules', '@oclif'), {recursive: true})
  for (const name of HOST_OCLIF_PACKAGES) {
    const target = join(dir, 'node_modules', name)
    if (!existsSync(target)) symlinkSync(join(PROJECT_ROOT, 'node_modules', name), target, 'dir')
  }

  const prefix = envPrefix(bin)
  const configDir = join(options.stateDir, 'config')
  const dataDir = join(options.stateDir, 'data')
  const cacheDir = join(options.stateDir, 'cache')
  for (const path of [configDir, dataDir, cacheDir]) mkdirSync(path, {recursive: true})
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(options.env)) if (!key.startsWith(`${prefix}_`)) env[key] = value
  Object.assign(env, {
    [`${prefix}_CONFIG_DIR`]: configDir,
    [`${prefix}_DATA_DIR`]: dataDir,
    [`${prefix}_CACHE_DIR`]: cacheDir,
  })
  const runJs = join(dir, 'bin', 'run.js')
  return {
    bin,
    dir,
    module: options.module,
    configDir,
    dataDir,
    cacheDir,
    env,
    run: (args, runOptions = {}) =>
      exec(process.execPath, [runJs, ...args], {
        cwd: dir,
        env: {...env, ...runOptions.env},
        timeoutMs: runOptions.timeoutMs ?? 120_000,
        allowFailure: true,
      }),
  }
}

/**
 * Runs a command with test/host/module-trace.mjs preloaded and returns the paths of every module it loaded
 * (file: URLs turned into paths), to check that a command loads no more than it needs.
 */
export async function traceModules(
  argv: string[],
  options: {cwd: string; env: NodeJS.ProcessEnv},
): Promise<string[]> {
  const dir = mkdtempSync(join(options.cwd, '.module-trace-'))
  const file = join(dir, 'modules.txt')
  try {
    writeFileSync(file, '')
    await exec(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: {...options.env, MODULE_TRACE_FILE: file, NODE_OPTIONS: `--import=${MODULE_TRACE}`},
    })
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((module) => (module.startsWith('file:') ? fileURLToPath(module) : module))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
