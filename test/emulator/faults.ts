import {STATUS_CODES} from 'node:http'

import {createRandom, type Random} from './random.js'
import type {RouteName} from './state.js'

export type FaultRoute = RouteName | '*'

export interface FaultRule {
  /** The Admin API route the rule applies to; default '*' (every Admin API request, unknown paths included). */
  route?: FaultRoute
  /** Only requests for these user ids (the `{userId}` of getUser and logout). */
  userIds?: string[]
  /** Apply to the first `times` matching requests only, then never again (until faults are set again). */
  times?: number
  /** Added delay before answering; the latencies of all matching rules add up. */
  latencyMs?: number
  /** Fraction (0..1) answered with `errorStatus` (default 503) and a JSON error body. */
  errorRate?: number
  errorStatus?: number
  /** Fraction (0..1) whose connection is reset without any response. */
  resetRate?: number
  /** Fraction (0..1) answered 429 with `Retry-After: retryAfterSeconds` (default 1). */
  tooManyRate?: number
  retryAfterSeconds?: number
  /** Never answer. */
  hang?: boolean
  /** Answer an HTML error page with this status, as a proxy or load balancer would. */
  htmlErrorStatus?: number
  /** Answer exactly this. */
  rawBody?: {status: number; contentType: string; body: string}
  /** Answer 302 with this Location. */
  redirectTo?: string
}

export interface Faults {
  rules?: FaultRule[]
  /** Global cap on Admin API requests per second; requests over it get 429 with `Retry-After: 1`. */
  ratePerSecond?: number
  /** Ignore `status` and `provider_types` on list users. */
  ignoreFilters?: boolean
  /** Ignore `after` on list users and list pending users: always serve the first page. */
  ignoreAfter?: boolean
  /** Seed of the error, reset and 429 draws (default 1), so that runs are reproducible. */
  seedRandom?: number
  /** The telemetry collector stores what it receives but never answers. */
  telemetryHang?: boolean
}

export interface FaultReply {
  status: number
  contentType?: string
  body?: string
  headers?: Record<string, string>
}

export type FaultAction = {kind: 'hang'} | {kind: 'reset'} | ({kind: 'reply'} & FaultReply)

export interface FaultDecision {
  latencyMs: number
  action?: FaultAction
}

const ROUTES: readonly FaultRoute[] = [
  '*',
  'login',
  'refresh',
  'deleteSession',
  'profile',
  'listApps',
  'getApp',
  'listUsers',
  'getUser',
  'logout',
  'listPending',
]

/** Decides, request by request, which injected fault (if any) replaces the normal answer. */
export class FaultInjector {
  private faults: Faults = {}
  private random: Random = createRandom(1)
  private fired: number[] = []
  private bucket = {tokens: 0, refilledAt: 0}

  constructor(faults: Faults = {}) {
    this.set(faults)
  }

  get current(): Faults {
    return this.faults
  }

  /** Replaces the whole configuration and restarts the draws, the `times` counts and the rate limit. */
  set(faults: Faults): void {
    validateFaults(faults)
    this.faults = structuredClone(faults)
    this.random = createRandom(faults.seedRandom ?? 1)
    this.fired = (faults.rules ?? []).map(() => 0)
    this.bucket = {tokens: faults.ratePerSecond ?? 0, refilledAt: Date.now()}
  }

  decide(route: RouteName | undefined, userId?: string): FaultDecision {
    if (this.overRateLimit()) return {latencyMs: 0, action: tooManyRequests(1)}
    let latencyMs = 0
    const rules = this.faults.rules ?? []
    for (const [i, rule] of rules.entries()) {
      if ((rule.route ?? '*') !== '*' && rule.route !== route) continue
      if (rule.userIds && (userId === undefined || !rule.userIds.includes(userId))) continue
      if (rule.times !== undefined && this.fired[i] >= rule.times) continue
      this.fired[i]++
      latencyMs += rule.latencyMs ?? 0
      const action = this.draw(rule)
      if (action) return {latencyMs, action}
    }
    return {latencyMs}
  }

