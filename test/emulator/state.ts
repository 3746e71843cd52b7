import {createHash, randomBytes} from 'node:crypto'

import {
  compareIds,
  type Product,
  type Seed,
  type SeedApp,
  type SeedPendingUser,
  type SeedUser,
} from './seed.js'

export const PAGE_SIZE = 50

export type RouteName =
  | 'login'
  | 'refresh'
  | 'deleteSession'
  | 'profile'
  | 'listApps'
  | 'getApp'
  | 'listUsers'
  | 'getUser'
  | 'logout'
  | 'listPending'

export interface RequestLogEntry {
  method: string
  /** The URL path, without the query string. */
  path: string
  query: Record<string, string>
  /** The status answered; 0 while unanswered, and for a reset connection or a hang. */
  status: number
  /** Arrival time, milliseconds since the epoch. */
  time: number
  route?: RouteName
}

/** A user as the Admin API serves it: the seed user without the emulator-only fields. */
export type AdminUser = Omit<SeedUser, 'sessions'>
export type PendingUser = Required<Pick<SeedPendingUser, 'domain_id' | 'user_id'>> & SeedPendingUser

export interface AppInstance {
  _id: string
  client_app_id: string
  name: string
  group_id: string
  domain_id: string
  product: Product
  location: string
  deployment_model: string
  environment: string
  last_used: number
  last_modified: number
}

export interface UserCounters {
  id: string
  sessions: number
  logoutCount: number
}

export interface UserRecord extends UserCounters {
  appId: string
  groupId: string
  user: AdminUser
}

export interface UserListQuery {
  after?: string
  desc?: boolean
  disabled?: boolean
  providerTypes?: ReadonlySet<string>
}

export interface ApiKeyRecord {
  publicKey: string
  privateKey: string
  groupIds: string[]
  /** The id `/auth/profile` and login report for the key's owner. */
  userId: string
}

/** An Admin API error: answered as `{"error", "error_code"}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message)
  }

  toJSON(): {error: string; error_code: string} {
    return {error: this.message, error_code: this.code}
  }
}

const invalidSession = (reason: string) => new ApiError(401, `invalid session: ${reason}`, 'InvalidSession')

/**
 * One app's users and registrations, kept sorted by `_id`: a lookup is a binary search and a page costs
 * O(log N + page). The seed's user objects are kept as they are (never changed); their session and logout
 * counts live in typed arrays beside them, and the served copies leave the emulator-only fields out.
 */
export class AppStore {
  readonly app: AppInstance
  readonly pending: readonly PendingUser[]
  private readonly users: readonly SeedUser[]
  private readonly userIds: string[]
  private readonly pendingIds: string[]
  private readonly sessions: Int32Array
  private readonly logoutCounts: Int32Array

  constructor(groupId: string, seedApp: SeedApp) {
    this.app = toAppInstance(groupId, seedApp)
    this.users = sortedById(seedApp.users, `users of ${seedApp.name}`)
    this.userIds = this.users.map((user) => user._id)
    this.sessions = Int32Array.from(this.users, (user) => user.sessions ?? 1)
    this.logoutCounts = new Int32Array(this.users.length)
    this.pending = sortedById(seedApp.pendingUsers ?? [], `pending users of ${seedApp.name}`).map(
      (pending) => ({
        ...pending,
        domain_id: pending.domain_id ?? this.app.domain_id,
        user_id: pending.user_id ?? '',
      }),
    )
    this.pendingIds = this.pending.map((pending) => pending._id)
  }

  get userCount(): number {
    return this.users.length
  }

  getUser(userId: string): AdminUser | undefined {
    const position = this.position(userId)
    return position === undefined ? undefined : toAdminUser(this.users[position])
  }

  counters(userId: string): UserCounters | undefined {
    const position = this.position(userId)
    if (position === undefined) return undefined
    return {id: userId, sessions: this.sessions[position], logoutCount: this.logoutCounts[position]}
  }

