import {Command, Errors, Flags, type Interfaces, toConfiguredId} from '@oclif/core'

import type {AdminApiClient} from './admin-api/client.js'
import {type HttpOptions, requestTimeoutMs} from './admin-api/http.js'
import {argumentsMayBeSecret, redactDebugArgs} from './debug-log.js'
import {CliError, describeFileError, EXIT, InterruptedError, usageError} from './errors.js'
import {resolveBaseUrl} from './admin-api/base-url.js'
import {writeJsonDocument} from './output/json-document.js'
import {writesInto, openOutputTarget, type OutputSink, stdoutSink} from './output/output-target.js'
import {createProgress, type Progress} from './output/progress.js'
import {isInteractive} from './output/prompts.js'
import {ansi, plain, printable, type Style, useColour} from './output/style.js'
import {DEFAULT_PROFILE, type Profile, ProfileStore, validateProfileName} from './profile/profile-store.js'
import {doNotTrack, Telemetry, type TelemetryCounts} from './telemetry/telemetry.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>

const GLOBAL = 'GLOBAL'

/**
 * How a command ended, known once its result is rendered (a streamed result is complete only then). By
 * default a command's run() returns it, with the data beside it.
 */
export interface CommandOutcome {
  /** Non-zero to exit with it after the result is rendered (1: some failed; 130: interrupted). */
  exitCode?: number
  /** Counts reported in telemetry. */
  counts?: TelemetryCounts
  /** Why the run stopped early although it has a result to show: the `Error:` line after a text result. */
  error?: CliError
}

