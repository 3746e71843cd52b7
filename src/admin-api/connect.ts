import {CliError} from '../errors.js'
import {loginCommand, type Profile, type ProfileStore} from '../profile/profile-store.js'
import {AuthSession} from './auth-session.js'
import {AdminApiClient} from './client.js'
import {Http, type HttpOptions} from './http.js'
import type {ApiKeys} from './types.js'

const PUBLIC_VAR = 'MONGODB_ATLAS_PUBLIC_API_KEY'
const PRIVATE_VAR = 'MONGODB_ATLAS_PRIVATE_API_KEY'

export interface ConnectOptions {
  store: ProfileStore
  profile: Profile
  baseUrl: string
  env: NodeJS.ProcessEnv
  binName: string
  /** How to reach the Admin API; the signal aborts the requests in flight. */
  http?: Omit<HttpOptions, 'baseUrl'>
  /** Tells the person at the terminal (stderr) what went wrong but did not stop the command. */
  warn: (message: string) => void
}

/**
 * Builds the client from the profile's session, or (with none saved) from
 * the Atlas CLI's environment keys, whose session stays in memory (§4).
 */
export async function connect(options: ConnectOptions): Promise<AdminApiClient> {
  const {profile, store, env, baseUrl} = options
  const loginHint = loginCommand(options.binName, store.name)
  const credentials = findCredentials(profile, env, baseUrl)
  if (!credentials) {
    const who =
      store.name === 'default'
        ? 'You are not logged in'
        : `You are not logged in with profile "${store.name}"`
    const elsewhere = profileFor(profile, baseUrl)
      ? ''
      : ` to ${baseUrl} (the profile's session is for ${profile.realm_base_url})`
    // One of the pair set is a mistake worth naming, not a plain "not logged in".
    const unset = [PUBLIC_VAR, PRIVATE_VAR].filter((name) => !env[name]?.trim())
    const half = unset.length === 1 ? unset[0] : undefined
    throw new CliError(`${who}${elsewhere}${half ? `, and ${half} is not set` : ''}`, {
      code: 'NotLoggedIn',
      suggestion: `${loginHint} (or set ${PUBLIC_VAR} and ${PRIVATE_VAR})`,
    })
  }
  const saved = credentials.source === 'profile'
  const http = await Http.create({...options.http, baseUrl})
  const session = new AuthSession({
    http,
    tokens: saved ? {accessToken: profile.access_token, refreshToken: profile.refresh_token} : {},
    keys: credentials.keys,
    save: saved
      ? async (tokens) => {
          try {
            await store.update({access_token: tokens.accessToken, refresh_token: tokens.refreshToken})
          } catch (error) {
            // A read-only profile (mounted so in CI) must not fail every run once its token expires.
            if (!(error instanceof CliError)) throw error
            options.warn(
              `Warning: the renewed session could not be saved (${error.message}); this run goes on with it`,
            )
          }
        }
      : undefined,
    loginHint,
    keysHint: credentials.keysFromEnvironment ? `check ${PUBLIC_VAR} and ${PRIVATE_VAR}` : undefined,
  })
  return new AdminApiClient(http, session)
}

/** Where the commands' credentials come from, and the key pair to log in with, if any. */
export interface Credentials {
  source: 'profile' | 'environment'
  keys?: ApiKeys
  /** The key pair is the environment's (a profile with a session but no keys of its own may use it too). */
  keysFromEnvironment: boolean
}

/**
 * The one place that decides which credentials a command uses (whoami tells the
 * same story): the profile's session or key pair first, else the environment's keys.
 * A profile logged in to another Admin API does not count: its tokens and keys
 * are never sent anywhere but where they were issued.
 */
export function findCredentials(
  profile: Profile,
  env: NodeJS.ProcessEnv,
  baseUrl: string,
): Credentials | undefined {
  const profileKeys = keyPair(profile.public_api_key, profile.private_api_key)
  const envKeys = keyPair(env[PUBLIC_VAR], env[PRIVATE_VAR])
  if ((profile.refresh_token || profileKeys) && profileFor(profile, baseUrl))
    return {
      source: 'profile',
      keys: profileKeys ?? envKeys,
      keysFromEnvironment: !profileKeys && Boolean(envKeys),
    }
  return envKeys ? {source: 'environment', keys: envKeys, keysFromEnvironment: true} : undefined
}

/** The profile's session belongs to this base URL (a profile that names none was written for any). */
export function profileFor(profile: Profile, baseUrl: string): boolean {
  return !profile.realm_base_url || profile.realm_base_url.replace(/\/+$/, '') === baseUrl
}

/** A variable set to "" (or blanks) counts as not set: logging in with it could only fail. */
function keyPair(publicKey?: string, privateKey?: string): ApiKeys | undefined {
  const [pub, priv] = [publicKey?.trim(), privateKey?.trim()]
  return pub && priv ? {publicKey: pub, privateKey: priv} : undefined
}
