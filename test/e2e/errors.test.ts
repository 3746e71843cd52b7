import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {dump as stringify} from 'js-yaml'

import {
  DEMO_KEYS,
  generateSeed,
  startEmulator,
  type Emulator,
  type Faults,
  type Seed,
} from '../emulator/index.js'
import {runCli, tempDir, type CliRun} from '../helpers/cli.js'
import {closedPort, startRecorder, type Recorder} from '../helpers/recorder.js'

interface Context {
  emulator: Emulator
  seed: Seed
  /** APPSERVICES_CONFIG_DIR of this run. */
  configDir: string
  /** A scratch directory for output targets. */
  work: string
  /** "Another host": where the hostile redirect points. */
  recorder: Recorder
  /** A loopback port nothing listens on. */
  deadPort: number
}

interface Case {
  name: string
  args: string[] | ((ctx: Context) => string[])
  /** 2: an invalid invocation, found before any request; 1: everything else. */
  exit: 1 | 2
  /** The stable `code` of the JSON error document. */
  code: string
  /** The `Error:` line (text) and the `message` (JSON). */
  error: RegExp
  /** The `Try:` line (text) and the `suggestion` (JSON). */
  hint?: RegExp
  env?: (ctx: Context) => Record<string, string | undefined>
  faults?: Faults
  /** Without it the run has a logged-in "default" profile. */
  noProfile?: boolean
  setup?: (ctx: Context) => void
  /** Admin API requests may be sent (usage errors found after listing). */
  requests?: boolean
  /** Logout requests may be sent (a failure midway, after some users were handled). */
  logouts?: boolean
  /** stdout holds the report of what was done before the failure. */
  report?: boolean
  check?: (ctx: Context, run: CliRun) => void
  /** The run must end within this (default 15 s). */
  boundMs?: number
}

const APP = 'demo-abcde'
const USER = '5fee6600a087eaf3000000ff'

function writeProfile(ctx: Context, name: string, fields: Record<string, string>): string {
  const path = join(ctx.configDir, `${name}.yaml`)
  writeFileSync(path, stringify({[name]: fields}), {mode: 0o600})
  return path
}

/** A fresh admin session of the demo key, saved in the profile as `login` would. */
function loggedIn(ctx: Context, name = 'default', keys: {privateKey?: string} = {}): void {
  const tokens = ctx.emulator.state.login(DEMO_KEYS.publicKey, DEMO_KEYS.privateKey)
  writeProfile(ctx, name, {
    public_api_key: DEMO_KEYS.publicKey,
    private_api_key: keys.privateKey ?? DEMO_KEYS.privateKey,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
  })
}

/** Nothing reached the Admin API: no session was created there. */
const noLogin = (ctx: Context) =>
  expect(
    ctx.emulator.state.requests.map((entry) => entry.path),
    'requests',
  ).to.deep.equal([])

const revoke = (...args: string[]) => ['users', 'revoke', ...args]

