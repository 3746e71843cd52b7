import {setMaxListeners} from 'node:events'
import type {Agent as HttpAgent, IncomingHttpHeaders, request as httpRequest} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'

import {ApiError, usageError} from '../errors.js'
import {API_PREFIX} from './base-url.js'

export interface HttpOptions {
  baseUrl: string
  /** Per-attempt timeout; APPSERVICES_REQUEST_TIMEOUT_MS overrides the 30 s default. */
  timeoutMs?: number
  /** Retries after the first attempt, for idempotent requests. */
  retries?: number
  /** Sockets kept open at once (the revoke concurrency plus room for listing). */
  maxSockets?: number
  /** Aborts every request in flight, and every wait between attempts (Ctrl-C). */
  signal?: AbortSignal
}

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

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

interface RawAnswer {
  status: number
  statusMessage: string
  headers: IncomingHttpHeaders
  text: string
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504])
// Connection refused is not retried: nothing listens there, and waiting would only delay the error.
const RETRY_ERRORS = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH'])
const TIMEOUT_ATTEMPTS = 3
const BACKOFF_BASE_MS = 250
const BACKOFF_CAP_MS = 8000
const MAX_RETRY_AFTER_MS = 120_000

/**
 * The only module that speaks HTTP: Node's own http(s) client (no HTTP
 * library: got alone cost more startup time than all of oclif, and three
 * times the memory on large runs), with a timeout per attempt, bounded
 * retries of idempotent requests with jittered exponential backoff (at least
 * Retry-After), no redirects (a bearer token must never follow one to
 * another host), keep-alive, and proxies from the environment. Error bodies
 * become ApiErrors carrying the server's text and the status.
 */
export class Http {
  readonly origin: string

  private constructor(
    private readonly prefix: string,
    private readonly request: typeof httpRequest,
    private readonly agent: HttpAgent,
    private readonly timeoutMs: number,
    private readonly retries: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.origin = new URL(prefix).origin
  }

  static async create(options: HttpOptions): Promise<Http> {
    const https = options.baseUrl.startsWith('https:')
    const [transport, agent] = await Promise.all([
      https ? import('node:https') : import('node:http'),
      createAgent(options, https),
    ])
    const timeoutMs = options.timeoutMs ?? requestTimeoutMs(process.env)
    // Every request in flight listens to the signal; past 10 Node would warn of a leak that is not one.
    if (options.signal) setMaxListeners(0, options.signal)
    return new Http(
      options.baseUrl + API_PREFIX,
      transport.request as typeof httpRequest,
      agent,
      timeoutMs,
      options.retries ?? 5,
      options.signal,
    )
  }

