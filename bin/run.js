#!/usr/bin/env node
import {fileURLToPath} from 'node:url'

import {execute} from '@oclif/core'

// With DEBUG set, oclif logs the command line as typed: give it a logger that keeps --private-api-key out.
const logger = process.env.DEBUG ? (await import('../dist/debug-log.js')).redactingLogger() : undefined

await execute(logger ? {loadOptions: {root: fileURLToPath(import.meta.url), logger}} : {dir: import.meta.url})
