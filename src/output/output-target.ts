import {constants} from 'node:fs'
import {type FileHandle, open, readdir, readlink, realpath, stat} from 'node:fs/promises'
import {basename, dirname, join, resolve, sep} from 'node:path'

import {CliError, describeFileError} from '../errors.js'

/** Where a command's result goes: stdout, or the file of `--output-target`. */
export interface OutputSink {
  readonly toFile: boolean
  /** For messages: `stdout`, or the path. */
  readonly name: string
  write(text: string): Promise<void>
  close(): Promise<void>
}

export const stdoutSink: OutputSink = {
  toFile: false,
  name: 'stdout',
  write: (text) =>
    new Promise((resolve, reject) => {
      // oclif's 'error' listener on stdout rethrows all but EPIPE, so a full disk would end the process with a
      // stack trace: while writing, the failure is this callback's alone. After one, the stream is done for.
      const listeners = process.stdout.listeners('error') as ((error: Error) => void)[]
      process.stdout.removeAllListeners('error').on('error', ignore)
      process.stdout.write(text, (error) => {
        if (error) return reject(error)
        process.stdout.off('error', ignore)
        for (const listener of listeners) process.stdout.on('error', listener)
        resolve()
      })
    }),
  close: async () => {},
}

const ignore = () => {}

/**
 * Opens PATH before the command changes anything, so an unwritable path fails
 * first. It is truncated (replaced) rather than appended to, so a JSON run
 * leaves exactly one document, and a regular file is made 0600.
 */
export async function openOutputTarget(path: string): Promise<OutputSink> {
  let handle: FileHandle | undefined
  let pipeProbe: FileHandle | undefined
  try {
    const existing = await stat(path).catch(() => undefined)
    // Root may write anything; a file with no write bit is still meant to be left alone.
    if (existing?.isFile() && (existing.mode & 0o222) === 0)
      throw Object.assign(new Error('read-only'), {code: 'EROFILE'})
    if (existing?.isFIFO()) pipeProbe = await probeNamedPipe(path)
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600)
    if ((await handle.stat()).isFile()) await handle.chmod(0o600)
  } catch (error) {
    await handle?.close()
    throw new CliError(`Cannot write the output target ${path}: ${describeFileError(error)}`, {
      code: 'OutputTargetUnwritable',
      suggestion: 'choose a writable file path for --output-target',
    })
  } finally {
    await pipeProbe?.close()
  }
  const opened = handle
  return {
    toFile: true,
    name: path,
    write: async (text) => {
      await opened.write(text)
    },
    close: () => opened.close(),
  }
}

/**
 * Whether writing PATH would write into DIR (the config directory, where the
 * profiles and their secrets live) and so could replace a profile: directly,
 * through a symbolic link, or as a hard link to one of its files.
 */
export async function writesInto(path: string, dir: string): Promise<boolean> {
  const home = await real(dir)
  // Not there yet, or a link to a file not there yet: opening it creates the file at the end of the links.
  const target = await realpath(path).catch(() => linkTarget(path))
  const parent = dirname(target)
  if (parent === home || parent.startsWith(home + sep)) return true
  const file = await stat(path).catch(() => undefined)
  if (!file?.isFile() || file.nlink < 2) return false
  for (const name of await readdir(home).catch(() => [])) {
    const other = await stat(join(home, name)).catch(() => undefined)
    if (other?.ino === file.ino && other.dev === file.dev) return true
  }
  return false
}

/** The real path, or the path made absolute when it is not there. */
const real = (path: string) => realpath(path).catch(() => resolve(path))

/**
 * Where a path that does not resolve leads: its directory resolved as the kernel would (`link/..` is the
 * link target's parent), then each symbolic link followed from the real directory it lies in.
 */
async function linkTarget(path: string): Promise<string> {
  let current = join(await real(dirname(path)), basename(path))
  // As many hops as Linux follows (ELOOP past 40).
  for (let hop = 0; hop < 40; hop++) {
    const link = await readlink(current).catch(() => undefined)
    if (link === undefined) return current
    const next = resolve(dirname(current), link)
    current = join(await real(dirname(next)), basename(next))
  }
  return current
}

/**
 * Opening a named pipe to write waits, deaf to Ctrl-C, for a reader: without one (ENXIO here) it is refused.
 * This handle stays open until the real one is, or the reader would see the end of the data and go.
 */
function probeNamedPipe(path: string): Promise<FileHandle> {
  return open(path, constants.O_WRONLY | constants.O_NONBLOCK)
}
