import {Command, Errors, Flags, type Interfaces, toConfiguredId} from '@oclif/core'

import type {AdminApiClient} from './admin-api/client.js'
import {argumentsMayBeSecret, redactDebugArgs} from './debug-log.js'
import {CliError, EXIT, InterruptedError, usageError} from './errors.js'
import {writeJsonDocument} from './output/json-document.js'
import {describeWriteError, openOutputTarget, type OutputSink, stdoutSink} from './output/output-target.js'
import {isInteractive} from './output/prompts.js'
import {ansi, plain, type Style, useColour} from './output/style.js'
import {DEFAULT_PROFILE, type Profile, ProfileStore, validateProfileName} from './profile/profile-store.js'
import {doNotTrack, Telemetry, type TelemetryCounts} from './telemetry/telemetry.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>

const GLOBAL = 'GLOBAL'

/** What a command's run() returns: the data, and how it ends the process. */
export interface CommandResult {
  /** Non-zero to exit with it after the result is rendered (1: some failed; 130: interrupted). */
  exitCode?: number
  /** Counts reported in telemetry. */
  counts?: TelemetryCounts
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
    'realm-url': Flags.string({
      summary: 'Base URL of the App Services Admin API.',
      hidden: true,
      helpGroup: GLOBAL,
    }),
  }

  protected flags!: CommandFlags<T>
  protected style: Style = plain
  /** The style of what goes to stderr (the `Error:` line). */
  private errorStyle: Style = plain
  protected profiles!: ProfileStore
  /** Aborted on the first Ctrl-C / SIGTERM; long commands stop starting work when it fires. */
  protected readonly interruption = new AbortController()

  private sink: OutputSink = stdoutSink
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
  protected abstract renderText(result: Awaited<ReturnType<this['run']>>): string

  /** The JSON document of the result; by default the result itself, minus bookkeeping. */
  protected renderJson(result: Awaited<ReturnType<this['run']>>): unknown {
    const {
      exitCode: _exitCode,
      counts: _counts,
      ...document
    } = result as CommandResult & Record<string, unknown>
    return document
  }

  protected async profile(): Promise<Profile> {
    this.profileCache ??= await this.profiles.load()
    return this.profileCache
  }

  /** The Admin API client for this profile, created on first use. */
  protected client(options: {concurrency?: number} = {}): Promise<AdminApiClient> {
    this.apiClient ??= (async () => {
      const {connect} = await import('./admin-api/connect.js')
      return connect({
        store: this.profiles,
        profile: await this.profile(),
        realmUrlFlag: this.flags['realm-url'],
        env: process.env,
        binName: this.config.bin,
        maxSockets: (options.concurrency ?? 8) + 2,
        signal: this.interruption.signal,
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
    process.once('SIGINT', this.onSignal)
    process.once('SIGTERM', this.onSignal)
    const {flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    validateOutputFormat(this.flags['output-format'], this.helpHint())
    this.profiles = new ProfileStore(this.config.configDir, validateProfileName(this.flags.profile))
    const target = this.flags['output-target']
    if (target !== undefined && !target.trim())
      throw usageError('--output-target needs a file path', this.helpHint())
    if (target) this.sink = await openOutputTarget(target)
    // The prompts (node:util styleText) read the environment, where FORCE_COLOR beats NO_COLOR: make
    // --disable-colors and NO_COLOR reach them, winning over FORCE_COLOR as they do here.
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
        isTTY: Boolean(stream.isTTY),
        env: process.env,
      })
        ? ansi
        : plain
    this.style = colour(process.stdout)
    this.errorStyle = colour(process.stderr)
  }

  /** oclif's _run, with rendering of the result between run() and finally(). */
  protected async _run<R>(): Promise<R> {
    let result: R | undefined
    let failure: unknown
    try {
      await this.init()
      result = (await this.run()) as R
      const outcome = result as CommandResult
      await this.render(result, outcome.counts)
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
    const exitCode = (result as CommandResult | undefined)?.exitCode
    if (exitCode) this.exit(exitCode)
    return result as R
  }

  /**
   * Writes the result to stdout or the output target. A write that fails (a
   * full disk, a closed pipe) comes after the command's work is done, so the
   * error says what was done.
   */
  private async render(result: unknown, counts?: TelemetryCounts): Promise<void> {
    try {
      if (this.jsonMode)
        await writeJsonDocument((text) => this.sink.write(text), this.renderJson(result as never))
      else await this.sink.write(this.renderText(result as never))
    } catch (error) {
      const done = counts
        ? `; the command had finished: ${counts.revoked} revoked, ${counts.failed} failed, ${counts.skipped} skipped`
        : ''
      throw new CliError(
        `Cannot write the output to ${this.sink.name}: ${describeWriteError(error)}${done}`,
        {
          code: 'OutputWriteFailed',
          cause: error,
        },
      )
    }
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    const failure = this.toCliError(error)
    this.telemetry?.error(failure.code)
    // In JSON mode the error is a document in the output; when the output itself failed, or cannot take the
    // document, it is a line on stderr, so that no failure passes in silence.
    const written =
      this.jsonMode &&
      failure.code !== 'OutputWriteFailed' &&
      (await this.sink.write(`${JSON.stringify(errorDocument(failure), null, 2)}\n`).then(
        () => true,
        () => false,
      ))
    if (!written && (failure.exit !== EXIT.interrupted || failure.message !== 'Cancelled')) {
      const lines = [`${this.errorStyle.red('Error:')} ${failure.message}`]
      if (failure.suggestion) lines.push(`Try: ${failure.suggestion}`)
      process.stderr.write(`${lines.join('\n')}\n`)
    }
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

  protected async finally(error: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal)
    process.removeListener('SIGTERM', this.onSignal)
    this.telemetry?.flush()
    if (this.apiClient) await this.apiClient.then((client) => client.close()).catch(() => {})
    await this.sink.close().catch(() => {})
    await super.finally(error)
  }

  private toCliError(error: Error): CliError {
    if (error instanceof InterruptedError) return error
    // After Ctrl-C or SIGTERM, what fails next (most often the aborted request) is the interruption's doing: 130, not 1.
    if (this.interruption.signal.aborted) return new InterruptedError()
    if (error instanceof CliError) return error
    const parseError = error as Error & {parse?: unknown; oclif?: {exit?: number}}
    // A flag's own parse() failing arrives as a plain Error that oclif renamed "Parsing --flag ...".
    if (parseError.parse || parseError.oclif?.exit === 2 || error.message.startsWith('Parsing --')) {
      // `login --api-key K SECRET`: the stray word is most likely a key, so it is not repeated.
      const message =
        error.message.startsWith('Unexpected argument') && argumentsMayBeSecret(this.id)
          ? `Unexpected argument (not shown: it may be a key); ${this.commandLine()} takes no arguments`
          : oneLine(error.message)
      return usageError(message, this.helpHint())
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

  private helpHint(): string {
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

  private signalled(): void {
    if (this.interruption.signal.aborted) process.exit(EXIT.interrupted)
    this.interruption.abort(new InterruptedError())
    // A second signal (or an already handled one) ends the process at once.
    process.once('SIGINT', () => process.exit(EXIT.interrupted))
    process.once('SIGTERM', () => process.exit(EXIT.interrupted))
  }
}

/** oclif's parse errors span lines ("Parsing --x", the reason, "See more help"); make them one. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .filter((line) => !/^See more help/.test(line.trim()))
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(/^Error: /, '')
    .replace(/^Parsing (--\S+) /, 'Invalid value for $1: ')
    .trim()
}

/** PRODUCT.md §6: `{"error": {"code", "message"}}`, with the hint when there is one. */
function errorDocument(error: CliError): {error: {code: string; message: string; suggestion?: string}} {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.suggestion ? {suggestion: error.suggestion} : {}),
    },
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

/** JSON mode must hold even when parsing the flags failed. */
function jsonRequested(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') break
    if (arg === '--json' || arg === '--output-format=json' || arg === '-fjson' || arg === '-f=json')
      return true
    if ((arg === '--output-format' || arg === '-f') && argv[i + 1] === 'json') return true
  }
  return false
}
