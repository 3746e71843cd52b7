import {createRequire} from 'node:module'

import type {Interfaces} from '@oclif/core'

const REDACTED = '<redacted>'
/** Commands whose stray arguments may be keys (`login --api-key K SECRET`): never echoed, never logged. */
const SECRET_COMMANDS = new Set(['login'])

export function argumentsMayBeSecret(commandId: string | undefined): boolean {
  return SECRET_COMMANDS.has(commandId ?? '')
}

/**
 * A flag whose value is a secret: --private-api-key, a misspelling or
 * shortening of it (`--private-api-k`), or any flag named like a secret.
 */
function isSecretFlag(arg: string): boolean {
  const name = arg.split('=')[0]
  return (
    (name.length >= 5 && '--private-api-key'.startsWith(name)) ||
    /^--.*(private|secret|password|token)/i.test(name)
  )
}

/**
 * The argument list with the value of every secret flag replaced; for a
 * command whose arguments may be secrets, every word that is not a flag too.
 * oclif's DEBUG log prints the command line as it was typed.
 */
export function redactArgv(
  argv: readonly string[],
  secretArguments = argv.some((arg) => argumentsMayBeSecret(arg)),
): string[] {
  return argv.map((arg, i) => {
    if (arg.startsWith('-'))
      return arg.includes('=') && isSecretFlag(arg) ? `${arg.split('=')[0]}=${REDACTED}` : arg
    if (i > 0 && isSecretFlag(argv[i - 1]) && !argv[i - 1].includes('=')) return REDACTED
    return secretArguments && !argumentsMayBeSecret(arg) ? REDACTED : arg
  })
}

/**
 * Debug arguments with every argument list (argv) redacted; `commandId`, or a
 * command id among the arguments (`runCommand %s %o`), says whose they are.
 */
export function redactDebugArgs(args: unknown[], commandId?: string): unknown[] {
  const secretArguments =
    argumentsMayBeSecret(commandId) ||
    args.some((arg) => typeof arg === 'string' && argumentsMayBeSecret(arg))
  return args.map((arg) =>
    typeof arg === 'string' && argumentsMayBeSecret(arg.split(':')[0]) && arg.includes(':')
      ? `${arg.split(':')[0]}:${REDACTED}`
      : Array.isArray(arg) && arg.every((item) => typeof item === 'string')
        ? redactArgv(arg, secretArguments || arg.some((item) => argumentsMayBeSecret(item)))
        : arg,
  )
}

/**
 * oclif's own logger (the `debug` module it ships with), minus secrets. The
 * stand-alone bin hands it to oclif when DEBUG is set, because oclif logs
 * process.argv before any command code runs.
 */
export function redactingLogger(namespace = 'oclif'): Interfaces.Logger {
  const require = createRequire(import.meta.resolve('@oclif/core'))
  const createDebug = require('debug') as (
    namespace: string,
  ) => (formatter: unknown, ...args: unknown[]) => void
  const make = (name: string): Interfaces.Logger => {
    const debug = createDebug(name)
    const log = (formatter: unknown, ...args: unknown[]) => debug(formatter, ...redactDebugArgs(args))
    return {
      namespace: name,
      child: (child: string, delimiter?: string) => make(`${name}${delimiter ?? ':'}${child}`),
      debug: log,
      info: log,
      trace: log,
      warn: log,
      error: (formatter: unknown, ...args: unknown[]) => make(`${name}:error`).debug(formatter, ...args),
    }
  }
  return make(namespace)
}
