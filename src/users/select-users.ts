import {usageError} from '../errors.js'
import type {Target} from './types.js'

export interface SelectionRules {
  /** --user was given: act on exactly those users. */
  explicit: boolean
  /** --yes: every matched user. */
  yes: boolean
  /** --pending: nothing will change, so nothing needs confirming. */
  pending: boolean
  /** Multi-select prompt; absent when no one can be asked. */
  choose?: (targets: Target[]) => Promise<Target[]>
  /** For the refusal's hint. */
  commandLine: string
}

/**
 * Decides which found targets get revoked (PRODUCT.md §5.3). Explicit ids,
 * --yes and --pending stream straight through; otherwise the whole list is
 * needed first, to prompt or to say how many matched.
 */
export async function selectTargets(
  found: AsyncGenerator<Target[]>,
  rules: SelectionRules,
): Promise<AsyncIterable<Target[]>> {
  if (rules.explicit || rules.yes || rules.pending) return found
  const all: Target[] = []
  for await (const batch of found) all.push(...batch)
  if (all.length === 0) return fromArray([])
  if (!rules.choose) {
    throw usageError(
      `${all.length} user${all.length === 1 ? '' : 's'} matched; refusing to revoke without confirmation in a non-interactive run: pass --user to name users or --yes to revoke them all`,
      `${rules.commandLine} --yes`,
    )
  }
  return fromArray(await rules.choose(all))
}

async function* fromArray(targets: Target[]): AsyncGenerator<Target[]> {
  if (targets.length > 0) yield targets
}
