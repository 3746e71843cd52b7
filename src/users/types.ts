import type {App} from '../admin-api/types.js'

/** A user (or pending registration) the command may act on. */
export interface Target {
  id: string
  /** `normal` / `server` for users, `pending` for registrations. */
  type: string
  provider_types: string[]
  email?: string
  name?: string
  disabled?: boolean
  /** Why no logout is sent: a pending registration has no session. */
  skip?: string
  /** Why it cannot be revoked: e.g. `user not found`. */
  failure?: string
}

/** One entry of the report's `results` (PRODUCT.md §5.5). */
export interface RevokeResult {
  id: string
  type: string
  provider_types: string[]
  email?: string
  name?: string
  revoked: boolean
  skipped?: true
  reason?: string
  error: string | null
}

export interface RevokeSummary {
  matched: number
  revoked: number
  failed: number
  skipped: number
  interrupted?: true
  /** With `interrupted`: the users matched whose logout never started. */
  not_attempted?: number
}

export interface RevokeReport {
  app: {id: string; client_app_id: string; name: string; group_id: string}
  results: RevokeResult[]
  summary: RevokeSummary
  /**
   * Set when the run stopped early (a listing error, or a session that could not be renewed); the results
   * are what was done before.
   */
  error?: {code: string; message: string; suggestion?: string}
}

export function appSummary(app: App): RevokeReport['app'] {
  return {id: app._id, client_app_id: app.client_app_id, name: app.name, group_id: app.group_id}
}
