import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {dump as stringify, load as parse} from 'js-yaml'

import {generateSeed, startEmulator, type Emulator, type Faults, type Seed} from '../emulator/index.js'
import {runCli, tempDir, type CliRun} from '../helpers/cli.js'
import {startRecorder, type Recorder} from '../helpers/recorder.js'

const PUBLIC_KEY = 'harness-public-key'
const PRIVATE_KEY = 'PRIVKEY-SECRET-4f9c2e7a1b'
const WRONG_PRIVATE_KEY = 'WRONGKEY-SECRET-77aa0c'
/** Every access and refresh token the emulator issues starts with this. */
const TOKEN_PREFIX = 'TOKSECRET'
const SECRETS = [PRIVATE_KEY, WRONG_PRIVATE_KEY, TOKEN_PREFIX]

interface Step {
  name: string
  args: string[]
  exit: number
  env?: Record<string, string | undefined>
  /** Run in its own config dir without a profile. */
  noProfile?: boolean
  faults?: Faults
  setup?: () => void
  /** Add `-o <file>` and check the file too. */
  outputTarget?: boolean
  check?: (run: CliRun) => void
}

function leaks(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret))
}

describe('secrets: nothing secret in any output, and tokens go only to the Admin API', function () {
  this.timeout(60_000)

  let emulator: Emulator
  let seed: Seed
  let collector: Recorder
  let elsewhere: Recorder
  let config: ReturnType<typeof tempDir>
  let work: ReturnType<typeof tempDir>
  let runs = 0
  const user = (i: number) => seed.projects[0].apps[0].users[i]._id
  const profilePath = (name = 'default') => join(config.path, `${name}.yaml`)

  before(async () => {
    seed = generateSeed({users: 60})
    seed.apiKeys = [
      {publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY, groupIds: seed.projects.map((project) => project.id)},
    ]
    emulator = await startEmulator({seed, tokenPrefix: TOKEN_PREFIX})
    collector = await startRecorder()
    elsewhere = await startRecorder()
    config = tempDir()
    work = tempDir()
  })

  after(async () => {
    await emulator?.close()
    await collector?.close()
    await elsewhere?.close()
    config?.remove()
    work?.remove()
  })

  const steps: Step[] = [
    {
      name: 'login (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, '--private-api-key', PRIVATE_KEY],
      exit: 0,
      check: () => {
        // The secrets are really in play: the profile (0600) holds them, so a leak would be seen.
        const profile = readFileSync(profilePath(), 'utf8')
        expect(profile).to.include(PRIVATE_KEY)
        expect(profile).to.include(TOKEN_PREFIX)
      },
    },
    {
      name: 'login --private-api-key=KEY --json -o (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, `--private-api-key=${PRIVATE_KEY}`, '--json'],
      outputTarget: true,
      exit: 0,
    },
    {
      name: 'login with a wrong private key (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, '--private-api-key', WRONG_PRIVATE_KEY, '--profile', 'wrong'],
      exit: 1,
      check: (run) => expect(run.stderr).to.match(/^Error: Login failed/m),
    },
    {
      name: 'login with a wrong private key, JSON (DEBUG=*)',
      args: [
        'login',
        '--api-key',
        PUBLIC_KEY,
        `--private-api-key=${WRONG_PRIVATE_KEY}`,
        '--profile',
        'wrong',
        '--json',
      ],
      exit: 1,
    },
    {
      name: 'a usage error on a command line holding the private key (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, '--private-api-key', PRIVATE_KEY, '--bogus'],
      exit: 2,
    },
    {
      name: 'the private key typed as an argument, without its flag (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, PRIVATE_KEY],
      exit: 2,
    },
    {
      name: 'the private key right after login (DEBUG=*)',
      args: ['login', PRIVATE_KEY],
      exit: 2,
    },
    {
      name: 'the private key after a misspelled flag (DEBUG=*)',
      args: ['login', '--api-key', PUBLIC_KEY, '--private-api-k', PRIVATE_KEY],
      exit: 2,
    },
    {name: 'whoami (DEBUG=*)', args: ['whoami'], exit: 0},
    {name: 'whoami --json -o (DEBUG=*)', args: ['whoami', '--json'], outputTarget: true, exit: 0},
    {
      name: 'users revoke -u, text (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER0,USER1,5fee6600a087eaf3000000ff'],
      exit: 1,
    },
    {
      name: 'users revoke -u, JSON to -o (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER2', '--json'],
      outputTarget: true,
      exit: 0,
    },
    {
      name: 'users revoke --state disabled --yes, text to -o',
      args: ['users', 'revoke', '-a', 'demo', '--state', 'disabled', '--yes'],
      env: {DEBUG: undefined},
      outputTarget: true,
      exit: 0,
    },
    {
      name: 'users revoke after the access token expired: refresh and save (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER3'],
      setup: () => emulator.state.expireTokens(),
      exit: 0,
    },
    {
      name: 'users revoke after the refresh token expired: log in again with the saved keys (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER4', '--json'],
      setup: () => emulator.state.expireTokens({refresh: true}),
      exit: 0,
    },
    {
      name: 'a session that cannot be renewed (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER5', '--profile', 'stale'],
      setup: () => {
        const tokens = emulator.state.login(PUBLIC_KEY, PRIVATE_KEY)
        const stale = {
          public_api_key: PUBLIC_KEY,
          private_api_key: WRONG_PRIVATE_KEY,
          access_token: tokens.access_token,
          refresh_token: tokens.refresh_token,
        }
        writeFileSync(profilePath('stale'), stringify({stale}), {mode: 0o600})
        emulator.state.expireTokens({refresh: true})
      },
      exit: 1,
      check: (run) => expect(run.stderr).to.match(/^Error: Your session has expired/m),
    },
    {
      name: 'a logout answered with an HTML error page, JSON (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER6', '--json'],
      faults: {rules: [{route: 'logout', htmlErrorStatus: 403}]},
      exit: 1,
    },
    {
      name: 'a redirect to another host (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER7'],
      faults: {rules: [{route: 'profile', redirectTo: 'ELSEWHERE/api/admin/v3.0/auth/profile'}]},
      exit: 1,
      check: (run) => expect(run.stderr).to.match(/^Error: The Admin API answered with a redirect/m),
    },
    {
      name: 'a logout that never answers, to -o (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER8'],
      env: {APPSERVICES_REQUEST_TIMEOUT_MS: '300'},
      faults: {rules: [{route: 'logout', hang: true}]},
      outputTarget: true,
      exit: 1,
    },
    {
      name: 'a server that never answers at all (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER8', '--json'],
      env: {APPSERVICES_REQUEST_TIMEOUT_MS: '300'},
      faults: {rules: [{hang: true}]},
      exit: 1,
    },
    {
      name: 'keys from the environment, JSON (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER9', '--json'],
      noProfile: true,
      env: {MONGODB_ATLAS_PUBLIC_API_KEY: PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_API_KEY: PRIVATE_KEY},
      exit: 0,
    },
    {
      name: 'wrong keys from the environment (DEBUG=*)',
      args: ['users', 'revoke', '-a', 'demo-abcde', '-u', 'USER9'],
      noProfile: true,
      env: {MONGODB_ATLAS_PUBLIC_API_KEY: PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_API_KEY: WRONG_PRIVATE_KEY},
      exit: 1,
    },
    {name: 'whoami --telemetry on, JSON (DEBUG=*)', args: ['whoami', '--telemetry', 'on', '--json'], exit: 0},
    {
      name: 'logout whose server session end fails (DEBUG=*)',
      args: ['logout', '--profile', 'stale'],
      faults: {rules: [{route: 'deleteSession', htmlErrorStatus: 403}]},
      exit: 0,
    },
    {
      name: 'logout (DEBUG=*)',
      args: ['logout'],
      exit: 0,
      check: () => {
        const profile = parse(readFileSync(profilePath(), 'utf8')) as {default: Record<string, unknown>}
        expect(profile.default).to.not.have.any.keys('access_token', 'refresh_token', 'private_api_key')
      },
    },
    {name: 'whoami after logout, JSON (DEBUG=*)', args: ['whoami', '--json'], exit: 0},
  ]

  for (const [index, step] of steps.entries()) {
    it(`leaks nothing: ${step.name}`, async () => {
      const ids = Object.fromEntries(Array.from({length: 10}, (_, i) => [`USER${i}`, user(i)]))
      const args = step.args.map((arg) => arg.replace(/USER\d/g, (name) => ids[name]))
      const target = join(work.path, `output-${index}.txt`)
      if (step.outputTarget) args.push('-o', target)
      const own = step.noProfile ? tempDir() : undefined
      emulator.setFaults(
        JSON.parse(JSON.stringify(step.faults ?? {}).replaceAll('ELSEWHERE', elsewhere.url)) as Faults,
      )
      try {
        step.setup?.()
        const run = await runCli(args, {
          configDir: own?.path ?? config.path,
          emulator,
          env: {DEBUG: '*', APPSERVICES_TELEMETRY_URL: `${collector.url}/telemetry`, ...step.env},
        })
        runs++
        const where = `${step.name}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`
        expect(run.signal, where).to.equal(null)
        expect(run.code, where).to.equal(step.exit)
        expect(leaks(run.stdout), `secrets on stdout of ${where}`).to.deep.equal([])
        expect(leaks(run.stderr), `secrets on stderr of ${where}`).to.deep.equal([])
        if (step.outputTarget) {
          const written = readFileSync(target, 'utf8')
          expect(written, 'the output target was written').to.not.equal('')
          expect(leaks(written), `secrets in the output target of ${step.name}`).to.deep.equal([])
        }
        if (own)
          expect(existsSync(join(own.path, 'default.yaml')), 'an environment session is not saved').to.equal(
            false,
          )
        step.check?.(run)
      } finally {
        emulator.setFaults({})
        own?.remove()
      }
    })
  }

  it('sends nothing to another host, and the telemetry holds no secret and no credentials', async () => {
    // Telemetry leaves from a detached process; wait until the batches stop arriving.
    let seen = -1
    while (seen !== collector.requests.length) {
      seen = collector.requests.length
      await new Promise((resolve) => setTimeout(resolve, 1500))
    }
    expect(elsewhere.requests, 'requests to the host the redirect pointed at').to.deep.equal([])
    // The four command lines refused while their flags are parsed (before telemetry starts) send no event.
    expect(collector.requests.length, 'telemetry batches').to.be.at.least(runs - 5)
    for (const request of collector.requests) {
      expect(request.headers, 'no credentials sent to the telemetry collector').to.not.have.any.keys(
        'authorization',
        'cookie',
      )
      expect(leaks(request.url + request.body), `secrets in telemetry ${request.body}`).to.deep.equal([])
      expect(leaks(JSON.stringify(request.headers))).to.deep.equal([])
    }
    const events = collector.requests.flatMap(
      (request) => (JSON.parse(request.body) as {events: Record<string, unknown>[]}).events,
    )
    expect(events.some((event) => event.event === 'command_error')).to.equal(true)
    expect(events.some((event) => event.event === 'command_complete')).to.equal(true)
  })
})
