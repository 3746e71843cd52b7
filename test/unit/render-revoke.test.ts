import {expect} from 'chai'

import {renderRevokeText} from '../../src/output/render-revoke.js'
import {plain} from '../../src/output/style.js'
import type {RevokeReport, RevokeResult} from '../../src/users/types.js'

const app = {id: 'a', client_app_id: 'demo-abcde', name: 'demo', group_id: 'g'}

describe('renderRevokeText', () => {
  it('renders a table of 150,000 users (more rows than a function can take as arguments)', () => {
    const count = 150_000
    const results: RevokeResult[] = Array.from({length: count}, (_, i) => ({
      id: `user-${i}`,
      type: 'normal',
      provider_types: ['local-userpass'],
      email: i === 7 ? 'the-longest-address@example.com' : `u${i}@example.com`,
      revoked: i !== 9,
      error: i === 9 ? 'user not found (HTTP 404)' : null,
    }))
    const report: RevokeReport = {
      app,
      results,
      summary: {matched: count, revoked: count - 1, failed: 1, skipped: 0},
    }

    const lines = renderRevokeText(report, plain).trimEnd().split('\n')

    expect(lines[0]).to.equal('local-userpass')
    expect(lines[1]).to.match(/^Email {28}ID {11}Type {4}Session Revoked {2}Details$/)
    // Failures first, then the others in the order found; every user once.
    expect(lines[3]).to.match(/^u9@example\.com +user-9 +normal +no +user not found \(HTTP 404\)$/)
    expect(lines[4]).to.match(/^u0@example\.com +user-0 +normal +yes$/)
    expect(lines.filter((line) => line.includes('@example.com'))).to.have.length(count)
    expect(lines.at(-1)).to.equal(`Revoked sessions for ${count - 1} of ${count} users (1 failed)`)
  })
})
