import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DEMO_KEYS, type Emulator} from '../emulator/index.js'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** The config dir (APPSERVICES_CONFIG_DIR). */
  configDir: string
  /** The emulator to point APPSERVICES_BASE_URL at. */
  emulator?: Emulator
  /** Extra environment; undefined values are removed. */
  env?: Record<string, string | undefined>
  stdin?: string
  /** The working directory (the test's own by default). */
  cwd?: string
  /** Run as this user and group (the test must be root to ask). */
  uid?: number
  gid?: number
  /** Kill the process after this long (the test then fails on `signal`). */
  timeoutMs?: number
}

/**
 * Variables of the developer's shell, or of the CI machine, that would change what
 * the CLI does; CI, TERM and the like change whether node thinks a terminal has colour.
 */
const SCRUBBED =
  /^(APPSERVICES_|MONGODB_ATLAS_|DO_NOT_TRACK$|NO_COLOR$|FORCE_COLOR$|NODE_DISABLE_COLORS$|CI$|TERM$|COLORTERM$|TERM_PROGRAM$|TMUX$|TEAMCITY_VERSION$|DEBUG$|HTTPS?_PROXY$|NO_PROXY$|https?_proxy$|no_proxy$)/

export function cleanEnv(options: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!SCRUBBED.test(key)) env[key] = value
  env.APPSERVICES_CONFIG_DIR = options.configDir
  if (options.emulator) env.APPSERVICES_BASE_URL = options.emulator.url
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/**
 * Runs the built stand-alone CLI asynchronously (the emulator may live in the
 * test's own process, so a synchronous spawn would deadlock).
 */
export function runCli(args: string[], options: RunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv(options),
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
    child.stdin.end(options.stdin ?? '')
  })
}

/** Logs the profile in with the emulator's demo keys. */
export async function login(emulator: Emulator, configDir: string, profile = 'default'): Promise<void> {
  const run = await runCli(
    [
      'login',
      '--api-key',
      DEMO_KEYS.publicKey,
      '--private-api-key',
      DEMO_KEYS.privateKey,
      '--profile',
      profile,
    ],
    {configDir, emulator},
  )
  if (run.code !== 0) throw new Error(`login failed: ${run.stderr}`)
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'appservices-test-'): {path: string; remove: () => void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, remove: () => rmSync(path, {recursive: true, force: true})}
}

/** Logout requests the emulator received, by user id. */
export function logoutsByUser(emulator: Emulator): Map<string, number> {
  const counts = new Map<string, number>()
  for (const entry of emulator.state.requests) {
    const match = /\/users\/([^/]+)\/logout$/.exec(entry.path)
    if (entry.method === 'PUT' && match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1)
  }
  return counts
}
