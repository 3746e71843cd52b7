import type {AdminApiClient} from '../admin-api/client.js'
import type {App} from '../admin-api/types.js'
import {CliError} from '../errors.js'
import type {RevokeResult, RevokeSummary, Target} from './types.js'

export interface RevokeOptions {
  concurrency: number
  /** Once aborted, no new logout starts; those in flight finish. */
  signal: AbortSignal
  progress?: {update(done: number, matched: number): void; stop(): void}
}

/** How far (in logouts per slot) listing may run ahead of the report before it waits. */
const AHEAD_PER_SLOT = 4

/**
 * Sends one logout per target, at most `concurrency` at a time, as batches arrive, and yields each result in
 * the order its target was found (so a report reads the same however the requests interleave). Listing waits
 * while the results not yet taken pile up, so memory stays flat however many users there are: a report can
 * be written as the run goes. One failure never stops the others.
 */
export function revokeSessions(
  client: AdminApiClient,
  app: App,
  batches: AsyncIterable<Target[]>,
  options: RevokeOptions,
): Revocation {
  return new Revocation(client, app, batches, options)
}

export class Revocation implements AsyncIterable<RevokeResult> {
  /** The counts so far; final once the results have all been taken. */
  readonly summary: RevokeSummary = {matched: 0, revoked: 0, failed: 0, skipped: 0}
  /** Why the run stopped before every target was found (e.g. the server repeated a page). */
  error?: CliError
  private started = false

  constructor(
    private readonly client: AdminApiClient,
    private readonly app: App,
    private readonly batches: AsyncIterable<Target[]>,
    private readonly options: RevokeOptions,
  ) {}

  /**
   * Runs the revocation; it runs once. Leaving the loop early (the report could not be written) starts no
   * further logout, and returns once those in flight have ended.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<RevokeResult> {
    if (this.started) throw new Error('a revocation runs only once')
    this.started = true
    const {client, app, options, summary} = this
    const {signal} = options
    const {default: pLimit} = await import('p-limit')
    const limit = pLimit(options.concurrency)
    // By the order the targets were found in; null marks a logout that never started (Ctrl-C).
    const finished = new Map<number, RevokeResult | null>()
    let taken = 0
    let settled = 0
    let listing = true
    let leaving = false
    const halted = () => leaving || signal.aborted
    // One promise per change, awaited by the listing and by the reader: never a reaction per queued task.
    let wake = () => {}
    let changed = new Promise<void>((resolve) => (wake = resolve))
    const notify = () => {
      const fire = wake
      changed = new Promise<void>((resolve) => (wake = resolve))
      fire()
    }
    const settle = (order: number, result: RevokeResult | null) => {
      finished.set(order, result)
      settled++
      if (result?.revoked) summary.revoked++
      else if (result?.skipped) summary.skipped++
      else if (result) summary.failed++
      options.progress?.update(settled, summary.matched)
      notify()
    }
    const logout = async (target: Target): Promise<RevokeResult | null> => {
      if (halted()) return null
      try {
        await client.logoutUser(app, target.id)
        return toResult(target, {})
      } catch (failure) {
        // A session that cannot be renewed fails every later request alike: it is the run's error, hint and all.
        this.error ??= client.session.renewalFailure
        // Cut off by an interrupt, a logout's fate is unknown: the server may have done it and not yet answered.
        const cutOff = (failure as CliError).code === 'Aborted'
        return toResult(target, {error: cutOff ? INTERRUPTED_LOGOUT : (failure as Error).message})
      }
    }

    const list = (async () => {
      try {
        listing: for await (const batch of this.batches) {
          for (const target of batch) {
            if (halted()) break listing
            const order = summary.matched++
            if (target.skip) settle(order, toResult(target, {skipped: target.skip}))
            else if (target.failure) settle(order, toResult(target, {error: target.failure}))
            else void limit(() => logout(target)).then((result) => settle(order, result))
          }
          while (!halted() && summary.matched - taken > options.concurrency * AHEAD_PER_SLOT) await changed
        }
      } catch (failure) {
        if (!signal.aborted) {
          this.error =
            failure instanceof CliError
              ? failure
              : new CliError((failure as Error).message, {code: 'UnexpectedError', cause: failure})
        }
      } finally {
        listing = false
        notify()
      }
    })()

    try {
      while (listing || taken < summary.matched) {
        if (!finished.has(taken)) {
          await changed
          continue
        }
        const result = finished.get(taken)
        finished.delete(taken)
        taken++
        notify()
        if (result) yield result
      }
    } finally {
      leaving = true
      notify()
      await list
      while (settled < summary.matched) await changed
      if (signal.aborted) {
        summary.interrupted = true
        summary.not_attempted = summary.matched - summary.revoked - summary.failed - summary.skipped
      }
      options.progress?.stop()
    }
  }
}

const INTERRUPTED_LOGOUT = 'interrupted before the server answered: the user may have been logged out'

function toResult(target: Target, outcome: {skipped?: string; error?: string}): RevokeResult {
  return {
    id: target.id,
    type: target.type,
    provider_types: target.provider_types,
    ...(target.email ? {email: target.email} : {}),
    ...(target.name ? {name: target.name} : {}),
    revoked: !outcome.skipped && !outcome.error,
    ...(outcome.skipped ? {skipped: true as const, reason: outcome.skipped} : {}),
    error: outcome.error ?? null,
  }
}
