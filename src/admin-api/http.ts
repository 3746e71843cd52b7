import {setMaxListeners} from 'node:events'
import type {Agent as HttpAgent} from 'node:http'
import type {Got, Method, RequestError} from 'got'

import {ApiError} from '../errors.js'
import {API_PREFIX} from './base-url.js'

export interface HttpOptions {
  baseUrl: string
  /** Per-attempt timeout; APPSERVICES_REQUEST_TIMEOUT_MS overrides the 30 s default. */
  timeoutMs?: number
  /** Retries after the first attempt, for idempotent requests. */
  retries?: number
  /** Sockets kept open at once (the revoke concurrency plus room for listing). */
  maxSockets?: number
  /** Aborts every request in flight (Ctrl-C). */
  signal?: AbortSignal
}

export interface HttpRequest {
  method: Method
  path: string
  bearer?: string
  query?: Record<string, string | undefined>
  json?: unknown
  /** Login is not idempotent, so it is never retried (PRODUCT.md §6). */
  idempotent?: boolean
}

export interface HttpAnswer {
  status: number
  body: unknown
}

const RETRY_STATUS = [429, 500, 502, 503, 504]
// Connection refused is not retried: nothing listens there, and waiting would only delay the error.
const RETRY_ERRORS = ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH']
const BACKOFF_BASE_MS = 250
const BACKOFF_CAP_MS = 8000

/**
 * The only module that speaks HTTP: got with timeouts, bounded retries with
 * jittered exponential backoff (at least Retry-After), no redirects (a bearer
 * token must never follow one to another host), and proxies from the
 * environment. Error bodies become ApiErrors carrying the server's text.
 */
export class Http {
  readonly origin: string
  private readonly got: Got
  private readonly agents: HttpAgent[]

  private constructor(origin: string, instance: Got, agents: HttpAgent[]) {
    this.origin = origin
    this.got = instance
    this.agents = agents
  }

  static async create(options: HttpOptions): Promise<Http> {
    const [{got}, agent] = await Promise.all([import('got'), createAgent(options)])
    const timeoutMs = options.timeoutMs ?? envNumber('APPSERVICES_REQUEST_TIMEOUT_MS') ?? 30_000
    // got listens to the signal once per request in flight; past 10 Node would warn of a leak that is not one.
    if (options.signal) setMaxListeners(0, options.signal)
    const instance = got.extend({
      prefixUrl: options.baseUrl + API_PREFIX,
      timeout: {request: timeoutMs},
      followRedirect: false,
      throwHttpErrors: false,
      responseType: 'text',
      agent: {http: agent, https: agent as import('node:https').Agent},
      signal: options.signal,
      headers: {'user-agent': 'appservices-plugin-users', accept: 'application/json'},
      retry: {
        limit: options.retries ?? 5,
        methods: ['GET', 'PUT', 'DELETE', 'POST'],
        statusCodes: RETRY_STATUS,
        errorCodes: RETRY_ERRORS,
        maxRetryAfter: 120_000,
        calculateDelay: ({attemptCount, error, computedValue}) => {
          if (computedValue === 0) return 0
          if (error.code === 'ETIMEDOUT' && attemptCount > 2) return 0
          const backoff = Math.min(BACKOFF_BASE_MS * 2 ** (attemptCount - 1), BACKOFF_CAP_MS)
          const jittered = backoff / 2 + (Math.random() * backoff) / 2
          const retryAfter = retryAfterMs(error.response?.headers['retry-after'])
          return Math.max(jittered, retryAfter ?? 0)
        },
      },
    })
    return new Http(new URL(options.baseUrl).origin, instance, [agent])
  }

  /** Sends one request; answers with a 2xx status and parsed JSON body, or throws ApiError. */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    const searchParams = Object.fromEntries(
      Object.entries(request.query ?? {}).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    )
    let response
    try {
      response = await this.got(request.path.replace(/^\//, ''), {
        method: request.method,
        searchParams,
        json: request.json,
        headers: request.bearer ? {authorization: `Bearer ${request.bearer}`} : {},
        ...(request.idempotent === false ? {retry: {limit: 0}} : {}),
      })
    } catch (error) {
      throw this.networkError(error as RequestError)
    }
    const {statusCode: status, body: text} = response
    const body = parseJson(text)
    if (status >= 200 && status < 300) {
      if (body === INVALID) {
        throw new ApiError(`The Admin API answered HTTP ${status} with a body that is not valid JSON`, {
          code: 'InvalidResponse',
          status,
          suggestion: 'check that --realm-url / APPSERVICES_BASE_URL is the App Services Admin API',
        })
      }
      return {status, body}
    }
    if (status >= 300 && status < 400) {
      throw new ApiError(`The Admin API answered with a redirect (HTTP ${status}); it was not followed`, {
        code: 'UnexpectedRedirect',
        status,
        suggestion: 'check --realm-url or APPSERVICES_BASE_URL',
      })
    }
    const server =
      body !== INVALID && body && typeof body === 'object' ? (body as Record<string, unknown>) : {}
    const message = typeof server.error === 'string' && server.error ? server.error : response.statusMessage
    const code =
      typeof server.error_code === 'string' && server.error_code ? server.error_code : `Http${status}`
    throw new ApiError(`${message || 'request failed'} (HTTP ${status})`, {code, status})
  }

  close(): void {
    for (const agent of this.agents) agent.destroy()
  }

  private networkError(error: RequestError): ApiError {
    if (error.name === 'AbortError' || error.code === 'ERR_ABORTED') {
      return new ApiError('The request was aborted', {code: 'Aborted', cause: error})
    }
    if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT') {
      return new ApiError(`The Admin API at ${this.origin} did not answer in time`, {
        code: 'Timeout',
        cause: error,
        suggestion: 'check your network, or raise APPSERVICES_REQUEST_TIMEOUT_MS',
      })
    }
    const reason = error.code === 'ECONNREFUSED' ? 'connection refused' : error.code || error.message
    return new ApiError(`Cannot reach the Admin API at ${this.origin}: ${reason}`, {
      code: 'NetworkError',
      cause: error,
      suggestion: 'check your network and --realm-url / APPSERVICES_BASE_URL',
    })
  }
}

const INVALID = Symbol('invalid JSON')

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return INVALID
  }
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function envNumber(name: string): number | undefined {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : undefined
}

/** A keep-alive agent, or a proxy agent when HTTPS_PROXY / HTTP_PROXY / NO_PROXY say so. */
async function createAgent(options: HttpOptions): Promise<HttpAgent> {
  const agentOptions = {keepAlive: true, maxSockets: options.maxSockets ?? 16, scheduling: 'lifo' as const}
  const {getProxyForUrl} = await import('proxy-from-env')
  const proxy = getProxyForUrl(options.baseUrl)
  const https = options.baseUrl.startsWith('https:')
  if (proxy) {
    const {HttpProxyAgent, HttpsProxyAgent} = await import('hpagent')
    return https
      ? new HttpsProxyAgent({...agentOptions, proxy})
      : (new HttpProxyAgent({...agentOptions, proxy}) as unknown as HttpAgent)
  }
  const module = https ? await import('node:https') : await import('node:http')
  return new module.Agent(agentOptions)
}
