import {InterruptedError} from '../errors.js'

export interface Choice<T> {
  name: string
  value: T
}

/** Prompts need a person at a terminal: stdin to read and stderr to draw on. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY)
}

// Prompts draw on stderr so that stdout (or the output target) holds only the result.
const context = () => ({output: process.stderr, clearPromptOnDone: false})

export async function askText(message: string, options: {secret?: boolean} = {}): Promise<string> {
  const {input, password} = await import('@inquirer/prompts')
  const validate = (value: string) => value.trim() !== '' || 'A value is required'
  return cancellable(() =>
    options.secret ? password({message, mask: '*', validate}, context()) : input({message, validate}, context()),
  )
}

export async function askSelect<T>(message: string, choices: Choice<T>[]): Promise<T> {
  const {select} = await import('@inquirer/prompts')
  return cancellable(() => select<T>({message, choices, pageSize: 15}, context()))
}

export async function askCheckbox<T>(message: string, choices: Choice<T>[]): Promise<T[]> {
  const {checkbox} = await import('@inquirer/prompts')
  return cancellable(() => checkbox<T>({message, choices, pageSize: 15}, context()))
}

/** Ctrl-C at a prompt ends the command quietly with 130 and nothing changed. */
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
