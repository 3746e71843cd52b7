import {ApiError, CliError} from '../errors.js'
import type {Http} from './http.js'
import type {ApiKeys, Tokens} from './types.js'

export interface AuthSessionOptions {
  http: Http
  tokens?: Tokens
  /** Used to log in when there are no tokens, or when the refresh token is dead too. */
  keys?: ApiKeys
  /** Persists renewed tokens (to the profile); not called for environment-key sessions. */
  save?: (tokens: Tokens) => Promise<void>
  /** The `login` command line to suggest, e.g. `appservices login --profile ci`. */
  loginHint: string
  /** What to check when `keys` are refused, where they came from somewhere else than the user's typing. */
  keysHint?: string
}

/**
 * Holds the admin session. Concurrent requests that meet an expired access
 * token share one renewal: a refresh, then (if the refresh token is dead too)
 * one login with the saved key pair. A failed renewal is final for the run,
 * so nothing loops.
 */
export class AuthSession {
  private tokens: Tokens
  private renewal?: Promise<string>
  private failure?: CliError

  constructor(private readonly options: AuthSessionOptions) {
    this.tokens = {...options.tokens}
  }

  get refreshToken(): string | undefined {
    return this.tokens.refreshToken
  }

  /** Why the session could not be renewed, once that has happened: every later request fails with it. */
  get renewalFailure(): CliError | undefined {
    return this.failure
  }

  async accessToken(): Promise<string> {
    if (this.failure) throw this.failure
    if (this.tokens.accessToken) return this.tokens.accessToken
    if (this.renewal) return this.renewal
    if (!this.options.keys && !this.tokens.refreshToken) throw this.notLoggedIn('You are not logged in')
    return this.renew(undefined)
  }

  /** Called after a 401 InvalidSession answered a request made with `expired`. */
  async renew(expired: string | undefined): Promise<string> {
    if (this.failure) throw this.failure
    if (this.tokens.accessToken && this.tokens.accessToken !== expired) return this.tokens.accessToken
    this.renewal ??= this.refreshOrLogin().finally(() => {
      this.renewal = undefined
    })
    return this.renewal
  }

  private async refreshOrLogin(): Promise<string> {
    const hadSession = Boolean(this.tokens.refreshToken)
    try {
      if (this.tokens.refreshToken) {
        const refreshed = await this.refresh(this.tokens.refreshToken)
        if (refreshed) return await this.adopt({...this.tokens, accessToken: refreshed})
      }
      if (this.options.keys)
        return await this.adopt(await login(this.options.http, this.options.keys, this.options.keysHint))
      throw this.notLoggedIn('Your session has expired')
    } catch (error) {
      // With a saved session, a failed renewal means "log in again"; without one, the login's own error says more.
      const authFailure =
        !(error instanceof CliError) || ['InvalidSession', 'InvalidCredentials'].includes(error.code)
      this.failure = hadSession && authFailure ? this.expired(error) : (error as CliError)
      throw this.failure
    }
  }

  /** Answers the new access token, or undefined when the refresh token is no longer valid. */
  private async refresh(refreshToken: string): Promise<string | undefined> {
    try {
      const {body} = await this.options.http.send({
        method: 'POST',
        path: '/auth/session',
        bearer: refreshToken,
      })
      const token = (body as {access_token?: unknown})?.access_token
      if (typeof token !== 'string' || !token) {
        throw new ApiError('The Admin API answered a session refresh without an access token', {
          code: 'InvalidResponse',
        })
      }
      return token
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return undefined
      throw error
    }
  }

  private async adopt(tokens: Tokens): Promise<string> {
    this.tokens = tokens
    await this.options.save?.(tokens)
    return tokens.accessToken as string
  }

  private expired(cause: unknown): CliError {
    return this.notLoggedIn('Your session has expired and could not be renewed', cause)
  }

  private notLoggedIn(message: string, cause?: unknown): CliError {
    return new CliError(message, {code: 'InvalidSession', suggestion: this.options.loginHint, cause})
  }
}

/** POST /auth/providers/mongodb-cloud/login; never retried, since login is not idempotent. */
export async function login(
  http: Http,
  keys: ApiKeys,
  keysHint = 'check the public and private API key of your Atlas programmatic API key',
): Promise<Tokens> {
  try {
    const {body} = await http.send({
      method: 'POST',
      path: '/auth/providers/mongodb-cloud/login',
      json: {username: keys.publicKey, apiKey: keys.privateKey},
      idempotent: false,
    })
    const answer = (body ?? {}) as {access_token?: unknown; refresh_token?: unknown}
    if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string') {
      throw new ApiError('The Admin API answered the login without tokens', {code: 'InvalidResponse'})
    }
    return {accessToken: answer.access_token, refreshToken: answer.refresh_token}
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      throw new ApiError(`Login failed: ${error.message}`, {
        code: 'InvalidCredentials',
        status: error.status,
        suggestion: keysHint,
      })
    }
    throw error
  }
}
