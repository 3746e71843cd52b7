// Throughput, rate limit and memory of `users revoke`: `npm run bench` (builds first).
// The emulator runs in a process of its own (test/emulator/cli.ts), so that the CLI's figures (wall time, peak
// RSS) are the CLI's alone; everything talks to 127.0.0.1 only. One run prints every figure of issue #5 with
// PASS or MISS against its target, in about two to three minutes.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {fileURLToPath} from 'node:url'

import {DEMO_KEYS} from '../test/emulator/index.js'
import {BIN, cleanEnv, tempDir} from '../test/helpers/cli.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EMULATOR = fileURLToPath(new URL('../test/emulator/cli.ts', import.meta.url))
const TIME = '/usr/bin/time'

const USERS = 2000
const LATENCY_MS = 25
const RATE_CAP = 100
const BIG = 100_000
const TARGET = {ratio: 6, capped: 80, rssMiB: 150}

interface Emulator {
  url: string
  stop(): Promise<void>
}

interface CliRun {
  code: number | null
  wallMs: number
  /** Peak resident set size of the CLI process, KiB. */
  maxRssKiB?: number
  stdout: string
  stderr: string
}

interface Report {
  summary: {matched: number; revoked: number; failed: number}
}

const sandbox = tempDir('appservices-bench-')
const emulators: Emulator[] = []
const started = Date.now()
let misses = 0
let gnuTimeFound: boolean | undefined

try {
  await main()
} finally {
  await Promise.all(emulators.map((emulator) => emulator.stop()))
  sandbox.remove()
}
process.exitCode = misses > 0 ? 1 : 0

async function main(): Promise<void> {
  const [load] = loadavg()
  console.log(
    `users revoke bench: node ${process.version}, ${cpus().length} CPUs, load average ${load.toFixed(1)} at start; ` +
      'emulator in its own process on 127.0.0.1',
  )

  const small = await startEmulator(['--users', String(USERS), '--latency-ms', String(LATENCY_MS)])
  await login(small)
  console.log(`\nThroughput: ${number(USERS)} users, ${LATENCY_MS} ms latency on every request`)
  const one = await throughput(small, ['--concurrency', '1'], '--concurrency 1')
  const eight = await throughput(small, [], '--concurrency 8 (default)')
  verdict(`ratio ${(eight / one).toFixed(1)} (target >= ${TARGET.ratio})`, eight / one >= TARGET.ratio)

  console.log(
    `\nRate limit: the server answers 429 (Retry-After: 1) above ${RATE_CAP} requests/s; ${LATENCY_MS} ms latency`,
  )
  await control(small, 'faults', 'PUT', {ratePerSecond: RATE_CAP, rules: [{latencyMs: LATENCY_MS}]})
  await control(small, 'requests', 'DELETE')
  const capped = await revoke(small, [])
  const log = (await control(small, 'requests', 'GET')) as {status: number}[]
  const answered = log.filter((entry) => entry.status >= 200 && entry.status < 300).length
  const refused = log.filter((entry) => entry.status === 429).length
  const achieved = answered / (capped.wallMs / 1000)
  expectAllRevoked(capped, USERS)
  verdict(
    `wall ${seconds(capped.wallMs)}, ${number(answered)} requests answered 2xx and ${number(refused)} answered 429: ` +
      `${achieved.toFixed(1)} requests/s achieved (target >= ${TARGET.capped})`,
    achieved >= TARGET.capped,
  )
  await small.stop()

  console.log(`\nMemory: ${number(BIG)} users, --json to a pipe, default concurrency, no latency`)
  const big = await startEmulator(['--users', String(BIG)])
  await login(big)
  const run = await revoke(big, ['--json'], {measureRss: true, timeoutMs: 240_000})
  expectAllRevoked(run, BIG)
  const rssMiB = (run.maxRssKiB ?? NaN) / 1024
  verdict(
    `wall ${seconds(run.wallMs)}, peak RSS of the CLI ${rssMiB.toFixed(0)} MiB (target <= ${TARGET.rssMiB} MiB)`,
    rssMiB <= TARGET.rssMiB,
  )

  console.log(
    `\nBench done in ${seconds(Date.now() - started)}; ${misses === 0 ? 'every target met' : `${misses} target(s) missed`}.`,
  )
}

/** Revokes every user of the demo app; prints and answers the Admin API requests per second of the run. */
async function throughput(emulator: Emulator, args: string[], label: string): Promise<number> {
  const before = (await control(emulator, 'stats', 'GET')) as {requests: number}
  const run = await revoke(emulator, args)
  const after = (await control(emulator, 'stats', 'GET')) as {requests: number}
  expectAllRevoked(run, USERS)
  const requests = after.requests - before.requests
  const perSecond = requests / (run.wallMs / 1000)
  console.log(
    `  ${label.padEnd(27)} wall ${seconds(run.wallMs).padStart(7)}   ${number(requests)} requests   ${perSecond.toFixed(1)} requests/s`,
  )
  return perSecond
}

