import {chmodSync, mkdirSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {CliError} from '../../src/errors.js'
import {ProfileStore} from '../../src/profile/profile-store.js'
import {tempDir} from '../helpers/cli.js'

describe('ProfileStore', () => {
  let config: ReturnType<typeof tempDir>

  beforeEach(() => (config = tempDir('appservices-profile-store-')))
  afterEach(() => config.remove())

  async function loadError(store: ProfileStore): Promise<CliError> {
    const error = await store.load().then(
      () => undefined,
      (failure: unknown) => failure,
    )
    expect(error).to.be.instanceOf(CliError)
    return error as CliError
  }

  for (const [profile, login] of [
    ['default', 'myhost login'],
    ['ci', 'myhost login --profile ci'],
  ]) {
    it(`names the host's bin in the hint of a ${profile} profile that is invalid`, async () => {
      writeFileSync(join(config.path, `${profile}.yaml`), `${profile}: [not, a, mapping]\n`)

      const error = await loadError(new ProfileStore(config.path, profile, {binName: 'myhost'}))

      expect(error.code).to.equal('ProfileInvalid')
      expect(error.suggestion).to.equal(`fix or delete the file, then run: ${login}`)
    })
  }

  it('leaves a shared (sticky) config directory as it is, and still writes the file 0600', async () => {
    const shared = join(config.path, 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o1777)

    await new ProfileStore(shared, 'default', {binName: 'appservices'}).save({telemetry_mode: 'off'})

    expect(statSync(shared).mode & 0o7777).to.equal(0o1777)
    expect(statSync(join(shared, 'default.yaml')).mode & 0o777).to.equal(0o600)
  })

  it('makes a missing config directory, parents and all, when several saves race to make it', async () => {
    const dir = join(config.path, 'a', 'b', 'c')
    const stores = Array.from({length: 8}, (_, i) => new ProfileStore(dir, `p${i}`, {binName: 'appservices'}))

    await Promise.all(stores.map((store) => store.save({telemetry_mode: 'off'})))

    expect(readdirSync(dir).sort()).to.deep.equal(stores.map((store) => `${store.name}.yaml`).sort())
    expect(statSync(join(config.path, 'a')).mode & 0o777).to.equal(0o700)
  })
})
