import {Flags} from '@oclif/core'

import {login} from '../admin-api/auth-session.js'
import {Http} from '../admin-api/http.js'
import {BaseCommand, type CommandOutcome} from '../base-command.js'
import {usageError} from '../errors.js'
import {askText} from '../output/prompts.js'

interface LoginResult extends CommandOutcome {
  profile: string
  public_api_key: string
  base_url: string
}

export default class Login extends BaseCommand<typeof Login> {
  static summary = 'Log in with an Atlas programmatic API key and save the session in a profile.'
  static description =
    'In a terminal, missing keys are asked for (the private key masked). The session and keys are saved in the profile file (mode 0600) so that later commands, and scheduled jobs, stay logged in.'

  static examples = [
    '<%= config.bin %> <%= command.id %> --api-key abcdefgh --private-api-key 01234567-89ab-cdef-0123-456789abcdef',
    '<%= config.bin %> <%= command.id %> --profile ci',
  ]

  static flags = {
    'api-key': Flags.string({summary: 'Public part of the Atlas programmatic API key.'}),
    'private-api-key': Flags.string({summary: 'Private part of the Atlas programmatic API key.'}),
  }

  // Not strict, so that oclif hands a stray word to this command: otherwise a host reads `login KEY` as the
  // command `login:KEY` and prints "command login:KEY not found", key and all.
  static strict = false

  private keys: {public?: string; private?: string} = {}

  protected checkFlags(): void {
    if (this.strayArguments.length > 0) {
      throw usageError(
        `Unexpected argument (not shown: it may be a key); ${this.commandLine()} takes no arguments`,
        this.helpHint(),
      )
    }
    this.keys = {
      public: this.given('--api-key', this.flags['api-key']),
      private: this.given('--private-api-key', this.flags['private-api-key']),
    }
    if (!this.canPrompt) {
      if (this.keys.public === undefined) throw usageError('Missing required flag --api-key', this.usage())
      if (this.keys.private === undefined)
        throw usageError('Missing required flag --private-api-key', this.usage())
    }
  }

  async run(): Promise<LoginResult> {
    const {baseUrl} = this
    // A profile that cannot be saved fails before the server creates a session that would be lost.
    await this.profiles.checkWritable()
    const publicKey = this.keys.public ?? (await this.ask('Public API key:', false))
    const privateKey = this.keys.private ?? (await this.ask('Private API key:', true))
    const http = await Http.create({baseUrl, signal: this.interruption.signal})
    try {
      const tokens = await login(http, {publicKey, privateKey})
      await this.profiles.update({
        public_api_key: publicKey,
        private_api_key: privateKey,
        access_token: tokens.accessToken,
        refresh_token: tokens.refreshToken,
        realm_base_url: baseUrl,
      })
    } finally {
      http.close()
    }
    return {profile: this.profiles.name, public_api_key: publicKey, base_url: baseUrl}
  }

  protected renderText(result: LoginResult): string {
    return `Logged in with API key ${result.public_api_key} (profile ${result.profile})\n`
  }

  /** A key from its flag, trimmed; an empty one is refused here, since the login could only answer 401. */
  private given(flag: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined
    const key = value.trim()
    if (!key) throw usageError(`Invalid value for ${flag}: it is empty`, this.usage())
    return key
  }

  private async ask(message: string, secret: boolean): Promise<string> {
    return (await askText(message, {secret, signal: this.interruption.signal})).trim()
  }

  private usage(): string {
    return `${this.config.bin} login --api-key PUBLIC --private-api-key PRIVATE`
  }
}
