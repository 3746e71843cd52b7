import type {AdminApiClient} from '../admin-api/client.js'
import type {App} from '../admin-api/types.js'
import {CliError} from '../errors.js'
import type {RevokeResult, RevokeSummary, Target} from './types.js'

export interface RevokeOptions {
  concurrency: number
  /** Once aborted, no new logout starts; those in flight finish. */
  signal: AbortSignal
  onProgress?: (done: number, matched: number) => void
}

export interface RevokeOutcome {
  results: RevokeResult[]
  summary: RevokeSummary
  /** Why the run stopped before every target was found (e.g. the server repeated a page). */
  error?: CliError
}

/**
 * Sends one logout per target, at most `concurrency` at a time, as batches
 * arrive. Listing waits while many logouts are queued, so memory stays flat
 * however many users there are. One failure never stops the others.
 */
export async function revokeSessions(
  client: AdminApiClient,
  app: App,
  batches: AsyncIterable<Target[]>,
  options: RevokeOptions,
): Promise<RevokeOutcome> {
  const {default: pLimit} = await import('p-limit')
  const limit = pLimit(options.concurrency)
  // Indexed by the order the targets were found in (no sort at the end); holes are logouts that never started.
  const results: RevokeResult[] = []
  let recorded = 0
  const inFlight = new Set<Promise<void>>()
  // Wakes the listing when a queued logout ends; a Promise.race over the whole queue per wait would attach
  // a reaction to every queued task each time, garbage that grows the heap with the queue's length.
  let slotFreed: (() => void) | undefined
  let matched = 0
  let error: CliError | undefined
  const record = (order: number, result: RevokeResult) => {
    results[order] = result
    options.onProgress?.(++recorded, matched)
  }

  try {
    for await (const batch of batches) {
      if (options.signal.aborted) break
      for (const target of batch) {
        const order = matched++
        if (target.skip) record(order, toResult(target, {skipped: target.skip}))
        else if (target.failure) record(order, toResult(target, {error: target.failure}))
        else {
          const task = limit(async () => {
            if (options.signal.aborted) return
            try {
              await client.logoutUser(app, target.id)
              record(order, toResult(target, {}))
            } catch (failure) {
              record(order, toResult(target, {error: (failure as Error).message}))
              // A session that cannot be renewed fails every later request alike: it is the run's error, hint and all.
              error ??= client.session.renewalFailure
            }
          }).finally(() => {
            inFlight.delete(task)
            slotFreed?.()
          })
          inFlight.add(task)
        }
      }
      while (inFlight.size > options.concurrency * 4) {
        await new Promise<void>((resolve) => (slotFreed = resolve))
      }
    }
  } catch (failure) {
    if (!options.signal.aborted) {
      error =
        failure instanceof CliError
          ? failure
          : new CliError((failure as Error).message, {code: 'UnexpectedError', cause: failure})
    }
  }
  await Promise.all(inFlight)

  const ordered = recorded === results.length ? results : results.filter(() => true)
  return {
    results: ordered,
    summary: summarise(ordered, matched, options.signal.aborted),
    ...(error ? {error} : {}),
  }
}

export function summarise(results: RevokeResult[], matched: number, interrupted: boolean): RevokeSummary {
  const summary: RevokeSummary = {matched, revoked: 0, failed: 0, skipped: 0}
  for (const result of results) {
    if (result.revoked) summary.revoked++
    else if (result.skipped) summary.skipped++
    else summary.failed++
  }
  if (interrupted) summary.interrupted = true
  return summary
}

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
