import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {load as parse, dump as stringify} from 'js-yaml'

import {
  API_PREFIX,
  DEMO_KEYS,
  generateSeed,
  startEmulator,
  type Emulator,
  type Seed,
} from '../emulator/index.js'
import {login as logInWithDemoKeys, logoutsByUser, runCli, tempDir, type CliRun} from '../helpers/cli.js'
import {KEYS, runCliInPty, type PtyRun} from '../helpers/pty.js'

interface Context {
  emulator: Emulator
  seed: Seed
  /** APPSERVICES_CONFIG_DIR of this run. */
  configDir: string
}

interface Case {
  name: string
  args: string[]
  /** 2: an invalid invocation, found before any request; 1: everything else. */
  exit: 1 | 2
  /** The stable `code` of the JSON error document. */
  code: string
  /** The `Error:` line (text) and the `message` (JSON). */
  error: RegExp
  /** The `Try:` line (text) and the `suggestion` (JSON). */
  hint?: RegExp
  env?: Record<string, string | undefined>
  /** The default profile's fields, written as YAML; without it there is no profile file. */
  profile?: Record<string, unknown>
}

const APP = 'demo-abcde'
const USER = '5fee6600a087eaf3000000ff'
const LOGIN_USAGE = /^Try: appservices login --api-key PUBLIC --private-api-key PRIVATE$/
const revoke = (...args: string[]) => ['users', 'revoke', ...args]
const login = (publicKey: string, privateKey: string) => [
  'login',
  '--api-key',
  publicKey,
  '--private-api-key',
  privateKey,
]

const invalidProfile = (field: string, kind: string) =>
  new RegExp(`^Error: Profile file .*default\\.yaml is invalid: "${field}" is ${kind}, not a string$`)

