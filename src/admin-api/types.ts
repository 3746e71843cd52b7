/** Shapes of the Admin API v3 answers the plugin reads (see shared/admin-api). */

export const PROVIDER_TYPES = [
  'local-userpass',
  'api-key',
  'oauth2-facebook',
  'oauth2-google',
  'anon-user',
  'custom-token',
  'oauth2-apple',
  'custom-function',
] as const
export type ProviderType = (typeof PROVIDER_TYPES)[number]

export const APP_PRODUCTS = ['standard', 'atlas', 'data-api', 'device-sync'] as const

export interface App {
  _id: string
  client_app_id: string
  name: string
  group_id: string
  product?: string
}

export interface Identity {
  id: string
  provider_type: string
  provider_id?: string
}

export interface User {
  _id: string
  identities?: Identity[]
  type?: string
  creation_date?: number
  last_authentication_date?: number
  disabled?: boolean
  data?: {email?: string; name?: string; [key: string]: unknown}
}

export interface PendingUser {
  _id: string
  domain_id?: string
  login_ids?: {id_type: string; id: string}[]
  user_id?: string
}

export interface AdminProfile {
  user_id?: string
  roles?: {role_name?: string; group_id?: string}[]
}

export interface Tokens {
  accessToken?: string
  refreshToken?: string
}

export interface ApiKeys {
  publicKey: string
  privateKey: string
}

export interface UserFilter {
  state?: 'enabled' | 'disabled'
  providers?: string[]
}
