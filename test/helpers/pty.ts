import {spawn} from 'node:child_process'

import {BIN, cleanEnv, type RunOptions} from './cli.js'

/** Keys as a terminal sends them. */
export const KEYS = {
  enter: '\r',
  space: ' ',
  up: '\u001B[A',
  down: '\u001B[B',
  ctrlC: '\u0003',
} as const

export interface PtyExit {
  /** The CLI's exit code; 128 + n when it died of signal n. */
  code: number
  /** Everything the terminal showed (stdout and stderr together), ANSI sequences stripped. */
  output: string
}

export interface PtyRun {
  /** What the terminal has shown so far, ANSI sequences stripped. */
  readonly output: string
  /** The same, escape sequences and all (to check colour). */
  readonly rawOutput: string
  /**
   * Resolves once `pattern` appears in the output after the previous match (so a
   * repeated wait does not match the same text again); rejects after `timeoutMs`
   * or when the CLI exits first, with the output so far in the message.
   */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>
  /** Types the keys, one at a time with a short pause, as a person would. */
  press(...keys: string[]): Promise<void>
  /** Sends a signal to the CLI itself (not to the bridge), as `kill -TERM <pid>` would. */
  signal(signal: NodeJS.Signals): Promise<void>
  /** Resolves when the CLI has exited (it is killed after the run's timeout). */
  readonly exited: Promise<PtyExit>
  kill(): void
}

/**
 * Runs the built CLI in a pseudo-terminal (stdin, stdout and stderr all a TTY),
 * through a small python3 bridge: node has no pty of its own. The bridge copies
 * the terminal's output to its stdout and its stdin to the terminal, and exits
 * with the CLI's status.
 */
export function runCliInPty(args: string[], options: RunOptions & {columns?: number; rows?: number}): PtyRun {
  const env = {TERM: 'xterm-256color', ...cleanEnv(options)}
  const size = [String(options.rows ?? 50), String(options.columns ?? 160)]
  const child = spawn('python3', ['-c', BRIDGE, ...size, process.execPath, BIN, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let raw = ''
  let bridgeErrors = ''
  let mark = 0
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const listener of listeners) listener()
  }
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    raw += chunk
    notify()
  })
  // The bridge's first stderr line is the CLI's pid; anything after it is an error of the bridge.
  let resolvePid!: (pid: number) => void
  const cliPid = new Promise<number>((resolve) => (resolvePid = resolve))
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    bridgeErrors += chunk
    const match = /^pid (\d+)\n/.exec(bridgeErrors)
    if (match) {
      resolvePid(Number(match[1]))
      bridgeErrors = bridgeErrors.slice(match[0].length)
    }
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  let done = false
  const exited = new Promise<PtyExit>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done = true
      notify()
      if (bridgeErrors) process.stderr.write(`pty bridge: ${bridgeErrors}\n`)
      resolve({code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), output: stripAnsi(raw)})
    })
  })

  const run: PtyRun = {
    get output() {
      return stripAnsi(raw)
    },
    get rawOutput() {
      return raw
    },
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = stripAnsi(raw)
          const rest = text.slice(mark)
          const match = typeof pattern === 'string' ? locate(rest, pattern) : pattern.exec(rest)
          if (match) {
            cleanup()
            mark += match.index + match[0].length
            resolve(match[0])
          } else if (done) {
            cleanup()
            reject(new Error(`the CLI exited before ${String(pattern)} appeared; output:\n${text}`))
          }
        }
        const timeout = setTimeout(() => {
          cleanup()
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${String(pattern)}; output:\n${stripAnsi(raw)}`,
            ),
          )
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timeout)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })
    },
    async press(...keys) {
      for (const key of keys) {
        child.stdin.write(key)
        await new Promise((resolve) => setTimeout(resolve, 60))
      }
    },
    async signal(signal) {
      const pid = await cliPid
      try {
        if (!done) process.kill(pid, signal)
      } catch (error) {
        // It exited in the meantime.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
      }
    },
    kill() {
      child.kill('SIGKILL')
    },
  }
  return run
}

function locate(text: string, needle: string): {index: number; 0: string} | undefined {
  const index = text.indexOf(needle)
  return index === -1 ? undefined : {index, 0: needle}
}

// CSI and OSC sequences, single-character escapes, carriage returns and the other C0 controls but newline.
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)|\u001B[@-Z\\-_]|[\u0000-\u0008\u000B-\u001F\u007F]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

const BRIDGE = `
import errno, fcntl, os, pty, select, struct, sys, termios
rows, cols, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execv(argv[0], argv)
sys.stderr.write('pid %d\\n' % pid)
sys.stderr.flush()
inputs = [fd, 0]
while True:
    try:
        ready, _, _ = select.select(inputs, [], [])
    except InterruptedError:
        continue
    if 0 in ready:
        data = os.read(0, 1024)
        if not data:
            inputs.remove(0)
        while data:
            data = data[os.write(fd, data):]
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            data = b''
        if not data:
            break
        while data:
            data = data[os.write(1, data):]
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
`
