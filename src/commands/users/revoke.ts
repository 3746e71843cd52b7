import {Flags} from '@oclif/core'

import {PROVIDER_TYPES} from '../../admin-api/types.js'
import {BaseCommand, type CommandOutcome, errorBody} from '../../base-command.js'
import {EXIT, usageError} from '../../errors.js'
import {askCheckbox, askSelect, askText} from '../../output/prompts.js'
import {renderRevokeText} from '../../output/render-revoke.js'
import {findTargets} from '../../users/find-users.js'
import {resolveApp} from '../../users/resolve-app.js'
import {type Revocation, revokeSessions} from '../../users/revoke-sessions.js'
import {selectTargets} from '../../users/select-users.js'
import {appSummary, type RevokeReport} from '../../users/types.js'
import {isDotSegment, notAFlag, parseList, parseProviders} from '../../users/user-flags.js'

/** The app, and the revocation that runs as its report is rendered. */
export interface RevokeCommandResult {
  app: RevokeReport['app']
  revocation: Revocation
}

export default class UsersRevoke extends BaseCommand<typeof UsersRevoke> {
  static summary = "Revoke an application user's sessions from your app."
  static description = `Logs users out of every session of an App Services app. A revoked user can log in again if they provide valid credentials.

Name users with --user, or filter the app's users with --state and --provider: in a terminal you then pick them from a list; in a script pass --yes to revoke every matched user.`

  static examples = [
    {
      description: 'Revoke the sessions of two users',
      command:
        '<%= config.bin %> <%= command.id %> --app myapp-abcde --user 63f1a2b3c4d5e6f7a8b9c0d1,63f1a2b3c4d5e6f7a8b9c0d2',
    },
    {
      description: 'Pick users from a list in a terminal',
      command: '<%= config.bin %> <%= command.id %> --app myapp',
    },
    {
      description: 'Revoke every disabled email/password user, without prompting',
      command:
        '<%= config.bin %> <%= command.id %> --app myapp --state disabled --provider local-userpass --yes',
    },
    {
      description: 'Write a JSON report to a file',
      command: '<%= config.bin %> <%= command.id %> -a myapp --yes --json -o revoke-report.json',
    },
  ]

  static flags = {
    app: Flags.string({
      char: 'a',
      summary: 'The app: its name, client app id (myapp-abcde) or _id.',
      parse: async (value) => notAFlag(value),
    }),
    project: Flags.string({
      summary: 'The Atlas project (group) id that holds the app.',
      parse: async (value) => notAFlag(value),
    }),
    user: Flags.string({
      char: 'u',
      summary: 'User id(s) to revoke; repeatable, comma-separated lists allowed.',
      multiple: true,
      multipleNonGreedy: true,
      parse: async (value) => notAFlag(value),
    }),
    pending: Flags.boolean({
      summary: "Act on the app's pending user registrations instead of confirmed users.",
    }),
    state: Flags.option({
      summary: 'Keep only users in this state.',
      options: ['enabled', 'disabled'] as const,
    })(),
    provider: Flags.string({
      summary: 'Keep only users with an identity of these provider types; repeatable, comma-separated.',
      description: `Allowed: ${PROVIDER_TYPES.join(', ')}.`,
      multiple: true,
      multipleNonGreedy: true,
      parse: async (value) => notAFlag(value),
    }),
    concurrency: Flags.integer({
      summary: 'How many logout requests may be in flight at once (1 to 32).',
      default: 8,
      min: 1,
      max: 32,
    }),
  }

  private ids: string[] = []
  private providers: string[] = []

  protected checkFlags(): void {
    const {flags} = this
    this.ids = parseList('user', flags.user)
    this.providers = parseProviders(flags.provider)
    if (flags.pending && (flags.state || this.providers.length > 0)) {
      throw usageError(
        '--pending cannot be combined with --state or --provider: pending registrations have neither',
        this.helpHint(),
      )
    }
    for (const flag of ['app', 'project'] as const) {
      if (flags[flag] !== undefined && !flags[flag].trim()) {
        throw usageError(`Invalid value for --${flag}: it is empty`, this.helpHint())
      }
    }
    if (flags.project && isDotSegment(flags.project)) {
      throw usageError(`Invalid value for --project: "${flags.project}" is not a project id`, this.helpHint())
    }
    if (!flags.app && !this.canPrompt) {
      throw usageError('Missing required flag --app', `${this.commandLine()} --app <name or client app id>`)
    }
  }

  async run(): Promise<RevokeCommandResult> {
    const {flags, ids, providers} = this
    const client = await this.client({concurrency: flags.concurrency})
    const prompt = {signal: this.interruption.signal}
    const app = await resolveApp(client, {
      app: flags.app ?? (await askText('App (name, client app id or _id):', prompt)),
      project: flags.project,
      choose: this.canPrompt
        ? (apps) =>
            askSelect(
              'Several apps match; pick one:',
              apps.map((app) => ({
                name: `${app.name} (${app.client_app_id}) in project ${app.group_id}`,
                value: app,
              })),
              prompt,
            )
        : undefined,
    })
    const found = findTargets(client, app, {
      ids,
      pending: flags.pending,
      state: flags.state,
      providers,
      concurrency: flags.concurrency,
    })
    const selected = await selectTargets(found, {
      explicit: ids.length > 0,
      yes: flags.yes,
      pending: flags.pending,
      // The command as typed, filters and all: the hint adds --yes to exactly this selection.
      commandLine: `${this.commandLine()} ${this.argv.map(shellWord).join(' ')}`,
      choose: this.canPrompt
        ? (targets) =>
            askCheckbox(
              `Select the users to log out (${targets.length} matched):`,
              targets.map((target) => ({
                name: `${target.provider_types[0] ?? 'unknown'}  ${target.email ?? target.name ?? ''}  ${target.id}`,
                value: target,
              })),
              prompt,
            )
        : undefined,
    })

    const revocation = revokeSessions(client, app, selected, {
      concurrency: flags.concurrency,
      signal: this.interruption.signal,
      progress: this.progress('Revoking sessions'),
    })
    // The logouts run while the report is written, so the report never has to be held whole.
    return {app: appSummary(app), revocation}
  }

  protected async renderText({app, revocation}: RevokeCommandResult): Promise<string> {
    const results = []
    for await (const result of revocation) results.push(result)
    return renderRevokeText({app, results, summary: revocation.summary, error: revocation.error}, this.style)
  }

  protected renderJson({app, revocation}: RevokeCommandResult): unknown {
    return {
      app,
      results: revocation,
      summary: () => revocation.summary,
      error: () => revocation.error && errorBody(revocation.error),
    }
  }

  protected outcome({revocation: {summary, error}}: RevokeCommandResult): CommandOutcome {
    return {
      exitCode: summary.interrupted ? EXIT.interrupted : summary.failed > 0 || error ? EXIT.failure : EXIT.ok,
      counts: {
        matched: summary.matched,
        revoked: summary.revoked,
        failed: summary.failed,
        skipped: summary.skipped,
      },
      error,
    }
  }
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}
