import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingMessage} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'
import {createProxy} from 'proxy'

import {
  DEMO_KEYS,
  generateSeed,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type RequestLogEntry,
  type SeedApp,
} from '../emulator/index.js'
import {BIN, cleanEnv, login, runCli, tempDir, type CliRun} from '../helpers/cli.js'
import {runCliInPty} from '../helpers/pty.js'

interface JsonReport {
  results: {id: string; revoked: boolean; error: string | null}[]
  summary: {
    matched: number
    revoked: number
    failed: number
    skipped: number
    interrupted?: boolean
    not_attempted?: number
  }
  error?: {code: string; message: string; suggestion?: string}
}

interface Harness {
  emulator: Emulator
  demo: SeedApp
  configDir: string
  /** `users revoke -a demo --yes` plus the arguments, with the logged-in profile. */
  revoke(args?: string[], env?: Record<string, string | undefined>): Promise<CliRun>
  /** The same, as a child the test can signal. */
  spawnRevoke(args?: string[]): Spawned
}

interface Spawned {
  signal(name: NodeJS.Signals): void
  exited: Promise<CliRun & {exitedAt: number}>
}

function parseReport(run: CliRun): JsonReport {
  expect(run.stdout.trim(), `stdout should be one JSON document; stderr: ${run.stderr}`).to.match(
    /^\{[\s\S]*\}$/,
  )
  return JSON.parse(run.stdout) as JsonReport
}

const isLogout = (entry: RequestLogEntry) => entry.method === 'PUT' && entry.path.endsWith('/logout')
const userOf = (entry: RequestLogEntry) => /\/users\/([^/]+)\/logout$/.exec(entry.path)?.[1] ?? ''

/** The logout requests the server received, by the status it answered (0: reset, hung or unanswered). */
function logoutStatuses(emulator: Emulator): Map<number, number> {
  const statuses = new Map<number, number>()
  for (const entry of emulator.state.requests.filter(isLogout)) {
    statuses.set(entry.status, (statuses.get(entry.status) ?? 0) + 1)
  }
  return statuses
}

/** Requests of this test (the log is cleared before each) to one route. */
function calls(emulator: Emulator, route: RequestLogEntry['route']): number {
  return emulator.state.requests.filter((entry) => entry.route === route).length
}

/** What the server did, per user of the app: the number of logouts it carried out. */
function serverLogouts(emulator: Emulator, app: SeedApp): Map<string, number> {
  return new Map(emulator.state.userCounters(app._id).map((user) => [user.id, user.logoutCount]))
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(5)
  }
}

/**
 * An emulator with the generated seed (its `demo` app has `users` users) and a
 * profile logged in to it, for the enclosing block. Each test starts with no
 * faults and an empty request log; tests that change state get their own block.
 */
