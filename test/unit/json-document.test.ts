import {expect} from 'chai'

import {writeJsonDocument} from '../../src/output/json-document.js'

async function render(value: unknown): Promise<string> {
  let out = ''
  await writeJsonDocument(async (text) => {
    out += text
  }, value)
  return out
}

describe('writeJsonDocument', () => {
  it('writes exactly what JSON.stringify(value, null, 2) writes, for small and large reports', async () => {
    const result = (i: number) => ({
      id: `id-${i}`,
      type: 'normal',
      provider_types: ['local-userpass', 'api-key'],
      email: `u${i}@example.com`,
      revoked: i % 3 !== 0,
      error: i % 3 === 0 ? 'user not found (HTTP 404)' : null,
      skipped: undefined,
    })
    for (const count of [0, 1, 3, 101, 5000]) {
      const report = {
        app: {id: 'a', client_app_id: 'demo-abcde', name: 'demo', group_id: 'g'},
        results: Array.from({length: count}, (_, i) => result(i)),
        summary: {matched: count, revoked: 0, failed: 0, skipped: 0, nested: {empty: [], list: [1, [2, {}]]}},
      }
      expect(await render(report)).to.equal(`${JSON.stringify(report, null, 2)}\n`)
    }
  })

  it('writes a large report in chunks rather than one string', async () => {
    const chunks: string[] = []
    const results = Array.from({length: 20_000}, (_, i) => ({id: `user-${i}`, revoked: true, error: null}))
    await writeJsonDocument(
      async (text) => {
        chunks.push(text)
      },
      {results},
    )
    expect(chunks.length).to.be.greaterThan(10)
    expect(Math.max(...chunks.map((chunk) => chunk.length))).to.be.lessThan(80 * 1024)
    expect(JSON.parse(chunks.join(''))).to.deep.equal({results})
  })
})