  /** Sends one request (with its retries); answers with a 2xx status and the parsed JSON body, or throws ApiError. */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    const url = new URL(this.prefix + request.path)
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value)
    }
    const body = request.json === undefined ? undefined : JSON.stringify(request.json)
    const headers: Record<string, string> = {
      'user-agent': 'appservices-plugin-users',
      accept: 'application/json',
    }
    if (request.bearer) headers.authorization = `Bearer ${request.bearer}`
    if (body !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(body))
    }
    const attempts = request.idempotent === false ? 1 : this.retries + 1
    for (let attempt = 1; ; attempt++) {
      let answer: RawAnswer
      try {
        answer = await this.attempt(url, request.method, headers, body)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? ''
        const retry =
          RETRY_ERRORS.has(code) && attempt < attempts && (code !== 'ETIMEDOUT' || attempt < TIMEOUT_ATTEMPTS)
        if (!retry) throw this.networkError(error as NodeJS.ErrnoException)
        await this.pause(backoff(attempt))
        continue
      }
      if (RETRY_STATUS.has(answer.status) && attempt < attempts) {
        const retryAfter = retryAfterMs(answer.headers['retry-after'])
        if (retryAfter === undefined || retryAfter <= MAX_RETRY_AFTER_MS) {
          await this.pause(Math.max(backoff(attempt), retryAfter ?? 0))
          continue
        }
      }
      return interpret(answer)
    }
  }

  close(): void {
    this.agent.destroy()
  }

  private attempt(
    url: URL,
    method: Method,
    headers: Record<string, string>,
    body?: string,
  ): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const request = this.request(
        url,
        {method, headers, agent: this.agent, signal: this.signal},
        (response) => {
          let text = ''
          let ended = false
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => (text += chunk))
          response.on('end', () => {
            ended = true
            clearTimeout(timer)
            resolve({
              status: response.statusCode ?? 0,
              statusMessage: response.statusMessage ?? '',
              headers: response.headers,
              text,
            })
          })
          response.on('error', fail)
          response.on('close', () => {
            if (!ended)
              fail(
                Object.assign(new Error('connection closed before the answer ended'), {code: 'ECONNRESET'}),
              )
          })
        },
      )
      const timer = setTimeout(
        () => request.destroy(Object.assign(new Error('timed out'), {code: 'ETIMEDOUT'})),
        this.timeoutMs,
      )
      function fail(error: Error) {
        clearTimeout(timer)
        reject(error)
      }
      request.on('error', fail)
      request.end(body)
    })
  }

  /** Waits between attempts; Ctrl-C's abort ends the wait. */
  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, {signal: this.signal})
    } catch (error) {
      throw this.networkError(error as NodeJS.ErrnoException)
    }
  }

  private networkError(error: NodeJS.ErrnoException): ApiError {
    if (error.name === 'AbortError' || error.code === 'ABORT_ERR') {
      return new ApiError('The request was aborted', {code: 'Aborted', cause: error})
    }
    if (error.code === 'ETIMEDOUT') {
      return new ApiError(`The Admin API at ${this.origin} did not answer in time`, {
        code: 'Timeout',
        cause: error,
        suggestion: 'check your network, or raise APPSERVICES_REQUEST_TIMEOUT_MS',
      })
    }
    const reason =
      error.code === 'ECONNREFUSED'
        ? 'connection refused'
        : error.code === 'EPROTO' || error.code?.startsWith('ERR_SSL_')
          ? `the TLS handshake failed (${error.code}); is it an http:// server?`
          : error.code || error.message
    return new ApiError(`Cannot reach the Admin API at ${this.origin}: ${reason}`, {
      code: 'NetworkError',
      cause: error,
      suggestion: 'check your network and --realm-url / APPSERVICES_BASE_URL',
    })
  }
}

/** Turns a final answer into its JSON body, or the ApiError it stands for. */
function interpret({status, statusMessage, text}: RawAnswer): HttpAnswer {
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
  const server = body !== INVALID && body && typeof body === 'object' ? (body as Record<string, unknown>) : {}
  const message = typeof server.error === 'string' && server.error ? server.error : statusMessage
  const code =
    typeof server.error_code === 'string' && server.error_code ? server.error_code : `Http${status}`
  throw new ApiError(`${message || 'request failed'} (HTTP ${status})`, {code, status})
}

/** Exponential backoff with jitter: 125–250 ms, 250–500 ms, ... up to 8 s. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_BASE_MS * 2 ** (attempt - 1), BACKOFF_CAP_MS)
  return ceiling / 2 + (Math.random() * ceiling) / 2
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

/** A setTimeout delay must fit in 32 bits; a longer one fires at once (Node warns and uses 1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647

/** APPSERVICES_REQUEST_TIMEOUT_MS, checked: a bad value is a usage error, not a silent default. */
export function requestTimeoutMs(env: NodeJS.ProcessEnv): number {
  const text = env.APPSERVICES_REQUEST_TIMEOUT_MS?.trim()
  if (!text) return 30_000
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw usageError(
      `APPSERVICES_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, not "${text}"`,
      'unset it for the default of 30000 (30 s per attempt)',
    )
  }
  return value
}

/** A keep-alive agent, or a proxy agent when HTTPS_PROXY / HTTP_PROXY / NO_PROXY say so. */
async function createAgent(options: HttpOptions, https: boolean): Promise<HttpAgent> {
  const agentOptions = {keepAlive: true, maxSockets: options.maxSockets ?? 16, scheduling: 'lifo' as const}
  const {getProxyForUrl} = await import('proxy-from-env')
  const proxy = getProxyForUrl(options.baseUrl)
  if (proxy) {
    const {HttpProxyAgent, HttpsProxyAgent} = await import('hpagent')
    return https
      ? new HttpsProxyAgent({...agentOptions, proxy})
      : (new HttpProxyAgent({...agentOptions, proxy}) as unknown as HttpAgent)
  }
  const module = https ? await import('node:https') : await import('node:http')
  return new module.Agent(agentOptions)
}
