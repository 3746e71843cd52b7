import {createRequire} from 'node:module'

import type {Interfaces} from '@oclif/core'

/** Flags whose value is a secret. oclif's DEBUG log prints the command line as it was typed. */
const SECRET_FLAGS = ['--private-api-key']
const REDACTED = '<redacted>'

/** The argument list with the value of every secret flag replaced. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (i > 0 && SECRET_FLAGS.includes(argv[i - 1])) return REDACTED
    const flag = SECRET_FLAGS.find((name) => arg.startsWith(`${name}=`))
    return flag ? `${flag}=${REDACTED}` : arg
  })
}

/** Debug arguments with every argument list (argv) redacted. */
export function redactDebugArgs(args: unknown[]): unknown[] {
  return args.map((arg) =>
    Array.isArray(arg) && arg.every((item) => typeof item === 'string') ? redactArgv(arg) : arg,
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
