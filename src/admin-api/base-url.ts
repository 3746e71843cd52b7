import {usageError} from '../errors.js'

export const DEFAULT_BASE_URL = 'https://services.cloud.mongodb.com'
export const API_PREFIX = '/api/admin/v3.0'

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

/**
 * Precedence of PRODUCT.md §3: flag, environment, profile, default. Plain
 * http is refused except on loopback, where the emulator lives, because the
 * bearer token would cross the network in clear.
 */
export function resolveBaseUrl(sources: {flag?: string; env?: string; profile?: string}): string {
  if (sources.flag !== undefined && !sources.flag.trim()) {
    throw usageError(`--realm-url needs a URL, such as ${DEFAULT_BASE_URL}`)
  }
  const raw = sources.flag || sources.env || sources.profile || DEFAULT_BASE_URL
  const origin = sources.flag ? '--realm-url' : sources.env ? 'APPSERVICES_BASE_URL' : 'the profile'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw usageError(`Invalid Admin API base URL from ${origin}: "${raw}" is not a URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(
      `Invalid Admin API base URL from ${origin}: only https:// URLs are allowed (and http:// for loopback hosts)`,
    )
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    throw usageError(
      `Refusing plain http:// Admin API base URL from ${origin} for ${url.hostname}: use https:// (http is allowed only for loopback hosts)`,
    )
  }
  if (url.username || url.password || url.search || url.hash) {
    throw usageError(
      `Invalid Admin API base URL from ${origin}: it must not carry credentials, a query or a fragment`,
    )
  }
  if (url.pathname.replace(/\/+$/, '').endsWith(API_PREFIX)) {
    throw usageError(
      `Invalid Admin API base URL from ${origin}: give it without ${API_PREFIX}, which is added to every request`,
      `use ${url.origin}${url.pathname.replace(/\/+$/, '').slice(0, -API_PREFIX.length)}`,
    )
  }
  return url.origin + url.pathname.replace(/\/+$/, '')
}
