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

const HEX_DIGITS = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0))

/**
 * Hex digits of `value` (an integer below 2^52) written into `codes` at `offset`, `length` digits wide.
 * Building ids from character codes gives flat strings; concatenated ones are much slower to sort and hash.
 */
export function writeHex(codes: number[], offset: number, length: number, value: number): void {
  for (let i = offset + length - 1; i >= offset; i--) {
    codes[i] = HEX_DIGITS[value % 16]
    value = Math.floor(value / 16)
  }
}

export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1))
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}
