import {parseArgs} from 'node:util'

import {generateSeed, loadSeedFile, startEmulator, type Faults, type Seed} from './index.js'

const USAGE = `Usage: tsx test/emulator/cli.ts [options]

  --port N            port to listen on, 0 for a free one (default 0)
  --users N           users of the demo app in the generated seed (default 120)
  --pending N         pending registrations of the demo app (default 5)
  --seed N            seed number of the generated data (default 1)
  --seed-file PATH    load this JSON seed instead of generating one
  --latency-ms N      add N ms to every Admin API answer
  --access-ttl S      access token lifetime in seconds (default 1800)
  --refresh-ttl S     refresh token lifetime in seconds (default 60 days)
  --rate-per-second N answer 429 above N Admin API requests per second
  --ignore-filters    ignore status and provider_types when listing users
  --ignore-after      ignore after when listing: always the first page

Prints EMULATOR_URL=<url> on stdout once listening; stops on SIGINT or SIGTERM.`

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n\n${USAGE}\n`)
  process.exit(2)
}

function number(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min)
    fail(`--${flag} must be a number >= ${min}`)
  return parsed
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        port: {type: 'string'},
        users: {type: 'string'},
        pending: {type: 'string'},
        seed: {type: 'string'},
        'seed-file': {type: 'string'},
        'latency-ms': {type: 'string'},
        'access-ttl': {type: 'string'},
        'refresh-ttl': {type: 'string'},
        'rate-per-second': {type: 'string'},
        'ignore-filters': {type: 'boolean'},
        'ignore-after': {type: 'boolean'},
        help: {type: 'boolean', short: 'h'},
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (error) {
    fail((error as Error).message)
  }
}

async function main(): Promise<void> {
  const values = parseFlags()
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const latencyMs = number(values['latency-ms'], 'latency-ms')
  const faults: Faults = {
    ...(latencyMs ? {rules: [{latencyMs}]} : {}),
    ...(values['rate-per-second']
      ? {ratePerSecond: number(values['rate-per-second'], 'rate-per-second', 1)}
      : {}),
    ...(values['ignore-filters'] ? {ignoreFilters: true} : {}),
    ...(values['ignore-after'] ? {ignoreAfter: true} : {}),
  }
  let seed: Seed
  try {
    seed = values['seed-file']
      ? await loadSeedFile(values['seed-file'])
      : generateSeed({
          users: number(values.users, 'users') ?? 120,
          pendingUsers: number(values.pending, 'pending'),
          seed: number(values.seed, 'seed'),
        })
  } catch (error) {
    fail((error as Error).message)
  }
  const port = number(values.port, 'port')
  const emulator = await startEmulator({
    port,
    seed,
    accessTokenTtlSeconds: number(values['access-ttl'], 'access-ttl'),
    refreshTokenTtlSeconds: number(values['refresh-ttl'], 'refresh-ttl'),
    faults,
  }).catch((error: NodeJS.ErrnoException) =>
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${port} is in use; pick another, or --port 0 for a free one`
        : error.message,
    ),
  )
  process.stdout.write(`EMULATOR_URL=${emulator.url}\n`)
  describe(seed)

  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

function describe(seed: Seed): void {
  const lines = seed.apiKeys.map((key) => `API key: ${key.publicKey} / ${key.privateKey}`)
  for (const project of seed.projects) {
    lines.push(`project ${project.id}`)
    for (const app of project.apps) {
      lines.push(
        `  ${app.name} (${app.client_app_id}, ${app._id}, ${app.product}): ` +
          `${app.users.length} users, ${app.pendingUsers.length} pending`,
      )
    }
  }
  process.stderr.write(`${lines.join('\n')}\nCtrl-C to stop.\n`)
}

await main()