/**
 * The one base class of the plugin. It declares the inherited options of
 * PRODUCT.md §3 and applies them in oclif's lifecycle: flags are parsed and
 * the output target opened in init(); run() returns a result that this class
 * renders as text or JSON; catch() maps every error to one line (or one JSON
 * document) and an exit code; finally() sends telemetry and releases sockets.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    profile: Flags.string({
      summary: 'Name of the profile to use (letters, digits, "-" and "_").',
      default: DEFAULT_PROFILE,
      helpGroup: GLOBAL,
    }),
    telemetry: Flags.option({
      summary: 'Turn usage tracking on or off for this profile (the choice is saved).',
      options: ['on', 'off'] as const,
      helpGroup: GLOBAL,
    })(),
    'output-target': Flags.string({
      char: 'o',
      summary: 'Write the output to this file (created 0600 or replaced) instead of stdout.',
      helpGroup: GLOBAL,
    }),
    // Not an oclif `options` flag: its help would show the empty default as `|text|json`. Checked in init().
    'output-format': Flags.string({
      char: 'f',
      summary: 'Output format: "" (text) or json.',
      helpValue: '""|json',
      default: '',
      helpGroup: GLOBAL,
    }),
    json: Flags.boolean({summary: 'Same as --output-format json.', helpGroup: GLOBAL}),
    'disable-colors': Flags.boolean({summary: 'Disable colours and styling.', helpGroup: GLOBAL}),
    yes: Flags.boolean({
      char: 'y',
      summary: 'Answer yes to every confirmation; never wait for input.',
      helpGroup: GLOBAL,
    }),
    help: Flags.help({char: 'h', description: 'Show help for this command.', helpGroup: GLOBAL}),
    'realm-url': Flags.string({
      summary: 'Base URL of the App Services Admin API.',
      hidden: true,
      helpGroup: GLOBAL,
    }),
  }

  protected flags!: CommandFlags<T>
  /** Words that are neither flags nor arguments; only a command that is not strict gets any. */
  protected strayArguments: string[] = []
  protected style: Style = plain
  /** The style of what goes to stderr (the `Error:` line). */
  private errorStyle: Style = plain
  protected profiles!: ProfileStore
  /** The Admin API base URL (PRODUCT.md §3): --realm-url, APPSERVICES_BASE_URL, the profile, the default. */
  protected baseUrl!: string
  /** APPSERVICES_REQUEST_TIMEOUT_MS, checked with the flags. */
  private requestTimeoutMs!: number
  /** Aborted on the first Ctrl-C / SIGTERM; long commands stop starting work when it fires. */
  protected readonly interruption = new AbortController()
  /** Aborted a second after the interruption, or at a second signal: the requests still in flight end. */
  private readonly requestsAborted = new AbortController()
  private signals = 0

  private sink: OutputSink = stdoutSink
  /** Part of the result is written: an error can no longer become the output's one JSON document. */
  private outputStarted = false
  private telemetry?: Telemetry
  private profileCache?: Profile
  private apiClient?: Promise<AdminApiClient>
  private readonly onSignal = () => this.signalled()

  get jsonMode(): boolean {
    return this.flags?.json === true || this.flags?.['output-format'] === 'json' || jsonRequested(this.argv)
  }

  /** True when a person can answer prompts and has not said --yes. */
  get canPrompt(): boolean {
    return !this.flags.yes && isInteractive()
  }

  /** Renders the result as text. */
  protected abstract renderText(result: Awaited<ReturnType<this['run']>>): string | Promise<string>

  /**
   * The JSON document of the result; by default the result itself, minus bookkeeping. It may hold async
   * iterables and deferred values, written as they come (see writeJsonDocument).
   */
  protected renderJson(result: Awaited<ReturnType<this['run']>>): unknown {
    const {
      exitCode: _exitCode,
      counts: _counts,
      error: _error,
      ...document
    } = result as CommandOutcome & Record<string, unknown>
    return document
  }

  /** How the command ended; asked after rendering, and for the counts when rendering fails. */
  protected outcome(result: Awaited<ReturnType<this['run']>>): CommandOutcome {
    return result as CommandOutcome
  }

  protected async profile(): Promise<Profile> {
    this.profileCache ??= await this.profiles.load()
    return this.profileCache
  }

  /** The Admin API client for this profile, created on first use (with the options of that use). */
  protected client(
    options: {concurrency?: number; baseUrl?: string} & Pick<HttpOptions, 'retries' | 'timeoutMs'> = {},
  ): Promise<AdminApiClient> {
    this.apiClient ??= (async () => {
      const {connect} = await import('./admin-api/connect.js')
      return connect({
        store: this.profiles,
        profile: await this.profile(),
        baseUrl: options.baseUrl ?? this.baseUrl,
        env: process.env,
        binName: this.config.bin,
        warn: (message) => this.notice(printable(message)),
        http: {
          maxSockets: (options.concurrency ?? 8) + 2,
          retries: options.retries,
          timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
          signal: this.requestsAborted.signal,
        },
      })
    })()
    return this.apiClient
  }

  /** A notice for the person at the terminal: stderr, never the result. */
  protected notice(message: string): void {
    process.stderr.write(`${message}\n`)
  }

  protected async init(): Promise<void> {
    // oclif's init() logs argv at debug level; a --private-api-key value must not reach that log.
    const debug = this.debug
    this.debug = (...args: unknown[]) => debug(...redactDebugArgs(args, this.id))
    await super.init()
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
    const {flags, argv} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.strayArguments = argv as string[]
    validateOutputFormat(this.flags['output-format'], this.helpHint())
    this.profiles = new ProfileStore(this.config.configDir, validateProfileName(this.flags.profile), {
      binName: this.config.bin,
      configDirVariable: this.config.scopedEnvVarKey('CONFIG_DIR'),
    })
    const given = this.flags['output-target']
    if (given !== undefined && !given.trim())
      throw usageError('--output-target needs a file path', this.helpHint())
    const target = outputFile(given)
    // Every usage error comes before the output target is emptied, telemetry is sent or a profile is saved.
    this.checkFlags()
    this.requestTimeoutMs = requestTimeoutMs(process.env)
    this.baseUrl = resolveBaseUrl({
      flag: this.flags['realm-url'],
      env: process.env.APPSERVICES_BASE_URL,
      profile: (await this.profile()).realm_base_url,
    })
    if (target && (await writesInto(target, this.config.configDir))) {
      throw usageError(
        `--output-target ${target} writes into the config directory, where it could replace a profile`,
        'write the output somewhere else',
      )
    }
    if (target) this.sink = await openOutputTarget(target)
    // The prompts (node:util styleText) read the environment, where FORCE_COLOR beats NO_COLOR: make
    // --disable-colors and NO_COLOR reach them, winning over FORCE_COLOR as they do here.
    // An empty NO_COLOR is no request (no-color.org), though node, and so the prompts, would read it as one.
    if (process.env.NO_COLOR === '') delete process.env.NO_COLOR
    if (this.flags['disable-colors'] || process.env.NO_COLOR) {
      process.env.NO_COLOR = '1'
      delete process.env.FORCE_COLOR
    }
    await this.startTelemetry()
    // stdout and stderr are judged apart: either may be a terminal while the other is a file or a pipe.
    const colour = (stream: NodeJS.WriteStream) =>
      useColour({
        disableColors: this.flags['disable-colors'],
        json: this.jsonMode,
        toFile: this.sink.toFile,
        terminalHasColours: Boolean(stream.isTTY) && stream.hasColors(process.env),
        env: process.env,
      })
        ? ansi
        : plain
    this.style = colour(process.stdout)
    this.errorStyle = colour(process.stderr)
  }

  /** A command's own checks of its flags, beyond what oclif parses: they throw usage errors. */
  protected checkFlags(): void {}

  /** A progress counter on stderr, when it is a terminal and the result is not JSON. */
  protected progress(label: string): Progress {
    return createProgress(label, Boolean(process.stderr.isTTY) && !this.jsonMode)
  }

  /** oclif's _run, with rendering of the result between run() and finally(). */
  protected async _run<R>(): Promise<R> {
    let result: R | undefined
    let exitCode: number | undefined
    let failure: unknown
    try {
      await this.init()
      result = (await this.run()) as R
      await this.render(result)
      const outcome = this.outcome(result as never)
      exitCode = outcome.exitCode
      if (outcome.error && !this.jsonMode) this.printError(outcome.error)
      if (outcome.exitCode)
        this.telemetry?.error(
          outcome.exitCode === EXIT.interrupted ? 'Interrupted' : 'PartialFailure',
          outcome.counts,
        )
      else this.telemetry?.complete(outcome.counts)
    } catch (error) {
      failure = error
      await this.catch(error as Error)
    } finally {
      await this.finally(failure as Error | undefined)
    }
    if (exitCode) this.exit(exitCode)
    return result as R
  }

  /**
   * Writes the result to stdout or the output target. A write that fails (a
   * full disk, a closed pipe) may come after users were revoked (and a
   * streamed report then starts no further work), so the error says what
   * was done.
   */
  private async render(result: unknown): Promise<void> {
    let writeFailure: unknown
    const write = (text: string) => {
      this.outputStarted = true
      return this.sink.write(text).catch((error: unknown) => {
        writeFailure = error
        throw error
      })
    }
    try {
      if (this.jsonMode) await writeJsonDocument(write, this.renderJson(result as never))
      else await write(await this.renderText(result as never))
    } catch (error) {
      if (writeFailure === undefined) throw error
      const counts = this.outcome(result as never).counts
      const done = counts
        ? `; by then ${counts.revoked} revoked, ${counts.failed} failed, ${counts.skipped} skipped, and nothing more was started`
        : ''
      throw new CliError(`Cannot write the output to ${this.sink.name}: ${describeFileError(error)}${done}`, {
        code: 'OutputWriteFailed',
        cause: error,
      })
    }
  }

  /**
   * Installed or linked into a host, the plugin runs its own copy of @oclif/core: the host's error handler
   * does not know this copy's ExitError for one and would print it ("Error: EEXIT: 1"), so it is told to skip it.
   */
  public exit(code = 0): never {
    throw Object.assign(new Errors.ExitError(code), {skipOclifErrorHandling: true})
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    const failure = this.toCliError(error)
    this.telemetry?.error(failure.code)
    // In JSON mode the error is a document in the output; when the output has begun (a streamed report, or a
    // write that failed) or cannot take the document, it is a line on stderr, so no failure passes in silence.
    if (this.jsonMode && !this.outputStarted) this.sink = await this.errorSink()
    const written =
      this.jsonMode &&
      !this.outputStarted &&
      (await this.sink.write(`${JSON.stringify(errorDocument(failure), null, 2)}\n`).then(
        () => true,
        () => false,
      ))
    if (!written && (failure.exit !== EXIT.interrupted || failure.message !== 'Cancelled'))
      this.printError(failure)
    if (process.env.DEBUG && error.stack) {
      // The stack's first lines repeat the message, which may quote a stray key: only the frames for such commands.
      const stack = argumentsMayBeSecret(this.id)
        ? error.stack
            .split('\n')
            .filter((line) => line.trimStart().startsWith('at '))
            .join('\n')
        : error.stack
      process.stderr.write(`${stack}\n`)
    }
    this.exit(failure.exit)
  }

  /**
   * Where a JSON error goes: where the result would have gone, even when the flags were refused before the
   * output target was opened (a script must not read an old report from it); stdout when it cannot be opened.
   */
  private async errorSink(): Promise<OutputSink> {
    if (this.sink.toFile) return this.sink
    const target = outputFile(this.flags?.['output-target'] ?? rawFlagValue(this.argv, 'output-target', 'o'))
    if (!target?.trim() || (await writesInto(target, this.config.configDir))) return this.sink
    return openOutputTarget(target).catch(() => this.sink)
  }

  /** The one `Error:` line (and its `Try:` hint) on stderr. */
  private printError(error: CliError): void {
    // The message may quote the server, or a flag's value: one line, with no control character.
    const lines = [`${this.errorStyle.red('Error:')} ${printable(error.message)}`]
    if (error.suggestion) lines.push(`Try: ${printable(error.suggestion)}`)
    process.stderr.write(`${lines.join('\n')}\n`)
  }

  protected async finally(error: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal)
    process.removeListener('SIGTERM', this.onSignal)
    this.telemetry?.flush()
    if (this.apiClient) await this.apiClient.then((client) => client.close()).catch(() => {})
    await this.sink.close().catch(() => {})
    await super.finally(error)
  }

  /** oclif's "but received: 4" has lost the value's spaces and newlines: the value from the command line, quoted. */
  private withValueAsGiven(message: string): string {
    const received = /^(Invalid value for --([\w-]+): .* but received:)/.exec(message)
    if (!received) return message
    const name = received[2]
    const char = ({...this.ctor.baseFlags, ...this.ctor.flags} as Record<string, {char?: string}>)[name]?.char
    const value = rawFlagValue(this.argv, name, char)
    return value === undefined ? message : `${received[1]} ${JSON.stringify(value)}`
  }

  private toCliError(error: Error): CliError {
    if (error instanceof InterruptedError) return error
    // After Ctrl-C or SIGTERM, what fails next (most often the aborted request) is the interruption's doing: 130, not 1.
    if (this.interruption.signal.aborted) return new InterruptedError()
    // Every usage error points at the help, unless it knows a better fix.
    if (error instanceof CliError && error.code === 'UsageError' && !error.suggestion)
      return usageError(error.message, this.helpHint())
    if (error instanceof CliError) return error
    const parseError = error as Error & {parse?: unknown; oclif?: {exit?: number}}
    // A flag's own parse() failing arrives as a plain Error that oclif renamed "Parsing --flag ...".
    if (parseError.parse || parseError.oclif?.exit === 2 || error.message.startsWith('Parsing --')) {
      return usageError(this.withValueAsGiven(oneLine(error.message)), this.helpHint())
    }
    return new CliError(error.message.split('\n')[0] || 'Unexpected error', {
      code: 'UnexpectedError',
      cause: error,
      suggestion: process.env.DEBUG ? undefined : 'run again with DEBUG=* for details',
    })
  }

  /** This command as typed in the host that runs it: the host's bin and the host's topic separator. */
  protected commandLine(): string {
    return `${this.config.bin} ${this.id ? toConfiguredId(this.id, this.config) : ''}`.trim()
  }

  protected helpHint(): string {
    return `${this.commandLine()} --help`
  }

  private async startTelemetry(): Promise<void> {
    let mode = (await this.profile()).telemetry_mode
    if (this.flags.telemetry) {
      mode = this.flags.telemetry
      this.profileCache = await this.profiles.update({telemetry_mode: mode})
    }
    const endpoint = process.env.APPSERVICES_TELEMETRY_URL || this.profileCache?.telemetry_url
    if (mode === 'off' || doNotTrack(process.env) || !endpoint) return
    this.telemetry = new Telemetry(endpoint, {
      command: this.id ?? 'unknown',
      pluginVersion: this.ctor.plugin?.version ?? 'unknown',
      hostName: this.config.bin,
      hostVersion: this.config.version,
    })
  }

  /**
   * Ctrl-C or SIGTERM: the first stops new work and gives requests in flight a second; the second aborts
   * them at once, so the report of what was done still comes; a third ends the process, report or not.
   */
  private signalled(): void {
    this.signals++
    if (this.signals === 1) {
      this.interruption.abort(new InterruptedError())
      setTimeout(() => this.requestsAborted.abort(new InterruptedError()), 1000).unref()
    } else if (this.signals === 2) this.requestsAborted.abort(new InterruptedError())
    else process.exit(EXIT.interrupted)
  }
}

