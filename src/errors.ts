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

/** Why a file or directory cannot be opened, read, written or made, in words. */
export function describeFileError(failure: unknown, words: {ENOENT?: string} = {}): string {
  const error = failure as NodeJS.ErrnoException
  if (error.code === 'ENOENT' && words.ENOENT) return words.ENOENT
  switch (error.code) {
    case 'ENOENT':
      return 'its directory does not exist'
    case 'EISDIR':
      return 'it is a directory'
    case 'ENOTDIR':
      return 'a part of its path is not a directory'
    case 'ELOOP':
      return 'its symbolic links go round in a loop'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EROFILE':
      return 'the file is read-only'
    case 'EROFS':
      return 'read-only file system'
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device'
    case 'EPIPE':
      return 'the reading end was closed'
    case 'ENXIO':
      return 'it is a named pipe that nothing reads from'
    case 'EFBIG':
      return 'the file is too large'
    default:
      return error.code ?? error.message
  }
}
