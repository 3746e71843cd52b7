/**
 * Serialises `value` exactly as `JSON.stringify(value, null, 2)` plus a
 * newline, but in chunks: a report of 100,000 users never exists as one
 * string, which keeps the peak memory of large runs low.
 */
export async function writeJsonDocument(
  write: (text: string) => Promise<void>,
  value: unknown,
): Promise<void> {
  let buffer = ''
  const emit = async (text: string) => {
    buffer += text
    if (buffer.length >= 64 * 1024) {
      const chunk = buffer
      buffer = ''
      await write(chunk)
    }
  }
  await serialise(value, '', emit)
  await write(`${buffer}\n`)
}

async function serialise(
  value: unknown,
  indent: string,
  emit: (text: string) => Promise<void>,
): Promise<void> {
  const inner = `${indent}  `
  if (Array.isArray(value) && value.length > 0) {
    await emit('[')
    for (let i = 0; i < value.length; i++) {
      await emit(`${i === 0 ? '' : ','}\n${inner}`)
      await serialise(value[i] === undefined ? null : value[i], inner, emit)
    }
    await emit(`\n${indent}]`)
    return
  }
  if (
    isPlainObject(value) &&
    Object.values(value).some((field) => Array.isArray(field) && field.length > 100)
  ) {
    const entries = Object.entries(value).filter(
      ([, field]) => field !== undefined && typeof field !== 'function',
    )
    await emit('{')
    for (const [i, [key, field]] of entries.entries()) {
      await emit(`${i === 0 ? '' : ','}\n${inner}${JSON.stringify(key)}: `)
      await serialise(field, inner, emit)
    }
    await emit(`\n${indent}}`)
    return
  }
  // Small values (one result, the summary) are stringified whole, then re-indented to their depth.
  const text = JSON.stringify(value, null, 2) ?? 'null'
  await emit(indent ? text.replaceAll('\n', `\n${indent}`) : text)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as {toJSON?: unknown}).toJSON !== 'function'
  )
}