function useEmulator(users: number, options: Omit<EmulatorOptions, 'seed'> = {}): Harness {
  const seed = generateSeed({users})
  let config: {path: string; remove: () => void}
  const h = {demo: seed.projects[0].apps[0]} as Harness
  before(async () => {
    h.emulator = await startEmulator({...options, seed})
    config = tempDir()
    h.configDir = config.path
    await login(h.emulator, config.path)
  })
  beforeEach(() => {
    h.emulator.setFaults({})
    h.emulator.state.clearLog()
  })
  after(async () => {
    await h.emulator?.close()
    config?.remove()
  })
  h.revoke = (args = [], env = {}) =>
    runCli(['users', 'revoke', '-a', 'demo', '--yes', ...args], {
      configDir: h.configDir,
      emulator: h.emulator,
      env,
      timeoutMs: 45_000,
    })
  h.spawnRevoke = (args = []) => {
    const child = spawn(process.execPath, [BIN, 'users', 'revoke', '-a', 'demo', '--yes', ...args], {
      env: cleanEnv({configDir: h.configDir, emulator: h.emulator}),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000)
    return {
      signal: (name) => child.kill(name),
      exited: new Promise((resolve, reject) => {
        child.on('error', reject)
        child.on('close', (code, signal) => {
          clearTimeout(timer)
          resolve({code, signal, stdout, stderr, exitedAt: Date.now()})
        })
      }),
    }
  }
  return h
}

describe('users revoke under load and faults', function () {
  this.timeout(60_000)

  describe('transient failures', () => {
    const h = useEmulator(300)

    it('revokes every user exactly once and exits 0 when 15% of logouts answer 429 or 503 and some connections reset', async () => {
      h.emulator.setFaults({
        seedRandom: 7,
        rules: [
          {
            route: 'logout',
            latencyMs: 5,
            tooManyRate: 0.05,
            retryAfterSeconds: 1,
            errorRate: 0.1,
            errorStatus: 503,
            resetRate: 0.04,
          },
          {route: 'listUsers', errorRate: 0.2, errorStatus: 502},
        ],
      })

      const run = await h.revoke(['--json'])

      expect(run.code, run.stderr).to.equal(0)
      expect(parseReport(run).summary).to.deep.equal({matched: 300, revoked: 300, failed: 0, skipped: 0})
      // The faults happened, and were retried...
      const statuses = logoutStatuses(h.emulator)
      expect(statuses.get(429), '429 answers').to.be.greaterThan(3)
      expect(statuses.get(503), '503 answers').to.be.greaterThan(10)
      expect(statuses.get(0), 'reset connections').to.be.greaterThan(2)
      expect(statuses.get(204)).to.equal(300)
      // ...and the server carried out exactly one logout per user.
      const logouts = serverLogouts(h.emulator, h.demo)
      expect([...logouts.values()].filter((count) => count !== 1)).to.deep.equal([])
      expect(logouts.size).to.equal(300)
    })

    it('waits at least Retry-After before repeating a request answered 429', async () => {
      const user = h.demo.users[0]._id
      h.emulator.setFaults({rules: [{route: 'logout', times: 1, tooManyRate: 1, retryAfterSeconds: 2}]})

      const run = await h.revoke(['-u', user])

      expect(run.code, run.stderr).to.equal(0)
      const [first, second, ...more] = h.emulator.state.requests.filter(isLogout)
      expect(more).to.deep.equal([])
      expect(first.status).to.equal(429)
      expect(second.status).to.equal(204)
      expect(second.time - first.time).to.be.at.least(2000)
    })

    it('gives up after 6 attempts, keeping the server message and status, and still revokes the others (exit 1)', async () => {
      const [stuck, fine] = [h.demo.users[1]._id, h.demo.users[2]._id]
      h.emulator.setFaults({rules: [{route: 'logout', userIds: [stuck], errorRate: 1, errorStatus: 503}]})

      const run = await h.revoke(['-u', `${stuck},${fine}`, '--json'])

      expect(run.code).to.equal(1)
      const report = parseReport(run)
      expect(report.results.find((result) => result.id === stuck)?.error).to.equal(
        'service unavailable (HTTP 503)',
      )
      expect(report.results.find((result) => result.id === fine)?.revoked).to.equal(true)
      const attempts = h.emulator.state.requests.filter((entry) => isLogout(entry) && userOf(entry) === stuck)
      expect(attempts).to.have.length(6)
      // Exponential backoff with jitter from 250 ms: at least 125 + 250 + 500 + 1000 + 2000 ms in all.
      expect(attempts[5].time - attempts[0].time).to.be.at.least(3875)
    })

    it('does not retry an error that is not transient (400)', async () => {
      const user = h.demo.users[3]._id
      h.emulator.setFaults({rules: [{route: 'logout', errorRate: 1, errorStatus: 400}]})

      const run = await h.revoke(['-u', user])

      expect(run.code).to.equal(1)
      expect(run.stdout).to.contain('bad request (HTTP 400)')
      expect(h.emulator.state.requests.filter(isLogout)).to.have.length(1)
    })

    it('times out a request that gets no answer and repeats it, revoking the user once', async () => {
      const [hung, other] = [h.demo.users[4]._id, h.demo.users[5]._id]
      h.emulator.setFaults({rules: [{route: 'logout', userIds: [hung], times: 1, hang: true}]})

      const before = h.emulator.state.findUser(hung)?.logoutCount ?? 0

      const run = await h.revoke(['-u', `${hung},${other}`, '--json'], {
        APPSERVICES_REQUEST_TIMEOUT_MS: '500',
      })

      expect(run.code, run.stderr).to.equal(0)
      expect(parseReport(run).summary).to.deep.include({revoked: 2, failed: 0})
      const attempts = h.emulator.state.requests.filter((entry) => isLogout(entry) && userOf(entry) === hung)
      expect(attempts.map((entry) => entry.status)).to.deep.equal([0, 204])
      expect(attempts[1].time - attempts[0].time).to.be.at.least(500)
      expect(h.emulator.state.findUser(hung)?.logoutCount).to.equal(before + 1)
    })

    it('ends with a network error naming the cause when connections keep being reset', async () => {
      const user = h.demo.users[6]._id
      h.emulator.setFaults({rules: [{route: 'logout', resetRate: 1}]})

      const run = await h.revoke(['-u', user])

      expect(run.code).to.equal(1)
      expect(run.stdout).to.match(/Cannot reach the Admin API at http:\/\/127\.0\.0\.1:\d+: ECONNRESET/)
      expect(h.emulator.state.requests.filter(isLogout)).to.have.length(6)
    })

    it('never repeats a login, which is not idempotent', async () => {
      const config = tempDir()
      try {
        h.emulator.setFaults({rules: [{route: 'login', errorRate: 1, errorStatus: 503}]})

        const run = await runCli(
          ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
          {configDir: config.path, emulator: h.emulator},
        )

        expect(run.code).to.equal(1)
        expect(run.stderr).to.contain('service unavailable (HTTP 503)')
        expect(h.emulator.state.requests.filter((entry) => entry.route === 'login')).to.have.length(1)
      } finally {
        config.remove()
      }
    })
  })

  describe('the pool', () => {
    const h = useEmulator(400)

    it('keeps exactly --concurrency logouts in flight, no more', async () => {
      h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 40}]})
      let peak = 0
      let polling = true
      const poll = (async () => {
        while (polling) {
          const inFlight = h.emulator.state.requests.filter(
            (entry) => isLogout(entry) && entry.status === 0,
          ).length
          peak = Math.max(peak, inFlight)
          await sleep(3)
        }
      })()

      const run = await h.revoke(['--concurrency', '5'])
      polling = false
      await poll

      expect(run.code, run.stderr).to.equal(0)
      expect(peak).to.equal(5)
    })

    it('runs 32 at once without a warning on stderr', async () => {
      h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 20}]})

      const run = await h.revoke(['--concurrency', '32'])

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stderr).to.equal('')
      expect(run.stdout).to.contain('Revoked sessions for 400 of 400 users')
    })

    it('starts revoking while later pages are still being listed', async () => {
      h.emulator.setFaults({rules: [{route: 'listUsers', latencyMs: 150}]})

      const run = await h.revoke()

      expect(run.code, run.stderr).to.equal(0)
      const requests = h.emulator.state.requests
      const firstLogout = requests.findIndex(isLogout)
      const lastListing = requests.map((entry) => entry.route).lastIndexOf('listUsers')
      expect(firstLogout).to.be.greaterThan(-1)
      expect(firstLogout, 'the first logout comes before the last page is asked for').to.be.lessThan(
        lastListing,
      )
    })
  })

  describe('one shared token refresh', () => {
    describe('with a 2-second access token over a longer run', () => {
      const h = useEmulator(700, {accessTokenTtlSeconds: 2})

      it('refreshes a few times, not once per request, and revokes every user once', async () => {
        h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 60}]})
        const started = Date.now()

        const run = await h.revoke(['--json'])

        const seconds = (Date.now() - started) / 1000
        expect(run.code, run.stderr).to.equal(0)
        expect(parseReport(run).summary).to.deep.include({revoked: 700, failed: 0})
        expect(seconds, 'the run lasts several token lifetimes').to.be.greaterThan(4)
        const refreshes = calls(h.emulator, 'refresh')
        expect(refreshes).to.be.at.least(2)
        expect(refreshes).to.be.at.most(Math.ceil(seconds / 2) + 1)
        expect(calls(h.emulator, 'login')).to.equal(0)
        const refused = h.emulator.state.requests.filter((entry) => entry.status === 401).length
        expect(refused, 'several requests met an expired token at once').to.be.greaterThan(refreshes)
        expect([...serverLogouts(h.emulator, h.demo).values()].every((count) => count === 1)).to.equal(true)
      })

      it('keeps every user revoked once when the token also expires while requests wait out 429s and 503s', async () => {
        h.emulator.setFaults({
          seedRandom: 3,
          rules: [
            {
              route: 'logout',
              latencyMs: 30,
              tooManyRate: 0.1,
              retryAfterSeconds: 1,
              errorRate: 0.1,
              errorStatus: 503,
            },
          ],
        })
        const before = serverLogouts(h.emulator, h.demo)

        const run = await h.revoke(['--json'])

        expect(run.code, run.stderr).to.equal(0)
        expect(parseReport(run).summary).to.deep.include({revoked: 700, failed: 0})
        const after = serverLogouts(h.emulator, h.demo)
        expect([...after].every(([id, count]) => count === (before.get(id) ?? 0) + 1)).to.equal(true)
      })
    })

    describe('when many requests in flight meet an expired token at once', () => {
      const h = useEmulator(200)

      it('refreshes exactly once and repeats them all with the new token', async () => {
        h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 300}]})
        const run = h.spawnRevoke(['--concurrency', '16', '--json'])
        // Faults act before authentication: the 16 logouts wait out their latency, then meet the expired token.
        await until('16 logouts are in flight', () => h.emulator.state.requests.filter(isLogout).length >= 16)
        h.emulator.state.expireTokens()

        const result = await run.exited

        expect(result.code, result.stderr).to.equal(0)
        expect(parseReport(result).summary).to.deep.include({revoked: 200, failed: 0})
        expect(
          h.emulator.state.requests.filter((entry) => isLogout(entry) && entry.status === 401),
        ).to.have.length(16)
        expect(calls(h.emulator, 'refresh')).to.equal(1)
        expect([...serverLogouts(h.emulator, h.demo).values()].every((count) => count === 1)).to.equal(true)
      })
    })

    describe('when the refresh fails', () => {
      const h = useEmulator(400)

      /** Expires every token while 8 logouts are in flight, with a login that will be refused. */
      async function revokeWhileTheSessionDies(args: string[]) {
        await login(h.emulator, h.configDir)
        h.emulator.state.clearLog()
        h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 400}]})
        const run = h.spawnRevoke(['--concurrency', '8', ...args])
        await until('8 logouts are in flight', () => h.emulator.state.requests.filter(isLogout).length >= 8)
        h.emulator.state.expireTokens({refresh: true})
        h.emulator.setFaults({
          rules: [
            {route: 'logout', latencyMs: 400},
            {route: 'login', errorRate: 1, errorStatus: 401},
          ],
        })
        const result = await run.exited
        // One refresh and one login with the saved keys, then nothing: every logout the server saw was in flight.
        expect(calls(h.emulator, 'refresh')).to.equal(1)
        expect(calls(h.emulator, 'login')).to.equal(1)
        const logouts = h.emulator.state.requests.filter(isLogout)
        expect(logouts).to.have.length(8)
        expect(logouts.every((entry) => entry.status === 401)).to.equal(true)
        expect(h.emulator.state.requests.at(-1)?.route).to.be.oneOf(['login', 'logout'])
        return result
      }

      it('ends the run with the login hint after one refresh and one login, without a loop (exit 1)', async () => {
        const result = await revokeWhileTheSessionDies([])

        expect(result.code).to.equal(1)
        expect(result.stderr).to.contain('Error: Your session has expired and could not be renewed\n')
        expect(result.stderr).to.contain('Try: appservices login\n')
        expect(result.stdout).to.match(/Revoked sessions for 0 of \d+ users \(\d+ failed\)/)
      })

      it('puts the error and its hint in the JSON report', async () => {
        const result = await revokeWhileTheSessionDies(['--json'])

        expect(result.code).to.equal(1)
        const report = parseReport(result)
        expect(report.error).to.deep.equal({
          code: 'InvalidSession',
          message: 'Your session has expired and could not be renewed',
          suggestion: 'appservices login',
        })
        expect(report.summary.revoked).to.equal(0)
        expect(report.summary.failed).to.be.at.least(8)
      })
    })
  })

  describe('a server that repeats a page', () => {
    const h = useEmulator(120)

    it('stops listing with an error (exit 1), reporting the users already handled, each logged out once', async () => {
      h.emulator.setFaults({ignoreAfter: true})

      const run = await h.revoke()

      expect(run.code).to.equal(1)
      expect(run.stderr).to.match(/Error: The Admin API repeated or reordered items while paging/)
      expect(run.stdout).to.contain('Revoked sessions for 50 of 50 users')
      const logouts = serverLogouts(h.emulator, h.demo)
      expect(h.demo.users.slice(0, 50).every((user) => logouts.get(user._id) === 1)).to.equal(true)
      expect(h.demo.users.slice(50).every((user) => logouts.get(user._id) === 0)).to.equal(true)
      expect(h.emulator.state.requests.filter((entry) => entry.route === 'listUsers')).to.have.length(2)
    })
  })

  describe('interruption', () => {
    const h = useEmulator(2000)
    const profileFile = () => join(h.configDir, 'default.yaml')

    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`${signal} mid-run: no new logout starts, exit 130, and a JSON report whose counts match the server`, async () => {
        h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 40}]})
        const profileBefore = readFileSync(profileFile(), 'utf8')
        const before = serverLogouts(h.emulator, h.demo)
        const run = h.spawnRevoke(['--json'])
        await until('100 logouts were sent', () => h.emulator.state.requests.filter(isLogout).length >= 100)
        const signalledAt = Date.now()
        run.signal(signal)

        const result = await run.exited

        expect(result.code, result.stderr).to.equal(130)
        expect(result.exitedAt - signalledAt).to.be.lessThan(2500)
        const report = parseReport(result)
        expect(report.summary.interrupted).to.equal(true)
        const {summary} = report
        expect(
          summary.revoked + summary.failed + summary.skipped + (summary.not_attempted ?? 0),
          'the counts add up',
        ).to.equal(summary.matched)
        const done = new Map(
          [...serverLogouts(h.emulator, h.demo)].map(([id, count]) => [id, count - (before.get(id) ?? 0)]),
        )
        const revoked = report.results.filter((result) => result.revoked).map((result) => result.id)
        const onServer = [...done].filter(([, count]) => count > 0).map(([id]) => id)
        expect(revoked.length).to.be.greaterThan(90).and.lessThan(2000)
        expect(report.summary.revoked).to.equal(revoked.length)
        expect([...revoked].sort()).to.deep.equal(onServer.sort())
        expect([...done.values()].every((count) => count <= 1)).to.equal(true)
        const late = h.emulator.state.requests.filter(
          (entry) => isLogout(entry) && entry.time > signalledAt + 250,
        )
        expect(late, 'logouts started after the signal').to.deep.equal([])
        expect(readFileSync(profileFile(), 'utf8')).to.equal(profileBefore)
      })
    }

    /** Starts a revoke in which three logouts never get an answer, and resolves once they were all sent. */
    async function revokeUntilThreeLogoutsHang(args: string[]): Promise<{hung: string[]; run: Spawned}> {
      const hung = h.demo.users.slice(1500, 1503).map((user) => user._id)
      h.emulator.setFaults({
        rules: [
          {route: 'logout', userIds: hung, hang: true},
          {route: 'logout', latencyMs: 5},
        ],
      })
      const run = h.spawnRevoke(['--concurrency', '4', ...args])
      await until('the hung logouts were sent', () =>
        hung.every((id) =>
          h.emulator.state.requests.some((entry) => isLogout(entry) && userOf(entry) === id),
        ),
      )
      return {hung, run}
    }

    it('aborts logouts that get no answer within a second, reports them not revoked, and prints the text report', async () => {
      const before = serverLogouts(h.emulator, h.demo)
      const {hung, run} = await revokeUntilThreeLogoutsHang([])
      const signalledAt = Date.now()
      run.signal('SIGINT')

      const result = await run.exited

      expect(result.code, result.stderr).to.equal(130)
      expect(result.exitedAt - signalledAt).to.be.within(900, 3000)
      const revokedOnServer = [...serverLogouts(h.emulator, h.demo)].filter(
        ([id, count]) => count > (before.get(id) ?? 0),
      ).length
      expect(result.stdout).to.match(
        new RegExp(`Interrupted\\. Revoked sessions for ${revokedOnServer} of \\d+ users \\(3 failed`),
      )
      for (const id of hung)
        expect(result.stdout).to.match(new RegExp(`${id} .* no .*interrupted before the server answered`))
    })

    it('a second signal during the grace second aborts the hung logouts at once, and the report still comes', async () => {
      const {hung, run} = await revokeUntilThreeLogoutsHang(['--json'])
      run.signal('SIGINT')
      await sleep(100)
      run.signal('SIGTERM')

      const result = await run.exited

      expect(result.code, result.stderr).to.equal(130)
      const report = parseReport(result)
      expect(report.summary.interrupted).to.equal(true)
      for (const id of hung) {
        expect(report.results.find((entry) => entry.id === id)).to.deep.include({revoked: false})
      }
    })

    it('a JSON report that cannot be written stops the run: no new logout starts, and the error says what was done', async () => {
      const before = serverLogouts(h.emulator, h.demo)

      const run = await h.revoke(['--json', '-o', '/dev/full'])

      expect(run.code, run.stderr).to.equal(1)
      const revokedOnServer = [...serverLogouts(h.emulator, h.demo)].filter(
        ([id, count]) => count > (before.get(id) ?? 0),
      ).length
      expect(run.stderr.trim()).to.equal(
        `Error: Cannot write the output to /dev/full: no space left on the device; by then ${revokedOnServer} revoked, 0 failed, 0 skipped, and nothing more was started`,
      )
      // The report is written as the run goes: the first 64 KiB chunk fails long before the 2,000th user.
      expect(revokedOnServer).to.be.greaterThan(0).and.lessThan(1000)
    })
  })

  describe('proxies', () => {
    const h = useEmulator(60)
    let proxy: ReturnType<typeof createProxy>
    let proxyUrl: string
    const seen: string[] = []

    before(async () => {
      proxy = createProxy(createServer())
      proxy.on('request', (req: IncomingMessage) => seen.push(`${req.method} ${req.url}`))
      proxy.on('connect', (req: IncomingMessage) => seen.push(`CONNECT ${req.url}`))
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    })
    beforeEach(() => (seen.length = 0))
    after(() => new Promise((resolve) => proxy.close(resolve)))

    it('sends every Admin API request through HTTP_PROXY', async () => {
      const run = await h.revoke(['--json'], {HTTP_PROXY: proxyUrl})

      expect(run.code, run.stderr).to.equal(0)
      expect(parseReport(run).summary.revoked).to.equal(60)
      expect(h.emulator.state.requests.length).to.be.greaterThan(60)
      // hpagent tunnels plain http too (CONNECT), and keeps the tunnels open for the next requests.
      const tunnels = seen.filter((line) => line === `CONNECT ${new URL(h.emulator.url).host}`)
      expect(tunnels).to.have.length(seen.length)
      expect(tunnels.length).to.be.within(1, 10)
    })

    it('fails rather than go around a proxy that refuses', async () => {
      proxy.authenticate = () => false
      try {
        const run = await h.revoke(['-u', h.demo.users[0]._id], {HTTP_PROXY: proxyUrl})

        expect(run.code).to.equal(1)
        expect(seen).to.have.length.greaterThan(0)
        expect(h.emulator.state.requests).to.deep.equal([])
      } finally {
        delete proxy.authenticate
      }
    })

    it('goes direct for a host listed in NO_PROXY', async () => {
      const run = await h.revoke(['-u', h.demo.users[0]._id], {HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1'})

      expect(run.code, run.stderr).to.equal(0)
      expect(seen).to.deep.equal([])
    })

    it('tunnels https through HTTPS_PROXY', async () => {
      const run = await runCli(['users', 'revoke', '-a', 'demo', '--yes'], {
        configDir: h.configDir,
        env: {
          APPSERVICES_BASE_URL: 'https://127.0.0.1:9',
          // The profile is the emulator's: at this URL, the environment's keys log in (through the proxy).
          MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey,
          MONGODB_ATLAS_PRIVATE_API_KEY: DEMO_KEYS.privateKey,
          HTTPS_PROXY: proxyUrl,
          APPSERVICES_REQUEST_TIMEOUT_MS: '2000',
        },
      })

      expect(run.code).to.equal(1)
      expect(seen[0]).to.equal('CONNECT 127.0.0.1:9')
    })
  })

  describe('progress', () => {
    const h = useEmulator(300)

    it('draws a progress line on a terminal for a run longer than a second', async () => {
      h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 60}]})
      const run = runCliInPty(['users', 'revoke', '-a', 'demo', '--yes'], {
        configDir: h.configDir,
        emulator: h.emulator,
      })

      const {code, output} = await run.exited

      expect(code).to.equal(0)
      expect(output).to.match(/Revoking sessions: \d+\/\d+/)
      expect(output).to.contain('Revoked sessions for 300 of 300 users')
    })

    it('never draws it in JSON mode, nor without a terminal', async () => {
      h.emulator.setFaults({rules: [{route: 'logout', latencyMs: 60}]})
      const inPty = runCliInPty(['users', 'revoke', '-a', 'demo', '--yes', '--json'], {
        configDir: h.configDir,
        emulator: h.emulator,
      })
      const piped = h.revoke()

      const [json, text] = [await inPty.exited, await piped]

      expect(json.code).to.equal(0)
      expect(json.output).to.not.contain('Revoking sessions')
      expect(JSON.parse(json.output).summary.revoked).to.equal(300)
      expect(text.code).to.equal(0)
      expect(text.stderr).to.equal('')
    })
  })
})
