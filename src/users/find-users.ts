import type {AdminApiClient} from '../admin-api/client.js'
import type {App, PendingUser, User, UserFilter} from '../admin-api/types.js'
import {ApiError} from '../errors.js'
import type {Target} from './types.js'

export interface UserQuery extends UserFilter {
  /** User ids from --user (for --pending: registration ids or emails). */
  ids: string[]
  pending: boolean
  /** Parallel lookups of --user ids. */
  concurrency?: number
}

export const PENDING_SKIP = 'pending registration: it has no session to revoke'

/** Yields the targets in batches as they are found, so revocation can start before listing ends. */
export function findTargets(client: AdminApiClient, app: App, query: UserQuery): AsyncGenerator<Target[]> {
  if (query.pending) return pendingTargets(client, app, query.ids)
  if (query.ids.length > 0) return usersById(client, app, query)
  return listedUsers(client, app, query)
}

/**
 * Keeps the users that match --state and --provider. Applied on the client
 * even when the filter was sent, because the API does not promise to honour it.
 */
export function matchesFilter(user: User, filter: UserFilter): boolean {
  if (filter.state === 'enabled' && user.disabled) return false
  if (filter.state === 'disabled' && !user.disabled) return false
  if (filter.providers?.length) {
    return (user.identities ?? []).some((identity) => filter.providers?.includes(identity.provider_type))
  }
  return true
}

export function userTarget(user: User): Target {
  const providers = sharedList([
    ...new Set((user.identities ?? []).map((identity) => identity.provider_type)),
  ])
  const email = typeof user.data?.email === 'string' ? user.data.email : undefined
  const name = typeof user.data?.name === 'string' ? user.data.name : undefined
  return {
    id: user._id,
    type: user.type ?? 'normal',
    provider_types: providers,
    ...(email ? {email} : {}),
    ...(name ? {name} : {}),
    disabled: Boolean(user.disabled),
  }
}

/** Most users share one of a few provider lists; sharing them keeps a 100,000-user report small. */
const providerLists = new Map<string, string[]>()
function sharedList(list: string[]): string[] {
  const key = list.join(',')
  let shared = providerLists.get(key)
  if (!shared) providerLists.set(key, (shared = Object.freeze(list) as string[]))
  return shared
}

async function* listedUsers(client: AdminApiClient, app: App, query: UserQuery): AsyncGenerator<Target[]> {
  for await (const page of client.listUsers(app, query)) {
    const targets = page.filter((user) => matchesFilter(user, query)).map(userTarget)
    if (targets.length > 0) yield targets
  }
}

async function* usersById(client: AdminApiClient, app: App, query: UserQuery): AsyncGenerator<Target[]> {
  const {default: pLimit} = await import('p-limit')
  const limit = pLimit(query.concurrency ?? 8)
  const batch = 50
  for (let start = 0; start < query.ids.length; start += batch) {
    const ids = query.ids.slice(start, start + batch)
    const found = await Promise.all(ids.map((id) => limit(() => targetById(client, app, id, query))))
    const targets = found.filter((target): target is Target => target !== undefined)
    if (targets.length > 0) yield targets
  }
}

/** The user's target, or undefined when --state / --provider leave it out. */
async function targetById(
  client: AdminApiClient,
  app: App,
  id: string,
  filter: UserFilter,
): Promise<Target | undefined> {
  let user: User | undefined
  try {
    user = await client.getUser(app, id)
  } catch (error) {
    // A session that cannot be renewed, or Ctrl-C, fails every other lookup alike: that ends the run.
    if (client.session.renewalFailure) throw client.session.renewalFailure
    if (!(error instanceof ApiError) || error.code === 'Aborted') throw error
    // Anything else is this user's failure only: the other users are still revoked.
    return failedTarget(id, error.message)
  }
  if (!user) return failedTarget(id, 'user not found')
  // Never log out someone other than the user asked for.
  if (user._id !== id) return failedTarget(id, `the Admin API answered with another user (${user._id})`)
  return matchesFilter(user, filter) ? userTarget(user) : undefined
}

function failedTarget(id: string, failure: string): Target {
  return {id, type: 'unknown', provider_types: [], failure}
}

async function* pendingTargets(client: AdminApiClient, app: App, wanted: string[]): AsyncGenerator<Target[]> {
  const unseen = new Set(wanted)
  for await (const page of client.listPendingUsers(app)) {
    const targets = page
      .filter(
        (registration) => wanted.length === 0 || keysOf(registration).some((key) => wanted.includes(key)),
      )
      .map((registration) => {
        for (const key of keysOf(registration)) unseen.delete(key)
        return pendingTarget(registration)
      })
    if (targets.length > 0) yield targets
  }
  if (unseen.size > 0) {
    yield [...unseen].map((id) => ({
      id,
      type: 'pending',
      provider_types: [],
      failure: 'pending registration not found',
    }))
  }
}

function keysOf(registration: PendingUser): string[] {
  return [registration._id, ...(registration.login_ids ?? []).map((login) => login.id)]
}

function pendingTarget(registration: PendingUser): Target {
  const email = registration.login_ids?.find((login) => login.id_type === 'email')?.id
  return {
    id: registration._id,
    type: 'pending',
    provider_types: ['local-userpass'],
    ...(email ? {email} : {}),
    skip: PENDING_SKIP,
  }
}
