import {Config} from '@oclif/core'

import {printable} from './output/style.js'

/**
 * The stand-alone bin's answer to an unknown command, in the plugin's one-line
 * error style rather than oclif's (which prints the colon form: `users:revok`).
 * Words after a known command are stray arguments, and are reported as such.
 * Returns false when `error` is not oclif's "command not found".
 */
export async function reportCommandNotFound(error: unknown, root: string): Promise<boolean> {
  // Any characters at all: a word may hold spaces, newlines or escape sequences, shown escaped below.
  const match = /^command ([\s\S]+) not found$/.exec((error as Error)?.message ?? '')
  if (!match) return false
  const config = await Config.load(root)
  const words = match[1].split(':')
  const spaced = (count: number) => words.slice(0, count).join(config.topicSeparator)
  let known = words.length - 1
  while (known > 0 && !config.findCommand(words.slice(0, known).join(':'))) known--
  const stray = words.slice(known).join(' ')
  const lines =
    known > 0
      ? [`Error: Unexpected argument: ${stray}`, `Try: ${config.bin} ${spaced(known)} --help`]
      : [
          `Error: command "${words.join(' ')}" not found`,
          `Try: ${config.bin} ${config.findTopic(words[0]) ? `${words[0]} ` : ''}--help`,
        ]
  process.stderr.write(`${lines.map(printable).join('\n')}\n`)
  process.exitCode = 2
  return true
}