  private draw(rule: FaultRule): FaultAction | undefined {
    if (rule.hang) return {kind: 'hang'}
    if (rule.redirectTo) return {kind: 'reply', status: 302, headers: {location: rule.redirectTo}}
    if (rule.rawBody) return {kind: 'reply', ...rule.rawBody}
    if (rule.htmlErrorStatus) return {kind: 'reply', ...htmlError(rule.htmlErrorStatus)}
    const resetRate = rule.resetRate ?? 0
    const tooManyRate = rule.tooManyRate ?? 0
    const errorRate = rule.errorRate ?? 0
    if (resetRate + tooManyRate + errorRate === 0) return undefined
    // One draw per rule decides between the outcomes, so a seed gives the same sequence of outcomes.
    const draw = this.random()
    if (draw < resetRate) return {kind: 'reset'}
    if (draw < resetRate + tooManyRate) return tooManyRequests(rule.retryAfterSeconds ?? 1)
    if (draw < resetRate + tooManyRate + errorRate) return jsonError(rule.errorStatus ?? 503)
    return undefined
  }

  /** A token bucket holding up to one second's worth of requests. */
  private overRateLimit(): boolean {
    const rate = this.faults.ratePerSecond
    if (!rate) return false
    const now = Date.now()
    this.bucket.tokens = Math.min(rate, this.bucket.tokens + ((now - this.bucket.refilledAt) / 1000) * rate)
    this.bucket.refilledAt = now
    if (this.bucket.tokens < 1) return true
    this.bucket.tokens--
    return false
  }
}

function tooManyRequests(retryAfterSeconds: number): FaultAction {
  return {
    kind: 'reply',
    status: 429,
    contentType: 'application/json',
    body: JSON.stringify({error: 'too many requests', error_code: 'TooManyRequests'}),
    headers: {'retry-after': String(retryAfterSeconds)},
  }
}

function jsonError(status: number): FaultAction {
  const message = (STATUS_CODES[status] ?? 'error').toLowerCase()
  const code = (STATUS_CODES[status] ?? 'Injected Error').replace(/[^A-Za-z]/g, '')
  return {
    kind: 'reply',
    status,
    contentType: 'application/json',
    body: JSON.stringify({error: message, error_code: code}),
  }
}

function htmlError(status: number): FaultReply {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`
  return {
    status,
    contentType: 'text/html',
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  }
}

/** Refuses a configuration that would silently do nothing or something else than meant. */
export function validateFaults(value: unknown): asserts value is Faults {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('faults must be an object')
  const faults = value as Record<string, unknown>
  const known = ['rules', 'ratePerSecond', 'ignoreFilters', 'ignoreAfter', 'seedRandom', 'telemetryHang']
  for (const field of Object.keys(faults))
    if (!known.includes(field)) throw new Error(`faults: unknown field ${field}`)
  checkNumber(faults.ratePerSecond, 'ratePerSecond', 0, Infinity)
  checkNumber(faults.seedRandom, 'seedRandom', -Infinity, Infinity)
  if (faults.rules === undefined) return
  if (!Array.isArray(faults.rules)) throw new Error('faults: rules must be an array')
  faults.rules.forEach((rule: unknown, i) => validateRule(rule, `rules[${i}]`))
}

function validateRule(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) throw new Error(`faults: ${where} must be an object`)
  const rule = value as Record<string, unknown>
  const known = [
    'route',
    'userIds',
    'times',
    'latencyMs',
    'errorRate',
    'errorStatus',
    'resetRate',
    'tooManyRate',
    'retryAfterSeconds',
    'hang',
    'htmlErrorStatus',
    'rawBody',
    'redirectTo',
  ]
  for (const field of Object.keys(rule))
    if (!known.includes(field)) throw new Error(`faults: unknown field ${where}.${field}`)
  if (rule.route !== undefined && !ROUTES.includes(rule.route as FaultRoute)) {
    throw new Error(`faults: ${where}.route must be one of ${ROUTES.join(', ')}`)
  }
  for (const rate of ['errorRate', 'resetRate', 'tooManyRate'])
    checkNumber(rule[rate], `${where}.${rate}`, 0, 1)
  for (const status of ['errorStatus', 'htmlErrorStatus'])
    checkNumber(rule[status], `${where}.${status}`, 100, 599)
  for (const amount of ['times', 'latencyMs', 'retryAfterSeconds'])
    checkNumber(rule[amount], `${where}.${amount}`, 0, Infinity)
}

function checkNumber(value: unknown, where: string, min: number, max: number): void {
  if (value === undefined) return
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new Error(`faults: ${where} must be a number from ${min} to ${max}`)
  }
}
