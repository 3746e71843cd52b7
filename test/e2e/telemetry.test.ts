import {expect} from 'chai'
import {readFileSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {
  DEMO_KEYS,
  generateSeed,
  startEmulator,
  type Emulator,
  type Seed,
  type SeedUser,
} from '../emulator/index.js'
import {login, runCli, tempDir, type CliRun, type RunOptions} from '../helpers/cli.js'

interface TelemetryEvent {
  event: string
  command: string
  execution_id: string
  time: string
  [field: string]: unknown
}

/** The fields PRODUCT.md §7 lists; an event carries nothing else. */
const ALLOWED_FIELDS = new Set([
  'event',
  'command',
  'execution_id',
  'time',
  'plugin_version',
  'host',
  'host_version',
  'node_version',
  'platform',
  'duration_ms',
  'error_code',
  'counts',
])
const COUNT_FIELDS = new Set(['matched', 'revoked', 'failed', 'skipped'])

/** Long enough for the detached sender to deliver (it takes well under a second here). */
const DELIVERY_WAIT_MS = 5000
/** How long a test waits before concluding that nothing was sent. */
const SILENCE_WAIT_MS = 1500

describe('telemetry (PRODUCT.md §7), end to end', function () {
  this.timeout(90_000)

  let emulator: Emulator
  let seed: Seed
  let collector: string
  const cleanups: (() => void)[] = []

  const demoUsers = () => seed.projects[0].apps[0].users
  const scratch = () => {
    const dir = tempDir('appservices-telemetry-')
    cleanups.push(dir.remove)
    return dir.path
  }
  /** A fresh, logged-in config dir. */
  const loggedIn = async (profile = 'default') => {
    const dir = scratch()
    await login(emulator, dir, profile)
    return dir
  }
  const cli = (configDir: string, args: string[], env: RunOptions['env'] = {}) =>
    runCli(args, {configDir, emulator, env: {APPSERVICES_TELEMETRY_URL: collector, ...env}})

  /** Waits (bounded) until the collector holds `count` batches; returns their events. */
  async function batches(count: number): Promise<TelemetryEvent[][]> {
    const deadline = Date.now() + DELIVERY_WAIT_MS
    while (emulator.state.telemetry.length < count && Date.now() < deadline) await sleep(25)
    expect(emulator.state.telemetry, `telemetry batches after ${DELIVERY_WAIT_MS} ms`).to.have.length(count)
    return (emulator.state.telemetry as {events: TelemetryEvent[]}[]).map((batch) => batch.events)
  }

  async function expectNothingSent(): Promise<void> {
    await sleep(SILENCE_WAIT_MS)
    expect(emulator.state.telemetry).to.deep.equal([])
  }

  before(async () => {
    seed = generateSeed({users: 6})
    emulator = await startEmulator({seed})
    collector = `${emulator.url}/__emulator/telemetry`
  })

  after(async () => {
    await emulator.close()
  })

  beforeEach(() => {
    emulator.setFaults({})
    emulator.state.clearTelemetry()
  })

  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup()
  })

  describe('events', () => {
    it('sends command_start then command_complete, with only the listed fields and the counts', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      const run = await cli(dir, ['users', 'revoke', '-a', 'demo', '-u', demoUsers()[0]._id])

      expect(run.code, run.stderr).to.equal(0)
      const [events] = await batches(1)
      expect(events.map((event) => event.event)).to.deep.equal(['command_start', 'command_complete'])
      const [start, complete] = events
      for (const event of events) {
        expect(
          Object.keys(event).filter((key) => !ALLOWED_FIELDS.has(key)),
          'unlisted fields',
        ).to.deep.equal([])
        expect(event.command).to.equal('users:revoke')
        expect(event.execution_id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
        expect(new Date(event.time).toISOString()).to.equal(event.time)
        expect(event.plugin_version).to.equal('0.1.0')
        expect(event.host_version).to.be.a('string')
        expect(event.node_version).to.equal(process.version)
        expect(event.platform).to.equal(process.platform)
      }
      expect(complete.execution_id).to.equal(start.execution_id)
      expect(complete.duration_ms).to.be.a('number').within(0, 60_000)
      expect(complete.counts).to.deep.equal({matched: 1, revoked: 1, failed: 0, skipped: 0})
      expect(start).not.to.have.property('error_code')
    })

    it('sends command_error with an error code, never the error message', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      const run = await cli(dir, ['users', 'revoke', '-a', 'no-such-app', '-y'])

      expect(run.code).to.equal(1)
      const [events] = await batches(1)
      expect(events.map((event) => event.event)).to.deep.equal(['command_start', 'command_error'])
      const error = events[1]
      expect(Object.keys(error).filter((key) => !ALLOWED_FIELDS.has(key))).to.deep.equal([])
      expect(error.error_code).to.equal('AppNotFound')
      expect(error.duration_ms).to.be.a('number')
      expect(JSON.stringify(events)).not.to.contain('no-such-app').and.not.to.contain('No app matches')
    })

    it('reports a partial failure as command_error PartialFailure with its counts', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      const run = await cli(dir, [
        'users',
        'revoke',
        '-a',
        'demo',
        '-u',
        `${demoUsers()[1]._id},ffffffffffffffffffffffff`,
      ])

      expect(run.code).to.equal(1)
      const [events] = await batches(1)
      expect(events[1]).to.deep.include({event: 'command_error', error_code: 'PartialFailure'})
      expect(events[1].counts).to.deep.equal({matched: 2, revoked: 1, failed: 1, skipped: 0})
      for (const event of events)
        expect(Object.keys(event.counts ?? {}).every((key) => COUNT_FIELDS.has(key))).to.equal(true)
    })

    it("uses the profile's telemetry_url when APPSERVICES_TELEMETRY_URL is not set", async () => {
      const dir = await loggedIn()
      const file = join(dir, 'default.yaml')
      writeFileSync(file, `${readFileSync(file, 'utf8')}  telemetry_url: ${collector}\n`)
      emulator.state.clearTelemetry()

      const run = await cli(dir, ['whoami'], {APPSERVICES_TELEMETRY_URL: undefined})

      expect(run.code, run.stderr).to.equal(0)
      const [events] = await batches(1)
      expect(events.map((event) => [event.event, event.command])).to.deep.equal([
        ['command_start', 'whoami'],
        ['command_complete', 'whoami'],
      ])
    })
  })

  describe('turning it off', () => {
    it('--telemetry off sends nothing for that run, is saved quoted in the profile, and holds for later runs', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      const first = await cli(dir, ['whoami', '--telemetry', 'off'])
      expect(first.code, first.stderr).to.equal(0)
      expect(readFileSync(join(dir, 'default.yaml'), 'utf8')).to.match(/^ {2}telemetry_mode: "off"$/m)

      const second = await cli(dir, ['users', 'revoke', '-a', 'demo', '-u', demoUsers()[2]._id])
      expect(second.code, second.stderr).to.equal(0)
      await expectNothingSent()

      const third = await cli(dir, ['whoami', '--telemetry', 'on'])
      expect(third.code, third.stderr).to.equal(0)
      expect(readFileSync(join(dir, 'default.yaml'), 'utf8')).to.match(/^ {2}telemetry_mode: "on"$/m)
      const [events] = await batches(1)
      expect(events.map((event) => event.event)).to.deep.equal(['command_start', 'command_complete'])
    })

    it('is saved per profile: another profile keeps sending', async () => {
      const dir = await loggedIn('quiet')
      await login(emulator, dir, 'chatty')
      await cli(dir, ['whoami', '--profile', 'quiet', '--telemetry', 'off'])
      emulator.state.clearTelemetry()

      await cli(dir, ['whoami', '--profile', 'quiet'])
      await cli(dir, ['whoami', '--profile', 'chatty'])

      expect(await batches(1)).to.have.length(1)
      await sleep(500)
      expect(emulator.state.telemetry).to.have.length(1)
    })

    it('reads a bare YAML off (a boolean to YAML 1.1 readers) as off', async () => {
      const dir = await loggedIn()
      const file = join(dir, 'default.yaml')
      writeFileSync(file, `${readFileSync(file, 'utf8')}  telemetry_mode: off\n`)
      emulator.state.clearTelemetry()

      const run = await cli(dir, ['whoami'])

      expect(run.code, run.stderr).to.equal(0)
      await expectNothingSent()
    })

    for (const value of ['1', 'true', 'yes']) {
      it(`sends nothing when DO_NOT_TRACK=${value}, even with --telemetry on`, async () => {
        const dir = await loggedIn()
        emulator.state.clearTelemetry()

        const run = await cli(dir, ['whoami', '--telemetry', 'on'], {DO_NOT_TRACK: value})

        expect(run.code, run.stderr).to.equal(0)
        await expectNothingSent()
      })
    }

    it('still sends when DO_NOT_TRACK is empty, 0 or false', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      for (const value of ['', '0', 'false']) await cli(dir, ['whoami'], {DO_NOT_TRACK: value})

      expect(await batches(3)).to.have.length(3)
    })

    it('sends nothing with no endpoint configured', async () => {
      const dir = await loggedIn()
      emulator.state.clearTelemetry()

      const run = await cli(dir, ['users', 'revoke', '-a', 'demo', '-u', demoUsers()[3]._id], {
        APPSERVICES_TELEMETRY_URL: undefined,
      })

      expect(run.code, run.stderr).to.equal(0)
      await expectNothingSent()
    })
  })

  describe('never in the way', () => {
    for (const [what, endpoint] of [
      ['an endpoint with nothing listening', 'http://127.0.0.1:9/collect'],
      ['an endpoint that is not a URL', 'not a url at all'],
    ]) {
      it(`never fails the command, with ${what}`, async () => {
        const dir = await loggedIn()

        const run = await cli(dir, ['users', 'revoke', '-a', 'demo', '-u', demoUsers()[4]._id, '--json'], {
          APPSERVICES_TELEMETRY_URL: endpoint,
        })

        expect(run.code, run.stderr).to.equal(0)
        expect(run.stderr).to.equal('')
        expect(JSON.parse(run.stdout).summary).to.deep.include({revoked: 1})
      })
    }

    // How much it costs in time is measured by `npm run bench:startup`; this checks the cause, without a clock.
    it('does not wait for an endpoint that never answers: the command ends while the batch is still unanswered', async () => {
      const dir = await loggedIn()
      emulator.setFaults({telemetryHang: true})
      emulator.state.clearTelemetry()

      const run = await cli(dir, [
        'users',
        'revoke',
        '-a',
        'demo',
        '-u',
        demoUsers()[5]._id,
        '--telemetry',
        'on',
      ])
      // Had the command waited for an answer, the sender would have given up (closing its request) before the command ended.
      // This run's batch (if it came already) is still unanswered: an earlier run's hung batch cannot count.
      const {telemetry, hungTelemetry} = emulator.state
      const openWhenTheCommandEnded = telemetry.every((batch) => hungTelemetry.has(batch))

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.contain(demoUsers()[5]._id)
      await batches(1)
      expect(openWhenTheCommandEnded, 'the collector request was still open when the command ended').to.equal(
        true,
      )
    })
  })

  describe('privacy', () => {
    it('never carries an API key, token, user id, email, project or app id, URL or path', async () => {
      const canary = canarySeed()
      const privateEmulator = await startEmulator({seed: canary.seed})
      try {
        const privateCollector = `${privateEmulator.url}/__emulator/telemetry`
        const dir = join(scratch(), 'canary-config-dir')
        const output = join(scratch(), 'canary-output-path.json')
        const env = {APPSERVICES_TELEMETRY_URL: privateCollector}
        const opts = {configDir: dir, emulator: privateEmulator, env}
        const runs: CliRun[] = []
        const go = async (...args: string[]) => runs.push(await runCli(args, opts))

        await go('login', '--api-key', canary.publicKey, '--private-api-key', canary.privateKey)
        const profileText = readFileSync(join(dir, 'default.yaml'), 'utf8')
        const tokens = [...profileText.matchAll(/(?:access|refresh)_token: (\S+)/g)].map((match) => match[1])
        expect(tokens).to.have.length(2)
        await go('whoami')
        await go(
          'users',
          'revoke',
          '-a',
          canary.clientAppId,
          '--project',
          canary.projectId,
          '-u',
          canary.userIds.join(','),
          '-o',
          output,
          '--json',
        )
        await go('users', 'revoke', '-a', canary.appName, '--realm-url', privateEmulator.url, '-y')
        await go('users', 'revoke', '-a', canary.appObjectId, '-u', 'canary0unknown0user0id00', '-y')
        await go('users', 'revoke', '-a', 'canary-missing-app-name', '-y', '--json')
        await go(
          'users',
          'revoke',
          '-a',
          canary.clientAppId,
          '-o',
          join(scratch(), 'no-such-dir', 'canary-unwritable'),
          '-y',
        )
        await go('logout')
        expect(runs.map((run) => run.code)).to.deep.equal([0, 0, 0, 0, 1, 1, 1, 0])

        // Every run sends one batch but the one whose output target failed: that fails before telemetry starts.
        const expected = runs.length - 1
        const deadline = Date.now() + DELIVERY_WAIT_MS
        while (privateEmulator.state.telemetry.length < expected && Date.now() < deadline) await sleep(25)
        expect(privateEmulator.state.telemetry).to.have.length(expected)
        const payload = JSON.stringify(privateEmulator.state.telemetry)

        const secrets = [
          canary.publicKey,
          canary.privateKey,
          ...tokens,
          canary.projectId,
          canary.appObjectId,
          canary.clientAppId,
          canary.appName,
          ...canary.userIds,
          ...canary.emails,
          'canary0unknown0user0id00',
          'canary-missing-app-name',
          'canary-config-dir',
          'canary-output-path',
          'canary-unwritable',
          privateEmulator.url,
          new URL(privateEmulator.url).host,
          dir,
          homedir(),
          process.cwd(),
        ]
        for (const secret of secrets) expect(payload, `telemetry carries ${secret}`).not.to.contain(secret)
        expect(payload.toLowerCase()).not.to.contain('canary')
        expect(payload).not.to.contain('://')
        expect(payload).not.to.contain('@')
        const events = (privateEmulator.state.telemetry as {events: TelemetryEvent[]}[]).flatMap(
          (batch) => batch.events,
        )
        for (const event of events)
          expect(Object.keys(event).every((key) => ALLOWED_FIELDS.has(key))).to.equal(true)
      } finally {
        await privateEmulator.close()
      }
    })
  })
})