const CASES: Case[] = [
  // Invalid invocations: exit 2, before any request.
  {
    name: 'an unknown flag',
    args: revoke('-a', APP, '-u', USER, '--bogus'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Nonexistent flag: --bogus$/,
    hint: /users revoke --help/,
  },
  {
    name: 'a misspelled flag after -u (it must not become a user id)',
    args: revoke('-a', APP, '-u', '--usr', USER),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --user: "--usr" looks like a flag, not a value$/,
    hint: /users revoke --help/,
  },
  {
    name: 'a misspelled flag before -u',
    args: revoke('-a', APP, '--usr', '-u', USER),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Nonexistent flag: --usr$/,
    hint: /users revoke --help/,
  },
  {
    name: 'a bad --state',
    args: revoke('-a', APP, '--state', 'active', '--yes'),
    exit: 2,
    code: 'UsageError',
    error: /--state.*active.*enabled, disabled/,
    hint: /users revoke --help/,
  },
  {
    name: 'a bad --provider inside a comma list',
    args: revoke('-a', APP, '--provider', 'local-userpass,oauth2-github', '--yes'),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Invalid value for --provider: "oauth2-github"; allowed values: local-userpass, api-key, .*custom-function$/,
  },
  {
    name: 'an empty -u ""',
    args: revoke('-a', APP, '-u', ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --user: "" holds an empty entry$/,
  },
  {
    name: 'an empty list -u ,',
    args: revoke('-a', APP, '-u', ','),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --user: "," holds an empty entry$/,
  },
  {
    name: '--pending with --state',
    args: revoke('-a', APP, '--pending', '--state', 'enabled', '--yes'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: --pending cannot be combined with --state or --provider/,
  },
  {
    name: '--concurrency 0',
    args: revoke('-a', APP, '-u', USER, '--concurrency', '0'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --concurrency: .*greater than or equal to 1 .*: "0"$/,
    hint: /users revoke --help/,
  },
  {
    name: '--concurrency 99',
    args: revoke('-a', APP, '-u', USER, '--concurrency', '99'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --concurrency: .*less than or equal to 32 .*: "99"$/,
    hint: /users revoke --help/,
  },
  // The value shown as given, spaces and all.
  ...[' 4', '4 '].map((value) => ({
    name: `--concurrency "${value}"`,
    args: revoke('-a', APP, '-u', USER, '--concurrency', value),
    exit: 2 as const,
    code: 'UsageError',
    error: new RegExp(
      `^Error: Invalid value for --concurrency: Expected an integer but received: "${value}"$`,
    ),
    hint: /users revoke --help/,
  })),
  {
    name: '--profile ../x',
    args: revoke('-a', APP, '-u', USER, '--profile', '../x'),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Invalid profile name "\.\.\/x": use up to 64 letters, digits, "-" and "_", starting with a letter or digit$/,
    hint: /users revoke --help/,
    check: (ctx) => expect(existsSync(join(ctx.configDir, '..', 'x.yaml'))).to.equal(false),
  },
  {
    name: '--profile -x (a mistyped flag, not a name)',
    args: revoke('-a', APP, '-u', USER, '--profile=-x'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid profile name "-x": .*starting with a letter or digit$/,
    check: (ctx) => expect(existsSync(join(ctx.configDir, '-x.yaml'))).to.equal(false),
  },
  {
    name: 'a 5,000-character --profile',
    args: revoke('-a', APP, '-u', USER, '--profile', 'p'.repeat(5000)),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid profile name "p{64}\.\.\.": use up to 64 letters/,
  },
  {
    name: 'a profile whose telemetry_mode is neither on nor off',
    args: revoke('-a', APP, '-u', USER),
    setup: (ctx) => {
      const file = join(ctx.configDir, 'default.yaml')
      writeFileSync(file, `${readFileSync(file, 'utf8')}  telemetry_mode: maybe\n`)
    },
    exit: 1,
    code: 'ProfileInvalid',
    error: /^Error: Profile file .*default\.yaml is invalid: "telemetry_mode" is "maybe", not "on" or "off"$/,
  },
  {
    name: 'a bad --output-format',
    args: revoke('-a', APP, '-u', USER, '-f', 'xml'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --output-format: "xml"; allowed values: .*json$/,
  },
  {
    name: 'a bad --telemetry',
    args: ['whoami', '--telemetry', 'maybe'],
    exit: 2,
    code: 'UsageError',
    error: /--telemetry.*maybe.*on, off/,
  },
  {
    name: 'no --app without a terminal',
    args: revoke('-u', USER),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Missing required flag --app$/,
    hint: /users revoke --app/,
  },
  {
    name: 'login without a private key and without a terminal',
    args: ['login', '--api-key', DEMO_KEYS.publicKey],
    noProfile: true,
    exit: 2,
    code: 'UsageError',
    error: /^Error: Missing required flag --private-api-key$/,
    hint: /login --api-key PUBLIC --private-api-key PRIVATE/,
  },
  {
    name: 'http:// to a non-loopback host (APPSERVICES_BASE_URL)',
    args: revoke('-a', APP, '-u', USER),
    env: () => ({APPSERVICES_BASE_URL: 'http://admin.example.com'}),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Refusing plain http:\/\/ Admin API base URL from APPSERVICES_BASE_URL for admin\.example\.com: use https:\/\//,
  },
  {
    name: 'http:// to a non-loopback host (--realm-url)',
    args: [
      'login',
      '--api-key',
      DEMO_KEYS.publicKey,
      '--private-api-key',
      DEMO_KEYS.privateKey,
      '--realm-url',
      'http://10.1.2.3',
    ],
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Refusing plain http:\/\/ Admin API base URL from --realm-url for 10\.1\.2\.3: use https:\/\//,
  },
  {
    name: 'a base URL that is not http(s)',
    args: revoke('-a', APP, '-u', USER, '--realm-url', 'ftp://services.cloud.mongodb.com'),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Invalid Admin API base URL from --realm-url: only https:\/\/ URLs are allowed \(and http:\/\/ for loopback hosts\)$/,
  },
  {
    name: 'many matched users, no --user, no --yes and no terminal',
    args: revoke('-a', APP),
    exit: 2,
    code: 'UsageError',
    requests: true,
    error: /^Error: 120 users matched; refusing to revoke without confirmation .*pass --user .* or --yes/,
    hint: /^Try: appservices users revoke -a demo-abcde( --json)? --yes$/,
  },
  {
    name: 'the refusal of a filtered run: its hint keeps the filters (pasting it revokes only those users)',
    args: revoke(
      '-a',
      APP,
      '--state',
      'disabled',
      '--provider',
      'local-userpass,api-key',
      '--profile',
      'default',
    ),
    exit: 2,
    code: 'UsageError',
    requests: true,
    error: /^Error: \d+ users matched; refusing to revoke without confirmation/,
    hint: /^Try: appservices users revoke -a demo-abcde --state disabled --provider local-userpass,api-key --profile default( --json)? --yes$/,
  },

  // Profiles and credentials.
  {
    name: 'a corrupt profile YAML',
    args: revoke('-a', APP, '-u', USER),
    noProfile: true,
    setup: (ctx) =>
      writeFileSync(join(ctx.configDir, 'default.yaml'), 'default:\n  access_token: [unclosed\n'),
    exit: 1,
    code: 'ProfileInvalid',
    error: /^Error: Profile file .*default\.yaml is invalid: it is not valid YAML$/,
    hint: /fix or delete the file, then run: appservices login$/,
  },
  {
    name: 'a profile file that holds only another section (not logged in, and left as it is)',
    args: revoke('-a', APP, '-u', USER, '--profile', 'ci'),
    setup: (ctx) => writeFileSync(join(ctx.configDir, 'ci.yaml'), 'staging:\n  public_api_key: abc\n'),
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in with profile "ci"$/,
    hint: /^Try: appservices login --profile ci /,
    check: (ctx) =>
      expect(readFileSync(join(ctx.configDir, 'ci.yaml'), 'utf8')).to.equal(
        'staging:\n  public_api_key: abc\n',
      ),
  },
  // A profile that cannot be saved: found before the login, so no server session is left behind.
  {
    name: 'login with a config directory that is a link to a missing place',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
    noProfile: true,
    env: (ctx) => ({APPSERVICES_CONFIG_DIR: join(ctx.work, 'dangling')}),
    setup: (ctx) => symlinkSync(join(ctx.work, 'missing'), join(ctx.work, 'dangling')),
    exit: 1,
    code: 'ProfileUnwritable',
    error: /^Error: Cannot create the config directory .*dangling: it cannot be made there$/,
    hint: /^Try: make .*dangling a directory you can write, or set APPSERVICES_CONFIG_DIR to one$/,
    check: noLogin,
  },
  ...(existsSync('/proc/self')
    ? [
        {
          // node's own recursive mkdir spins there for ever, deaf to Ctrl-C.
          name: 'login with a config directory under /proc (it cannot be made, and it is no hang)',
          args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
          noProfile: true,
          env: () => ({APPSERVICES_CONFIG_DIR: '/proc/appservices-test/config'}),
          exit: 1 as const,
          code: 'ProfileUnwritable',
          error:
            /^Error: Cannot create the config directory \/proc\/appservices-test(\/config)?: it cannot be made there$/,
          check: noLogin,
          boundMs: 10_000,
        },
        {
          // There, and root passes access(): only a write shows that it takes no files.
          name: 'login with /proc as the config directory',
          args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
          noProfile: true,
          env: () => ({APPSERVICES_CONFIG_DIR: '/proc'}),
          exit: 1 as const,
          code: 'ProfileUnwritable',
          error:
            /^Error: Cannot write profile \/proc\/default\.yaml: (files cannot be made there|permission denied)$/,
          check: noLogin,
        },
      ]
    : []),
  {
    name: 'login with a config directory that is a file',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
    noProfile: true,
    env: (ctx) => ({APPSERVICES_CONFIG_DIR: join(ctx.work, 'file')}),
    setup: (ctx) => writeFileSync(join(ctx.work, 'file'), 'not a directory\n'),
    exit: 1,
    code: 'ProfileUnreadable',
    error: /^Error: Cannot read profile .*file\/default\.yaml: a part of its path is not a directory$/,
    hint: /a directory you can write/,
    check: noLogin,
  },
  {
    name: 'login with a profile path that is a directory',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', DEMO_KEYS.privateKey],
    noProfile: true,
    setup: (ctx) => mkdirSync(join(ctx.configDir, 'default.yaml')),
    exit: 1,
    code: 'ProfileUnreadable',
    error: /^Error: Cannot read profile .*default\.yaml: it is a directory$/,
    hint: /^Try: move .*default\.yaml out of the way: a profile is a file$/,
    check: noLogin,
  },
  {
    name: 'no credentials at all',
    args: revoke('-a', APP, '-u', USER),
    noProfile: true,
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in$/,
    hint: /^Try: appservices login \(or set MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY\)$/,
  },
  {
    name: 'no credentials for a named profile',
    args: revoke('-a', APP, '-u', USER, '--profile', 'ci'),
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in with profile "ci"$/,
    hint: /^Try: appservices login --profile ci /,
  },
  {
    name: 'wrong API keys (401 at login)',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-key', 'not-the-private-key'],
    noProfile: true,
    requests: true,
    exit: 1,
    code: 'InvalidCredentials',
    error: /^Error: Login failed: invalid username\/password \(HTTP 401\)$/,
    hint: /check the public and private API key/,
    check: (ctx) =>
      expect(existsSync(join(ctx.configDir, 'default.yaml')), 'no profile saved').to.equal(false),
  },
  {
    name: 'wrong API keys in the environment',
    args: revoke('-a', APP, '-u', USER),
    noProfile: true,
    env: () => ({
      MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey,
      MONGODB_ATLAS_PRIVATE_API_KEY: 'not-the-private-key',
    }),
    exit: 1,
    code: 'InvalidCredentials',
    error: /^Error: Login failed: invalid username\/password \(HTTP 401\)$/,
    hint: /^Try: check MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY$/,
  },
  {
    name: 'only the public key of the pair in the environment',
    args: revoke('-a', APP, '-u', USER),
    noProfile: true,
    env: () => ({MONGODB_ATLAS_PUBLIC_API_KEY: DEMO_KEYS.publicKey}),
    exit: 1,
    code: 'NotLoggedIn',
    error: /^Error: You are not logged in, and MONGODB_ATLAS_PRIVATE_API_KEY is not set$/,
    hint: /^Try: appservices login \(or set MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY\)$/,
  },
  {
    name: 'an expired refresh token in a named profile (hint names --profile)',
    args: revoke('-a', APP, '-u', USER, '--profile', 'ci'),
    setup: (ctx) => {
      const tokens = ctx.emulator.state.login(DEMO_KEYS.publicKey, DEMO_KEYS.privateKey)
      writeProfile(ctx, 'ci', {access_token: tokens.access_token, refresh_token: tokens.refresh_token})
      ctx.emulator.state.expireTokens({refresh: true})
    },
    exit: 1,
    code: 'InvalidSession',
    error: /^Error: Your session has expired and could not be renewed$/,
    hint: /^Try: appservices login --profile ci$/,
  },
  {
    name: 'an expired refresh token and a revoked key pair (default profile)',
    args: revoke('-a', APP, '-u', USER),
    noProfile: true,
    setup: (ctx) => {
      loggedIn(ctx, 'default', {privateKey: 'a-deleted-private-key'})
      ctx.emulator.state.expireTokens({refresh: true})
    },
    exit: 1,
    code: 'InvalidSession',
    error: /^Error: Your session has expired and could not be renewed$/,
    hint: /^Try: appservices login$/,
  },

  // Apps and projects.
  {
    name: 'an unknown app',
    args: revoke('-a', 'nosuchapp', '-u', USER),
    exit: 1,
    code: 'AppNotFound',
    error: /^Error: No app matches "nosuchapp" in 2 projects$/,
    hint: /check --app/,
  },
  {
    name: 'an ambiguous app without a terminal',
    args: revoke('-a', 'inventory', '-u', USER),
    exit: 1,
    code: 'AmbiguousApp',
    error:
      /^Error: "inventory" matches 2 apps: inventory \(inventory-fghij, project \w+\); inventory \(inventory-zzzzz, project \w+\)$/,
    hint: /pass --project or the full client app id/,
  },
  {
    name: 'an unknown --project (404)',
    args: revoke('-a', APP, '-u', USER, '--project', '0123456789abcdef01234567'),
    exit: 1,
    code: 'ProjectNotFound',
    error:
      /^Error: Project 0123456789abcdef01234567 was not found or is not visible to this API key \(HTTP 404\)$/,
    hint: /check --project/,
  },

  {
    name: 'an empty -o ""',
    args: revoke('-a', APP, '-u', USER, '-o', ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: --output-target needs a file path$/,
    hint: /users revoke --help/,
  },
  {
    name: 'an empty --realm-url ""',
    args: revoke('-a', APP, '-u', USER, '--realm-url', ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: --realm-url needs a URL, such as https:\/\/services\.cloud\.mongodb\.com$/,
  },
  {
    name: 'a base URL that includes the API path',
    args: (ctx) => revoke('-a', APP, '-u', USER, '--realm-url', `${ctx.emulator.url}/api/admin/v3.0/`),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Invalid Admin API base URL from --realm-url: give it without \/api\/admin\/v3\.0, which is added to every request$/,
    hint: /^Try: use http:\/\/127\.0\.0\.1:\d+$/,
  },
  {
    name: 'a request timeout that is not a number',
    args: revoke('-a', APP, '-u', USER),
    env: () => ({APPSERVICES_REQUEST_TIMEOUT_MS: 'abc'}),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: APPSERVICES_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 1 to 2147483647, not "abc"$/,
    hint: /unset it for the default of 30000/,
  },
  {
    name: 'a request timeout too long for a timer (Node would fire it at once)',
    args: revoke('-a', APP, '-u', USER),
    env: () => ({APPSERVICES_REQUEST_TIMEOUT_MS: '99999999999999'}),
    exit: 2,
    code: 'UsageError',
    error: /^Error: APPSERVICES_REQUEST_TIMEOUT_MS must be .* not "99999999999999"$/,
    check: (ctx, run) => expect(run.stderr).not.to.include('TimeoutOverflowWarning'),
  },
  {
    name: 'a misspelled --private-api-key=KEY (the value is never repeated)',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, '--private-api-ke=SeCrEt-after-a-typo'],
    noProfile: true,
    exit: 2,
    code: 'UsageError',
    error: /^Error: Nonexistent flag: --private-api-ke=\(value not shown\)$/,
    hint: /appservices login --help/,
    check: (ctx, run) => expect(run.stdout + run.stderr).not.to.include('SeCrEt-after-a-typo'),
  },
  {
    name: 'a key typed as an argument of login (never repeated)',
    args: ['login', '--api-key', DEMO_KEYS.publicKey, 'SeCrEt-typed-as-an-argument'],
    noProfile: true,
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: Unexpected argument \(not shown: it may be a key\); appservices login takes no arguments$/,
    hint: /appservices login --help/,
    check: (ctx, run) => expect(run.stdout + run.stderr).not.to.include('SeCrEt-typed-as-an-argument'),
  },

  // The output target: opened before anything is sent.
  {
    name: '-o into a missing directory',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'missing', 'report.json')),
    exit: 1,
    code: 'OutputTargetUnwritable',
    error: /^Error: Cannot write the output target .*missing\/report\.json: its directory does not exist$/,
    hint: /choose a writable file path for --output-target/,
    check: (ctx, run) => expect(run.stdout).to.not.include('"results"'),
  },
  {
    name: '-o into a directory',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', ctx.work),
    exit: 1,
    code: 'OutputTargetUnwritable',
    error: /^Error: Cannot write the output target .*: it is a directory$/,
    hint: /choose a writable file path/,
  },
  {
    name: '-o into a read-only file',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'readonly.txt')),
    setup: (ctx) => {
      writeFileSync(join(ctx.work, 'readonly.txt'), 'keep me\n')
      chmodSync(join(ctx.work, 'readonly.txt'), 0o444)
    },
    exit: 1,
    code: 'OutputTargetUnwritable',
    error: /^Error: Cannot write the output target .*readonly\.txt: the file is read-only$/,
    hint: /choose a writable file path/,
    check: (ctx) => expect(readFileSync(join(ctx.work, 'readonly.txt'), 'utf8')).to.equal('keep me\n'),
  },

  // Hostile server answers.
  {
    name: 'an HTML 502 page from a proxy',
    args: revoke('-a', APP, '-u', USER),
    faults: {rules: [{route: 'profile', htmlErrorStatus: 502}]},
    exit: 1,
    code: 'Http502',
    error: /^Error: Bad Gateway \(HTTP 502\)$/,
    boundMs: 20_000,
  },
  {
    name: 'a 403 with a JSON error text',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {
          route: 'profile',
          rawBody: {
            status: 403,
            contentType: 'application/json',
            body: JSON.stringify({
              error: 'API key is not allowed from this IP address',
              error_code: 'IPNotAllowed',
            }),
          },
        },
      ],
    },
    exit: 1,
    code: 'IPNotAllowed',
    error: /^Error: API key is not allowed from this IP address \(HTTP 403\)$/,
  },
  {
    name: 'a 200 that is not JSON',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {
          route: 'profile',
          rawBody: {status: 200, contentType: 'text/html', body: '<html>Sign in to the Wi-Fi</html>'},
        },
      ],
    },
    exit: 1,
    code: 'InvalidResponse',
    error: /^Error: The Admin API answered HTTP 200 with a body that is not valid JSON$/,
    hint: /APPSERVICES_BASE_URL/,
  },
  {
    name: 'truncated JSON',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {
          route: 'listApps',
          rawBody: {status: 200, contentType: 'application/json', body: '[{"_id": "5fee66'},
        },
      ],
    },
    exit: 1,
    code: 'InvalidResponse',
    error: /^Error: The Admin API answered HTTP 200 with a body that is not valid JSON$/,
  },
  {
    name: 'a JSON answer of the wrong shape',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {route: 'listApps', rawBody: {status: 200, contentType: 'application/json', body: '{"apps": []}'}},
      ],
    },
    exit: 1,
    code: 'InvalidResponse',
    error: /^Error: The Admin API answered the apps request with something that is not a list$/,
  },
  {
    name: 'users of the wrong shape (an _id that is not a string)',
    args: revoke('-a', APP, '--yes'),
    faults: {
      rules: [
        {route: 'listUsers', rawBody: {status: 200, contentType: 'application/json', body: '[{"_id": 5}]'}},
      ],
    },
    exit: 1,
    code: 'InvalidResponse',
    error: /^Error: The Admin API answered with a user of an unexpected shape$/,
    requests: true,
  },
  {
    name: 'an admin profile of the wrong shape',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {route: 'profile', rawBody: {status: 200, contentType: 'application/json', body: '{"roles": 5}'}},
      ],
    },
    exit: 1,
    code: 'InvalidResponse',
    error: /^Error: The Admin API answered with the admin profile of an unexpected shape$/,
  },
  {
    name: 'a server error text with control characters (shown, never sent to the terminal)',
    args: revoke('-a', APP, '-u', USER),
    faults: {
      rules: [
        {
          route: 'profile',
          rawBody: {
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({error: 'bad \u001b[2J thing\nsecond line', error_code: 'BadRequest'}),
          },
        },
      ],
    },
    exit: 1,
    code: 'BadRequest',
    // Text mode shows the characters escaped; the JSON document carries them as JSON escapes.
    // eslint-disable-next-line no-control-regex
    error: /^Error: bad (\\u001b|\u001b)\[2J thing(\\u000a|\n)second line \(HTTP 400\)$/,
    check: (ctx, run) => expect(run.stderr).not.to.include('\u001b'),
  },
  {
    name: '"." or ".." as a user id (a URL would resolve it to another resource)',
    args: revoke('-a', APP, '-u', `${USER},..`),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --user: "\.\." is not an id$/,
    hint: /appservices users revoke --help/,
  },
  {
    name: '".." as a project id',
    args: revoke('-a', APP, '--project', '..'),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --project: "\.\." is not a project id$/,
  },
  {
    name: 'an empty --project',
    args: revoke('-a', APP, '--project', ''),
    exit: 2,
    code: 'UsageError',
    error: /^Error: Invalid value for --project: it is empty$/,
  },
  {
    name: '-o into the config directory (it would replace a profile)',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.configDir, 'default.yaml')),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*default\.yaml writes into the config directory, where it could replace a profile$/,
    check: (ctx) =>
      expect(readFileSync(join(ctx.configDir, 'default.yaml'), 'utf8')).to.include('refresh_token'),
  },
  {
    name: '-o through a symbolic link to the profile',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'link.yaml')),
    setup: (ctx) => symlinkSync(join(ctx.configDir, 'default.yaml'), join(ctx.work, 'link.yaml')),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*link\.yaml writes into the config directory, where it could replace a profile$/,
    check: (ctx) =>
      expect(readFileSync(join(ctx.configDir, 'default.yaml'), 'utf8')).to.include('refresh_token'),
  },
  {
    name: '-o through a symbolic link to a profile not there yet (it would create one)',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'dangling')),
    setup: (ctx) => {
      symlinkSync(join(ctx.work, 'hop'), join(ctx.work, 'dangling'))
      symlinkSync(join(ctx.configDir, 'zzz.yaml'), join(ctx.work, 'hop'))
    },
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*dangling writes into the config directory, where it could replace a profile$/,
    check: (ctx) => expect(existsSync(join(ctx.configDir, 'zzz.yaml')), 'zzz.yaml').to.equal(false),
  },
  {
    // The kernel reads `../zzz.yaml` from the link's real directory (the config dir's `sub`), not from `alias`.
    name: '-o through a directory link, to a relative link to a profile not there yet',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'alias', 'out')),
    setup: (ctx) => {
      mkdirSync(join(ctx.configDir, 'sub'))
      symlinkSync('../zzz.yaml', join(ctx.configDir, 'sub', 'out'))
      symlinkSync(join(ctx.configDir, 'sub'), join(ctx.work, 'alias'))
    },
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*out writes into the config directory, where it could replace a profile$/,
    check: (ctx) => expect(existsSync(join(ctx.configDir, 'zzz.yaml')), 'zzz.yaml').to.equal(false),
  },
  {
    // `alias/..` is the parent of the link's target (the config dir), not the directory holding `alias`.
    name: "-o to a new file beside a directory link's target (alias/../new.yaml)",
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', `${join(ctx.work, 'alias')}/../new.yaml`),
    setup: (ctx) => {
      mkdirSync(join(ctx.configDir, 'sub'))
      symlinkSync(join(ctx.configDir, 'sub'), join(ctx.work, 'alias'))
    },
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*new\.yaml writes into the config directory, where it could replace a profile$/,
    check: (ctx) => expect(existsSync(join(ctx.configDir, 'new.yaml')), 'new.yaml').to.equal(false),
  },
  {
    name: '-o to symbolic links that go round in a loop',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'l1')),
    setup: (ctx) => {
      symlinkSync(join(ctx.work, 'l2'), join(ctx.work, 'l1'))
      symlinkSync(join(ctx.work, 'l1'), join(ctx.work, 'l2'))
    },
    exit: 1,
    code: 'OutputTargetUnwritable',
    error: /^Error: Cannot write the output target .*l1: its symbolic links go round in a loop$/,
  },
  {
    name: '-o as a hard link to the profile',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'hard.yaml')),
    setup: (ctx) => linkSync(join(ctx.configDir, 'default.yaml'), join(ctx.work, 'hard.yaml')),
    exit: 2,
    code: 'UsageError',
    error:
      /^Error: --output-target .*hard\.yaml writes into the config directory, where it could replace a profile$/,
    check: (ctx) =>
      expect(readFileSync(join(ctx.configDir, 'default.yaml'), 'utf8')).to.include('refresh_token'),
  },
  {
    name: '-o into a named pipe that nothing reads (never a hang)',
    args: (ctx) => revoke('-a', APP, '-u', USER, '-o', join(ctx.work, 'fifo')),
    setup: (ctx) => execFileSync('mkfifo', [join(ctx.work, 'fifo')]),
    exit: 1,
    code: 'OutputTargetUnwritable',
    error: /^Error: Cannot write the output target .*fifo: it is a named pipe that nothing reads from$/,
    boundMs: 10_000,
  },
  {
    name: 'a profile logged in to another Admin API (its secrets are not sent here)',
    args: revoke('-a', APP, '-u', USER),
    setup: (ctx) => {
      const file = join(ctx.configDir, 'default.yaml')
      writeFileSync(
        file,
        `${readFileSync(file, 'utf8')}  realm_base_url: https://services.cloud.mongodb.com\n`,
      )
    },
    exit: 1,
    code: 'NotLoggedIn',
    error:
      /^Error: You are not logged in to http:\/\/127\.0\.0\.1:\d+ \(the profile's session is for https:\/\/services\.cloud\.mongodb\.com\)$/,
    hint: /appservices login/,
    check: (ctx) => expect(ctx.emulator.state.requests, 'no token or key sent here').to.deep.equal([]),
  },
  {
    name: 'a server that never answers (timeout)',
    args: revoke('-a', APP, '-u', USER),
    env: () => ({APPSERVICES_REQUEST_TIMEOUT_MS: '300'}),
    faults: {rules: [{route: 'profile', hang: true}]},
    exit: 1,
    code: 'Timeout',
    error: /^Error: The Admin API at http:\/\/127\.0\.0\.1:\d+ did not answer in time$/,
    hint: /APPSERVICES_REQUEST_TIMEOUT_MS/,
    boundMs: 10_000,
  },
  {
    name: 'connection refused',
    args: revoke('-a', APP, '-u', USER),
    env: (ctx) => ({APPSERVICES_BASE_URL: `http://127.0.0.1:${ctx.deadPort}`}),
    exit: 1,
    code: 'NetworkError',
    error: /^Error: Cannot reach the Admin API at http:\/\/127\.0\.0\.1:\d+: connection refused$/,
    hint: /check your network/,
    boundMs: 20_000,
  },
  {
    name: 'https:// to a server that speaks plain http',
    args: revoke('-a', APP, '-u', USER),
    env: (ctx) => ({APPSERVICES_BASE_URL: ctx.emulator.url.replace('http:', 'https:')}),
    exit: 1,
    code: 'NetworkError',
    error:
      /^Error: Cannot reach the Admin API at https:\/\/127\.0\.0\.1:\d+: the TLS handshake failed \(\w+\); is it an http:\/\/ server\?$/,
    hint: /check your network/,
  },
  {
    name: 'a redirect to another host (never followed with the token)',
    args: revoke('-a', APP, '-u', USER),
    setup: (ctx) =>
      ctx.emulator.setFaults({
        rules: [{route: 'profile', redirectTo: `${ctx.recorder.url}/api/admin/v3.0/auth/profile`}],
      }),
    exit: 1,
    code: 'UnexpectedRedirect',
    error: /^Error: The Admin API answered with a redirect \(HTTP 302\); it was not followed$/,
    hint: /check --realm-url or APPSERVICES_BASE_URL/,
    check: (ctx) => expect(ctx.recorder.requests, 'requests to the other host').to.have.length(0),
  },
  {
    name: 'a server that repeats a page forever',
    args: revoke('-a', APP, '--yes'),
    faults: {ignoreAfter: true},
    exit: 1,
    code: 'PagingLoop',
    error:
      /^Error: The Admin API repeated or reordered items while paging \(id \w+ after \w+, 50 items in\); stopped listing$/,
    logouts: true,
    report: true,
    check: (ctx) => {
      const logouts = ctx.emulator.state.requests.filter((entry) => entry.path.endsWith('/logout'))
      expect(logouts, 'each user of the first page logged out once').to.have.length(50)
      expect(new Set(logouts.map((entry) => entry.path)).size).to.equal(50)
    },
  },
]

