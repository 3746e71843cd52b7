/** A one-line counter on stderr, for runs long enough to need one (drawn after the first second). */
export interface Progress {
  update(done: number, known: number): void
  stop(): void
}

const silent: Progress = {update() {}, stop() {}}

export function createProgress(label: string, enabled: boolean): Progress {
  if (!enabled) return silent
  const started = Date.now()
  let drawn = false
  let last = 0
  return {
    update(done, known) {
      const now = Date.now()
      if (now - started < 1000 || now - last < 100) return
      last = now
      drawn = true
      process.stderr.write(`\r\u001B[K${label}: ${done}/${known}`)
    },
    stop() {
      if (drawn) process.stderr.write('\r\u001B[K')
    },
  }
}
