import {ApiError} from '../errors.js'
import type {AdminProfile, App, PendingUser, User} from './types.js'

/**
 * Checks of the answers the plugin reads, so that a server answering in another
 * shape is an InvalidResponse, never a TypeError, nor a logout sent to a
 * malformed id.
 */
export function asUser(value: unknown): User {
  if (
    !hasId(value) ||
    !optional(value.identities, (identities) => isListOf(identities, (id) => isString(id.provider_type))) ||
    !optional(value.data, isObject) ||
    !optional(value.type, isString)
  )
    throw invalid('a user')
  return value as unknown as User
}

export function asPendingUser(value: unknown): PendingUser {
  if (!hasId(value) || !optional(value.login_ids, (ids) => isListOf(ids, (login) => isString(login.id))))
    throw invalid('a pending user')
  return value as unknown as PendingUser
}

export function asApp(value: unknown): App {
  if (
    !hasId(value) ||
    !isString(value.client_app_id) ||
    !isString(value.name) ||
    !optional(value.group_id, isString)
  )
    throw invalid('an app')
  return value as unknown as App
}

export function asAdminProfile(value: unknown): AdminProfile {
  if (!isObject(value) || !optional(value.roles, (roles) => isListOf(roles, () => true)))
    throw invalid('the admin profile')
  return value as AdminProfile
}

export function asList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new ApiError(`The Admin API answered the ${what} request with something that is not a list`, {
      code: 'InvalidResponse',
    })
  }
  return value
}

function invalid(what: string): ApiError {
  return new ApiError(`The Admin API answered with ${what} of an unexpected shape`, {code: 'InvalidResponse'})
}

type Fields = Record<string, unknown>

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isString = (value: unknown): value is string => typeof value === 'string'
const hasId = (value: unknown): value is Fields & {_id: string} =>
  isObject(value) && isString(value._id) && value._id !== ''
const optional = (value: unknown, test: (value: unknown) => boolean) =>
  value === undefined || value === null || test(value)
const isListOf = (value: unknown, test: (item: Fields) => boolean) =>
  Array.isArray(value) && value.every((item) => isObject(item) && test(item))
