import {PROVIDER_TYPES} from '../admin-api/types.js'
import {usageError} from '../errors.js'

/**
 * Splits repeated, comma-separated values, dropping duplicates and keeping
 * order. A value starting with "-" is refused: a mistyped flag must never
 * become a user id.
 */
export function parseList(flag: string, values: string[] | undefined): string[] {
  const out = new Set<string>()
  for (const value of values ?? []) {
    if (value.startsWith('-')) {
      throw usageError(`Invalid value for --${flag}: "${value}" looks like a flag, not a value`)
    }
    const parts = value.split(',').map((part) => part.trim())
    if (parts.some((part) => part === '')) {
      throw usageError(`Invalid value for --${flag}: "${value}" holds an empty entry`)
    }
    const dots = parts.find(isDotSegment)
    if (dots) throw usageError(`Invalid value for --${flag}: "${dots}" is not an id`)
    for (const part of parts) out.add(part)
  }
  return [...out]
}

/**
 * Checked while oclif parses, before it looks at the rest of the line: in
 * `-u --usr x`, "--usr" is refused as a value here, so the error names it
 * rather than the stray "x".
 */
export function notAFlag(value: string): string {
  if (value.startsWith('-')) throw new Error(`"${value}" looks like a flag, not a value`)
  return value
}

export function parseProviders(values: string[] | undefined): string[] {
  const providers = parseList('provider', values)
  for (const provider of providers) {
    if (!(PROVIDER_TYPES as readonly string[]).includes(provider)) {
      throw usageError(
        `Invalid value for --provider: "${provider}"; allowed values: ${PROVIDER_TYPES.join(', ')}`,
      )
    }
  }
  return providers
}

/** `.` and `..` cannot be sent as ids: a URL resolves them away, to another resource. */
export function isDotSegment(value: string): boolean {
  return value === '.' || value === '..'
}