  allCounters(): UserCounters[] {
    return this.userIds.map((id, i) => ({id, sessions: this.sessions[i], logoutCount: this.logoutCounts[i]}))
  }

  totalLogouts(): number {
    return this.logoutCounts.reduce((sum, count) => sum + count, 0)
  }

  /** Revokes every session of the user; false when the app has no such user. */
  logout(userId: string): boolean {
    const position = this.position(userId)
    if (position === undefined) return false
    this.sessions[position] = 0
    this.logoutCounts[position]++
    return true
  }

  setSessions(userId: string, sessions: number): boolean {
    const position = this.position(userId)
    if (position === undefined) return false
    this.sessions[position] = sessions
    return true
  }

  listUsers(query: UserListQuery): AdminUser[] {
    const step = query.desc ? -1 : 1
    let i: number
    if (query.after === undefined) i = query.desc ? this.users.length - 1 : 0
    else
      i = query.desc ? firstNotBefore(this.userIds, query.after) - 1 : firstAfter(this.userIds, query.after)
    const page: AdminUser[] = []
    for (; i >= 0 && i < this.users.length && page.length < PAGE_SIZE; i += step) {
      const user = this.users[i]
      if (query.disabled !== undefined && user.disabled !== query.disabled) continue
      if (
        query.providerTypes &&
        !user.identities.some((identity) => query.providerTypes?.has(identity.provider_type))
      ) {
        continue
      }
      page.push(toAdminUser(user))
    }
    return page
  }

  listPending(after?: string): PendingUser[] {
    const start = after === undefined ? 0 : firstAfter(this.pendingIds, after)
    return this.pending.slice(start, start + PAGE_SIZE)
  }

  private position(userId: string): number | undefined {
    const position = firstNotBefore(this.userIds, userId)
    return this.userIds[position] === userId ? position : undefined
  }
}

function toAdminUser({sessions: _sessions, ...user}: SeedUser): AdminUser {
  return user
}

/** The items in `_id` order: as given when they already are (generated seeds are), else a sorted copy. */
function sortedById<T extends {_id: string}>(items: readonly T[], what: string): readonly T[] {
  const sorted = isStrictlyAscending(items) ? items : [...items].sort(compareIds)
  if (!isStrictlyAscending(sorted)) throw new Error(`seed: the ${what} have duplicate _id values`)
  return sorted
}

function isStrictlyAscending(items: readonly {_id: string}[]): boolean {
  for (let i = 1; i < items.length; i++) if (!(items[i - 1]._id < items[i]._id)) return false
  return true
}

/** Everything the emulator knows and counts; tests may read and change it directly. */
export class EmulatorState {
  readonly requests: RequestLogEntry[] = []
  /** The bodies POSTed to the telemetry collector, in arrival order. */
  readonly telemetry: unknown[] = []
  /** The batches (of `telemetry`) whose requests the telemetryHang fault holds open, unanswered. */
  readonly hungTelemetry = new Set<unknown>()
  /** Successful logins and refreshes. */
  loginCount = 0
  refreshCount = 0
  /** Requests that reached each Admin API route, whatever their outcome (injected faults included). */
  readonly routeCalls: Partial<Record<RouteName, number>> = {}
  readonly apiKeys: ApiKeyRecord[]
  private readonly groups = new Map<string, AppStore[]>()
  private readonly appsById = new Map<string, AppStore>()
  private readonly tokens: TokenStore

  constructor(
    seed: Seed,
    options: {accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number; tokenPrefix?: string},
  ) {
    this.apiKeys = seed.apiKeys.map((key) => ({
      ...key,
      groupIds: [...key.groupIds],
      userId: hexDigest(key.publicKey),
    }))
    for (const project of seed.projects) {
      const stores = project.apps.map((app) => new AppStore(project.id, app))
      this.groups.set(project.id, stores)
      for (const store of stores) {
        if (this.appsById.has(store.app._id)) throw new Error(`seed: app ${store.app._id} appears twice`)
        this.appsById.set(store.app._id, store)
      }
    }
    this.tokens = new TokenStore(
      options.accessTokenTtlSeconds * 1000,
      options.refreshTokenTtlSeconds * 1000,
      options.tokenPrefix ?? '',
    )
  }

