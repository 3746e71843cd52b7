import {setMaxListeners} from 'node:events'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {gunzipSync} from 'node:zlib'

import {FaultInjector, type FaultReply, type Faults} from './faults.js'
import {API_PREFIX, handleApiRequest, matchRoute} from './routes.js'
import type {EmulatorState, RequestLogEntry} from './state.js'

const CONTROL_PREFIX = '/__emulator/'
const MAX_BODY_BYTES = 10 * 1024 * 1024

export interface EmulatorServer {
  server: http.Server
  /** Stops listening, drops every connection (keep-alive and hung ones too) and cancels pending delays. */
  close(): Promise<void>
}

class BadRequest extends Error {}

export function createEmulatorServer(state: EmulatorState, faults: FaultInjector): EmulatorServer {
  const closing = new AbortController()
  // Every delayed answer listens to it: many at once are expected, not a leak.
  setMaxListeners(0, closing.signal)

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator')
    const query = Object.fromEntries(url.searchParams)
    const path = url.pathname
    if (path.startsWith(CONTROL_PREFIX))
      return serveControl(req, res, path.slice(CONTROL_PREFIX.length), query)
    return serveAdminApi(req, res, path, query)
  }

  async function serveAdminApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: Record<string, string>,
  ): Promise<void> {
    const method = req.method ?? 'GET'
    const entry = state.logRequest(method, path, query)
    try {
      await answerAdminApi(req, res, method, path, query, entry)
    } catch (error) {
      if (!closing.signal.aborted) entry.status = statusOf(error)
      throw error
    }
  }

  async function answerAdminApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: Record<string, string>,
    entry: RequestLogEntry,
  ): Promise<void> {
    const match = path.startsWith(`${API_PREFIX}/`)
      ? matchRoute(method, path.slice(API_PREFIX.length))
      : {allowed: []}
    if (match.route) {
      entry.route = match.route.name
      state.countCall(match.route.name)
    }
    const body = await readBody(req)
    const decision = faults.decide(match.route?.name, match.route ? match.params.userId : undefined)
    if (decision.latencyMs > 0) await sleep(decision.latencyMs, undefined, {signal: closing.signal})
    const action = decision.action
    if (action?.kind === 'hang') return
    if (action?.kind === 'reset') {
      req.socket.resetAndDestroy()
      return
    }
    if (action) {
      entry.status = action.status
      return send(res, action)
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
    const reply = handleApiRequest(
      state,
      match,
      {params: match.route ? match.params : {}, query, body, bearer},
      {
        ignoreFilters: faults.current.ignoreFilters ?? false,
        ignoreAfter: faults.current.ignoreAfter ?? false,
      },
    )
    entry.status = reply.status
    sendJson(res, reply.status, reply.body, reply.headers)
  }

  async function serveControl(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    query: Record<string, string>,
  ): Promise<void> {
    const body = await readBody(req)
    switch (`${req.method} ${name}`) {
      case 'GET requests':
        return sendJson(res, 200, state.requests)
      case 'DELETE requests':
        state.clearLog()
        return sendJson(res, 204)
      case 'GET users': {
        if (query.app !== undefined && !state.apps().some((store) => store.app._id === query.app)) {
          return sendJson(res, 404, {error: 'app not found', error_code: 'AppNotFound'})
        }
        return sendJson(res, 200, state.userCounters(query.app))
      }
      case 'GET apps':
        return sendJson(
          res,
          200,
          state
            .apps()
            .map((store) => ({...store.app, users: store.userCount, pendingUsers: store.pending.length})),
        )
      case 'GET faults':
        return sendJson(res, 200, faults.current)
      case 'PUT faults':
        try {
          faults.set(parseJson(body) as Faults)
        } catch (error) {
          throw new BadRequest((error as Error).message)
        }
        return sendJson(res, 204)
      case 'POST expire-tokens': {
        const options = body.length > 0 ? (parseJson(body) as {refresh?: boolean}) : {}
        state.expireTokens({refresh: options.refresh === true})
        return sendJson(res, 204)
      }
      case 'POST telemetry': {
        const batch = parseJson(req.headers['content-encoding'] === 'gzip' ? gunzip(body) : body)
        state.telemetry.push(batch)
        if (faults.current.telemetryHang) {
          // Never answered: open until the sender gives up or its process ends.
          state.hungTelemetry.add(batch)
          res.on('close', () => state.hungTelemetry.delete(batch))
          return
        }
        return sendJson(res, 204)
      }
      case 'GET telemetry':
        return sendJson(res, 200, state.telemetry)
      case 'DELETE telemetry':
        state.clearTelemetry()
        return sendJson(res, 204)
      case 'GET stats':
        return sendJson(res, 200, state.stats())
      default:
        return sendJson(res, 404, {
          error: `no control endpoint ${req.method} /__emulator/${name}`,
          error_code: 'NotFound',
        })
    }
  }

  const server = http.createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (closing.signal.aborted || res.headersSent) return void res.destroy()
      const status = statusOf(error)
      sendJson(res, status, {
        error: error instanceof Error ? error.message : String(error),
        error_code: status === 400 ? 'BadRequest' : 'InternalServerError',
      })
    })
  })

  return {
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort()
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BadRequest('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function statusOf(error: unknown): number {
  return error instanceof BadRequest ? 400 : 500
}

function gunzip(body: Buffer): Buffer {
  try {
    return gunzipSync(body)
  } catch {
    throw new BadRequest('the request body is not valid gzip')
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new BadRequest('the request body must be JSON')
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, {
    status,
    headers,
    ...(body === undefined ? {} : {contentType: 'application/json', body: JSON.stringify(body)}),
  })
}

function send(res: ServerResponse, reply: FaultReply): void {
  const headers: Record<string, string | number> = {...reply.headers}
  if (reply.body !== undefined) {
    headers['content-type'] = reply.contentType ?? 'application/json'
    headers['content-length'] = Buffer.byteLength(reply.body)
  } else if (reply.status !== 204 && reply.status !== 304) {
    headers['content-length'] = 0
  }
  res.writeHead(reply.status, headers)
  res.end(reply.body)
}
