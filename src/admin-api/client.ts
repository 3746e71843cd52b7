import {ApiError} from '../errors.js'
import {AuthSession} from './auth-session.js'
import type {Http, HttpRequest} from './http.js'
import {asAdminProfile, asApp, asList, asPendingUser, asUser} from './shapes.js'
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

  async getProfile(): Promise<AdminProfile> {
    return asAdminProfile(await this.get('/auth/profile'))
  }

  /** Every app of the project, of every product type (the API's default is `standard` only). */
  async listApps(groupId: string): Promise<App[]> {
    const apps = await this.get(`/groups/${enc(groupId)}/apps`, {product: APP_PRODUCTS.join(',')})
    return asList(apps, 'apps')
      .map(asApp)
      .map((app) => ({...app, group_id: app.group_id || groupId}))
  }

  /** Pages of users in `_id` order; the filter is a hint the server may ignore. */
  listUsers(app: App, filter: UserFilter = {}): AsyncGenerator<User[]> {
    const query = {
      sort: '_id',
      status: filter.state,
      provider_types: filter.providers?.length ? filter.providers.join(',') : undefined,
    }
    return this.paginate(`${appPath(app)}/users`, query, asUser)
  }

  listPendingUsers(app: App): AsyncGenerator<PendingUser[]> {
    return this.paginate(`${appPath(app)}/user_registrations/pending_users`, {}, asPendingUser)
  }

  /** The user, or undefined when the server says it does not exist. */
  async getUser(app: App, userId: string): Promise<User | undefined> {
    try {
      return asUser(await this.get(`${appPath(app)}/users/${enc(userId)}`))
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

  private get(path: string, query?: HttpRequest['query']): Promise<unknown> {
    return this.authorized({method: 'GET', path, query})
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
        // Only an expired or unknown token is renewed; any other 401 is the answer (PRODUCT.md §6).
        const expired = error instanceof ApiError && error.status === 401 && error.code === 'InvalidSession'
        if (!expired || renewals === MAX_RENEWALS) throw error
        token = await this.session.renew(token)
      }
    }
  }

  /**
   * Follows `after` until a page is short. `after` pages in `_id` order, so
   * every id must be greater than the one before it: a server that ignores
   * `after` and repeats a page (which would loop forever, and act on users
   * twice) fails that check, and the listing ends with an error instead.
   * Checking the order needs no memory of the ids already seen.
   */
  private async *paginate<T extends {_id: string}>(
    path: string,
    query: HttpRequest['query'],
    check: (item: unknown) => T,
  ): AsyncGenerator<T[]> {
    let listed = 0
    let after: string | undefined
    for (;;) {
      const page = asList(await this.get(path, {...query, after}), 'list').map(check)
      for (const item of page) {
        if (after !== undefined && item._id <= after) {
          throw new ApiError(
            `The Admin API repeated or reordered items while paging (id ${item._id} after ${after}, ${listed} items in); stopped listing`,
            {code: 'PagingLoop'},
          )
        }
        after = item._id
        listed++
      }
      if (page.length > 0) yield page
      if (page.length < PAGE_SIZE) return
    }
  }
}

function appPath(app: App): string {
  return `/groups/${enc(app.group_id)}/apps/${enc(app._id)}`
}

/**
 * One path segment. The flags refuse `.` and `..`, which would survive encoding
 * and be resolved away by the URL; an id from the server is checked here too.
 */
function enc(segment: string): string {
  if (segment === '.' || segment === '..' || segment === '') {
    throw new ApiError(`"${segment}" cannot be sent as an id`, {code: 'InvalidResponse'})
  }
  return encodeURIComponent(segment)
}