function errorLines(text: string): string[] {
  return text.split('\n').filter((line) => line.includes('Error:'))
}

function expectNoStackTrace(run: CliRun): void {
  const output = run.stdout + run.stderr
  expect(output, 'no stack trace').to.not.match(/^\s+at .+[:(]/m)
  expect(output, 'no stack trace').to.not.match(/node:internal|TypeError|ReferenceError/)
}

describe('errors: a catalogue of bad inputs and hostile server answers', function () {
  let emulator: Emulator
  let seed: Seed
  let recorder: Recorder
  let deadPort: number

  before(async () => {
    seed = generateSeed({users: 120})
    // A second "inventory" in the other project makes `-a inventory` ambiguous.
    seed.projects[1].apps.push({
      ...structuredClone(seed.projects[0].apps[1]),
      _id: '6a0000000000000000000001',
      client_app_id: 'inventory-zzzzz',
    })
    emulator = await startEmulator({seed})
    recorder = await startRecorder()
    deadPort = await closedPort()
  })

  after(async () => {
    await emulator?.close()
    await recorder?.close()
  })

  it('has at least 30 cases', () => {
    expect(CASES.length).to.be.at.least(30)
  })

  for (const testCase of CASES) {
    for (const mode of ['text', 'json'] as const) {
      it(`${testCase.name} (${mode})`, async function () {
        const bound = testCase.boundMs ?? 15_000
        this.timeout(bound + 10_000)
        const config = tempDir()
        const work = tempDir()
        try {
          const ctx: Context = {emulator, seed, configDir: config.path, work: work.path, recorder, deadPort}
          emulator.setFaults(testCase.faults ?? {})
          if (!testCase.noProfile) loggedIn(ctx)
          testCase.setup?.(ctx)
          emulator.state.clearLog()
          recorder.requests.length = 0

          const args = typeof testCase.args === 'function' ? testCase.args(ctx) : testCase.args
          const started = Date.now()
          const run = await runCli(mode === 'json' ? [...args, '--json'] : args, {
            configDir: ctx.configDir,
            emulator,
            env: testCase.env?.(ctx),
            timeoutMs: bound,
          })
          const elapsed = Date.now() - started
          const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`

          expect(run.signal, `killed after ${bound} ms: it hung\n${output}`).to.equal(null)
          expect(elapsed, 'bounded').to.be.below(bound)
          expect(run.code, `exit code\n${output}`).to.equal(testCase.exit)
          expectNoStackTrace(run)

          if (mode === 'text') {
            const lines = errorLines(run.stderr)
            expect(lines, `one Error: line\n${output}`).to.have.length(1)
            expect(lines[0]).to.match(testCase.error)
            const tries = run.stderr.split('\n').filter((line) => line.startsWith('Try: '))
            if (testCase.hint) {
              expect(tries, `one Try: line\n${output}`).to.have.length(1)
              expect(tries[0]).to.match(testCase.hint)
            }
            if (testCase.report)
              expect(run.stdout, 'the report of what was done').to.match(/Revoked sessions for/)
            else expect(run.stdout, 'nothing on stdout').to.equal('')
          } else {
            const document = JSON.parse(run.stdout) as {
              error: {code: string; message: string; suggestion?: string}
            }
            expect(document.error.code, output).to.equal(testCase.code)
            expect(`Error: ${document.error.message}`).to.match(testCase.error)
            if (testCase.hint) expect(`Try: ${document.error.suggestion}`).to.match(testCase.hint)
            expect(errorLines(run.stderr), 'the error is in the document, not on stderr').to.have.length(0)
          }

          const requests = emulator.state.requests
          if (testCase.exit === 2 && !testCase.requests) {
            expect(
              requests.map((entry) => entry.path),
              'no request before a usage error',
            ).to.deep.equal([])
          }
          if (!testCase.logouts) {
            const logouts = requests.filter(
              (entry) => entry.method === 'PUT' && entry.path.endsWith('/logout'),
            )
            expect(logouts, 'no logout request').to.have.length(0)
          }
          testCase.check?.(ctx, run)
        } finally {
          emulator.setFaults({})
          config.remove()
          work.remove()
        }
      })
    }
  }

  it('a --user lookup answered with another user fails that user and logs no one out', async () => {
    const config = tempDir()
    try {
      const ctx: Context = {emulator, seed, configDir: config.path, work: config.path, recorder, deadPort}
      loggedIn(ctx)
      const [asked, other] = [seed.projects[0].apps[0].users[3], seed.projects[0].apps[0].users[4]]
      emulator.setFaults({
        rules: [
          {
            route: 'getUser',
            userIds: [asked._id],
            rawBody: {status: 200, contentType: 'application/json', body: JSON.stringify(other)},
          },
        ],
      })
      emulator.state.clearLog()

      const run = await runCli(revoke('-a', APP, '-u', asked._id, '--json'), {
        configDir: config.path,
        emulator,
      })

      expect(run.code, run.stderr).to.equal(1)
      const report = JSON.parse(run.stdout) as {results: {id: string; revoked: boolean; error: string}[]}
      expect(report.results).to.have.length(1)
      expect(report.results[0]).to.deep.include({id: asked._id, revoked: false})
      expect(report.results[0].error).to.equal(`the Admin API answered with another user (${other._id})`)
      expect(emulator.state.requests.filter((entry) => entry.path.endsWith('/logout'))).to.have.length(0)
    } finally {
      emulator.setFaults({})
      config.remove()
    }
  })

  it('shows control characters of server data escaped in the text report, never raw', async () => {
    const config = tempDir()
    try {
      const ctx: Context = {emulator, seed, configDir: config.path, work: config.path, recorder, deadPort}
      loggedIn(ctx)
      const hostile = {
        _id: '5fee6600a087eaf3000000fe',
        identities: [{id: 'x', provider_type: 'local-userpass'}],
        type: 'normal',
        data: {email: 'x\u001b[31mred@example.com\nforged line'},
      }
      emulator.setFaults({
        rules: [
          {
            route: 'listUsers',
            rawBody: {status: 200, contentType: 'application/json', body: JSON.stringify([hostile])},
          },
        ],
      })

      const run = await runCli(revoke('-a', APP, '--yes'), {configDir: config.path, emulator})

      expect(run.stdout + run.stderr).not.to.include('\u001b')
      expect(run.stdout).to.include('x\\u001b[31mred@example.com\\u000aforged line')
      expect(run.stdout).not.to.match(/^forged line/m)
    } finally {
      emulator.setFaults({})
      config.remove()
    }
  })

  it('with --json -o, a failure leaves exactly one error document in the file and nothing on stdout', async () => {
    const config = tempDir()
    const work = tempDir()
    try {
      const ctx: Context = {emulator, seed, configDir: config.path, work: work.path, recorder, deadPort}
      loggedIn(ctx)
      writeFileSync(
        join(work.path, 'report.json'),
        'an older, longer report that must be replaced entirely\n',
      )
      const run = await runCli(
        revoke('-a', 'nosuchapp', '-u', USER, '--json', '-o', join(work.path, 'report.json')),
        {
          configDir: config.path,
          emulator,
        },
      )
      expect(run.code).to.equal(1)
      expect(run.stdout).to.equal('')
      expect(errorLines(run.stderr)).to.have.length(0)
      const document = JSON.parse(readFileSync(join(work.path, 'report.json'), 'utf8'))
      expect(document.error.code).to.equal('AppNotFound')
      expect(document.error.message).to.equal('No app matches "nosuchapp" in 2 projects')
    } finally {
      config.remove()
      work.remove()
    }
  })

  for (const mode of ['text', 'json'] as const) {
    it(`an output that fails after the users were revoked says so on stderr, with what was done (${mode})`, async () => {
      const config = tempDir()
      try {
        const ctx: Context = {emulator, seed, configDir: config.path, work: config.path, recorder, deadPort}
        loggedIn(ctx)
        emulator.state.clearLog()
        const user = seed.projects[0].apps[0].users[3]._id
        const args = revoke('-a', APP, '-u', user, '-o', '/dev/full')
        const run = await runCli(mode === 'json' ? [...args, '--json'] : args, {
          configDir: config.path,
          emulator,
        })

        expect(run.code).to.equal(1)
        expect(run.stdout).to.equal('')
        expect(errorLines(run.stderr)).to.deep.equal([
          'Error: Cannot write the output to /dev/full: no space left on the device; by then 1 revoked, 0 failed, 0 skipped, and nothing more was started',
        ])
        expectNoStackTrace(run)
        const logouts = emulator.state.requests.filter((entry) => entry.path.endsWith('/logout'))
        expect(logouts.map((entry) => entry.path)).to.deep.equal([
          `/api/admin/v3.0/groups/${seed.projects[0].id}/apps/${seed.projects[0].apps[0]._id}/users/${user}/logout`,
        ])
      } finally {
        config.remove()
      }
    })
  }

  const strayWords: [string, string[], string[]][] = [
    [
      'an unknown command',
      ['users', 'revok'],
      ['Error: command "users revok" not found', 'Try: appservices users --help'],
    ],
    ['an unknown topic', ['nope'], ['Error: command "nope" not found', 'Try: appservices --help']],
    [
      'an unknown command holding a newline and an escape sequence (no forged line, no raw escape)',
      ['foo\nError: x\u001b[31m'],
      ['Error: command "foo\\u000aError  x\\u001b[31m" not found', 'Try: appservices --help'],
    ],
    [
      'a stray word right after the command',
      ['users', 'revoke', 'extra-arg', '-a', APP],
      ['Error: Unexpected argument: extra-arg', 'Try: appservices users revoke --help'],
    ],
    [
      'a key typed right after login (never repeated)',
      ['login', 'SeCrEt-right-after-login'],
      [
        'Error: Unexpected argument (not shown: it may be a key); appservices login takes no arguments',
        'Try: appservices login --help',
      ],
    ],
  ]
  for (const [what, args, lines] of strayWords) {
    it(`${what}: one Error: line in the plugin's words, exit 2, nothing sent`, async () => {
      const config = tempDir()
      try {
        emulator.state.clearLog()
        const run = await runCli(args, {configDir: config.path, emulator})

        expect(run.code).to.equal(2)
        expect(run.stdout).to.equal('')
        expect(run.stderr).to.equal(`${lines.join('\n')}\n`)
        expect(emulator.state.requests).to.have.length(0)
      } finally {
        config.remove()
      }
    })
  }

  it('with DEBUG set, a failure shows its stack trace (and still one Error: line)', async () => {
    const config = tempDir()
    try {
      const run = await runCli(revoke('-a', APP, '-u', USER), {
        configDir: config.path,
        emulator,
        env: {DEBUG: 'appservices-none'},
      })
      expect(run.code).to.equal(1)
      expect(run.stderr).to.match(/^Error: You are not logged in$/m)
      expect(run.stderr).to.match(/^\s+at /m)
    } finally {
      config.remove()
    }
  })
})
