import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {fileURLToPath} from 'node:url'

/** Counts a command may report; never ids, names or anything user-identifying. */
export interface TelemetryCounts {
  matched?: number
  revoked?: number
  failed?: number
  skipped?: number
}

export interface TelemetryContext {
  command: string
  pluginVersion: string
  hostName: string
  hostVersion: string
}

type Event = Record<string, unknown> & {event: string}

/** DO_NOT_TRACK set to anything but empty, 0 or false turns telemetry off (PRODUCT.md §7). */
export function doNotTrack(env: NodeJS.ProcessEnv): boolean {
  const value = env.DO_NOT_TRACK?.trim().toLowerCase()
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

/**
 * Collects a run's events and hands them to a detached process at the end, so
 * a slow or dead collector can neither delay nor fail the command.
 */
export class Telemetry {
  private readonly events: Event[] = []
  private readonly started = Date.now()
  private readonly base: Record<string, unknown>

  constructor(
    private readonly endpoint: string,
    context: TelemetryContext,
  ) {
    this.base = {
      command: context.command,
      execution_id: randomUUID(),
      plugin_version: context.pluginVersion,
      host: context.hostName,
      host_version: context.hostVersion,
      node_version: process.version,
      platform: process.platform,
    }
    this.record('command_start', {})
  }

  complete(counts?: TelemetryCounts): void {
    this.record('command_complete', {duration_ms: Date.now() - this.started, ...(counts ? {counts} : {})})
  }

  error(code: string, counts?: TelemetryCounts): void {
    this.record('command_error', {
      duration_ms: Date.now() - this.started,
      error_code: code,
      ...(counts ? {counts} : {}),
    })
  }

  /** Spawns the sender and returns at once; failures to spawn are ignored. */
  flush(): void {
    if (this.events.length === 0) return
    const payload = JSON.stringify({events: this.events.splice(0)})
    try {
      // The batch travels in the sender's environment: it is small, needs no open pipe, and `ps` does not show it.
      const sender = fileURLToPath(new URL('send.js', import.meta.url))
      const child = spawn(process.execPath, [sender], {
        detached: true,
        stdio: 'ignore',
        env: {
          PATH: process.env.PATH ?? '',
          APPSERVICES_TELEMETRY_SEND_URL: this.endpoint,
          APPSERVICES_TELEMETRY_SEND_BATCH: payload,
        },
      })
      child.on('error', () => {})
      child.unref()
    } catch {
      // Telemetry never fails the command.
    }
  }

  private record(event: string, extra: Record<string, unknown>): void {
    this.events.push({event, ...this.base, time: new Date().toISOString(), ...extra})
  }
}
