import {resolveBaseUrl} from '../admin-api/base-url.js'
import {BaseCommand, type CommandOutcome} from '../base-command.js'
import {EXIT} from '../errors.js'

interface LogoutResult extends CommandOutcome {
  profile: string
  was_logged_in: boolean
}

export default class Logout extends BaseCommand<typeof Logout> {
  static summary = "End the profile's session and forget its tokens and API keys."
  static description =
    'Ends the admin session on the server (best effort) and clears the access token, refresh token and API keys from the profile, as the official CLI does. Other profile settings are kept.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --profile ci',
  ]

  async run(): Promise<LogoutResult> {
    const profile = await this.profile()
    const wasLoggedIn = Boolean(profile.refresh_token || profile.public_api_key)
    if (profile.refresh_token) await this.endSession(profile.realm_base_url)
    // Interrupted or not, the secrets leave the disk.
    if (wasLoggedIn) {
      await this.profiles.update({
        access_token: undefined,
        refresh_token: undefined,
        public_api_key: undefined,
        private_api_key: undefined,
      })
    }
    return {
      profile: this.profiles.name,
      was_logged_in: wasLoggedIn,
      ...(this.interruption.signal.aborted ? {exitCode: EXIT.interrupted} : {}),
    }
  }

  protected renderText(result: LogoutResult): string {
    return result.was_logged_in
      ? `Logged out (profile ${result.profile})\n`
      : `Profile ${result.profile} was not logged in; nothing to do\n`
  }

  /**
   * DELETE /auth/session with the refresh token, at the Admin API that issued it (whatever the base URL
   * of this run); a failure does not keep the secrets on disk.
   */
  private async endSession(issuedBy: string | undefined): Promise<void> {
    try {
      const baseUrl = issuedBy ? resolveBaseUrl({profile: issuedBy}) : undefined
      await (await this.client({retries: 1, timeoutMs: 10_000, baseUrl})).deleteSession()
    } catch (error) {
      this.notice(
        `Warning: the server session could not be ended (${(error as Error).message}); the local session is cleared anyway`,
      )
    }
  }
}
