import {chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {load as parse} from 'js-yaml'

import {DEMO_KEYS, generateSeed, startEmulator, type Emulator, type Seed} from '../emulator/index.js'
import {login, runCli, tempDir} from '../helpers/cli.js'

interface SavedProfile {
  public_api_key?: string
  private_api_key?: string
  access_token?: string
  refresh_token?: string
  realm_base_url?: string
}

const mode = (path: string) => statSync(path).mode & 0o777

describe('profiles: concurrent commands and file permissions', function () {
  this.timeout(120_000)

  let emulator: Emulator
  let seed: Seed
  let config: ReturnType<typeof tempDir>
  const profilePath = () => join(config.path, 'default.yaml')
  const users = () => seed.projects[0].apps[0].users

  before(async () => {
    seed = generateSeed({users: 60})
    emulator = await startEmulator({seed})
  })

  after(() => emulator?.close())

  beforeEach(async () => {
    config = tempDir()
    await login(emulator, config.path)
  })

  afterEach(() => config.remove())

  function readProfile(): SavedProfile {
    const document = parse(readFileSync(profilePath(), 'utf8')) as Record<string, SavedProfile>
    expect(Object.keys(document), 'one profile in the file').to.deep.equal(['default'])
    return document.default
  }

  for (const round of [1, 2]) {
    it(`10 commands that all refresh and save the same profile leave it whole, valid and 0600 (round ${round})`, async () => {
      const before = readProfile()
      emulator.state.expireTokens()
      const refreshesBefore = emulator.state.refreshCount

      const runs = await Promise.all(
        users()
          .slice(0, 10)
          .map((user) =>
            runCli(['users', 'revoke', '-a', 'demo-abcde', '-u', user._id, '--json'], {
              configDir: config.path,
              emulator,
            }),
          ),
      )
      for (const run of runs) {
        expect(run.code, run.stderr).to.equal(0)
        expect(JSON.parse(run.stdout).summary).to.include({revoked: 1, failed: 0})
      }
      // A command that starts after another has saved the new token uses it without refreshing.
      expect(emulator.state.refreshCount - refreshesBefore, 'refreshes').to.be.within(1, 10)

      const after = readProfile()
      expect(after.public_api_key).to.equal(DEMO_KEYS.publicKey)
      expect(after.private_api_key).to.equal(DEMO_KEYS.privateKey)
      expect(after.refresh_token).to.equal(before.refresh_token)
      expect(after.realm_base_url).to.equal(before.realm_base_url)
      expect(after.access_token).to.be.a('string').and.not.equal(before.access_token)
      expect(mode(profilePath()), 'profile mode').to.equal(0o600)
      expect(readdirSync(config.path), 'no temporary files left behind').to.deep.equal(['default.yaml'])

      // The token that won is a whole, valid one: the next command needs no refresh.
      const refreshesAfter = emulator.state.refreshCount
      const next = await runCli(['users', 'revoke', '-a', 'demo-abcde', '-u', users()[10]._id], {
        configDir: config.path,
        emulator,
      })
      expect(next.code, next.stderr).to.equal(0)
      expect(emulator.state.refreshCount).to.equal(refreshesAfter)
    })
  }

  it('10 concurrent --telemetry changes and refreshes keep the file parseable at every moment', async () => {
    emulator.state.expireTokens()
    let reads = 0
    let reading = true
    // Read the file over and over while the commands rewrite it: a reader must never see half a file.
    const reader = (async () => {
      while (reading) {
        const text = readFileSync(profilePath(), 'utf8')
        expect(() => parse(text), text).to.not.throw()
        expect(parse(text)).to.have.property('default')
        reads++
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const runs = await Promise.all(
      users()
        .slice(20, 30)
        .map((user, i) =>
          runCli(
            [
              'users',
              'revoke',
              '-a',
              'demo-abcde',
              '-u',
              user._id,
              '--telemetry',
              i % 2 === 0 ? 'on' : 'off',
            ],
            {configDir: config.path, emulator},
          ),
        ),
    )
    reading = false
    await reader
    for (const run of runs) expect(run.code, run.stderr).to.equal(0)
    expect(reads).to.be.greaterThan(10)
    const saved = readProfile()
    expect(saved.private_api_key).to.equal(DEMO_KEYS.privateKey)
    expect(mode(profilePath())).to.equal(0o600)
    expect(readdirSync(config.path)).to.deep.equal(['default.yaml'])
  })

  it('keeps the keys and sections of other tools in the profile file when it saves it', async () => {
    // What the official CLI, or a later version of it, may keep next to the keys this plugin knows.
    const others =
      'atlas_base_url: https://cloud.mongodb.com\n  retries: 3\n  proxy:\n    host: corp.example\n'
    writeFileSync(
      profilePath(),
      `${readFileSync(profilePath(), 'utf8').replace(/^default:\n/, `default:\n  ${others}`)}other_tool:\n  setting: 1\n`,
    )

    const run = await runCli(['whoami', '--telemetry', 'off'], {configDir: config.path, emulator})

    expect(run.code, run.stderr).to.equal(0)
    const whole = parse(readFileSync(profilePath(), 'utf8')) as Record<string, Record<string, unknown>>
    const saved = whole.default
    expect(saved).to.deep.include({
      atlas_base_url: 'https://cloud.mongodb.com',
      retries: 3,
      proxy: {host: 'corp.example'},
      telemetry_mode: 'off',
      public_api_key: DEMO_KEYS.publicKey,
      private_api_key: DEMO_KEYS.privateKey,
    })
    expect(whole.other_tool, 'another section of the file').to.deep.equal({setting: 1})
  })

  it('logs in to a profile file that holds only other sections, adding its own and keeping theirs', async () => {
    const file = join(config.path, 'ci.yaml')
    writeFileSync(file, 'staging:\n  public_api_key: abc\nci: null\n', {mode: 0o600})

    const before = await runCli(['whoami', '--profile', 'ci'], {configDir: config.path, emulator})
    const run = await runCli(
      [
        'login',
        '--profile',
        'ci',
        '--api-key',
        DEMO_KEYS.publicKey,
        '--private-api-key',
        DEMO_KEYS.privateKey,
      ],
      {configDir: config.path, emulator},
    )

    expect(before.code, before.stderr).to.equal(0)
    expect(before.stdout).to.include('Profile ci is not logged in')
    expect(run.code, run.stderr).to.equal(0)
    const whole = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>
    expect(whole.staging).to.deep.equal({public_api_key: 'abc'})
    expect(whole.ci).to.deep.include({public_api_key: DEMO_KEYS.publicKey})
  })

  it('makes a missing config directory, parents and all, when several commands first save at the same moment', async () => {
    const dir = join(config.path, 'a', 'b', 'c')

    const runs = await Promise.all(
      Array.from({length: 6}, () => runCli(['whoami', '--telemetry', 'off'], {configDir: dir, emulator})),
    )

    for (const run of runs) expect(run.code, run.stderr).to.equal(0)
    expect(mode(dir)).to.equal(0o700)
    expect(mode(join(config.path, 'a'))).to.equal(0o700)
    expect(readdirSync(dir)).to.deep.equal(['default.yaml'])
  })

  it('goes on with a renewed session that a read-only profile cannot keep, and says so', async () => {
    // Root writes anywhere: the run is then another user's, owning the read-only directory.
    const asRoot = process.getuid?.() === 0
    const nobody = asRoot ? {uid: 65534, gid: 65534} : {}
    if (asRoot) for (const path of [config.path, profilePath()]) chownSync(path, 65534, 65534)
    chmodSync(config.path, 0o500)
    const before = readFileSync(profilePath(), 'utf8')
    emulator.state.expireTokens()

    const run = await runCli(['users', 'revoke', '-a', 'demo-abcde', '-u', users()[0]._id], {
      configDir: config.path,
      emulator,
      env: {HOME: config.path},
      ...nobody,
    })
    chmodSync(config.path, 0o700)

    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.include('Revoked sessions for 1 of 1 user')
    expect(run.stderr).to.match(
      /^Warning: the renewed session could not be saved \(Cannot write profile .*default\.yaml: permission denied\); this run goes on with it\n$/,
    )
    expect(readFileSync(profilePath(), 'utf8')).to.equal(before)
  })

  it('tightens an existing profile file with looser permissions to 0600', async () => {
    chmodSync(profilePath(), 0o644)
    const run = await runCli(['whoami'], {configDir: config.path, emulator})
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.include('Logged in: yes')
    expect(mode(profilePath())).to.equal(0o600)
  })

  it('tightens an existing config directory with looser permissions to 0700 when it saves the profile', async () => {
    chmodSync(config.path, 0o755)

    const run = await runCli(['whoami', '--telemetry', 'off'], {configDir: config.path, emulator})

    expect(run.code, run.stderr).to.equal(0)
    expect(mode(config.path)).to.equal(0o700)
    expect(mode(profilePath())).to.equal(0o600)
  })

  it('tightens a world-writable profile file even when the command fails', async () => {
    chmodSync(profilePath(), 0o666)
    const run = await runCli(['users', 'revoke', '-a', 'nosuchapp', '-u', users()[0]._id], {
      configDir: config.path,
      emulator,
    })
    expect(run.code).to.equal(1)
    expect(run.stderr).to.match(/^Error: No app matches "nosuchapp"/m)
    expect(mode(profilePath())).to.equal(0o600)
  })
})
