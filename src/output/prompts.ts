import {InterruptedError} from '../errors.js'
import {printable} from './style.js'

export interface Choice<T> {
  name: string
  value: T
}

/** Prompts need a person at a terminal: stdin to read and stderr to draw on. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY)
}

export interface PromptOptions {
  /**
   * The command's interruption. A SIGTERM (or a SIGINT sent with kill) is not a
   * keypress, so without it the prompt would keep waiting after the command was told to stop.
   */
  signal?: AbortSignal
}

// Prompts draw on stderr so that stdout (or the output target) holds only the result.
const context = ({signal}: PromptOptions) => ({output: process.stderr, clearPromptOnDone: false, signal})

export async function askText(
  message: string,
  options: PromptOptions & {secret?: boolean} = {},
): Promise<string> {
  const {input, password} = await import('@inquirer/prompts')
  const validate = (value: string) => value.trim() !== '' || 'A value is required'
  return cancellable(() =>
    options.secret
      ? password({message, mask: '*', validate}, context(options))
      : input({message, validate}, context(options)),
  )
}

export async function askSelect<T>(
  message: string,
  choices: Choice<T>[],
  options: PromptOptions = {},
): Promise<T> {
  const {select} = await import('@inquirer/prompts')
  return cancellable(() => select<T>({message, choices: shown(choices), pageSize: 15}, context(options)))
}

export async function askCheckbox<T>(
  message: string,
  choices: Choice<T>[],
  options: PromptOptions = {},
): Promise<T[]> {
  const {checkbox} = await import('@inquirer/prompts')
  return cancellable(() => checkbox<T>({message, choices: shown(choices), pageSize: 15}, context(options)))
}

/** Choice names come from the server (emails, app names): no control character reaches the terminal. */
function shown<T>(choices: Choice<T>[]): Choice<T>[] {
  return choices.map((choice) => ({...choice, name: printable(choice.name)}))
}

/** Ctrl-C (or SIGTERM) at a prompt ends the command quietly with 130 and nothing changed. */
async function cancellable<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt()
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError' || (error as Error)?.name === 'AbortPromptError') {
      throw new InterruptedError('Cancelled')
    }
    throw error
  }
}
