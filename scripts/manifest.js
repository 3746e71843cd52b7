// Writes oclif.manifest.json from the built commands, as `oclif manifest` does, without its heavy dev dependency.
import {Plugin} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
})
await plugin.load()
const manifest = JSON.stringify(plugin.manifest, null, 2)
await writeFile(new URL('../oclif.manifest.json', import.meta.url), `${manifest}\n`)
console.log(
  `wrote oclif.manifest.json (${Object.keys(plugin.manifest.commands).length} commands, version ${plugin.manifest.version})`,
)
