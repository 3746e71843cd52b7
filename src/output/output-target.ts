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
      process.stdout.write(text, (error) => (error ? reject(error) : resolve()))
    }),
  close: async () => {},
}

/**
 * Opens PATH before the command changes anything, so an unwritable path fails
 * first. It is truncated (replaced) rather than appended to, so a JSON run
 * leaves exactly one document, and a regular file is made 0600.
 */
export async function openOutputTarget(path: string): Promise<OutputSink> {
  let handle: FileHandle
  let pipeProbe: FileHandle | undefined
  try {
    await refuseReadOnly(path)
    pipeProbe = await probeNamedPipe(path)
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600)
    if ((await handle.stat()).isFile()) await handle.chmod(0o600)
  } catch (error) {
    const reason = describeFileError(error)
    throw new CliError(`Cannot write the output target ${path}: ${reason}`, {
      code: 'OutputTargetUnwritable',
      suggestion: 'choose a writable file path for --output-target',
    })
  } finally {
    await pipeProbe?.close()
  }
  return {
    toFile: true,
    name: path,
    write: async (text) => {
      await handle.write(text)
    },
    close: () => handle.close(),
  }
}

/**
 * Whether writing PATH would write into DIR (the config directory, where the
 * profiles and their secrets live) and so could replace a profile: directly,
 * through a symbolic link, or as a hard link to one of its files.
 */
export async function writesInto(path: string, dir: string): Promise<boolean> {
  const real = (p: string) => realpath(p).catch(() => resolve(p))
  const home = await real(dir)
  const target = await realpath(path).catch(async () => {
    // Not there yet, or a link to a file not there yet: opening it creates the file the link names.
    const file = await linkTarget(resolve(path))
    return join(await real(dirname(file)), basename(file))
  })
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

/** Where a chain of symbolic links ends, though the file at its end may not exist. */
async function linkTarget(path: string): Promise<string> {
  let current = path
  // As many hops as Linux follows (ELOOP past 40).
  for (let hop = 0; hop < 40; hop++) {
    const link = await readlink(current).catch(() => undefined)
    if (link === undefined) return current
    current = resolve(dirname(current), link)
  }
  return current
}

/**
 * Opening a named pipe for writing waits, unseen and beyond Ctrl-C's reach, until something reads it: a
 * pipe with no reader (ENXIO when opened without waiting) is refused instead. A pipe with a reader gets
 * this handle, held open until the real one is: were it closed first, the reader would see the end of
 * the data and go, and the real open would wait for a reader that never comes.
 */
async function probeNamedPipe(path: string): Promise<FileHandle | undefined> {
  if (!(await stat(path).catch(() => undefined))?.isFIFO()) return undefined
  return open(path, constants.O_WRONLY | constants.O_NONBLOCK)
}

/** Root may write anything; a file with no write bit is still meant to be left alone. */
async function refuseReadOnly(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.isFile() && (existing.mode & 0o222) === 0) {
    throw Object.assign(new Error('read-only'), {code: 'EROFILE'})
  }
}