function revoke(
  emulator: Emulator,
  args: string[],
  options: {measureRss?: boolean; timeoutMs?: number} = {},
): Promise<CliRun> {
  return runCli(emulator, ['users', 'revoke', '-a', 'demo', '--yes', '--json', ...args], options)
}

async function login(emulator: Emulator): Promise<void> {
  const run = await runCli(emulator, [
    'login',
    '--api-key',
    DEMO_KEYS.publicKey,
    '--private-api-key',
    DEMO_KEYS.privateKey,
  ])
  if (run.code !== 0) throw new Error(`login failed: ${run.stderr}`)
}

/**
 * Runs the built CLI as a child and times it. With measureRss, the peak RSS comes from GNU time when it is
 * there, or else from the highest VmHWM read from /proc while the process runs.
 */
function runCli(
  emulator: Emulator,
  args: string[],
  {measureRss = false, timeoutMs = 180_000}: {measureRss?: boolean; timeoutMs?: number} = {},
): Promise<CliRun> {
  const env = cleanEnv({
    configDir: sandbox.path,
    env: {APPSERVICES_BASE_URL: emulator.url, DO_NOT_TRACK: '1'},
  })
  // `npm run` passes npm's proxy settings on, and proxy-from-env reads them: the bench's traffic stays on loopback.
  for (const name of Object.keys(env)) if (/^npm_config_(https?_|no_)?proxy$/i.test(name)) delete env[name]
  const gnuTime = measureRss && hasGnuTime()
  const [command, argv] = gnuTime
    ? [TIME, ['-f', '%M', process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]]
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(command, argv, {env, stdio: ['ignore', 'pipe', 'pipe']})
    const stdout: Buffer[] = []
    let stderr = ''
    let hwmKiB = 0
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const sampler =
      measureRss && !gnuTime
        ? setInterval(() => {
            hwmKiB = Math.max(hwmKiB, vmHwmKiB(child.pid) ?? 0)
          }, 20)
        : undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      const wallMs = performance.now() - startedAt
      clearTimeout(timer)
      clearInterval(sampler)
      let maxRssKiB: number | undefined
      if (gnuTime) {
        const lines = stderr.trimEnd().split('\n')
        maxRssKiB = Number(lines.pop())
        stderr = lines.join('\n')
      } else if (measureRss) maxRssKiB = hwmKiB
      resolve({code, wallMs, maxRssKiB, stdout: Buffer.concat(stdout).toString('utf8'), stderr})
    })
  })
}

function expectAllRevoked(run: CliRun, users: number): void {
  let report: Report | undefined
  try {
    report = JSON.parse(run.stdout) as Report
  } catch {
    report = undefined
  }
  if (run.code !== 0 || report?.summary.revoked !== users) {
    throw new Error(
      `the run did not revoke all ${users} users (exit ${run.code}, summary ${JSON.stringify(report?.summary)}): ${run.stderr}`,
    )
  }
}

async function startEmulator(args: string[]): Promise<Emulator> {
  // Run by node itself (tsx as a loader), so that the process to stop is this one.
  const child = spawn(process.execPath, ['--import', 'tsx', EMULATOR, '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /^EMULATOR_URL=(\S+)$/m.exec(out)
      if (match) resolve(match[1])
    })
    child.stderr.on('data', (chunk) => (err += chunk))
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}): ${err}`)))
  })
  let stopping: Promise<void> | undefined
  const emulator: Emulator = {
    url,
    stop: () => {
      stopping ??= (async () => {
        child.kill('SIGTERM')
        await exited
      })()
      return stopping
    },
  }
  emulators.push(emulator)
  return emulator
}

async function control(emulator: Emulator, name: string, method: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${emulator.url}/__emulator/${name}`, {
    method,
    ...(body === undefined
      ? {}
      : {body: JSON.stringify(body), headers: {'content-type': 'application/json'}}),
  })
  if (!response.ok) throw new Error(`emulator ${method} ${name}: HTTP ${response.status}`)
  return response.status === 204 ? undefined : response.json()
}

function verdict(text: string, pass: boolean): void {
  if (!pass) misses++
  console.log(`  ${text}   ${pass ? 'PASS' : 'MISS'}`)
}

function hasGnuTime(): boolean {
  gnuTimeFound ??= existsSync(TIME) && spawnSync(TIME, ['-f', '%M', 'true']).status === 0
  return gnuTimeFound
}

function vmHwmKiB(pid: number | undefined): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function number(value: number): string {
  return value.toLocaleString('en-US')
}
