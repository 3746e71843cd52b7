#!/usr/bin/env -S node --import tsx
import {fileURLToPath} from 'node:url'

import {Config, execute, Plugin} from '@oclif/core'

// Set before anything loads: oclif maps dist/ to src/ (tsconfig.json's outDir and rootDir) only in development.
process.env.NODE_ENV = 'development'
const root = fileURLToPath(new URL('..', import.meta.url))
// The committed oclif.manifest.json points each command at dist/: without it, the commands and their help come
// from src/, as the sources are now.
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true})
await plugin.load()
const config = await Config.load({root, plugins: new Map([[plugin.name, plugin]])})
// Plugins given to Config.load stop it loading the others; load them now (oclif.devPlugins: help).
await config.loadPluginsAndCommands({force: true})

await execute({development: true, loadOptions: config})
