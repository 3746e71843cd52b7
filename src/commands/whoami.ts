import {resolveBaseUrl} from '../admin-api/base-url.js'
import {BaseCommand, type CommandResult} from '../base-command.js'
import {loginCommand} from '../profile/profile-store.js'

interface WhoamiResult extends CommandResult {
  profile: string
  public_api_key: string | null
  logged_in: boolean
  base_url: string
}

export default class Whoami extends BaseCommand<typeof Whoami> {
  static summary = 'Show the profile in use, its public API key and whether it is logged in.'
  static description = 'Never shows the private API key or any token.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --profile ci --json',
  ]

  async run(): Promise<WhoamiResult> {
    const profile = await this.profile()
    return {
      profile: this.profiles.name,
      public_api_key: profile.public_api_key ?? null,
      logged_in: Boolean(profile.refresh_token),
      base_url: resolveBaseUrl({
        flag: this.flags['realm-url'],
        env: process.env.APPSERVICES_BASE_URL,
        profile: profile.realm_base_url,
      }),
    }
  }

  protected renderText(result: WhoamiResult): string {
    if (!result.logged_in) {
      return `Profile ${result.profile} is not logged in\nTry: ${loginCommand(this.config.bin, result.profile)}\n`
    }
    return [
      `Profile: ${result.profile}`,
      `Public API key: ${result.public_api_key ?? '(none)'}`,
      'Logged in: yes',
      `Admin API: ${result.base_url}`,
      '',
    ].join('\n')
  }
}
