import {Plugin} from '@oclif/core'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

describe('oclif.manifest.json', () => {
  it('matches the built commands (run `npm run build && npm run manifest` when it does not)', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
    await plugin.load()
    const committed = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
    expect(committed).to.deep.equal(JSON.parse(JSON.stringify(plugin.manifest)))
  })
})
