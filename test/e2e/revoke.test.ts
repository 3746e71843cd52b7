import {expect} from 'chai'

import {
  DEMO_KEYS,
  generateSeed,
  PROVIDER_TYPES,
  startEmulator,
  type Emulator,
  type Product,
  type RequestLogEntry,
  type Seed,
  type SeedApp,
  type SeedPendingUser,
  type SeedUser,
} from '../emulator/index.js'
import {login, logoutsByUser, runCli, tempDir, type CliRun} from '../helpers/cli.js'
import {KEYS, runCliInPty, type PtyRun} from '../helpers/pty.js'

interface JsonReport {
  app: {id: string; client_app_id: string; name: string; group_id: string}
  results: {
    id: string
    type: string
    provider_types: string[]
    email?: string
    name?: string
    revoked: boolean
    skipped?: boolean
    reason?: string
    error: string | null
  }[]
  summary: {matched: number; revoked: number; failed: number; skipped: number; interrupted?: boolean}
}

interface Harness {
  emulator: Emulator
  seed: Seed
  /** Runs `users revoke` (the built CLI, not a terminal) with the logged-in profile. */
  revoke(...args: string[]): Promise<CliRun>
  /** Runs `users revoke` in a pseudo-terminal. */
  revokeInPty(...args: string[]): PtyRun
  /** The logout requests of the current test, by user id. */
  logouts(): Map<string, number>
}

