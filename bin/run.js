#!/usr/bin/env node
import {fileURLToPath} from 'node:url'

import {flush, handle, run} from '@oclif/core'

const root = fileURLToPath(import.meta.url)
// With DEBUG set, oclif logs the command line as typed: give it a logger that keeps secrets out.
const logger = process.env.DEBUG ? (await import('../dist/debug-log.js')).redactingLogger() : undefined

try {
  await run(process.argv.slice(2), logger ? {root, logger} : root)
  await flush()
} catch (error) {
  const {reportCommandNotFound} = await import('../dist/command-not-found.js')
  if (!(await reportCommandNotFound(error, root))) await handle(error)
}
