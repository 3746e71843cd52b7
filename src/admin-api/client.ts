import {ApiError} from '../errors.js'
import {AuthSession} from './auth-session.js'
import type {Http, HttpRequest} from './http.js'
import {
  APP_PRODUCTS,
  type AdminProfile,
  type App,
  type PendingUser,
  type User,
  type UserFilter,
} from './types.js'

/** The Admin API answers at most this many users (or registrations) per list call. */
export const PAGE_SIZE = 50

/** Renewals of the access token one request may wait for before its 401 is final. */
const MAX_RENEWALS = 3

/** Typed Admin API calls. Callers never see paths, tokens or `after`. */
export class AdminApiClient {
  constructor(
    readonly http: Http,
    readonly session: AuthSession,
  ) {}

  getProfile(): Promise<AdminProfile> {
    return this.get<AdminProfile>('/auth/profile')
  }

  /** Every app of the project, of every product type (the API's default is `standard` only). */
  async listApps(groupId: string): Promise<App[]> {
    const apps = await this.get<App[]>(`/groups/${enc(groupId)}/apps`, {product: APP_PRODUCTS.join(',')})
    return asArray<App>(apps, 'apps').map((app) => ({...app, group_id: app.group_id || groupId}))
  }

  getApp(groupId: string, appId: string): Promise<App> {
    return this.get<App>(`/groups/${enc(groupId)}/apps/${enc(appId)}`)
  }

  /** Pages of users in `_id` order; the filter is a hint the server may ignore. */
  listUsers(app: App, filter: UserFilter = {}): AsyncGenerator<User[]> {
    return this.paginate<User>(`${appPath(app)}/users`, {
      sort: '_id',
      status: filter.state,
      provider_types: filter.providers?.length ? filter.providers.join(',') : undefined,
    })
  }

  listPendingUsers(app: App): AsyncGenerator<PendingUser[]> {
    return this.paginate<PendingUser>(`${appPath(app)}/user_registrations/pending_users`, {})
  }

  /** The user, or undefined when the server says it does not exist. */
  async getUser(app: App, userId: string): Promise<User | undefined> {
    try {
      return await this.get<User>(`${appPath(app)}/users/${enc(userId)}`)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined
      throw error
    }
  }

  /** Revokes every session of the user. */
  async logoutUser(app: App, userId: string): Promise<void> {
    await this.authorized({method: 'PUT', path: `${appPath(app)}/users/${enc(userId)}/logout`})
  }

  /** Ends the admin session on the server (with the refresh token). */
  async deleteSession(): Promise<void> {
    const refreshToken = this.session.refreshToken
    if (refreshToken) await this.http.send({method: 'DELETE', path: '/auth/session', bearer: refreshToken})
  }

  close(): void {
    this.http.close()
  }

  private async get<T>(path: string, query?: HttpRequest['query']): Promise<T> {
    return (await this.authorized({method: 'GET', path, query})) as T
  }

  /**
   * Sends with the access token; on 401 InvalidSession, renews (one renewal shared by every request that met
   * the same token) and repeats. A short-lived token can expire again while a request waits out its retries,
   * so a request may need more than one renewal, but never more than MAX_RENEWALS: nothing loops.
   */
  private async authorized(request: Omit<HttpRequest, 'bearer'>): Promise<unknown> {
    let token = await this.session.accessToken()
    for (let renewals = 0; ; renewals++) {
      try {
        return (await this.http.send({...request, bearer: token})).body
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401) || renewals === MAX_RENEWALS) throw error
        token = await this.session.renew(token)
      }
    }
  }

  /**
   * Follows `after` until a page is short. A server that ignores `after` would
   * repeat a page forever, so a page holding an id seen before ends the
   * listing with an error instead.
   */
  private async *paginate<T extends {_id: string}>(
    path: string,
    query: HttpRequest['query'],
  ): AsyncGenerator<T[]> {
    const seen = new Set<string>()
    let after: string | undefined
    for (;;) {
      const page = asArray<T>(await this.get<T[]>(path, {...query, after}), 'list')
      for (const item of page) {
        if (seen.has(item._id)) {
          throw new ApiError(
            `The Admin API repeated an item while paging (id ${item._id} after ${seen.size} items); stopped listing`,
            {code: 'PagingLoop'},
          )
        }
        seen.add(item._id)
      }
      if (page.length > 0) yield page
      if (page.length < PAGE_SIZE) return
      after = page[page.length - 1]._id
    }
  }
}

function appPath(app: App): string {
  return `/groups/${enc(app.group_id)}/apps/${enc(app._id)}`
}

function enc(segment: string): string {
  return encodeURIComponent(segment)
}

function asArray<T>(value: unknown, what: string): T[] {
  if (!Array.isArray(value)) {
    throw new ApiError(`The Admin API answered the ${what} request with something that is not a list`, {
      code: 'InvalidResponse',
    })
  }
  return value as T[]
}
