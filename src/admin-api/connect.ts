import {CliError} from '../errors.js'
import {loginCommand, type Profile, type ProfileStore} from '../profile/profile-store.js'
import {AuthSession} from './auth-session.js'
import {resolveBaseUrl} from './base-url.js'
import {AdminApiClient} from './client.js'
import {Http} from './http.js'
import type {ApiKeys} from './types.js'

export interface ConnectOptions {
  store: ProfileStore
  profile: Profile
  realmUrlFlag?: string
  env: NodeJS.ProcessEnv
  binName: string
  maxSockets?: number
  signal?: AbortSignal
}

/**
 * Builds the client from the profile's session, or (with none saved) from
 * the Atlas CLI's environment keys, whose session stays in memory (§4).
 */
export async function connect(options: ConnectOptions): Promise<AdminApiClient> {
  const {profile, store, env} = options
  const baseUrl = resolveBaseUrl({
    flag: options.realmUrlFlag,
    env: env.APPSERVICES_BASE_URL,
    profile: profile.realm_base_url,
  })
  const loginHint = loginCommand(options.binName, store.name)
  const credentials = findCredentials(profile, env)
  if (!credentials) {
    throw new CliError(
      store.name === 'default'
        ? 'You are not logged in'
        : `You are not logged in with profile "${store.name}"`,
      {
        code: 'NotLoggedIn',
        suggestion: `${loginHint} (or set MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY)`,
      },
    )
  }
  const saved = credentials.source === 'profile'
  const http = await Http.create({baseUrl, maxSockets: options.maxSockets, signal: graceful(options.signal)})
  const session = new AuthSession({
    http,
    tokens: saved ? {accessToken: profile.access_token, refreshToken: profile.refresh_token} : {},
    keys: credentials.keys,
    save: saved
      ? async (tokens) => {
          await store.update({access_token: tokens.accessToken, refresh_token: tokens.refreshToken})
        }
      : undefined,
    loginHint,
  })
  return new AdminApiClient(http, session)
}

/** In-flight requests get a second to finish after Ctrl-C before they are aborted. */
function graceful(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal) return undefined
  const controller = new AbortController()
  signal.addEventListener('abort', () => setTimeout(() => controller.abort(signal.reason), 1000).unref(), {
    once: true,
  })
  return controller.signal
}

/** Where the commands' credentials come from, and the key pair to log in with, if any. */
export interface Credentials {
  source: 'profile' | 'environment'
  keys?: ApiKeys
}

/**
 * The one place that decides which credentials a command uses (whoami tells the
 * same story): the profile's session or key pair first, else the environment's keys.
 */
export function findCredentials(profile: Profile, env: NodeJS.ProcessEnv): Credentials | undefined {
  const profileKeys = keyPair(profile.public_api_key, profile.private_api_key)
  const envKeys = keyPair(env.MONGODB_ATLAS_PUBLIC_API_KEY, env.MONGODB_ATLAS_PRIVATE_API_KEY)
  if (profile.refresh_token || profileKeys) return {source: 'profile', keys: profileKeys ?? envKeys}
  return envKeys ? {source: 'environment', keys: envKeys} : undefined
}

/** A variable set to "" (or blanks) counts as not set: logging in with it could only fail. */
function keyPair(publicKey?: string, privateKey?: string): ApiKeys | undefined {
  const [pub, priv] = [publicKey?.trim(), privateKey?.trim()]
  return pub && priv ? {publicKey: pub, privateKey: priv} : undefined
}
