/** A one-line counter on stderr, for runs long enough to need one (drawn after the first second). */
export interface Progress {
  update(done: number, known: number): void
  stop(): void
}

const silent: Progress = {update() {}, stop() {}}

export function createProgress(label: string, enabled: boolean): Progress {
  if (!enabled) return silent
  const started = Date.now()
  let width = 0
  let last = 0
  // Redrawn over itself with \r and blank padding, not an erase-line escape: no ANSI code ever reaches stderr.
  return {
    update(done, known) {
      const now = Date.now()
      if (now - started < 1000 || now - last < 100) return
      last = now
      const line = `${label}: ${done}/${known}`
      process.stderr.write(`\r${line.padEnd(width)}`)
      width = Math.max(width, line.length)
    },
    stop() {
      if (width > 0) process.stderr.write(`\r${' '.repeat(width)}\r`)
    },
  }
}