  logRequest(method: string, path: string, query: Record<string, string>): RequestLogEntry {
    const entry: RequestLogEntry = {method, path, query, status: 0, time: Date.now()}
    this.requests.push(entry)
    return entry
  }

  countCall(route: RouteName): void {
    this.routeCalls[route] = (this.routeCalls[route] ?? 0) + 1
  }

  clearLog(): void {
    this.requests.length = 0
  }

  clearTelemetry(): void {
    this.telemetry.length = 0
  }

  apps(): AppStore[] {
    return [...this.appsById.values()]
  }

  groupApps(groupId: string): AppStore[] {
    return this.groups.get(groupId) ?? []
  }

  findApp(groupId: string, appId: string): AppStore | undefined {
    const store = this.appsById.get(appId)
    return store?.app.group_id === groupId ? store : undefined
  }

  /** A user of any app, with its counters. */
  findUser(userId: string): UserRecord | undefined {
    for (const store of this.appsById.values()) {
      const user = store.getUser(userId)
      const counters = store.counters(userId)
      if (user && counters) return {...counters, appId: store.app._id, groupId: store.app.group_id, user}
    }
    return undefined
  }

  /** Session and logout counts of every user, of one app or of all apps. */
  userCounters(appId?: string): UserCounters[] {
    if (appId !== undefined) return this.appsById.get(appId)?.allCounters() ?? []
    return this.apps().flatMap((store) => store.allCounters())
  }

  setSessions(userId: string, sessions: number): boolean {
    return this.apps().some((store) => store.setSessions(userId, sessions))
  }

  stats(): Record<string, number> {
    const calls = (route: RouteName) => this.routeCalls[route] ?? 0
    const logoutCount = this.apps().reduce((sum, store) => sum + store.totalLogouts(), 0)
    return {
      requests: this.requests.length,
      loginCount: this.loginCount,
      refreshCount: this.refreshCount,
      logoutCount,
      loginCalls: calls('login'),
      refreshCalls: calls('refresh'),
      deleteSessionCalls: calls('deleteSession'),
      profileCalls: calls('profile'),
      listAppsCalls: calls('listApps'),
      getAppCalls: calls('getApp'),
      listUsersCalls: calls('listUsers'),
      getUserCalls: calls('getUser'),
      logoutCalls: calls('logout'),
      listPendingCalls: calls('listPending'),
      telemetryBatches: this.telemetry.length,
    }
  }

  login(
    username: string,
    apiKey: string,
  ): {access_token: string; refresh_token: string; user_id: string; device_id: string} {
    const key = this.apiKeys.find(
      (candidate) => candidate.publicKey === username && candidate.privateKey === apiKey,
    )
    if (!key) throw new ApiError(401, 'invalid username/password', 'InvalidPassword')
    this.loginCount++
    return {...this.tokens.open(key), user_id: key.userId, device_id: '000000000000000000000000'}
  }

  refreshSession(refreshToken: string | undefined): {access_token: string} {
    const accessToken = this.tokens.refresh(refreshToken)
    this.refreshCount++
    return {access_token: accessToken}
  }

  deleteSession(refreshToken: string | undefined): void {
    this.tokens.close(refreshToken)
  }

  /** The API key behind a valid access token; throws 401 InvalidSession otherwise. */
  authenticate(accessToken: string | undefined): ApiKeyRecord {
    return this.tokens.authenticate(accessToken)
  }

