// The README's demo: a seeded emulator, a throwaway profile, and a realistic non-interactive revoke.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DEMO_KEYS, generateSeed, startEmulator} from '../test/emulator/index.js'

const run = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const configDir = mkdtempSync(join(tmpdir(), 'appservices-demo-'))
const emulator = await startEmulator({seed: generateSeed({users: 300, seed: 7})})
const env: NodeJS.ProcessEnv = {
  ...process.env,
  APPSERVICES_CONFIG_DIR: configDir,
  APPSERVICES_BASE_URL: emulator.url,
}
delete env.APPSERVICES_TELEMETRY_URL

// Asynchronous, because the emulator answers from this same process.
async function appservices(args: string[]): Promise<number> {
  console.log(`\n$ appservices ${args.join(' ')}`)
  const child = spawn(process.execPath, [run, ...args], {env, stdio: ['ignore', 'inherit', 'inherit']})
  const [code] = await once(child, 'exit')
  return code ?? 1
}

try {
  console.log(`Admin API emulator at ${emulator.url}; throwaway config dir ${configDir}`)
  const demo = emulator.state.userCounters()
  console.log(`Seeded ${demo.length} users; ${demo.filter((u) => u.sessions > 0).length} have open sessions.`)
  await appservices(['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey])
  await appservices(['whoami'])
  emulator.state.clearLog()
  const status = await appservices([
    'users',
    'revoke',
    '--app',
    'demo',
    '--state',
    'disabled',
    '--yes',
    '--disable-colors',
  ])
  const after = emulator.state.userCounters()
  const logouts = emulator.state.requests.filter(
    (r) => r.method === 'PUT' && r.path.endsWith('/logout'),
  ).length
  const lists = emulator.state.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users')).length
  console.log(`\nThe server saw: ${lists} list-users requests, ${logouts} logout requests;`)
  console.log(`${after.filter((u) => u.logoutCount > 0).length} users now logged out; exit status ${status}.`)
} finally {
  await emulator.close()
  rmSync(configDir, {recursive: true, force: true})
}
