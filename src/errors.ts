/** Exit codes of PRODUCT.md §5.6. */
export const EXIT = {ok: 0, failure: 1, usage: 2, interrupted: 130} as const

/**
 * The one error type of the domain. `code` is the stable string shown in JSON
 * errors and telemetry; `suggestion` becomes the `Try: ...` line.
 */
export class CliError extends Error {
  readonly code: string
  readonly exit: number
  readonly suggestion?: string

  constructor(message: string, options: {code: string; exit?: number; suggestion?: string; cause?: unknown}) {
    super(message, {cause: options.cause})
    this.name = 'CliError'
    this.code = options.code
    this.exit = options.exit ?? EXIT.failure
    this.suggestion = options.suggestion
  }
}

export function usageError(message: string, suggestion?: string): CliError {
  return new CliError(message, {code: 'UsageError', exit: EXIT.usage, suggestion})
}

/** An error answered by the Admin API (or the network on the way to it). */
export class ApiError extends CliError {
  readonly status?: number

  constructor(
    message: string,
    options: {code: string; status?: number; suggestion?: string; cause?: unknown},
  ) {
    super(message, {...options, exit: EXIT.failure})
    this.name = 'ApiError'
    this.status = options.status
  }
}

/** Thrown when the user pressed Ctrl-C at a prompt or the run was signalled. */
export class InterruptedError extends CliError {
  constructor(message = 'Interrupted') {
    super(message, {code: 'Interrupted', exit: EXIT.interrupted})
  }
}