/** ObjectId-like ids that sort in the order of `n`. */
const oid = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(24 - prefix.length, '0')}`

function seedUser(
  id: string,
  providers: string[],
  options: {disabled?: boolean; data?: Record<string, unknown>} = {},
): SeedUser {
  return {
    _id: id,
    identities: providers.map((provider, i) => ({
      id: `${id}-${i}`,
      provider_type: provider,
      provider_id: `p-${provider}`,
    })),
    type: providers[0] === 'api-key' ? 'server' : 'normal',
    creation_date: 1700000000,
    last_authentication_date: 1700000000,
    disabled: options.disabled ?? false,
    data: options.data ?? {},
    sessions: 2,
  }
}

function seedApp(
  id: string,
  name: string,
  clientAppId: string,
  users: SeedUser[],
  options: {product?: Product; pending?: SeedPendingUser[]} = {},
): SeedApp {
  return {
    _id: id,
    client_app_id: clientAppId,
    name,
    product: options.product ?? 'standard',
    users,
    pendingUsers: options.pending ?? [],
  }
}

function seedOf(...projects: {id: string; apps: SeedApp[]}[]): Seed {
  return {apiKeys: [{...DEMO_KEYS, groupIds: projects.map((project) => project.id)}], projects}
}

function parseReport(run: CliRun): JsonReport {
  expect(run.stdout.trim(), `stdout should hold one JSON document; stderr: ${run.stderr}`).to.match(
    /^\{[\s\S]*\}$/,
  )
  return JSON.parse(run.stdout) as JsonReport
}

/** The text report's tables: provider heading -> the table's lines (header and rule included). */
function textSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  for (const block of stdout.trim().split(/\n\s*\n/)) {
    const [heading, ...lines] = block.split('\n')
    if (lines.length > 0) sections.set(heading.trim(), lines)
  }
  return sections
}

function listUsersCalls(emulator: Emulator, appId: string) {
  return emulator.state.requests.filter(
    (entry) => entry.method === 'GET' && entry.path.endsWith(`/apps/${appId}/users`),
  )
}

/** The generated seed's apps: demo (standard) and inventory (atlas) in project 1, reports (device-sync) in project 2. */
function generated(users: number, pendingUsers = 5) {
  const seed = generateSeed({users, pendingUsers})
  const [project1, project2] = seed.projects
  return {
    seed,
    project1: project1.id,
    project2: project2.id,
    demo: project1.apps[0],
    inventory: project1.apps[1],
    reports: project2.apps[0],
  }
}

/** Resolves once the emulator has received a request that matches. */
async function requestSeen(emulator: Emulator, matches: (entry: RequestLogEntry) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!emulator.state.requests.some(matches)) {
    if (Date.now() > deadline) throw new Error('the expected request never arrived')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('users revoke, end to end against the emulator', function () {
  this.timeout(30_000)

  /**
   * Starts an emulator with the seed and logs a fresh profile in, once for the
   * enclosing block; every test then starts with an empty request log and no
   * faults, so it sees only its own requests and does not depend on the others.
   */
  function useEmulator(seed: Seed): Harness {
    let config: {path: string; remove: () => void} | undefined
    const pty: PtyRun[] = []
    const harness = {
      seed,
      revoke: (...args: string[]) =>
        runCli(['users', 'revoke', ...args], {configDir: config!.path, emulator: harness.emulator}),
      revokeInPty: (...args: string[]) => {
        const run = runCliInPty(['users', 'revoke', ...args], {
          configDir: config!.path,
          emulator: harness.emulator,
          timeoutMs: 20_000,
        })
        pty.push(run)
        return run
      },
      logouts: () => logoutsByUser(harness.emulator),
    } as Harness
    before(async () => {
      harness.emulator = await startEmulator({seed})
      config = tempDir()
      await login(harness.emulator, config.path)
    })
    beforeEach(() => {
      harness.emulator.setFaults({})
      harness.emulator.state.clearLog()
    })
    afterEach(() => pty.splice(0).forEach((run) => run.kill()))
    after(async () => {
      await harness.emulator?.close()
      config?.remove()
    })
    return harness
  }

  describe('listing every user', () => {
    describe('of 120', () => {
      const {seed, demo, inventory, reports} = generated(120)
      const h = useEmulator(seed)

      it('revokes every user across three pages, each exactly once, and no user of another app', async () => {
        const run = await h.revoke('-a', 'demo', '--yes')

        expect(run.code, run.stderr).to.equal(0)
        expect(run.stdout).to.contain('Revoked sessions for 120 of 120 users')
        const calls = listUsersCalls(h.emulator, demo._id)
        expect(calls.map((call) => call.query.after)).to.deep.equal([
          undefined,
          demo.users[49]._id,
          demo.users[99]._id,
        ])
        const counters = h.emulator.state.userCounters(demo._id)
        expect(counters).to.have.length(120)
        expect(counters.every((user) => user.logoutCount === 1 && user.sessions === 0)).to.equal(true)
        expect(h.logouts().size).to.equal(120)
        expect([...h.logouts().values()].every((count) => count === 1)).to.equal(true)
        for (const other of [inventory, reports]) {
          expect(h.emulator.state.userCounters(other._id).every((user) => user.logoutCount === 0)).to.equal(
            true,
          )
        }
      })

      it('stops with an error (exit 1) when the server repeats a page, having revoked that page once', async () => {
        h.emulator.setFaults({ignoreAfter: true})

        const run = await h.revoke('-a', 'demo', '--yes', '--json')

        expect(run.code).to.equal(1)
        const report = parseReport(run) as JsonReport & {error?: {code: string; message: string}}
        expect(report.error?.code).to.equal('PagingLoop')
        expect(report.summary).to.deep.include({matched: 50, revoked: 50, failed: 0})
        expect(h.logouts()).to.deep.equal(new Map(demo.users.slice(0, 50).map((user) => [user._id, 1])))
        expect(listUsersCalls(h.emulator, demo._id)).to.have.length(2)
      })
    })

    describe('of 100', () => {
      const {seed, demo} = generated(100)
      const h = useEmulator(seed)

      it('reads past a full last page (50, 50, then an empty page)', async () => {
        const run = await h.revoke('-a', 'demo', '--yes', '--json')

        expect(run.code, run.stderr).to.equal(0)
        expect(parseReport(run).summary).to.deep.include({matched: 100, revoked: 100, failed: 0})
        expect(listUsersCalls(h.emulator, demo._id)).to.have.length(3)
        expect(h.logouts().size).to.equal(100)
      })
    })
  })

  describe('with the generated data set (120 users, 5 pending registrations, 3 apps in 2 projects)', () => {
    const data = generated(120, 5)
    const {demo, project1, project2} = data
    const h = useEmulator(data.seed)

    describe('--user', () => {
      it('takes repeated and comma-separated ids, drops duplicates and keeps their order', async () => {
        const [a, b, c] = [demo.users[7]._id, demo.users[2]._id, demo.users[20]._id]

        const run = await h.revoke('-a', 'demo', '-u', `${a},${b}`, '-u', c, '-u', `${b},${a}`, '--json')

        expect(run.code, run.stderr).to.equal(0)
        const report = parseReport(run)
        expect(report.results.map((result) => result.id)).to.deep.equal([a, b, c])
        expect(report.results.every((result) => result.revoked && result.error === null)).to.equal(true)
        expect(report.summary).to.deep.include({matched: 3, revoked: 3, failed: 0, skipped: 0})
        expect(h.logouts()).to.deep.equal(new Map([a, b, c].map((id) => [id, 1])))
        expect(listUsersCalls(h.emulator, demo._id), 'no listing when ids are named').to.have.length(0)
      })

      it('revokes the known users and fails the unknown one with "user not found" (exit 1)', async () => {
        const known = [demo.users[1]._id, demo.users[4]._id]
        const unknown = 'ffffffffffffffffffffffff'

        const run = await h.revoke('-a', 'demo', '-u', `${known[0]},${unknown},${known[1]}`)

        expect(run.code, run.stderr).to.equal(1)
        expect(run.stdout).to.contain('Revoked sessions for 2 of 3 users (1 failed)')
        const unknownLine = run.stdout.split('\n').find((line) => line.includes(unknown))
        expect(unknownLine).to.match(/no\s+user not found/)
        expect(h.logouts(), 'no logout is sent for the unknown id').to.deep.equal(
          new Map(known.map((id) => [id, 1])),
        )
      })

      it('reports the unknown id as a failed result in JSON, in its place', async () => {
        const unknown = 'eeeeeeeeeeeeeeeeeeeeeeee'

        const run = await h.revoke('-a', 'demo', '-u', `${unknown},${demo.users[0]._id}`, '-f', 'json')

        expect(run.code).to.equal(1)
        const report = parseReport(run)
        expect(report.results.map((result) => result.id)).to.deep.equal([unknown, demo.users[0]._id])
        expect(report.results[0]).to.deep.include({id: unknown, revoked: false, error: 'user not found'})
        expect(report.summary).to.deep.include({matched: 2, revoked: 1, failed: 1})
      })

      it('fails only the user whose lookup gets a server error, and revokes the others (exit 1)', async () => {
        const [broken, fine] = [demo.users[10]._id, demo.users[11]._id]
        h.emulator.setFaults({rules: [{route: 'getUser', userIds: [broken], errorStatus: 500, errorRate: 1}]})

        const run = await h.revoke('-a', 'demo', '-u', `${broken},${fine}`)

        expect(run.code, run.stderr).to.equal(1)
        expect(run.stdout).to.contain('Revoked sessions for 1 of 2 users (1 failed)')
        expect(run.stdout.split('\n').find((line) => line.includes(broken))).to.match(
          /no\s+internal server error \(HTTP 500\)$/,
        )
        expect(run.stderr, 'the run did not stop: no Error: line').to.not.contain('Error:')
        expect(h.logouts()).to.deep.equal(new Map([[fine, 1]]))
        const lookups = h.emulator.state.requests.filter(
          (entry) => entry.route === 'getUser' && entry.path.endsWith(`/users/${broken}`),
        )
        expect(
          lookups.map((entry) => entry.status),
          'retried, then given up',
        ).to.deep.equal(Array(6).fill(500))
      })

      it('reports failed lookups (server error, connection reset) as failed results in JSON, in their place', async () => {
        const [broken, reset, fine] = [demo.users[12]._id, demo.users[13]._id, demo.users[14]._id]
        h.emulator.setFaults({
          rules: [
            {route: 'getUser', userIds: [broken], errorStatus: 500, errorRate: 1},
            {route: 'getUser', userIds: [reset], resetRate: 1},
          ],
        })

        const run = await h.revoke('-a', 'demo', '-u', `${broken},${reset},${fine}`, '--json')

        expect(run.code, run.stderr).to.equal(1)
        const report = parseReport(run) as JsonReport & {error?: unknown}
        expect(report.error, 'the run did not stop').to.equal(undefined)
        expect(report.results.map((result) => result.id)).to.deep.equal([broken, reset, fine])
        expect(report.results[0]).to.deep.include({
          revoked: false,
          error: 'internal server error (HTTP 500)',
        })
        expect(report.results[1].revoked).to.equal(false)
        expect(report.results[1].error).to.match(
          /^Cannot reach the Admin API at http:\/\/127\.0\.0\.1:\d+: ECONNRESET$/,
        )
        expect(report.results[2]).to.deep.include({revoked: true, error: null})
        expect(report.summary).to.deep.equal({matched: 3, revoked: 1, failed: 2, skipped: 0})
        expect(h.logouts()).to.deep.equal(new Map([[fine, 1]]))
      })

      const renewalFailures = [
        {
          how: 'the refresh token and the saved key pair are refused',
          faults: [
            {route: 'refresh', errorRate: 1, errorStatus: 401},
            {route: 'login', errorRate: 1, errorStatus: 401},
          ],
          error: {code: 'InvalidSession', message: 'Your session has expired and could not be renewed'},
          hint: /^Try: appservices login$/m,
        },
        {
          how: 'the refresh fails with an error of its own',
          faults: [{route: 'refresh', errorRate: 1, errorStatus: 400}],
          error: {code: 'BadRequest', message: 'bad request (HTTP 400)'},
        },
      ] as const
      for (const failure of renewalFailures) {
        it(`still stops the run when a lookup needs a renewal and ${failure.how} (exit 1)`, async () => {
          const [expired, other] = [demo.users[15]._id, demo.users[16]._id]
          const invalidSession = JSON.stringify({error: 'invalid session', error_code: 'InvalidSession'})
          h.emulator.setFaults({
            rules: [
              {
                route: 'getUser',
                userIds: [expired],
                rawBody: {status: 401, contentType: 'application/json', body: invalidSession},
              },
              ...failure.faults,
            ],
          })

          const text = await h.revoke('-a', 'demo', '-u', `${expired},${other}`)
          const json = await h.revoke('-a', 'demo', '-u', `${expired},${other}`, '--json')

          expect(text.code).to.equal(1)
          expect(text.stdout, 'no report of nothing next to the error').to.equal('')
          expect(text.stderr.split('\n').filter((line) => line.includes('Error:'))).to.deep.equal([
            `Error: ${failure.error.message}`,
          ])
          if ('hint' in failure) expect(text.stderr).to.match(failure.hint)
          expect(json.code).to.equal(1)
          const report = parseReport(json) as JsonReport & {error?: {code: string; message: string}}
          expect(report.error).to.deep.include(failure.error)
          expect(report.results).to.deep.equal([])
          expect(h.logouts().size).to.equal(0)
        })
      }

      it('still stops the run, quietly, on Ctrl-C while a lookup is in flight (exit 130)', async () => {
        const [slow, fast] = [demo.users[17]._id, demo.users[18]._id]
        h.emulator.setFaults({rules: [{route: 'getUser', userIds: [slow], latencyMs: 5000}]})
        const pty = h.revokeInPty('-a', 'demo', '-u', `${slow},${fast}`)

        await requestSeen(h.emulator, (entry) => entry.path.endsWith(`/users/${slow}`))
        await pty.signal('SIGINT')
        const exit = await pty.exited

        expect(exit.code, exit.output).to.equal(130)
        expect(exit.output).to.contain('Interrupted.')
        expect(exit.output, 'the aborted lookup is not a failed user').to.not.match(/aborted|failed|Error:/)
        expect(exit.output).to.not.contain(slow)
        expect(h.logouts().size).to.equal(0)
      })

      it('refuses an empty id or a value that looks like a flag before any request (exit 2)', async () => {
        const empty = await h.revoke('-a', 'demo', '-u', 'a,,b')
        const flagLike = await h.revoke('-a', 'demo', '-u', '--yes')

        expect(empty.code).to.equal(2)
        expect(empty.stderr).to.match(/^Error: .*--user/m)
        expect(flagLike.code).to.equal(2)
        expect(h.emulator.state.requests).to.have.length(0)
      })
    })

    describe('--state and --provider', () => {
      it('revokes only the users in the state when the server ignores the filter', async () => {
        h.emulator.setFaults({ignoreFilters: true})
        const disabled = demo.users.filter((user) => user.disabled).map((user) => user._id)
        expect(disabled.length, 'the seed has disabled users').to.be.greaterThan(0)

        const run = await h.revoke('-a', 'demo', '--state', 'disabled', '--yes')

        expect(run.code, run.stderr).to.equal(0)
        expect(run.stdout).to.contain(`Revoked sessions for ${disabled.length} of ${disabled.length} users`)
        expect([...h.logouts().keys()].sort()).to.deep.equal([...disabled].sort())
        expect(
          listUsersCalls(h.emulator, demo._id).every((call) => call.query.status === 'disabled'),
        ).to.equal(true)
      })

      it('revokes only the users with one of the providers, in the state, when the server ignores both filters', async () => {
        h.emulator.setFaults({ignoreFilters: true})
        const providers = ['local-userpass', 'api-key', 'anon-user']
        const expected = demo.users
          .filter((user) => !user.disabled)
          .filter((user) => user.identities.some((identity) => providers.includes(identity.provider_type)))
          .map((user) => user._id)
        expect(expected.length).to.be.greaterThan(0)

        const run = await h.revoke(
          ...['-a', 'demo', '--provider', 'local-userpass,api-key', '--provider', 'anon-user'],
          ...['--state', 'enabled', '--yes', '--json'],
        )

        expect(run.code, run.stderr).to.equal(0)
        const report = parseReport(run)
        expect(report.results.map((result) => result.id).sort()).to.deep.equal([...expected].sort())
        expect(report.summary).to.deep.include({matched: expected.length, revoked: expected.length})
        expect([...h.logouts().keys()].sort()).to.deep.equal([...expected].sort())
        const sent = listUsersCalls(h.emulator, demo._id)[0].query
        expect(sent.provider_types?.split(',').sort()).to.deep.equal([...providers].sort())
      })

      it('keeps a user whose second identity is of the provider', async () => {
        h.emulator.setFaults({ignoreFilters: true})
        const linked = demo.users.filter(
          (user) => user.identities.length > 1 && user.identities[1].provider_type === 'local-userpass',
        )
        expect(linked.length, 'the seed has users with a linked local-userpass identity').to.be.greaterThan(0)

        const run = await h.revoke('-a', 'demo', '--provider', 'local-userpass', '--yes', '--json')

        const ids = parseReport(run).results.map((result) => result.id)
        for (const user of linked) expect(ids).to.include(user._id)
        expect(run.code).to.equal(0)
      })

      it('refuses an unknown provider, naming the allowed ones, before any request (exit 2)', async () => {
        const run = await h.revoke('-a', 'demo', '--provider', 'local-userpass,github', '--yes')

        expect(run.code).to.equal(2)
        expect(run.stderr).to.contain('github').and.to.contain('oauth2-google')
        expect(h.emulator.state.requests).to.have.length(0)
      })
    })

    describe('--pending', () => {
      it('reports each pending registration as skipped and sends no logout', async () => {
        const run = await h.revoke('-a', 'demo', '--pending', '--json')

        expect(run.code, run.stderr).to.equal(0)
        const report = parseReport(run)
        expect(report.results.map((result) => result.id)).to.deep.equal(
          demo.pendingUsers.map((pending) => pending._id),
        )
        for (const result of report.results) {
          expect(result).to.deep.include({type: 'pending', revoked: false, skipped: true, error: null})
          expect(result.reason).to.match(/no session/)
        }
        expect(report.summary).to.deep.include({matched: 5, revoked: 0, failed: 0, skipped: 5})
        expect(h.logouts().size).to.equal(0)
        expect(listUsersCalls(h.emulator, demo._id)).to.have.length(0)
      })

      it('says in text how many registrations were skipped', async () => {
        const run = await h.revoke('-a', 'demo', '--pending')

        expect(run.code, run.stderr).to.equal(0)
        expect(run.stdout).to.contain('Revoked sessions for 0 of 5 users (5 skipped)')
        expect(run.stdout).to.contain('pending.2@example.com')
        expect(h.logouts().size).to.equal(0)
      })

      it('matches --user against a registration email or _id', async () => {
        const byId = demo.pendingUsers[3]._id

        const run = await h.revoke('-a', 'demo', '--pending', '-u', `pending.2@example.com,${byId}`, '--json')

        expect(run.code, run.stderr).to.equal(0)
        const report = parseReport(run)
        expect(report.results.map((result) => result.id).sort()).to.deep.equal(
          [demo.pendingUsers[1]._id, byId].sort(),
        )
        expect(report.results.every((result) => result.skipped)).to.equal(true)
        expect(h.logouts().size).to.equal(0)
      })

      it('refuses --pending with --state or --provider before any request (exit 2)', async () => {
        const withState = await h.revoke('-a', 'demo', '--pending', '--state', 'enabled')
        const withProvider = await h.revoke(
          '-a',
          'demo',
          '--pending',
          '--provider',
          'local-userpass',
          '--json',
        )

        expect(withState.code).to.equal(2)
        expect(withState.stderr).to.match(/^Error: .*--pending.*--state/m)
        expect(withProvider.code).to.equal(2)
        expect(JSON.parse(withProvider.stdout)).to.have.nested.property('error.code', 'UsageError')
        expect(h.emulator.state.requests).to.have.length(0)
      })
    })

    describe('finding the app', () => {
      const cases: [string, string, SeedApp, string][] = [
        ['its name', 'demo', demo, project1],
        ['its client app id', 'demo-abcde', demo, project1],
        ['its _id', demo._id, demo, project1],
        ['a prefix of its client app id', 'demo-ab', demo, project1],
        ['its name, in the second project', 'reports', data.reports, project2],
        ['its name, for an app of product atlas', 'inventory', data.inventory, project1],
        ['its client app id, for an app of product device-sync', 'reports-klmno', data.reports, project2],
      ]
      cases.forEach(([how, wanted, app, project], i) => {
        it(`finds the app by ${how}`, async () => {
          const user = app.users[i % app.users.length]._id

          const run = await h.revoke('-a', wanted, '-u', user, '--json')

          expect(run.code, run.stderr).to.equal(0)
          expect(parseReport(run).app).to.deep.equal({
            id: app._id,
            client_app_id: app.client_app_id,
            name: app.name,
            group_id: project,
          })
          expect(h.logouts()).to.deep.equal(new Map([[user, 1]]))
          expect(
            h.emulator.state.requests.some((entry) =>
              entry.path.endsWith(`/apps/${app._id}/users/${user}/logout`),
            ),
          ).to.equal(true)
        })
      })

      it('asks every project the API key sees for apps of every product type', async () => {
        await h.revoke('-a', 'demo', '-u', demo.users[0]._id)

        const listApps = h.emulator.state.requests.filter((entry) =>
          /\/groups\/[^/]+\/apps$/.test(entry.path),
        )
        expect(listApps.map((call) => call.path.split('/')[5]).sort()).to.deep.equal(
          [project1, project2].sort(),
        )
        for (const call of listApps) {
          expect(call.query.product?.split(',')).to.include.members([
            'standard',
            'atlas',
            'device-sync',
            'data-api',
          ])
        }
      })

      it('looks only in the --project given', async () => {
        const user = data.reports.users[1]._id

        const run = await h.revoke('-a', 'reports', '--project', project2, '-u', user)

        expect(run.code, run.stderr).to.equal(0)
        expect(h.logouts()).to.deep.equal(new Map([[user, 1]]))
        const paths = h.emulator.state.requests.map((entry) => entry.path)
        expect(
          paths.some((path) => path.endsWith('/auth/profile')),
          'no project lookup',
        ).to.equal(false)
        expect(paths.some((path) => path.includes(project1))).to.equal(false)
      })

      it('says no app matches when the --project holds no such app (exit 1)', async () => {
        const run = await h.revoke('-a', 'demo', '--project', project2, '--yes')

        expect(run.code).to.equal(1)
        expect(run.stderr).to.match(/^Error: No app matches "demo" in project /m)
        expect(h.logouts().size).to.equal(0)
      })

      it('says no app matches an unknown name (exit 1, code AppNotFound in JSON)', async () => {
        const text = await h.revoke('-a', 'nosuchapp', '--yes')
        const json = await h.revoke('-a', 'nosuchapp', '--yes', '--json')

        expect(text.code).to.equal(1)
        expect(text.stderr).to.contain('No app matches "nosuchapp"')
        expect(json.code).to.equal(1)
        expect(JSON.parse(json.stdout)).to.have.nested.property('error.code', 'AppNotFound')
        expect(h.logouts().size).to.equal(0)
      })

      it('refuses to run without --app when there is no terminal (exit 2)', async () => {
        const run = await h.revoke('--yes')

        expect(run.code).to.equal(2)
        expect(run.stderr).to.contain('--app')
        expect(h.emulator.state.requests).to.have.length(0)
      })
    })

    describe('without --user or --yes and without a terminal', () => {
      it('refuses, says how many users matched and what to pass, and sends no logout (exit 2)', async () => {
        const run = await h.revoke('-a', 'demo')

        expect(run.code).to.equal(2)
        expect(run.stderr).to.match(/^Error: 120 users matched/m)
        expect(run.stderr).to.contain('--user').and.to.contain('--yes')
        expect(run.stdout).to.equal('')
        expect(listUsersCalls(h.emulator, demo._id), 'the whole list was counted').to.have.length(3)
        expect(h.logouts().size).to.equal(0)
      })

      it('counts only the users the filters keep', async () => {
        h.emulator.setFaults({ignoreFilters: true})
        const disabled = demo.users.filter((user) => user.disabled).length

        const run = await h.revoke('-a', 'demo', '--state', 'disabled')

        expect(run.code).to.equal(2)
        expect(run.stderr).to.contain(`Error: ${disabled} users matched`)
        expect(h.logouts().size).to.equal(0)
      })

      it('refuses in JSON with a UsageError document', async () => {
        const run = await h.revoke('-a', 'demo', '--json')

        expect(run.code).to.equal(2)
        const document = JSON.parse(run.stdout)
        expect(document.error.code).to.equal('UsageError')
        expect(document.error.message).to.contain('120 users matched')
        expect(h.logouts().size).to.equal(0)
      })
    })

    describe('JSON output', () => {
      for (const flags of [['--json'], ['-f', 'json'], ['--output-format', 'json']]) {
        it(`prints exactly one document of the report's shape with ${flags.join(' ')}`, async () => {
          const run = await h.revoke('-a', 'demo', '--yes', ...flags)

          expect(run.code, run.stderr).to.equal(0)
          expect(run.stderr).to.equal('')
          const report = parseReport(run)
          expect(Object.keys(report).sort()).to.deep.equal(['app', 'results', 'summary'])
          expect(report.app).to.deep.equal({
            id: demo._id,
            client_app_id: 'demo-abcde',
            name: 'demo',
            group_id: project1,
          })
          expect(report.summary).to.deep.equal({matched: 120, revoked: 120, failed: 0, skipped: 0})
          expect(report.results.map((result) => result.id)).to.deep.equal(demo.users.map((user) => user._id))
          for (const [i, result] of report.results.entries()) {
            const user = demo.users[i]
            expect(result).to.include.all.keys('id', 'type', 'provider_types', 'revoked', 'error')
            expect(result).to.deep.include({type: user.type, revoked: true, error: null})
            expect(result.provider_types).to.deep.equal([
              ...new Set(user.identities.map((identity) => identity.provider_type)),
            ])
            if (typeof user.data.email === 'string') expect(result.email).to.equal(user.data.email)
            if (typeof user.data.name === 'string') expect(result.name).to.equal(user.data.name)
          }
          expect(h.logouts().size).to.equal(120)
        })
      }
    })

    describe('the text report', () => {
      /** The lead column of PRODUCT.md §5.5, and the user data it shows; other tables have none. */
      const LEAD: Record<string, {header: string; field: string}> = {
        'local-userpass': {header: 'Email', field: 'email'},
        'api-key': {header: 'Name', field: 'name'},
      }
      const firstProvider = (user: SeedUser) => user.identities[0]?.provider_type
      const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

      it('has one table per provider type, in the order of PRODUCT.md §2, whatever the order of the users', async () => {
        const firsts = PROVIDER_TYPES.map((type) => demo.users.find((user) => firstProvider(user) === type)!)
        // Named in the reverse order: the tables must not follow the order of the input.
        const named = firsts.map((user) => user._id).reverse()

        const run = await h.revoke('-a', 'demo', '-u', named.join(','))

        expect(run.code, run.stderr).to.equal(0)
        const sections = textSections(run.stdout)
        expect([...sections.keys()]).to.deep.equal([...PROVIDER_TYPES])
        for (const [i, type] of PROVIDER_TYPES.entries()) {
          const [, , ...rows] = sections.get(type)!
          expect(rows, type).to.have.length(1)
          expect(rows[0], type).to.contain(firsts[i]._id)
        }
        expect(run.stdout.trimEnd().split('\n').at(-1)).to.equal('Revoked sessions for 8 of 8 users')
        expect(h.logouts()).to.deep.equal(new Map(named.map((id) => [id, 1])))
      })

      it('leads with Email for local-userpass users and Name for api-key users, each user once', async () => {
        const run = await h.revoke('-a', 'demo', '--yes')

        expect(run.code, run.stderr).to.equal(0)
        const sections = textSections(run.stdout)
        const header = /^(?:(\S+)\s+)?ID\s+Type\s+Session Revoked\s+Details$/
        expect([...sections].map(([type, lines]) => [type, header.exec(lines[0])?.[1]])).to.deep.equal(
          PROVIDER_TYPES.map((type) => [type, LEAD[type]?.header]),
        )
        for (const user of demo.users) {
          const type = firstProvider(user)
          const lead = LEAD[type] ? user.data[LEAD[type].field] : undefined
          if (LEAD[type]) expect(lead, `every ${type} user has a ${LEAD[type].field}`).to.be.a('string')
          const rows = sections.get(type)!.filter((line) => line.includes(user._id))
          expect(rows, user._id).to.have.length(1)
          const cells = [...(lead ? [escape(lead as string)] : []), user._id, user.type, 'yes']
          expect(rows[0]).to.match(new RegExp(`^${cells.join('\\s+')}\\s*$`))
        }
        expect(run.stdout.split('\n').filter((line) => /\b[0-9a-f]{24}\b/.test(line))).to.have.length(120)
        expect(h.logouts().size).to.equal(120)
      })
    })
  })

  describe('users with several identities', () => {
    const group = oid('aa', 1)
    const appId = oid('bb', 1)
    const twoIdentities = seedUser(oid('cc', 2), ['oauth2-google', 'local-userpass'], {
      data: {email: 'both@example.com', name: 'Both Ways'},
    })
    const noIdentity = seedUser(oid('cc', 4), [])
    // A provider type that §2 does not list (a newer one, say).
    const unlisted = seedUser(oid('cc', 5), ['oauth2-github'])
    const users = [
      seedUser(oid('cc', 1), ['local-userpass'], {data: {email: 'only.local@example.com'}}),
      twoIdentities,
      seedUser(oid('cc', 3), ['oauth2-google'], {data: {email: 'g@example.com'}}),
      noIdentity,
      unlisted,
    ]
    const h = useEmulator(seedOf({id: group, apps: [seedApp(appId, 'linked', 'linked-aaaaa', users)]}))

    it('lists a user once, under its first identity, and logs it out once', async () => {
      const run = await h.revoke('-a', 'linked', '--provider', 'local-userpass,oauth2-google', '--yes')

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout.split(twoIdentities._id), 'the id appears exactly once').to.have.length(2)
      const sections = textSections(run.stdout)
      expect([...sections.keys()]).to.deep.equal(['local-userpass', 'oauth2-google'])
      expect(sections.get('oauth2-google')?.join('\n')).to.contain(twoIdentities._id)
      expect(sections.get('local-userpass')?.join('\n')).to.not.contain(twoIdentities._id)
      expect(sections.get('local-userpass')?.[0]).to.match(/^Email\s+ID\s+Type\s+Session Revoked\s+Details/)
      expect(run.stdout).to.contain('Revoked sessions for 3 of 3 users')
      expect(h.logouts()).to.deep.equal(new Map(users.slice(0, 3).map((user) => [user._id, 1])))
    })

    it('puts users without identities or of an unlisted provider in an Unknown table, after the known providers', async () => {
      const run = await h.revoke('-a', 'linked', '--yes')

      expect(run.code, run.stderr).to.equal(0)
      const sections = textSections(run.stdout)
      expect([...sections.keys()]).to.deep.equal(['local-userpass', 'oauth2-google', 'Unknown'])
      const [header, , ...rows] = sections.get('Unknown')!
      expect(header).to.match(/^ID\s+Type\s+Session Revoked\s+Details$/)
      expect(rows.map((row) => row.split(/\s+/)[0])).to.deep.equal([noIdentity._id, unlisted._id])
      expect(h.logouts().size).to.equal(5)
    })

    it('gives every provider type of the user in JSON', async () => {
      const run = await h.revoke('-a', 'linked', '-u', twoIdentities._id, '--json')

      const [result] = parseReport(run).results
      expect(result).to.deep.include({id: twoIdentities._id, email: 'both@example.com', revoked: true})
      expect(result.provider_types).to.deep.equal(['oauth2-google', 'local-userpass'])
    })
  })

  describe('an ambiguous app', () => {
    const projectA = oid('a1', 1)
    const projectB = oid('a2', 2)
    const shopA = seedApp(oid('b1', 1), 'shop', 'shop-aaaaa', [
      seedUser(oid('c1', 1), ['local-userpass'], {data: {email: 'a@example.com'}}),
    ])
    const shopB = seedApp(oid('b2', 2), 'shop', 'shop-bbbbb', [
      seedUser(oid('c2', 1), ['local-userpass'], {data: {email: 'b1@example.com'}}),
      seedUser(oid('c2', 2), ['anon-user']),
    ])
    const h = useEmulator(seedOf({id: projectA, apps: [shopA]}, {id: projectB, apps: [shopB]}))

    it('without a terminal, fails listing both apps and changes nothing (exit 1)', async () => {
      const run = await h.revoke('-a', 'shop', '--yes')

      expect(run.code).to.equal(1)
      expect(run.stderr).to.match(/^Error: "shop" matches 2 apps/m)
      expect(run.stderr).to.contain('shop-aaaaa').and.to.contain('shop-bbbbb')
      expect(run.stderr).to.contain(projectA).and.to.contain(projectB)
      expect(run.stderr).to.match(/--project/)
      expect(h.logouts().size).to.equal(0)
    })

    it('is ambiguous by client app id prefix too, with code AmbiguousApp in JSON', async () => {
      const run = await h.revoke('-a', 'shop-', '--yes', '--json')

      expect(run.code).to.equal(1)
      const document = JSON.parse(run.stdout)
      expect(document.error.code).to.equal('AmbiguousApp')
      expect(document.error.message).to.contain('shop-aaaaa').and.to.contain('shop-bbbbb')
      expect(h.logouts().size).to.equal(0)
    })

    it('is settled by --project', async () => {
      const run = await h.revoke('-a', 'shop', '--project', projectB, '--yes')

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.contain('Revoked sessions for 2 of 2 users')
      expect(h.logouts()).to.deep.equal(new Map(shopB.users.map((user) => [user._id, 1])))
    })

    it('is settled by the full client app id', async () => {
      const run = await h.revoke('-a', 'shop-aaaaa', '--yes')

      expect(run.code, run.stderr).to.equal(0)
      expect(h.logouts()).to.deep.equal(new Map(shopA.users.map((user) => [user._id, 1])))
    })

    describe('in a terminal', () => {
      it('lets the user pick one of the matching apps', async () => {
        const user = shopB.users[0]._id
        const pty = h.revokeInPty('-a', 'shop', '-u', user)

        await pty.waitFor('Several apps match; pick one')
        await pty.waitFor(`shop (shop-bbbbb) in project ${projectB}`)
        expect(pty.output).to.contain(`shop (shop-aaaaa) in project ${projectA}`)
        await pty.press(KEYS.down)
        await pty.waitFor(/❯ shop \(shop-bbbbb\)/)
        await pty.press(KEYS.enter)
        const exit = await pty.exited

        expect(exit.code, exit.output).to.equal(0)
        expect(exit.output).to.contain('Revoked sessions for 1 of 1 user')
        expect(h.logouts()).to.deep.equal(new Map([[user, 1]]))
      })

      it('exits 130 and revokes nothing on Ctrl-C at the app prompt', async () => {
        const pty = h.revokeInPty('-a', 'shop', '--provider', 'local-userpass')

        await pty.waitFor(`shop (shop-bbbbb) in project ${projectB}`)
        await pty.press(KEYS.ctrlC)
        const exit = await pty.exited

        expect(exit.code, exit.output).to.equal(130)
        expect(exit.output).to.not.match(/Error:/)
        expect(h.emulator.state.requests.some((entry) => entry.path.endsWith('/users'))).to.equal(false)
        expect(h.logouts().size).to.equal(0)
      })
    })
  })

  describe('nothing to do', () => {
    const users = [seedUser(oid('d3', 1), ['local-userpass']), seedUser(oid('d3', 2), ['api-key'])]
    const h = useEmulator(
      seedOf({id: oid('d1', 1), apps: [seedApp(oid('d2', 1), 'calm', 'calm-aaaaa', users)]}),
    )

    it('says "No users to revoke sessions for" and exits 0 when the filters match nobody, even without --yes', async () => {
      h.emulator.setFaults({ignoreFilters: true})

      const run = await h.revoke('-a', 'calm', '--state', 'disabled')

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.equal('No users to revoke sessions for\n')
      expect(h.logouts().size).to.equal(0)
    })

    it('answers an empty report in JSON', async () => {
      const run = await h.revoke('-a', 'calm', '--provider', 'oauth2-apple', '--yes', '--json')

      expect(run.code, run.stderr).to.equal(0)
      const report = parseReport(run)
      expect(report.results).to.deep.equal([])
      expect(report.summary).to.deep.equal({matched: 0, revoked: 0, failed: 0, skipped: 0})
      expect(h.logouts().size).to.equal(0)
    })
  })

  describe('in a terminal', () => {
    const group = oid('e1', 1)
    const appId = oid('e2', 1)
    const users = [
      seedUser(oid('e3', 1), ['local-userpass'], {data: {email: 'one@example.com'}}),
      seedUser(oid('e3', 2), ['api-key'], {data: {name: 'billing-service'}}),
      seedUser(oid('e3', 3), ['oauth2-google'], {data: {email: 'three@example.com', name: 'Three'}}),
      seedUser(oid('e3', 4), ['anon-user']),
    ]
    const h = useEmulator(seedOf({id: group, apps: [seedApp(appId, 'tty', 'tty-aaaaa', users)]}))
    const prompt = 'Select the users to log out (4 matched)'

    /** Waits for the multi-select prompt with every user drawn. */
    async function promptShown(pty: PtyRun): Promise<void> {
      await pty.waitFor(prompt)
      await pty.waitFor(users[3]._id)
    }

    it('revokes only the user picked in the multi-select prompt', async () => {
      const pty = h.revokeInPty('-a', 'tty')

      await promptShown(pty)
      await pty.press(KEYS.down, KEYS.down, KEYS.space)
      await pty.waitFor(/◉ oauth2-google\s+three@example\.com/)
      await pty.press(KEYS.enter)
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.contain('Revoked sessions for 1 of 1 user')
      expect(h.logouts()).to.deep.equal(new Map([[users[2]._id, 1]]))
    })

    it('shows provider, email or name, and id for each user', async () => {
      const pty = h.revokeInPty('-a', 'tty')

      await promptShown(pty)
      expect(pty.output).to.match(new RegExp(`local-userpass\\s+one@example\\.com\\s+${users[0]._id}`))
      expect(pty.output).to.match(new RegExp(`api-key\\s+billing-service\\s+${users[1]._id}`))
      expect(pty.output).to.match(new RegExp(`anon-user\\s+${users[3]._id}`))
      await pty.press(KEYS.ctrlC)
      expect((await pty.exited).code).to.equal(130)
    })

    it('revokes the two users picked with space, and no others', async () => {
      const pty = h.revokeInPty('-a', 'tty')

      await promptShown(pty)
      await pty.press(KEYS.space, KEYS.up, KEYS.space)
      await pty.waitFor(/◉ anon-user/)
      await pty.press(KEYS.enter)
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.contain('Revoked sessions for 2 of 2 users')
      expect(h.logouts()).to.deep.equal(new Map([users[0]._id, users[3]._id].map((id) => [id, 1])))
    })

    it('revokes nobody when the prompt is submitted with nothing picked', async () => {
      const pty = h.revokeInPty('-a', 'tty')

      await promptShown(pty)
      await pty.press(KEYS.enter)
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.contain('No users to revoke sessions for')
      expect(h.logouts().size).to.equal(0)
    })

    it('exits 130, quietly, and revokes nothing on Ctrl-C at the prompt', async () => {
      const pty = h.revokeInPty('-a', 'tty')

      await promptShown(pty)
      await pty.press(KEYS.space, KEYS.ctrlC)
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(130)
      expect(exit.output).to.not.match(/Error:|Revoked sessions/)
      expect(h.logouts().size).to.equal(0)
    })

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`exits 130 and revokes nothing on ${signal} (sent with kill) at the prompt`, async () => {
        const pty = h.revokeInPty('-a', 'tty')

        await promptShown(pty)
        await pty.press(KEYS.space)
        await pty.signal(signal)
        const exit = await pty.exited

        expect(exit.code, exit.output).to.equal(130)
        expect(exit.output).to.not.match(/Error:|Revoked sessions/)
        expect(h.logouts().size).to.equal(0)
      })
    }

    it('does not prompt with --yes, even in a terminal', async () => {
      const exit = await h.revokeInPty('-a', 'tty', '--yes').exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.not.contain('Select the users')
      expect(exit.output).to.contain('Revoked sessions for 4 of 4 users')
      expect(h.logouts().size).to.equal(4)
    })

    it('asks for the app when --app is missing', async () => {
      const pty = h.revokeInPty('-u', users[1]._id)

      await pty.waitFor('App (name, client app id or _id)')
      await pty.press(...'tty-aaaaa', KEYS.enter)
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(h.logouts()).to.deep.equal(new Map([[users[1]._id, 1]]))
    })
  })

  describe('interrupted while the users are listed', () => {
    const {seed, demo} = generated(120)
    const h = useEmulator(seed)
    const listing = (entry: RequestLogEntry) => entry.path.endsWith(`/apps/${demo._id}/users`)

    beforeEach(() => h.emulator.setFaults({rules: [{route: 'listUsers', latencyMs: 2000}]}))

    it('exits 130 and revokes nothing on Ctrl-C before the prompt is shown', async () => {
      const pty = h.revokeInPty('-a', 'demo')

      await requestSeen(h.emulator, listing)
      await pty.signal('SIGINT')
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(130)
      expect(exit.output).to.not.contain('Select the users')
      expect(exit.output).to.not.contain('aborted')
      expect(h.logouts().size).to.equal(0)
    })

    it('with --yes, exits 130 and reports the interruption, not "No users to revoke sessions for"', async () => {
      const pty = h.revokeInPty('-a', 'demo', '--yes')

      await requestSeen(h.emulator, listing)
      await pty.signal('SIGTERM')
      const exit = await pty.exited

      expect(exit.code, exit.output).to.equal(130)
      expect(exit.output).to.contain('Interrupted.')
      expect(exit.output).to.not.contain('No users to revoke sessions for')
      expect(h.logouts().size).to.equal(0)
    })
  })
})