/** A seed whose every identifying value is recognisable, to search the telemetry for. */
function canarySeed() {
  const projectId = 'ca0a4e1dca0a4e1dca000001'
  const appObjectId = 'ca0a4e1dca0a4e1dca0a0001'
  const clientAppId = 'canaryapp-qzxvw'
  const appName = 'canaryapp'
  const publicKey = 'canary-public-key-3141'
  const privateKey = 'canary-private-key-2718'
  const users: SeedUser[] = [1, 2, 3].map((n) => ({
    _id: `ca0a4e1dca0a4e1dca0b000${n}`,
    identities: [
      {
        id: `ca0a4e1dca0a4e1dca0c000${n}`,
        provider_type: 'local-userpass',
        provider_id: 'ca0a4e1dca0a4e1dca0d0001',
      },
    ],
    type: 'normal',
    creation_date: 1700000000,
    last_authentication_date: 1700000000,
    disabled: false,
    data: {email: `canary.person${n}@canary-mail.example`},
    sessions: 1,
  }))
  const seed: Seed = {
    apiKeys: [
      {publicKey, privateKey, groupIds: [projectId]},
      {...DEMO_KEYS, groupIds: [projectId]},
    ],
    projects: [
      {
        id: projectId,
        apps: [
          {
            _id: appObjectId,
            client_app_id: clientAppId,
            name: appName,
            product: 'standard',
            users,
            pendingUsers: [],
          },
        ],
      },
    ],
  }
  return {
    seed,
    projectId,
    appObjectId,
    clientAppId,
    appName,
    publicKey,
    privateKey,
    userIds: users.map((user) => user._id),
    emails: users.map((user) => user.data.email as string),
  }
}
