import {PRODUCTS, type Product} from './seed.js'
import {ApiError, type ApiKeyRecord, type AppStore, type EmulatorState, type RouteName} from './state.js'

export const API_PREFIX = '/api/admin/v3.0'

export interface ApiRequest {
  params: Record<string, string>
  query: Record<string, string>
  body: Buffer
  /** The token of an `Authorization: Bearer` header. */
  bearer?: string
}

export interface ApiReply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface ApiBehaviour {
  ignoreFilters: boolean
  ignoreAfter: boolean
}

interface PublicContext {
  state: EmulatorState
  request: ApiRequest
  behaviour: ApiBehaviour
}

interface Context extends PublicContext {
  /** The API key behind the request's access token. */
  key: ApiKeyRecord
}

interface Route {
  name: RouteName
  method: string
  segments: string[]
  handle(context: PublicContext): ApiReply
}

export type RouteMatch =
  {route: Route; params: Record<string, string>} | {route?: undefined; allowed: string[]}

const ROUTES: Route[] = [
  publicRoute('login', 'POST', '/auth/providers/mongodb-cloud/login', login),
  // The session routes take a refresh token, which the state checks itself.
  publicRoute('refresh', 'POST', '/auth/session', ({state, request}) => ({
    status: 201,
    body: state.refreshSession(request.bearer),
  })),
  publicRoute('deleteSession', 'DELETE', '/auth/session', ({state, request}) => {
    state.deleteSession(request.bearer)
    return {status: 204}
  }),
  route('profile', 'GET', '/auth/profile', ({key}) => ({
    status: 200,
    body: {
      user_id: key.userId,
      type: 'normal',
      roles: key.groupIds.map((groupId) => ({role_name: 'GROUP_OWNER', group_id: groupId})),
    },
  })),
  route('listApps', 'GET', '/groups/:groupId/apps', listApps),
  route('getApp', 'GET', '/groups/:groupId/apps/:appId', (context) => ({
    status: 200,
    body: findApp(context).app,
  })),
  route('listUsers', 'GET', '/groups/:groupId/apps/:appId/users', listUsers),
  route('getUser', 'GET', '/groups/:groupId/apps/:appId/users/:userId', (context) => ({
    status: 200,
    body: findUser(context),
  })),
  route('logout', 'PUT', '/groups/:groupId/apps/:appId/users/:userId/logout', (context) => {
    if (!findApp(context).logout(context.request.params.userId)) throw userNotFound()
    return {status: 204}
  }),
  route('listPending', 'GET', '/groups/:groupId/apps/:appId/user_registrations/pending_users', (context) => {
    const after = context.behaviour.ignoreAfter ? undefined : context.request.query.after
    return {status: 200, body: findApp(context).listPending(after)}
  }),
]

function publicRoute(
  name: RouteName,
  method: string,
  pattern: string,
  handle: (context: PublicContext) => ApiReply,
): Route {
  return {name, method, segments: pattern.split('/').slice(1), handle}
}

/** A route that needs a valid access token: 401 InvalidSession before the handler runs otherwise. */
function route(
  name: RouteName,
  method: string,
  pattern: string,
  handle: (context: Context) => ApiReply,
): Route {
  return publicRoute(name, method, pattern, (context) =>
    handle({...context, key: context.state.authenticate(context.request.bearer)}),
  )
}

/** Finds the route of a path below API_PREFIX; without one, `allowed` lists the methods the path has. */
export function matchRoute(method: string, path: string): RouteMatch {
  const segments = path.split('/').slice(1)
  const allowed: string[] = []
  for (const candidate of ROUTES) {
    const params = matchSegments(candidate.segments, segments)
    if (!params) continue
    if (candidate.method === method) return {route: candidate, params}
    allowed.push(candidate.method)
  }
  return {allowed}
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, part] of pattern.entries()) {
    if (part.startsWith(':')) {
      if (segments[i] === '') return undefined
      params[part.slice(1)] = safeDecode(segments[i])
    } else if (part !== segments[i]) return undefined
  }
  return params
}

