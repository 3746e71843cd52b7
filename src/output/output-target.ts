import {constants} from 'node:fs'
import {type FileHandle, open, realpath, stat} from 'node:fs/promises'
import {dirname, resolve, sep} from 'node:path'

import {CliError} from '../errors.js'

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
  try {
    await refuseReadOnly(path)
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600)
    if ((await handle.stat()).isFile()) await handle.chmod(0o600)
  } catch (error) {
    const reason = describeWriteError(error)
    throw new CliError(`Cannot write the output target ${path}: ${reason}`, {
      code: 'OutputTargetUnwritable',
      suggestion: 'choose a writable file path for --output-target',
    })
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
 * Whether PATH would land in DIR (the config directory, where the profiles and
 * their secrets live): writing a report there could replace a profile.
 */
export async function isInside(path: string, dir: string): Promise<boolean> {
  const real = async (p: string) => realpath(p).catch(() => resolve(p))
  const [parent, home] = await Promise.all([real(dirname(resolve(path))), real(dir)])
  return parent === home || parent.startsWith(home + sep)
}

/** Root may write anything; a file with no write bit is still meant to be left alone. */
async function refuseReadOnly(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.isFile() && (existing.mode & 0o222) === 0) {
    throw Object.assign(new Error('read-only'), {code: 'EROFILE'})
  }
}

/** Why a path cannot be opened or written, in words. */
export function describeWriteError(failure: unknown): string {
  const error = failure as NodeJS.ErrnoException
  switch (error.code) {
    case 'ENOENT':
      return 'its directory does not exist'
    case 'EISDIR':
      return 'it is a directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EROFILE':
      return 'the file is read-only'
    case 'EROFS':
      return 'read-only file system'
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device'
    case 'EPIPE':
      return 'the reading end was closed'
    case 'EFBIG':
      return 'the file is too large'
    default:
      return error.code ?? error.message
  }
}
