/** Minimal ANSI styling; `plain` is used whenever colour is off (PRODUCT.md §3). */
export interface Style {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
}

const wrap = (open: number, close: number) => (text: string) => `\u001B[${open}m${text}\u001B[${close}m`

export const ansi: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
}

const same = (text: string) => text
export const plain: Style = {bold: same, dim: same, red: same, green: same, yellow: same}

/**
 * Colour only for a human at a terminal: never for JSON or a file, never with
 * --disable-colors or NO_COLOR (which win over FORCE_COLOR), nor with FORCE_COLOR=0.
 * Otherwise the terminal has colour when node says it does (`hasColors()`: not
 * TERM=dumb, not an unnamed CI), the same judgement the prompts' `styleText` makes.
 */
export function useColour(options: {
  disableColors: boolean
  json: boolean
  toFile: boolean
  terminalHasColours: boolean
  env: NodeJS.ProcessEnv
}): boolean {
  if (options.disableColors || options.json || options.toFile) return false
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false
  // FORCE_COLOR as supports-color reads it: 0 or false turns colour off, any other value on.
  const force = options.env.FORCE_COLOR
  if (force === '0' || force === 'false') return false
  if (force !== undefined && force !== '') return true
  return options.terminalHasColours
}

// Control characters, and the bidirectional controls that make text read in another order than it is.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text from the server or a file, made safe for a terminal: control characters
 * (an escape sequence that clears the screen, a newline that forges a second
 * line) are shown as `\u001b`, never sent.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
