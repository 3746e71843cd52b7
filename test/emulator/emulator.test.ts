import {expect} from 'chai'

import {DEMO_KEYS, generateSeed, startEmulator, type Emulator, type Seed, type SeedUser} from './index.js'

interface Tokens {
  access_token: string
  refresh_token: string
}

describe('Admin API emulator', () => {
  let emulator: Emulator
  let seed: Seed
  let tokens: Tokens
  let group1: string
  let group2: string
  let demoId: string
  let demoUsers: SeedUser[]

  async function call(path: string, init: RequestInit & {token?: string} = {}): Promise<Response> {
    const token = init.token ?? tokens.access_token
    return fetch(emulator.apiUrl + path, {
      ...init,
      headers: {authorization: `Bearer ${token}`, ...init.headers},
    })
  }

  async function json<T = unknown>(path: string, init?: RequestInit & {token?: string}): Promise<T> {
    const response = await call(path, init)
    expect(response.status, `${path} status`).to.equal(200)
    return (await response.json()) as T
  }

  async function login(target: Emulator = emulator): Promise<Tokens> {
    const response = await fetch(`${target.apiUrl}/auth/providers/mongodb-cloud/login`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({username: DEMO_KEYS.publicKey, apiKey: DEMO_KEYS.privateKey}),
    })
    expect(response.status).to.equal(200)
    return (await response.json()) as Tokens
  }

  const usersPath = () => `/groups/${group1}/apps/${demoId}/users`

  before(async () => {
    seed = generateSeed({users: 120})
    emulator = await startEmulator({seed})
    group1 = seed.projects[0].id
    group2 = seed.projects[1].id
    demoId = seed.projects[0].apps[0]._id
    demoUsers = seed.projects[0].apps[0].users
    tokens = await login()
  })

  after(() => emulator.close())

  beforeEach(() => emulator.setFaults({}))

  describe('seed', () => {
    it('generates the same data from the same seed number, with every provider type', () => {
      expect(generateSeed({users: 120})).to.deep.equal(seed)
      expect(generateSeed({users: 120, seed: 2})).to.not.deep.equal(seed)
      const providers = new Set(
        demoUsers.flatMap((user) => user.identities.map((identity) => identity.provider_type)),
      )
      expect(providers.size).to.equal(8)
      expect(demoUsers.some((user) => user.disabled)).to.equal(true)
      expect(demoUsers.some((user) => user.identities.length === 2)).to.equal(true)
      expect(seed.projects[0].apps[0].pendingUsers).to.have.length(5)
      const ids = demoUsers.map((user) => user._id)
      expect(ids).to.deep.equal([...ids].sort())
    })

    it('builds and serves 100,000 users, paging to the last of them', async () => {
      const big = generateSeed({users: 100_000})
      const large = await startEmulator({seed: big})
      try {
        const bigTokens = await login(large)
        const users = big.projects[0].apps[0].users
        const path = `${large.apiUrl}/groups/${big.projects[0].id}/apps/${big.projects[0].apps[0]._id}/users`
        const response = await fetch(`${path}?after=${users[99_979]._id}`, {
          headers: {authorization: `Bearer ${bigTokens.access_token}`},
        })
        expect(((await response.json()) as unknown[]).length).to.equal(20)
      } finally {
        await large.close()
      }
    })
  })

  describe('authentication', () => {
    it('refuses a wrong key pair and a malformed body', async () => {
      const url = `${emulator.apiUrl}/auth/providers/mongodb-cloud/login`
      const wrong = await fetch(url, {method: 'POST', body: JSON.stringify({username: 'x', apiKey: 'y'})})
      expect(wrong.status).to.equal(401)
      expect(await wrong.json()).to.deep.equal({
        error: 'invalid username/password',
        error_code: 'InvalidPassword',
      })
      const malformed = await fetch(url, {method: 'POST', body: '{"username": '})
      expect(malformed.status).to.equal(400)
    })

    it('lists the projects of the key in the profile', async () => {
      const profile = await json<{roles: {role_name: string; group_id: string}[]}>('/auth/profile')
      expect(profile.roles.map((role) => role.group_id)).to.deep.equal([group1, group2])
    })

    it('expires access tokens, refreshes them, and ends sessions', async () => {
      const short = await startEmulator({seed, accessTokenTtlSeconds: 1})
      try {
        const session = await login(short)
        const profile = (token: string) =>
          fetch(`${short.apiUrl}/auth/profile`, {headers: {authorization: `Bearer ${token}`}})
        const refresh = (token: string, method = 'POST') =>
          fetch(`${short.apiUrl}/auth/session`, {method, headers: {authorization: `Bearer ${token}`}})
        expect((await profile(session.access_token)).status).to.equal(200)
        expect((await profile(session.refresh_token)).status).to.equal(401)
        expect((await refresh(session.access_token)).status).to.equal(401)
        expect((await profile('unknown')).status).to.equal(401)

        await new Promise((resolve) => setTimeout(resolve, 1100))
        const expired = await profile(session.access_token)
        expect(expired.status).to.equal(401)
        expect(await expired.json()).to.deep.equal({
          error: 'invalid session: access token expired',
          error_code: 'InvalidSession',
        })

        const refreshed = await refresh(session.refresh_token)
        expect(refreshed.status).to.equal(201)
        const {access_token: accessToken} = (await refreshed.json()) as {access_token: string}
        expect((await profile(accessToken)).status).to.equal(200)
        expect(short.state.refreshCount).to.equal(1)

        expect((await refresh(session.refresh_token, 'DELETE')).status).to.equal(204)
        expect((await profile(accessToken)).status).to.equal(401)
        const gone = await refresh(session.refresh_token)
        expect(gone.status).to.equal(401)
        expect(await gone.json()).to.deep.equal({
          error: 'invalid session: failed to find refresh token',
          error_code: 'InvalidSession',
        })
      } finally {
        await short.close()
      }
    })
  })

  describe('apps', () => {
    it('lists only standard apps unless products are given', async () => {
      const names = async (path: string) => (await json<{name: string}[]>(path)).map((app) => app.name)
      expect(await names(`/groups/${group1}/apps`)).to.deep.equal(['demo'])
      expect(await names(`/groups/${group1}/apps?product=standard,atlas,data-api,device-sync`)).to.deep.equal(
        ['demo', 'inventory'],
      )
      expect(await names(`/groups/${group2}/apps`)).to.deep.equal([])
      expect(await names(`/groups/${group2}/apps?product=device-sync`)).to.deep.equal(['reports'])
    })

    it('gets an app by _id only', async () => {
      const app = await json<{client_app_id: string; group_id: string}>(`/groups/${group1}/apps/${demoId}`)
      expect(app).to.include({client_app_id: 'demo-abcde', group_id: group1})
      const byClientId = await call(`/groups/${group1}/apps/demo-abcde`)
      expect(byClientId.status).to.equal(404)
      expect(await byClientId.json()).to.deep.equal({error: 'app not found', error_code: 'AppNotFound'})
    })
  })

  describe('users', () => {
    it('pages 120 users as 50, 50 and 20, following after', async () => {
      const seen: string[] = []
      const sizes: number[] = []
      let after: string | undefined
      for (;;) {
        const page = await json<{_id: string}[]>(usersPath() + (after ? `?after=${after}` : ''))
        sizes.push(page.length)
        seen.push(...page.map((user) => user._id))
        if (page.length < 50) break
        after = page.at(-1)?._id
      }
      expect(sizes).to.deep.equal([50, 50, 20])
      expect(seen).to.deep.equal(demoUsers.map((user) => user._id))
    })

    it('pages in descending order with desc=true', async () => {
      const ids = demoUsers.map((user) => user._id).reverse()
      const first = await json<{_id: string}[]>(`${usersPath()}?desc=true`)
      expect(first.map((user) => user._id)).to.deep.equal(ids.slice(0, 50))
      const second = await json<{_id: string}[]>(`${usersPath()}?desc=true&after=${ids[49]}`)
      expect(second.map((user) => user._id)).to.deep.equal(ids.slice(50, 100))
    })

    it('never serves the emulator-only fields', async () => {
      const [user] = await json<Record<string, unknown>[]>(usersPath())
      expect(Object.keys(user).sort()).to.deep.equal(
        ['_id', 'creation_date', 'data', 'disabled', 'identities', 'last_authentication_date', 'type'].sort(),
      )
    })

    it('honours status and provider_types, unless told to ignore filters', async () => {
      const disabled = await json<{disabled: boolean}[]>(`${usersPath()}?status=disabled`)
      expect(disabled.length).to.equal(demoUsers.filter((user) => user.disabled).length)
      expect(disabled.every((user) => user.disabled)).to.equal(true)

      type Listed = {identities: {provider_type: string}[]}
      const keys = await json<Listed[]>(`${usersPath()}?provider_types=api-key,anon-user`)
      expect(keys.length).to.be.above(0)
      for (const user of keys) {
        expect(
          user.identities.some((identity) => ['api-key', 'anon-user'].includes(identity.provider_type)),
        ).to.equal(true)
      }

      emulator.setFaults({ignoreFilters: true})
      const unfiltered = await json<{disabled: boolean}[]>(`${usersPath()}?status=disabled`)
      expect(unfiltered.length).to.equal(50)
      expect(unfiltered.some((user) => !user.disabled)).to.equal(true)
    })

    it('repeats the first page when told to ignore after', async () => {
      emulator.setFaults({ignoreAfter: true})
      const first = await json<{_id: string}[]>(usersPath())
      const again = await json<{_id: string}[]>(`${usersPath()}?after=${first[49]._id}`)
      expect(again).to.deep.equal(first)
    })

    it('logs a user out: sessions to 0 and one more logout counted', async () => {
      const id = demoUsers[3]._id
      expect(emulator.state.findUser(id)?.sessions).to.equal(demoUsers[3].sessions)
      const response = await call(`${usersPath()}/${id}/logout`, {method: 'PUT'})
      expect(response.status).to.equal(204)
      expect(emulator.state.findUser(id)).to.include({sessions: 0, logoutCount: 1})
      const counters = (await (await fetch(`${emulator.url}/__emulator/users?app=${demoId}`)).json()) as {
        id: string
        logoutCount: number
      }[]
      expect(counters.find((user) => user.id === id)).to.deep.equal({id, sessions: 0, logoutCount: 1})
    })

    it('answers 404 with a JSON body for unknown users, groups and routes, and 405 for a wrong method', async () => {
      const unknownUser = await call(`${usersPath()}/000000000000000000000000/logout`, {method: 'PUT'})
      expect(unknownUser.status).to.equal(404)
      expect(await unknownUser.json()).to.deep.equal({error: 'user not found', error_code: 'UserNotFound'})
      expect((await call(`${usersPath()}/000000000000000000000000`)).status).to.equal(404)

      const unknownGroup = await call('/groups/000000000000000000000000/apps')
      expect(unknownGroup.status).to.equal(404)
      expect(await unknownGroup.json()).to.deep.equal({error: 'group not found', error_code: 'GroupNotFound'})

      const unknownRoute = await call('/nothing/here')
      expect(unknownRoute.status).to.equal(404)
      expect(await unknownRoute.json()).to.have.keys('error', 'error_code')

      const wrongMethod = await call(usersPath(), {method: 'DELETE'})
      expect(wrongMethod.status).to.equal(405)
      expect(await wrongMethod.json()).to.have.keys('error', 'error_code')
    })

    it('pages pending registrations', async () => {
      type Pending = {_id: string; login_ids: {id_type: string; id: string}[]}
      const pending = await json<Pending[]>(
        `/groups/${group1}/apps/${demoId}/user_registrations/pending_users`,
      )
      expect(pending).to.have.length(5)
      expect(pending[0].login_ids[0].id_type).to.equal('email')
      const rest = await json<Pending[]>(
        `/groups/${group1}/apps/${demoId}/user_registrations/pending_users?after=${pending[2]._id}`,
      )
      expect(rest.map((item) => item._id)).to.deep.equal(pending.slice(3).map((item) => item._id))
    })
  })

  describe('faults', () => {
    it('answers 429 with Retry-After as a rule says, then recovers', async () => {
      emulator.setFaults({rules: [{route: 'listUsers', tooManyRate: 1, retryAfterSeconds: 2, times: 1}]})
      const limited = await call(usersPath())
      expect(limited.status).to.equal(429)
      expect(limited.headers.get('retry-after')).to.equal('2')
      expect(await limited.json()).to.have.property('error_code', 'TooManyRequests')
      expect((await call(usersPath())).status).to.equal(200)
    })

    it('fails only the listed users', async () => {
      const [failing, working] = [demoUsers[10]._id, demoUsers[11]._id]
      emulator.setFaults({rules: [{route: 'logout', userIds: [failing], errorRate: 1, errorStatus: 500}]})
      expect((await call(`${usersPath()}/${failing}/logout`, {method: 'PUT'})).status).to.equal(500)
      expect((await call(`${usersPath()}/${working}/logout`, {method: 'PUT'})).status).to.equal(204)
      expect(emulator.state.findUser(failing)?.logoutCount).to.equal(0)
    })

    it('resets connections and caps the request rate', async () => {
      emulator.setFaults({rules: [{route: 'profile', resetRate: 1}]})
      let error: unknown
      await call('/auth/profile').catch((caught: unknown) => (error = caught))
      expect(error).to.be.instanceOf(Error)

      emulator.setFaults({ratePerSecond: 2})
      const statuses = await Promise.all([1, 2, 3].map(async () => (await call('/auth/profile')).status))
      expect(statuses.sort()).to.deep.equal([200, 200, 429])
    })

    it('serves HTML error pages and raw bodies', async () => {
      emulator.setFaults({
        rules: [
          {route: 'getApp', htmlErrorStatus: 502, times: 1},
          {route: 'getApp', rawBody: {status: 200, contentType: 'text/plain', body: 'hello'}},
        ],
      })
      const html = await call(`/groups/${group1}/apps/${demoId}`)
      expect(html.status).to.equal(502)
      expect(html.headers.get('content-type')).to.equal('text/html')
      expect(await (await call(`/groups/${group1}/apps/${demoId}`)).text()).to.equal('hello')
    })
  })

  describe('control endpoints', () => {
    it('logs Admin API requests but not control ones', async () => {
      await fetch(`${emulator.url}/__emulator/requests`, {method: 'DELETE'})
      await call(`${usersPath()}?status=enabled`)
      await fetch(`${emulator.url}/__emulator/stats`)
      const log = (await (await fetch(`${emulator.url}/__emulator/requests`)).json()) as unknown[]
      expect(log).to.have.length(1)
      expect(log[0]).to.include({method: 'GET', path: `/api/admin/v3.0${usersPath()}`, status: 200})
      expect(log[0]).to.have.deep.property('query', {status: 'enabled'})
      expect(emulator.state.requests).to.have.length(1)
    })

    it('collects telemetry batches, and can be made never to answer', async () => {
      const batch = {events: [{event: 'command_start', command: 'users revoke'}]}
      const collector = `${emulator.url}/__emulator/telemetry`
      const posted = await fetch(collector, {method: 'POST', body: JSON.stringify(batch)})
      expect(posted.status).to.equal(204)
      expect(await (await fetch(collector)).json()).to.deep.equal([batch])
      expect(emulator.state.telemetry).to.deep.equal([batch])

      await fetch(`${emulator.url}/__emulator/faults`, {
        method: 'PUT',
        body: JSON.stringify({telemetryHang: true}),
      })
      let error: unknown
      await fetch(collector, {method: 'POST', body: '{}', signal: AbortSignal.timeout(200)}).catch(
        (caught: unknown) => (error = caught),
      )
      expect((error as Error | undefined)?.name).to.equal('TimeoutError')
    })

    it('refuses an invalid fault configuration', async () => {
      const response = await fetch(`${emulator.url}/__emulator/faults`, {
        method: 'PUT',
        body: JSON.stringify({rules: [{route: 'nowhere'}]}),
      })
      expect(response.status).to.equal(400)
    })
  })
})