  /** Makes every access token (and with `refresh`, every refresh token) expired, as if time had passed. */
  expireTokens(options: {refresh?: boolean} = {}): void {
    this.tokens.expireAll(options.refresh ?? false)
  }
}

interface RefreshSession {
  key: ApiKeyRecord
  expiresAt: number
  accessTokens: Set<string>
}

interface AccessGrant {
  session: RefreshSession
  expiresAt: number
}

/** Opaque bearer tokens with real lifetimes. Expired access tokens are kept so they can be told apart. */
class TokenStore {
  private readonly refreshTokens = new Map<string, RefreshSession>()
  private readonly accessTokens = new Map<string, AccessGrant>()

  constructor(
    private readonly accessTtlMs: number,
    private readonly refreshTtlMs: number,
    private readonly prefix: string,
  ) {}

  open(key: ApiKeyRecord): {access_token: string; refresh_token: string} {
    const refreshToken = this.prefix + newToken()
    const session: RefreshSession = {key, expiresAt: Date.now() + this.refreshTtlMs, accessTokens: new Set()}
    this.refreshTokens.set(refreshToken, session)
    return {access_token: this.grant(session), refresh_token: refreshToken}
  }

  refresh(refreshToken: string | undefined): string {
    return this.grant(this.session(refreshToken))
  }

  close(refreshToken: string | undefined): void {
    const session = this.session(refreshToken)
    for (const accessToken of session.accessTokens) this.accessTokens.delete(accessToken)
    this.refreshTokens.delete(refreshToken as string)
  }

  authenticate(accessToken: string | undefined): ApiKeyRecord {
    if (!accessToken) throw invalidSession('missing access token')
    const grant = this.accessTokens.get(accessToken)
    if (!grant) {
      if (this.refreshTokens.has(accessToken)) throw invalidSession('incorrect token type')
      throw invalidSession('invalid access token')
    }
    if (grant.expiresAt <= Date.now()) throw invalidSession('access token expired')
    return grant.session.key
  }

  expireAll(refreshTokens: boolean): void {
    const past = Date.now() - 1
    for (const grant of this.accessTokens.values()) grant.expiresAt = Math.min(grant.expiresAt, past)
    if (refreshTokens) for (const session of this.refreshTokens.values()) session.expiresAt = past
  }

  private session(refreshToken: string | undefined): RefreshSession {
    if (refreshToken && this.accessTokens.has(refreshToken)) {
      throw new ApiError(401, 'invalid refresh token: incorrect token type', 'InvalidSession')
    }
    const session = refreshToken ? this.refreshTokens.get(refreshToken) : undefined
    if (!session || session.expiresAt <= Date.now()) throw invalidSession('failed to find refresh token')
    return session
  }

  private grant(session: RefreshSession): string {
    const accessToken = this.prefix + newToken()
    this.accessTokens.set(accessToken, {session, expiresAt: Date.now() + this.accessTtlMs})
    session.accessTokens.add(accessToken)
    return accessToken
  }
}

function newToken(): string {
  return randomBytes(24).toString('base64url')
}

function hexDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24)
}

function toAppInstance(groupId: string, app: SeedApp): AppInstance {
  return {
    _id: app._id,
    client_app_id: app.client_app_id,
    name: app.name,
    group_id: groupId,
    domain_id: app.domain_id ?? hexDigest(`domain:${app._id}`),
    product: app.product,
    location: app.location ?? 'US-VA',
    deployment_model: app.deployment_model ?? 'GLOBAL',
    environment: '',
    last_used: 1751328000,
    last_modified: 1748736000,
  }
}

/** Index of the first id strictly greater than `id`. */
function firstAfter(ids: readonly string[], id: string): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (ids[middle] <= id) low = middle + 1
    else high = middle
  }
  return low
}

/** Index of the first id greater than or equal to `id`. */
function firstNotBefore(ids: readonly string[], id: string): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (ids[middle] < id) low = middle + 1
    else high = middle
  }
  return low
}
