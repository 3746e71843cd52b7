/**
 * Serialises `value` exactly as `JSON.stringify(value, null, 2)` plus a
 * newline would, but in chunks, and with two kinds of value JSON has not:
 * an async iterable is written as an array, element by element as they
 * arrive, and a function is a deferred value, called only once everything
 * before it is written (a summary that counts the streamed results). So a
 * report of 100,000 users never exists whole, in memory or as one string.
 */
export async function writeJsonDocument(
  write: (text: string) => Promise<void>,
  value: unknown,
): Promise<void> {
  let buffer = ''
  let wroteAt = Date.now()
  // In chunks of up to 64 KiB, and at least every 0.1 s as results come: a slow run shows its progress in the
  // file, and a reader that went away (`| head`) is noticed before many more logouts start.
  const emit = async (text: string) => {
    buffer += text
    if (buffer.length >= 64 * 1024 || Date.now() - wroteAt >= 100) {
      const chunk = buffer
      buffer = ''
      wroteAt = Date.now()
      await write(chunk)
    }
  }
  await serialise(await settle(value), '', emit)
  await write(`${buffer}\n`)
}

/** The value a field stands for: a deferred value's result. */
async function settle(value: unknown): Promise<unknown> {
  return typeof value === 'function' ? await (value as () => unknown)() : value
}

async function serialise(
  value: unknown,
  indent: string,
  emit: (text: string) => Promise<void>,
): Promise<void> {
  const inner = `${indent}  `
  if (isAsyncIterable(value) || (Array.isArray(value) && value.length > 0)) {
    let first = true
    for await (const element of value as AsyncIterable<unknown>) {
      await emit(`${first ? '[' : ','}\n${inner}`)
      first = false
      await serialise(element === undefined ? null : element, inner, emit)
    }
    await emit(first ? '[]' : `\n${indent}]`)
    return
  }
  if (isPlainObject(value) && Object.values(value).some(isStreamed)) {
    let first = true
    for (const [key, field] of Object.entries(value)) {
      const settled = await settle(field)
      if (settled === undefined) continue
      await emit(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `)
      first = false
      await serialise(settled, inner, emit)
    }
    await emit(first ? '{}' : `\n${indent}}`)
    return
  }
  // Small values (one result, the summary) are stringified whole, then re-indented to their depth.
  const text = JSON.stringify(value, null, 2) ?? 'null'
  await emit(indent ? text.replaceAll('\n', `\n${indent}`) : text)
}

/** Fields written piece by piece: streams, deferred values, and arrays too long to stringify at once. */
function isStreamed(field: unknown): boolean {
  return typeof field === 'function' || isAsyncIterable(field) || (Array.isArray(field) && field.length > 100)
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as {toJSON?: unknown}).toJSON !== 'function'
  )
}
