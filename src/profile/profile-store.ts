import {randomBytes} from 'node:crypto'
import {chmod, mkdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {CliError, describeFileError, usageError} from '../errors.js'

/** The keys the official App Services CLI writes under a profile's name. */
export interface Profile {
  public_api_key?: string
  private_api_key?: string
  access_token?: string
  refresh_token?: string
  realm_base_url?: string
  telemetry_mode?: 'on' | 'off'
  telemetry_url?: string
}

/** A profile file as read: its whole document, and this profile's section of it. */
interface ProfileFile {
  document: Record<string, unknown>
  section: Record<string, unknown>
}

export const DEFAULT_PROFILE = 'default'
// Starts with a letter or digit (`--profile -x` is a mistyped flag), and short enough for any file system.
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const STRING_KEYS = [
  'public_api_key',
  'private_api_key',
  'access_token',
  'refresh_token',
  'realm_base_url',
  'telemetry_url',
] as const
const KNOWN_KEYS = new Set<string>([...STRING_KEYS, 'telemetry_mode'])

export function validateProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) {
    const shown = name.length > 70 ? `${name.slice(0, 64)}...` : name
    throw usageError(
      `Invalid profile name "${shown}": use up to 64 letters, digits, "-" and "_", starting with a letter or digit`,
    )
  }
  return name
}

/** The `login` command line that fixes a missing or dead session of this profile. */
export function loginCommand(binName: string, profileName: string): string {
  return `${binName} login${profileName === DEFAULT_PROFILE ? '' : ` --profile ${profileName}`}`
}

/**
 * Reads and writes `<configDir>/<name>.yaml`. Writes go to a temporary file
 * that is renamed over the old one, so a concurrent reader never sees half a
 * file; the directory is 0700 and the file 0600 because it holds secrets.
 */
export class ProfileStore {
  readonly path: string
  /** The bin of the CLI that runs the plugin (the host's, inside a host), for the hints of errors. */
  readonly binName: string
  /** The variable that moves the config directory (`<BIN>_CONFIG_DIR`), for the hints of errors. */
  readonly configDirVariable?: string

  constructor(
    readonly configDir: string,
    readonly name: string,
    options: {binName: string; configDirVariable?: string},
  ) {
    validateProfileName(name)
    this.path = join(configDir, `${name}.yaml`)
    this.binName = options.binName
    this.configDirVariable = options.configDirVariable
  }

  async load(): Promise<Profile> {
    return toProfile((await this.read()).section, (why) => this.corrupt(why))
  }

  /** Writes the profile; what this plugin does not know (keys, other sections) is kept as the file has it. */
  async save(profile: Profile): Promise<void> {
    await this.write(profile, await this.read())
  }

  /**
   * Fails now, with the error a save would give, when the profile could not be saved: before a login
   * creates a server session that could then not be kept. Creates the config directory.
   */
  async checkWritable(): Promise<void> {
    await this.load()
    await this.makeDirectory()
    // Only a real write tells: root passes every access() check, and /proc or /sys take no new files.
    await this.writeTemporary('', async () => {})
  }

  async update(change: Partial<Record<keyof Profile, string | undefined>>): Promise<Profile> {
    const file = await this.read()
    const next = {...toProfile(file.section, (why) => this.corrupt(why)), ...change} as Profile
    await this.write(next, file)
    return next
  }

