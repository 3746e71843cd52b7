// Startup cost of the plugin in a real oclif host: `npm run bench:startup`.
// Builds an ESM host with the packed plugin as a dependency (as a CLI ships it) and a copy of that host without
// the plugin, then times each command N times (BENCH_RUNS, default 20, after 3 warm-up runs), interleaved so
// that drift hits every command alike, and prints medians and the targets of issue #4. Uses hyperfine when it is
// installed. Everything it writes (hosts, npm cache, config dirs) stays in one temporary directory.
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {DEMO_KEYS, generateSeed, startEmulator} from '../test/emulator/index.js'
import {cleanEnv, tempDir} from '../test/helpers/cli.js'
import {
  configuredRegistry,
  createHost,
  exec,
  packPlugin,
  sandboxEnv,
  traceModules,
} from '../test/host/hosts.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const WARMUP = 3
const HYPERFINE_ROUND = 5

/** Modules the plugin must not load before a command needs them. */
const HEAVY: [string, RegExp][] = [
  ['got', /\/node_modules\/got\//],
  ['@inquirer', /\/node_modules\/@inquirer\//],
  ['hpagent', /\/node_modules\/hpagent\//],
  ['proxy-from-env', /\/node_modules\/proxy-from-env\//],
  ['yaml', /\/node_modules\/yaml\//],
  ['p-limit', /\/node_modules\/p-limit\//],
  ['table', /\/appservices-plugin-users\/dist\/output\/table\.js/],
  ['progress', /\/appservices-plugin-users\/dist\/output\/progress\.js/],
  ['any plugin code', /\/appservices-plugin-users\/dist\//],
]

interface Case {
  name: string
  argv: string[]
}

const sandbox = tempDir('appservices-bench-')
const seed = generateSeed({users: 50, pendingUsers: 0})
const emulator = await startEmulator({seed})
try {
  await main()
} finally {
  await emulator.close()
  sandbox.remove()
}

async function main(): Promise<void> {
  const node = process.execPath
  const env = sandboxEnv(sandbox.path, {
    registry: await configuredRegistry(),
    base: cleanEnv({configDir: join(sandbox.path, 'unused-appservices-config'), emulator}),
  })
  console.log('Packing the plugin and installing it in a host...')
  const tarball = await packPlugin(sandbox.path, env)
  const host = await createHost({
    dir: join(sandbox.path, 'host'),
    stateDir: join(sandbox.path, 'state'),
    bin: 'myhost',
    module: 'esm',
    env,
    pluginTarball: tarball,
  })
  // The same host, byte for byte, without the plugin in its dependencies or oclif.plugins.
  const bareDir = join(sandbox.path, 'bare-host')
  cpSync(host.dir, bareDir, {recursive: true, verbatimSymlinks: true})
  const pjsonPath = join(bareDir, 'package.json')
  const pjson = JSON.parse(readFileSync(pjsonPath, 'utf8'))
  delete pjson.dependencies['appservices-plugin-users']
  pjson.oclif.plugins = pjson.oclif.plugins.filter((name: string) => name !== 'appservices-plugin-users')
  writeFileSync(pjsonPath, JSON.stringify(pjson, null, 2))

  const login = await host.run([
    'login',
    '--api-key',
    DEMO_KEYS.publicKey,
    '--private-api-key',
    DEMO_KEYS.privateKey,
  ])
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`)
  const user = seed.projects[0].apps[0].users[0]._id

  const bare = join(bareDir, 'bin', 'run.js')
  const withPlugin = join(host.dir, 'bin', 'run.js')
  const cases = {
    node: {name: 'node -e 0', argv: [node, '-e', '0']},
    bareVersion: {name: 'bare host: --version', argv: [node, bare, '--version']},
    bareHello: {name: 'bare host: hello', argv: [node, bare, 'hello']},
    version: {name: 'host with plugin: --version', argv: [node, withPlugin, '--version']},
    hello: {name: 'host with plugin: hello', argv: [node, withPlugin, 'hello']},
    bareHelp: {name: "bare host: hello --help (help's own cost)", argv: [node, bare, 'hello', '--help']},
    help: {
      name: 'host with plugin: users revoke --help',
      argv: [node, withPlugin, 'users', 'revoke', '--help'],
    },
    // Both through env(1), so that they differ only in telemetry: none, or sent to a collector that never answers.
    revoke: {
      name: 'host with plugin: users revoke (1 user, emulator)',
      argv: ['/usr/bin/env', node, withPlugin, 'users', 'revoke', '--app', 'demo-abcde', '--user', user],
    },
    revokeTelemetry: {
      name: '  the same, telemetry on, collector never answers',
      argv: [
        '/usr/bin/env',
        `APPSERVICES_TELEMETRY_URL=${emulator.url}/__emulator/telemetry`,
        node,
        withPlugin,
        'users',
        'revoke',
        '--app',
        'demo-abcde',
        '--user',
        user,
      ],
    },
  } satisfies Record<string, Case>
  emulator.setFaults({telemetryHang: true})

  for (const entry of Object.values(cases)) {
    const run = await exec(entry.argv[0], entry.argv.slice(1), {
      cwd: sandbox.path,
      env: host.env,
      allowFailure: true,
    })
    if (run.code !== 0) throw new Error(`${entry.name} failed (${run.code}):\n${run.stdout}\n${run.stderr}`)
  }

  const hyperfine = spawnSync('hyperfine', ['--version'], {encoding: 'utf8'}).status === 0
  console.log(
    `Timing ${Object.keys(cases).length} commands, ${RUNS} runs each (${hyperfine ? 'hyperfine' : 'process.hrtime'})...`,
  )
  const samples = hyperfine
    ? await timeWithHyperfine(Object.values(cases), host.env)
    : await timeInterleaved(Object.values(cases), host.env)

  const stats = Object.fromEntries(
    Object.entries(cases).map(([key, entry]) => [
      key,
      {median: median(samples.get(entry.name)!), mad: mad(samples.get(entry.name)!)},
    ]),
  ) as Record<keyof typeof cases, {median: number; mad: number}>
  console.log(`\nMedians over ${RUNS} runs (median absolute deviation):`)
  for (const [key, entry] of Object.entries(cases)) {
    const {median, mad} = stats[key as keyof typeof cases]
    console.log(`  ${entry.name.padEnd(52)} ${ms(median).padStart(9)}  (±${ms(mad)})`)
  }

  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS')
  const noise = (a: {median: number; mad: number}, b: {median: number; mad: number}) =>
    Math.max(5, 0.05 * b.median, a.mad, b.mad)
  const helpBudget = stats.bareVersion.median + 30
  const revokeBudget = 1.6 * stats.bareVersion.median
  const versionDelta = stats.version.median - stats.bareVersion.median
  const helloDelta = stats.hello.median - stats.bareHello.median
  console.log('\nTargets:')
  console.log(
    `  ${verdict(stats.help.median <= helpBudget)}  users revoke --help ${ms(stats.help.median)} <= bare --version + 30 ms = ${ms(helpBudget)}`,
  )
  console.log(
    `  ${verdict(Math.abs(versionDelta) <= noise(stats.version, stats.bareVersion))}  --version with the plugin ${signed(versionDelta)} (noise ${ms(noise(stats.version, stats.bareVersion))})`,
  )
  console.log(
    `  ${verdict(Math.abs(helloDelta) <= noise(stats.hello, stats.bareHello))}  the host's own hello with the plugin ${signed(helloDelta)} (noise ${ms(noise(stats.hello, stats.bareHello))})`,
  )
  console.log(
    `  ${verdict(stats.revoke.median <= revokeBudget)}  one-user revoke ${ms(stats.revoke.median)} = ${(stats.revoke.median / stats.bareVersion.median).toFixed(2)}x bare --version (target <= 1.60x)`,
  )

  const telemetryDelta = stats.revokeTelemetry.median - stats.revoke.median
  console.log(
    `  ${verdict(telemetryDelta <= noise(stats.revokeTelemetry, stats.revoke))}  telemetry to a collector that never answers ${signed(telemetryDelta)} over telemetry off (noise ${ms(noise(stats.revokeTelemetry, stats.revoke))})`,
  )

  console.log('\nHeavy modules loaded (traced with test/host/module-trace.mjs):')
  for (const entry of [cases.version, cases.hello, cases.help, cases.revoke]) {
    const loaded = await traceModules(entry.argv, {cwd: sandbox.path, env: host.env})
    const heavy = HEAVY.filter(([, pattern]) => loaded.some((module) => pattern.test(module))).map(
      ([name]) => name,
    )
    console.log(`  ${entry.name.padEnd(52)} ${heavy.length ? heavy.join(', ') : 'none of them'}`)
  }
}

async function timeInterleaved(cases: Case[], env: NodeJS.ProcessEnv): Promise<Map<string, number[]>> {
  const samples = new Map(cases.map((entry) => [entry.name, [] as number[]]))
  for (let round = 0; round < WARMUP + RUNS; round++) {
    for (const entry of cases) {
      const elapsed = await timeOnce(entry.argv, env)
      if (round >= WARMUP) samples.get(entry.name)!.push(elapsed)
    }
  }
  return samples
}

/** Wall time of one run, in milliseconds (asynchronous: the emulator answers from this process). */
function timeOnce(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(argv[0], argv.slice(1), {cwd: sandbox.path, env, stdio: 'ignore'})
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}`))
      else resolve(Number(process.hrtime.bigint() - started) / 1e6)
    })
  })
}

/** hyperfine runs one command's runs back to back: rounds of a few runs each spread drift over every command. */
async function timeWithHyperfine(cases: Case[], env: NodeJS.ProcessEnv): Promise<Map<string, number[]>> {
  const samples = new Map(cases.map((entry) => [entry.name, [] as number[]]))
  const output = join(sandbox.path, 'hyperfine.json')
  for (let done = 0; done < RUNS; done += HYPERFINE_ROUND) {
    const runs = Math.max(2, Math.min(HYPERFINE_ROUND, RUNS - done))
    const args = [
      '-N',
      '--warmup',
      String(done === 0 ? WARMUP : 1),
      '--runs',
      String(runs),
      '--export-json',
      output,
    ]
    for (const entry of cases) args.push('--command-name', entry.name, entry.argv.join(' '))
    await exec('hyperfine', args, {cwd: sandbox.path, env, timeoutMs: 600_000})
    const {results} = JSON.parse(readFileSync(output, 'utf8')) as {
      results: {command: string; times: number[]}[]
    }
    for (const result of results)
      samples.get(result.command)!.push(...result.times.map((seconds) => seconds * 1000))
  }
  return samples
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function mad(values: number[]): number {
  const centre = median(values)
  return median(values.map((value) => Math.abs(value - centre)))
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)} ms`
}