/** Answers one Admin API request: authentication, then the route's handler; errors become JSON bodies. */
export function handleApiRequest(
  state: EmulatorState,
  match: RouteMatch,
  request: ApiRequest,
  behaviour: ApiBehaviour,
): ApiReply {
  try {
    if (!match.route) {
      if (match.allowed.length === 0) throw new ApiError(404, 'no such endpoint', 'NotFound')
      return {
        status: 405,
        body: new ApiError(405, 'method not allowed', 'MethodNotAllowed').toJSON(),
        headers: {allow: match.allowed.join(', ')},
      }
    }
    return match.route.handle({state, request, behaviour})
  } catch (error) {
    if (error instanceof ApiError) return {status: error.status, body: error.toJSON()}
    throw error
  }
}

function login({state, request}: PublicContext): ApiReply {
  let credentials: unknown
  try {
    credentials = JSON.parse(request.body.toString('utf8'))
  } catch {
    throw badRequest('the request body must be JSON')
  }
  const {username, apiKey} = (credentials ?? {}) as Record<string, unknown>
  if (typeof username !== 'string' || typeof apiKey !== 'string') {
    throw badRequest('the request body must have string fields username and apiKey')
  }
  return {status: 200, body: state.login(username, apiKey)}
}

function listApps({state, request, key}: Context): ApiReply {
  const {groupId} = request.params
  requireGroup(key, groupId)
  const products = request.query.product
    ? request.query.product.split(',').map((product) => product.trim())
    : ['standard']
  const unknown = products.find((product) => !PRODUCTS.includes(product as Product))
  if (unknown !== undefined)
    throw badRequest(`invalid product '${unknown}': must be one of ${PRODUCTS.join(', ')}`)
  const apps = state.groupApps(groupId).filter((store) => products.includes(store.app.product))
  return {status: 200, body: apps.map((store) => store.app)}
}

function listUsers(context: Context): ApiReply {
  const {query} = context.request
  const store = findApp(context)
  if (query.sort !== undefined && query.sort !== '_id')
    throw badRequest(`invalid sort field '${query.sort}': only _id`)
  if (query.desc !== undefined && query.desc !== 'true' && query.desc !== 'false') {
    throw badRequest(`invalid desc '${query.desc}': must be true or false`)
  }
  if (query.status !== undefined && query.status !== 'enabled' && query.status !== 'disabled') {
    throw badRequest(`invalid status '${query.status}': must be enabled or disabled`)
  }
  const filter = !context.behaviour.ignoreFilters
  const users = store.listUsers({
    after: context.behaviour.ignoreAfter ? undefined : query.after,
    desc: query.desc === 'true',
    disabled: filter && query.status ? query.status === 'disabled' : undefined,
    providerTypes: filter && query.provider_types ? new Set(query.provider_types.split(',')) : undefined,
  })
  return {status: 200, body: users}
}

function requireGroup(key: ApiKeyRecord, groupId: string): void {
  // A project the key cannot see answers as if it did not exist, so that ids cannot be probed.
  if (!key.groupIds.includes(groupId)) throw new ApiError(404, 'group not found', 'GroupNotFound')
}

function findApp({state, request, key}: Context): AppStore {
  requireGroup(key, request.params.groupId)
  const store = state.findApp(request.params.groupId, request.params.appId)
  if (!store) throw new ApiError(404, 'app not found', 'AppNotFound')
  return store
}

function findUser(context: Context) {
  const user = findApp(context).getUser(context.request.params.userId)
  if (!user) throw userNotFound()
  return user
}

function userNotFound(): ApiError {
  return new ApiError(404, 'user not found', 'UserNotFound')
}

function badRequest(message: string): ApiError {
  return new ApiError(400, message, 'BadRequest')
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
