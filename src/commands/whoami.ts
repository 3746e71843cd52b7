import {BaseCommand, type CommandOutcome} from '../base-command.js'
import {loginCommand} from '../profile/profile-store.js'

interface WhoamiResult extends CommandOutcome {
  profile: string
  public_api_key: string | null
  /** The profile holds a session or a key pair. */
  logged_in: boolean
  /** What the other commands will authenticate with: the same decision as theirs, never a guess. */
  credentials_source: 'profile' | 'environment' | null
  base_url: string
  /** Where the profile's session was issued (login saves it); other base URLs get none of its secrets. */
  session_base_url: string | null
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
    const {findCredentials} = await import('../admin-api/connect.js')
    const credentials = findCredentials(profile, process.env, this.baseUrl)
    const fromEnvironment = credentials?.source === 'environment'
    return {
      profile: this.profiles.name,
      public_api_key: (fromEnvironment ? credentials.keys?.publicKey : profile.public_api_key) ?? null,
      logged_in: credentials?.source === 'profile',
      credentials_source: credentials?.source ?? null,
      base_url: this.baseUrl,
      session_base_url: profile.realm_base_url ?? null,
    }
  }

  protected renderText(result: WhoamiResult): string {
    if (!result.credentials_source) {
      const elsewhere =
        result.public_api_key && result.session_base_url && result.session_base_url !== result.base_url
          ? ` to ${result.base_url} (its session is for ${result.session_base_url})`
          : ''
      return [
        `Profile ${result.profile} is not logged in${elsewhere}`,
        `Admin API: ${result.base_url}`,
        `Try: ${loginCommand(this.config.bin, result.profile)}`,
        '',
      ].join('\n')
    }
    const fromEnvironment = result.credentials_source === 'environment'
    return [
      `Profile: ${result.profile}`,
      `Public API key: ${result.public_api_key ?? '(none)'}${fromEnvironment ? ' (from MONGODB_ATLAS_PUBLIC_API_KEY)' : ''}`,
      fromEnvironment
        ? 'Logged in: no; commands will use the API keys from the environment'
        : 'Logged in: yes',
      `Admin API: ${result.base_url}`,
      '',
    ].join('\n')
  }
}