const CASES: Case[] = [
  // Empty keys: refused before the login request, as a missing key is.
  {
    name: 'login with both keys empty',
    args: login('', ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --api-key: it is empty$/,
    hint: LOGIN_USAGE,
  },
  {
    name: 'login with an empty private key',
    args: login(DEMO_KEYS.publicKey, ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --private-api-key: it is empty$/,
    hint: LOGIN_USAGE,
  },
  {
    name: 'login with a blank public key',
    args: login('   ', DEMO_KEYS.privateKey),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --api-key: it is empty$/,
    hint: LOGIN_USAGE,
  },
  {
    name: 'environment keys set to empty strings count as not set',
    args: revoke('-a', APP, '-u', USER),
    env: {MONGODB_ATLAS_PUBLIC_API_KEY: '', MONGODB_ATLAS_PRIVATE_API_KEY: ''},
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in$/,
    hint: /^Try: appservices login \(or set MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY\)$/,
  },
  {
    name: 'environment keys set to blanks count as not set',
    args: revoke('-a', APP, '-u', USER),
    env: {MONGODB_ATLAS_PUBLIC_API_KEY: ' ', MONGODB_ATLAS_PRIVATE_API_KEY: '  '},
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in$/,
  },

  // A profile whose values have the wrong type is corrupt, not "not logged in".
  ...(['whoami', 'users revoke'] as const).flatMap((command): Case[] => {
    const args = command === 'whoami' ? ['whoami'] : revoke('-a', APP, '-u', USER)
    const hint = /^Try: fix or delete the file, then run: appservices login$/
    return [
      {
        name: `${command} with a number for public_api_key`,
        args,
        profile: {public_api_key: 123, private_api_key: DEMO_KEYS.privateKey},
        exit: 1,
        code: 'ProfileInvalid',
        error: invalidProfile('public_api_key', 'a number'),
        hint,
      },
      {
        name: `${command} with a list for private_api_key`,
        args,
        profile: {public_api_key: DEMO_KEYS.publicKey, private_api_key: [1, 2]},
        exit: 1,
        code: 'ProfileInvalid',
        error: invalidProfile('private_api_key', 'a list'),
        hint,
      },
      {
        name: `${command} with a mapping for access_token`,
        args,
        profile: {access_token: {a: 1}},
        exit: 1,
        code: 'ProfileInvalid',
        error: invalidProfile('access_token', 'a mapping'),
        hint,
      },
    ]
  }),
]

function errorLines(text: string): string[] {
  return text.split('\n').filter((line) => line.includes('Error:'))
}

function writeProfile(configDir: string, fields: Record<string, unknown>): void {
  writeFileSync(join(configDir, 'default.yaml'), stringify({default: fields}), {mode: 0o600})
}

describe('login, logout and whoami: keys and profiles', function () {
  this.timeout(30_000)
  let emulator: Emulator
  let seed: Seed

  before(async () => {
    seed = generateSeed({users: 20})
    emulator = await startEmulator({seed})
  })

  after(async () => {
    await emulator?.close()
  })

  for (const testCase of CASES) {
    for (const mode of ['text', 'json'] as const) {
      it(`${testCase.name} (${mode})`, async () => {
        const config = tempDir()
        try {
          const ctx: Context = {emulator, seed, configDir: config.path}
          if (testCase.profile) writeProfile(ctx.configDir, testCase.profile)
          emulator.state.clearLog()

          const run = await runCli(mode === 'json' ? [...testCase.args, '--json'] : testCase.args, {
            configDir: ctx.configDir,
            emulator,
            env: testCase.env,
          })
          const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`

          expect(run.code, `exit code\n${output}`).to.equal(testCase.exit)
          if (mode === 'text') {
            const lines = errorLines(run.stderr)
            expect(lines, `one Error: line\n${output}`).to.have.length(1)
            expect(lines[0]).to.match(testCase.error)
            if (testCase.hint) {
              const tries = run.stderr.split('\n').filter((line) => line.startsWith('Try: '))
              expect(tries, `one Try: line\n${output}`).to.have.length(1)
              expect(tries[0]).to.match(testCase.hint)
            }
            expect(run.stdout, 'nothing on stdout').to.equal('')
          } else {
            const document = JSON.parse(run.stdout) as {
              error: {code: string; message: string; suggestion?: string}
            }
            expect(document.error.code, output).to.equal(testCase.code)
            expect(`Error: ${document.error.message}`).to.match(testCase.error)
            if (testCase.hint) expect(`Try: ${document.error.suggestion}`).to.match(testCase.hint)
            expect(errorLines(run.stderr), 'the error is in the document, not on stderr').to.have.length(0)
          }
          expect(
            emulator.state.requests.map((entry) => entry.path),
            'no request reached the server',
          ).to.deep.equal([])
          if (!testCase.profile)
            expect(existsSync(join(ctx.configDir, 'default.yaml')), 'no profile saved').to.equal(false)
        } finally {
          config.remove()
        }
      })
    }
  }

  describe('whoami with the API keys in the environment', () => {
    const env = {
      MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey,
      MONGODB_ATLAS_PRIVATE_API_KEY: DEMO_KEYS.privateKey,
    }
    let config: {path: string; remove: () => void}

    beforeEach(() => {
      config = tempDir()
      emulator.state.clearLog()
    })
    afterEach(() => config.remove())

    const whoami = (args: string[], extra: Record<string, string | undefined> = env): Promise<CliRun> =>
      runCli(['whoami', ...args], {configDir: config.path, emulator, env: extra})

    it('says the commands will use the environment keys, shows the public key and never the private one', async () => {
      const run = await whoami([])

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.equal(
        [
          'Profile: default',
          `Public API key: ${DEMO_KEYS.publicKey} (from MONGODB_ATLAS_PUBLIC_API_KEY)`,
          'Logged in: no; commands will use the API keys from the environment',
          `Admin API: ${emulator.url}`,
          '',
        ].join('\n'),
      )
      expect(run.stdout + run.stderr).to.not.contain(DEMO_KEYS.privateKey)
      expect(emulator.state.requests, 'whoami asks the server nothing').to.deep.equal([])
    })

    it('says in JSON that the credentials come from the environment', async () => {
      const run = await whoami(['--json'])

      expect(run.code, run.stderr).to.equal(0)
      expect(JSON.parse(run.stdout)).to.deep.equal({
        profile: 'default',
        public_api_key: DEMO_KEYS.publicKey,
        logged_in: false,
        credentials_source: 'environment',
        base_url: emulator.url,
        session_base_url: null,
      })
      expect(run.stdout + run.stderr).to.not.contain(DEMO_KEYS.privateKey)
    })

    it('tells the same story as users revoke, which logs in with those keys', async () => {
      const user = seed.projects[0].apps[0].users[0]._id

      const run = await runCli(revoke('-a', APP, '-u', user), {configDir: config.path, emulator, env})

      expect(run.code, run.stderr).to.equal(0)
      expect(logoutsByUser(emulator)).to.deep.equal(new Map([[user, 1]]))
      expect(existsSync(join(config.path, 'default.yaml')), 'the session stays in memory').to.equal(false)
    })

    it('prefers a logged-in profile to the environment, as the other commands do', async () => {
      const tokens = emulator.state.login(DEMO_KEYS.publicKey, DEMO_KEYS.privateKey)
      writeProfile(config.path, {
        public_api_key: DEMO_KEYS.publicKey,
        private_api_key: DEMO_KEYS.privateKey,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
      })

      const run = await whoami(['--json'], {...env, MONGODB_ATLAS_PUBLIC_API_KEY: 'another-public-key'})

      expect(run.code, run.stderr).to.equal(0)
      expect(JSON.parse(run.stdout)).to.deep.include({
        public_api_key: DEMO_KEYS.publicKey,
        logged_in: true,
        credentials_source: 'profile',
      })
    })

    for (const [name, extra] of [
      ['set to empty strings', {MONGODB_ATLAS_PUBLIC_API_KEY: '', MONGODB_ATLAS_PRIVATE_API_KEY: ''}],
      ['with only the public key', {MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey}],
    ] as const) {
      it(`says "not logged in" with the environment keys ${name}, as users revoke does`, async () => {
        const text = await whoami([], extra)
        const json = await whoami(['--json'], extra)

        expect(text.code, text.stderr).to.equal(0)
        expect(text.stdout).to.match(
          /^Profile default is not logged in\nAdmin API: http:\/\/127\.0\.0\.1:\d+\nTry: appservices login\n$/,
        )
        expect(JSON.parse(json.stdout)).to.deep.include({
          public_api_key: null,
          logged_in: false,
          credentials_source: null,
        })
      })
    }
  })

  describe('login in a terminal, and logout', () => {
    let config: {path: string; remove: () => void}
    const terminals: PtyRun[] = []
    const readProfile = () =>
      (parse(readFileSync(join(config.path, 'default.yaml'), 'utf8')) as {default: Record<string, unknown>})
        .default

    beforeEach(() => {
      config = tempDir()
      emulator.state.clearLog()
    })
    afterEach(() => {
      for (const terminal of terminals.splice(0)) terminal.kill()
      config.remove()
    })

    it('asks for the public key, then the private key, masked, and saves the session', async () => {
      const logins = emulator.state.loginCount
      const terminal = runCliInPty(['login'], {configDir: config.path, emulator, timeoutMs: 20_000})
      terminals.push(terminal)

      await terminal.waitFor('Public API key:')
      expect(terminal.output, 'one question at a time').not.to.contain('Private API key:')
      await terminal.press(...DEMO_KEYS.publicKey, KEYS.enter)
      await terminal.waitFor('Private API key:')
      await terminal.press(...DEMO_KEYS.privateKey, KEYS.enter)
      const exit = await terminal.exited

      expect(exit.code, exit.output).to.equal(0)
      expect(exit.output).to.contain(`Logged in with API key ${DEMO_KEYS.publicKey} (profile default)`)
      expect(exit.output, 'a mask character per key character').to.contain(
        `Private API key: ${'*'.repeat(DEMO_KEYS.privateKey.length)}`,
      )
      for (const shown of [exit.output, terminal.rawOutput])
        expect(shown, 'the private key is never echoed').not.to.contain(DEMO_KEYS.privateKey)
      expect(emulator.state.loginCount - logins, 'the server accepted one login').to.equal(1)
      expect(emulator.state.requests.map((entry) => [entry.route, entry.status])).to.deep.equal([
        ['login', 200],
      ])
      const saved = readProfile()
      expect(saved).to.deep.include({
        public_api_key: DEMO_KEYS.publicKey,
        private_api_key: DEMO_KEYS.privateKey,
        realm_base_url: emulator.url,
      })
      expect(() => emulator.state.authenticate(saved.access_token as string), 'a live session').not.to.throw()
    })

    it('logout ends the session on the server with the refresh token and clears the secrets, keeping the other settings', async () => {
      await logInWithDemoKeys(emulator, config.path)
      const telemetry = await runCli(['whoami', '--telemetry', 'off'], {configDir: config.path, emulator})
      expect(telemetry.code, telemetry.stderr).to.equal(0)
      const before = readProfile() as {access_token: string; refresh_token: string}
      emulator.state.clearLog()

      const run = await runCli(['logout'], {configDir: config.path, emulator})

      expect(run.code, run.stderr).to.equal(0)
      expect(run.stdout).to.equal('Logged out (profile default)\n')
      // The emulator ends a session only when the bearer is its refresh token: an access token, or none, is a 401.
      expect(emulator.state.requests.map((entry) => [entry.method, entry.path, entry.status])).to.deep.equal([
        ['DELETE', `${API_PREFIX}/auth/session`, 204],
      ])
      expect(() => emulator.state.refreshSession(before.refresh_token), 'the refresh token is dead').to.throw(
        /failed to find refresh token/,
      )
      expect(() => emulator.state.authenticate(before.access_token), 'and its access token').to.throw(
        /invalid access token/,
      )
      expect(readProfile()).to.deep.equal({realm_base_url: emulator.url, telemetry_mode: 'off'})
    })

    it('logout ends the session where it was issued, even with APPSERVICES_BASE_URL pointing elsewhere', async () => {
      await logInWithDemoKeys(emulator, config.path)
      const before = readProfile() as {refresh_token: string}
      emulator.state.clearLog()

      const run = await runCli(['logout'], {
        configDir: config.path,
        emulator,
        env: {APPSERVICES_BASE_URL: 'http://127.0.0.1:9'},
      })

      expect(run.code, run.stderr).to.equal(0)
      expect(emulator.state.requests.map((entry) => [entry.method, entry.path, entry.status])).to.deep.equal([
        ['DELETE', `${API_PREFIX}/auth/session`, 204],
      ])
      expect(() => emulator.state.refreshSession(before.refresh_token)).to.throw(
        /failed to find refresh token/,
      )
    })

    it('Ctrl-C while the server does not answer: the secrets are cleared all the same, exit 130', async () => {
      await logInWithDemoKeys(emulator, config.path)
      emulator.setFaults({rules: [{route: 'deleteSession', hang: true}]})
      try {
        const terminal = runCliInPty(['logout'], {configDir: config.path, emulator, timeoutMs: 20_000})
        terminals.push(terminal)
        const deadline = Date.now() + 10_000
        while (!emulator.state.requests.some((entry) => entry.route === 'deleteSession')) {
          if (Date.now() > deadline) throw new Error('the logout request never arrived')
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        await terminal.press(KEYS.ctrlC)
        const exit = await terminal.exited

        expect(exit.code, exit.output).to.equal(130)
        expect(readProfile()).not.to.have.any.keys('refresh_token', 'access_token', 'private_api_key')
      } finally {
        emulator.setFaults({})
      }
    })
  })

  it('a bad APPSERVICES_REQUEST_TIMEOUT_MS is a usage error of every command, whoami included', async () => {
    const config = tempDir()
    try {
      const run = await runCli(['whoami'], {
        configDir: config.path,
        emulator,
        env: {APPSERVICES_REQUEST_TIMEOUT_MS: 'abc'},
      })
      expect(run.code).to.equal(2)
      expect(run.stderr).to.match(/^Error: APPSERVICES_REQUEST_TIMEOUT_MS must be a whole number/)
    } finally {
      config.remove()
    }
  })

  it('whoami still reads empty and null profile values as absent', async () => {
    const config = tempDir()
    try {
      writeFileSync(
        join(config.path, 'default.yaml'),
        'default:\n  public_api_key: ""\n  private_api_key:\n  telemetry_mode: "off"\n',
      )

      const run = await runCli(['whoami', '--json'], {configDir: config.path, emulator})

      expect(run.code, run.stderr).to.equal(0)
      expect(JSON.parse(run.stdout)).to.deep.include({public_api_key: null, logged_in: false})
    } finally {
      config.remove()
    }
  })
})
