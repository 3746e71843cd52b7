import {Readable} from 'node:stream'

import {expect} from 'chai'
import type Nock from 'nock'

import {Http, type HttpRequest} from '../../src/admin-api/http.js'
import {ApiError} from '../../src/errors.js'

const BASE = 'http://admin-api.test'
const API = '/api/admin/v3.0'
const LOGIN: HttpRequest = {
  method: 'POST',
  path: '/auth/providers/mongodb-cloud/login',
  json: {username: 'public', apiKey: 'private'},
  idempotent: false,
}
const PROFILE: HttpRequest = {method: 'GET', path: '/auth/profile', bearer: 'access-token'}

/** A failure as Node's http client reports it (nock 14 emits only Error objects, not plain ones). */
const socketError = (message: string, code: string) => Object.assign(new Error(message), {code})

/** A 200 whose body stops after a few bytes: what Node reports when the connection drops mid-answer. */
function truncatedBody(): Readable {
  let reads = 0
  // Cut once the first bytes have been taken: destroyed earlier, nock would drop the error and stall.
  return new Readable({
    read() {
      if (reads++ === 0) this.push('{"user_id": ')
      else this.destroy(socketError('aborted', 'ECONNRESET'))
    },
  })
}

/**
 * Answers the Admin API cannot easily be made to give: redirects, bodies cut short, Retry-After dates.
 * The first attempt's backoff is 125–250 ms, so one retry (retries: 1) keeps each test fast.
 */
describe('Http, on edge cases of the network (nock)', () => {
  let nock: typeof Nock
  let http: Http

  before(async () => {
    // Imported here, not at the top: nock intercepts every request of the process from its import on, and
    // the other test files of the same mocha run talk to real local servers.
    nock = (await import('nock')).default
    if (!nock.isActive()) nock.activate()
    nock.disableNetConnect()
  })
  after(() => {
    nock.enableNetConnect()
    nock.restore()
  })
  beforeEach(async () => {
    http = await Http.create({baseUrl: BASE, retries: 1, timeoutMs: 5000})
  })
  afterEach(() => {
    http.close()
    nock.cleanAll()
  })

  async function failure(request: HttpRequest): Promise<ApiError> {
    const error = await http.send(request).then(
      () => undefined,
      (failed: unknown) => failed,
    )
    expect(error).to.be.instanceOf(ApiError)
    return error as ApiError
  }

  describe('Retry-After as an HTTP date', () => {
    it('waits until that date before trying again', async () => {
      // HTTP dates have whole seconds: a date 0.3 to 1.3 s ahead, more than the longest first backoff (250 ms).
      const until = new Date(Math.ceil((Date.now() + 300) / 1000) * 1000)
      const arrivals: number[] = []
      nock(BASE)
        .get(`${API}/auth/profile`)
        .times(2)
        .reply(() => {
          arrivals.push(Date.now())
          return arrivals.length === 1
            ? [503, {error: 'busy'}, {'retry-after': until.toUTCString()}]
            : [200, {user_id: 'u1'}]
        })

      const answer = await http.send(PROFILE)

      expect(answer).to.deep.equal({status: 200, body: {user_id: 'u1'}})
      expect(arrivals).to.have.length(2)
      // A few ms of slack: Date.now() and the timers do not tick together.
      expect(arrivals[1]).to.be.at.least(until.getTime() - 5)
    })

    it('gives up at once when the date is further off than it would ever wait (2 minutes)', async () => {
      const until = new Date(Date.now() + 10 * 60_000).toUTCString()
      const scope = nock(BASE)
        .get(`${API}/auth/profile`)
        .reply(429, {error: 'slow down', error_code: 'TooManyRequests'}, {'retry-after': until})
        .get(`${API}/auth/profile`)
        .reply(200, {})
      const started = Date.now()

      const error = await failure(PROFILE)

      expect(error).to.include({code: 'TooManyRequests', status: 429, message: 'slow down (HTTP 429)'})
      expect(Date.now() - started).to.be.below(1000)
      expect(scope.pendingMocks(), 'no second attempt').to.have.length(1)
    })
  })

  for (const status of [301, 302, 303, 307, 308]) {
    it(`does not follow a ${status} redirect, so the token never reaches the other host (UnexpectedRedirect)`, async () => {
      const elsewhere = nock('http://elsewhere.test').get(/.*/).reply(200, {user_id: 'stolen'})
      const api = nock(BASE)
        .get(`${API}/auth/profile`)
        .reply(status, '', {location: 'http://elsewhere.test/api/admin/v3.0/auth/profile'})

      const error = await failure(PROFILE)

      expect(error).to.include({code: 'UnexpectedRedirect', status})
      expect(error.message).to.equal(
        `The Admin API answered with a redirect (HTTP ${status}); it was not followed`,
      )
      expect(api.isDone()).to.equal(true)
      expect(elsewhere.isDone(), 'no request to the Location host').to.equal(false)
    })
  }

  const cutShort = [
    {
      what: 'an answer that ends mid-body',
      reply: (scope: Nock.Interceptor) =>
        scope.reply(200, truncatedBody, {'content-type': 'application/json'}),
    },
    {
      what: 'a socket hang-up',
      reply: (scope: Nock.Interceptor) => scope.replyWithError(socketError('socket hang up', 'ECONNRESET')),
    },
  ]
  for (const {what, reply} of cutShort) {
    it(`tries an idempotent request again after ${what}`, async () => {
      reply(nock(BASE).get(`${API}/auth/profile`))
      const retried = nock(BASE).get(`${API}/auth/profile`).reply(200, {user_id: 'u1'})

      const answer = await http.send(PROFILE)

      expect(answer).to.deep.equal({status: 200, body: {user_id: 'u1'}})
      expect(retried.isDone()).to.equal(true)
    })

    it(`never sends a login twice after ${what} (NetworkError)`, async () => {
      reply(nock(BASE).post(`${API}${LOGIN.path}`))
      const second = nock(BASE)
        .post(`${API}${LOGIN.path}`)
        .reply(200, {access_token: 'a', refresh_token: 'r'})

      const error = await failure(LOGIN)

      expect(error).to.include({
        code: 'NetworkError',
        message: `Cannot reach the Admin API at ${BASE}: ECONNRESET`,
      })
      expect(second.isDone(), 'no second attempt').to.equal(false)
    })
  }

  it('refuses a 200 whose body is not JSON (InvalidResponse), without trying again', async () => {
    const scope = nock(BASE)
      .get(`${API}/auth/profile`)
      .reply(200, '<html>captive portal</html>', {'content-type': 'text/html'})
      .get(`${API}/auth/profile`)
      .reply(200, {user_id: 'u1'})

    const error = await failure(PROFILE)

    expect(error).to.include({code: 'InvalidResponse', status: 200})
    expect(error.message).to.equal('The Admin API answered HTTP 200 with a body that is not valid JSON')
    expect(scope.pendingMocks(), 'no second attempt').to.have.length(1)
  })
})
