/** A seeded pseudo-random source in [0, 1): the same seed gives the same sequence on every run. */
export type Random = () => number

/** mulberry32: tiny, fast, and good enough for test data and fault draws. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomHex(random: Random, length: number): string {
  let hex = ''
  while (hex.length < length) hex += ((random() * 0x100000000) >>> 0).toString(16).padStart(8, '0')
  return hex.slice(0, length)
}

export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}