/** oclif's parse errors span lines ("Parsing --x", the reason, "See more help"); make them one. */
function oneLine(message: string): string {
  return (
    message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^See more help/.test(line))
      .join(' ')
      .replace(/^Error: /, '')
      .replace(/^Parsing (--\S+) /, 'Invalid value for $1: ')
      .replace(
        /^Expected (--[\w-]+)=(.*) to be one of: (.*)$/,
        'Invalid value for $1: "$2"; allowed values: $3',
      )
      // `--private-api-ke=KEY` is unknown, and its value may be a key: the flag is named, its value never shown.
      .replace(
        /^(Nonexistent flags?: )(.*)$/,
        (_, head: string, flags: string) =>
          head + flags.replace(/(--?[^\s=,]+)=[^,]*/g, '$1=(value not shown)'),
      )
      .trim()
  )
}

/** PRODUCT.md §6: `{"error": {"code", "message"}}`, with the hint when there is one. */
function errorDocument(error: CliError): {error: ReturnType<typeof errorBody>} {
  return {error: errorBody(error)}
}

/** An error as JSON: its code, its message and the hint when there is one. */
export function errorBody(error: CliError): {code: string; message: string; suggestion?: string} {
  return {
    code: error.code,
    message: error.message,
    ...(error.suggestion ? {suggestion: error.suggestion} : {}),
  }
}

const OUTPUT_FORMATS = ['', 'text', 'json']

function validateOutputFormat(format: string, helpHint: string): void {
  if (!OUTPUT_FORMATS.includes(format)) {
    throw usageError(
      `Invalid value for --output-format: "${format}"; allowed values: "" (text), text, json`,
      helpHint,
    )
  }
}

/** The file of `--output-target`; none for `-`, which is stdout, as it is to curl and tar. */
function outputFile(target: string | undefined): string | undefined {
  return target === '-' ? undefined : target
}

/**
 * A flag's value read from the raw command line, for when oclif could not parse
 * it: `--name V`, `--name=V`, `-c V`, `-cV` or `-c=V`; the last one given wins.
 */
function rawFlagValue(argv: string[], name: string, char?: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') break
    if (arg === `--${name}` || (char && arg === `-${char}`)) value = argv[++i]
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3)
    else if (char && arg.startsWith(`-${char}`) && arg.length > 2) value = arg.slice(arg[2] === '=' ? 3 : 2)
  }
  return value
}

/** JSON mode must hold even when parsing the flags failed. */
function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (
    (end === -1 ? argv : argv.slice(0, end)).includes('--json') ||
    rawFlagValue(argv, 'output-format', 'f') === 'json'
  )
}
