import {PROVIDER_TYPES} from '../admin-api/types.js'
import type {RevokeReport, RevokeResult} from '../users/types.js'
import {printable, type Style} from './style.js'
import {renderTable} from './table.js'

export const NOTHING_TO_DO = 'No users to revoke sessions for'

const UNKNOWN = 'Unknown'
const LEAD_COLUMN: Record<string, {header: string; value: (result: RevokeResult) => string | undefined}> = {
  'local-userpass': {header: 'Email', value: (result) => result.email},
  'api-key': {header: 'Name', value: (result) => result.name},
}

/**
 * One table per provider type, in the order of PRODUCT.md §2, failures first;
 * each user once, under the provider of its first identity; then a summary.
 */
export function renderRevokeText(report: RevokeReport, style: Style): string {
  if (report.summary.matched === 0 && !report.summary.interrupted)
    // A run that failed before it found anyone has only its Error: line to show.
    return report.error ? '' : `${NOTHING_TO_DO}\n`
  const groups = new Map<string, RevokeResult[]>()
  for (const result of report.results) {
    const provider = groupOf(result)
    const group = groups.get(provider)
    if (group) group.push(result)
    else groups.set(provider, [result])
  }
  const order = [...PROVIDER_TYPES, UNKNOWN].filter((provider) => groups.has(provider))
  const sections = order.map((provider) => {
    const rows = (groups.get(provider) ?? []).sort((a, b) => rank(a) - rank(b))
    const lead = LEAD_COLUMN[provider]
    const headers = [...(lead ? [lead.header] : []), 'ID', 'Type', 'Session Revoked', 'Details']
    const cells = rows.map((result) => [
      ...(lead ? [printable(lead.value(result) ?? '')] : []),
      printable(result.id),
      printable(result.type),
      result.revoked ? style.green('yes') : result.skipped ? style.yellow('skipped') : style.red('no'),
      printable(result.error ?? result.reason ?? ''),
    ])
    return `${style.bold(provider)}\n${renderTable(headers, cells, style.bold)}`
  })
  return `${[...sections, summaryLine(report)].join('\n\n')}\n`
}

export function summaryLine({summary}: RevokeReport): string {
  const extras = [
    summary.failed ? `${summary.failed} failed` : '',
    summary.skipped ? `${summary.skipped} skipped` : '',
  ].filter(Boolean)
  if (summary.not_attempted) extras.push(`${summary.not_attempted} not attempted`)
  const line = `Revoked sessions for ${summary.revoked} of ${summary.matched} user${summary.matched === 1 ? '' : 's'}${
    extras.length ? ` (${extras.join(', ')})` : ''
  }`
  return summary.interrupted ? `Interrupted. ${line}` : line
}

function groupOf(result: RevokeResult): string {
  const first = result.provider_types[0]
  return first && (PROVIDER_TYPES as readonly string[]).includes(first) ? first : UNKNOWN
}

function rank(result: RevokeResult): number {
  return result.error ? 0 : result.skipped ? 1 : 2
}