  /**
   * The file's document and the profile's section in it, keys and sections of other tools included; empty
   * when there is no file.
   */
  private async read(): Promise<ProfileFile> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {document: {}, section: {}}
      // A directory where the profile should be is the thing to fix, not the config directory around it.
      const isDirectory = (error as NodeJS.ErrnoException).code === 'EISDIR'
      throw new CliError(`Cannot read profile ${this.path}: ${describeFileError(error)}`, {
        code: 'ProfileUnreadable',
        suggestion: isDirectory
          ? `move ${this.path} out of the way: a profile is a file`
          : this.configDirHint(),
      })
    }
    await this.tightenPermissions()
    const {load} = await import('js-yaml')
    let doc: unknown
    try {
      doc = load(text)
    } catch {
      throw this.corrupt('it is not valid YAML')
    }
    if (doc === null || doc === undefined) return {document: {}, section: {}}
    if (typeof doc !== 'object' || Array.isArray(doc)) throw this.corrupt('it is not a YAML mapping')
    const document = doc as Record<string, unknown>
    const section = document[this.name]
    // No section of this name (the file may hold other tools' sections): a profile not logged in yet.
    if (section === undefined || section === null) return {document, section: {}}
    if (typeof section !== 'object' || Array.isArray(section))
      throw this.corrupt(`"${this.name}" is not a mapping`)
    return {document, section: section as Record<string, unknown>}
  }

  /**
   * Writes the known keys from `profile` and every other key of `section` unchanged: the official CLI and
   * other tools keep settings of their own there (`atlas_base_url`), which a save must not drop.
   */
  private async write(profile: Profile, {document, section}: ProfileFile): Promise<void> {
    const {dump} = await import('js-yaml')
    const known = Object.entries(profile).filter(([, v]) => v !== undefined && v !== '')
    const others = Object.entries(section).filter(([key]) => !KNOWN_KEYS.has(key))
    // js-yaml quotes on/off/yes/no by default, so `telemetry_mode: 'off'` stays a string for YAML 1.1 readers such as the Go CLI.
    const text = dump(
      {...document, [this.name]: Object.fromEntries([...known, ...others])},
      {quotingType: '"', lineWidth: -1},
    )
    await this.makeDirectory()
    await this.tightenDirectory()
    await this.writeTemporary(text, (temporary) => rename(temporary, this.path))
  }

  private async makeDirectory(): Promise<void> {
    try {
      await makeDirectory(this.configDir)
    } catch (error) {
      // ENOENT with every parent there: a link to a missing place, or a file system that takes no directories.
      const reason = describeFileError(error, {ENOENT: 'it cannot be made there'})
      throw new CliError(`Cannot create the config directory ${this.configDir}: ${reason}`, {
        code: 'ProfileUnwritable',
        suggestion: this.configDirHint(),
      })
    }
  }

  /** Writes TEXT to a new file beside the profile for `use` (which may rename it); what is left is removed. */
  private async writeTemporary(text: string, use: (temporary: string) => Promise<void>): Promise<void> {
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      await writeFile(temporary, text, {mode: 0o600, flag: 'wx'})
      await use(temporary)
    } catch (error) {
      // ENOENT in a directory that is there: a file system that takes no new files (/proc).
      throw new CliError(
        `Cannot write profile ${this.path}: ${describeFileError(error, {ENOENT: 'files cannot be made there'})}`,
        {code: 'ProfileUnwritable', suggestion: this.configDirHint()},
      )
    } finally {
      await rm(temporary, {force: true})
    }
  }

  private async tightenPermissions(): Promise<void> {
    try {
      const {mode} = await stat(this.path)
      if (mode & 0o077) await chmod(this.path, 0o600)
    } catch {
      // Best effort: an unreadable mode is reported by the read itself.
    }
  }

  /** mkdir's mode applies only to a directory it creates: an existing one that others may enter is tightened. */
  private async tightenDirectory(): Promise<void> {
    try {
      const {mode, uid} = await stat(this.configDir)
      // Only a directory of the user's own, and never a shared one (sticky, as /tmp is): others would be locked out.
      if (mode & 0o077 && !(mode & 0o1000) && uid === process.getuid?.()) await chmod(this.configDir, 0o700)
    } catch {
      // Best effort: the file itself is written 0600 whatever the directory allows.
    }
  }

  private configDirHint(): string {
    const variable = this.configDirVariable ? `, or set ${this.configDirVariable} to one` : ''
    return `make ${this.configDir} a directory you can write${variable}`
  }

  private corrupt(why: string): CliError {
    const loginHint = loginCommand(this.binName, this.name)
    return new CliError(`Profile file ${this.path} is invalid: ${why}`, {
      code: 'ProfileInvalid',
      suggestion: `fix or delete the file, then run: ${loginHint}`,
    })
  }
}

/**
 * mkdir -p, one level at a time: node's recursive mkdir loops for ever where a directory cannot be made
 * though its parent exists (ENOENT under /proc, or through a link to a missing place).
 */
async function makeDirectory(dir: string, parentMade = false): Promise<void> {
  try {
    await mkdir(dir, {mode: 0o700})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      // Something is there: a directory (made by another command at the same moment), a file, or a link to
      // nothing (stat fails with ENOENT).
      if (!(await stat(dir)).isDirectory())
        throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR'})
      return
    }
    const parent = dirname(dir)
    if (code !== 'ENOENT' || parent === dir || parentMade) throw error
    if (!(await stat(parent).catch(() => undefined))) await makeDirectory(parent)
    // Once more, now that the parent is there (made here, or by another command meanwhile): ENOENT again is final.
    await makeDirectory(dir, true)
  }
}

function toProfile(section: Record<string, unknown>, invalid: (why: string) => CliError): Profile {
  const profile: Profile = {}
  for (const key of STRING_KEYS) {
    const value = section[key]
    // A key of the wrong type is a broken file, not a missing key: "not logged in" would hide it.
    if (typeof value === 'string') {
      if (value !== '') profile[key] = value
    } else if (value !== undefined && value !== null) {
      throw invalid(`"${key}" is ${kindOf(value)}, not a string`)
    }
  }
  // A YAML 1.1 reader turns a bare off/on into a boolean; accept both forms.
  const mode = section.telemetry_mode
  if (mode === false || mode === 'off') profile.telemetry_mode = 'off'
  else if (mode === true || mode === 'on') profile.telemetry_mode = 'on'
  else if (mode !== undefined && mode !== null && mode !== '')
    throw invalid(`"telemetry_mode" is ${JSON.stringify(mode)}, not "on" or "off"`)
  return profile
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (value instanceof Date) return 'a date'
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`
}
