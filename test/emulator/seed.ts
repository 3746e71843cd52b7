import {readFile} from 'node:fs/promises'

import {createRandom, pick, randomInt, writeHex, type Random} from './random.js'

export const PROVIDER_TYPES = [
  'local-userpass',
  'api-key',
  'oauth2-facebook',
  'oauth2-google',
  'anon-user',
  'custom-token',
  'oauth2-apple',
  'custom-function',
] as const
export type ProviderType = (typeof PROVIDER_TYPES)[number]

export const PRODUCTS = ['standard', 'atlas', 'data-api', 'device-sync'] as const
export type Product = (typeof PRODUCTS)[number]

export interface SeedIdentity {
  id: string
  provider_type: string
  provider_id: string
}

export interface SeedUser {
  _id: string
  identities: SeedIdentity[]
  type: 'normal' | 'server'
  creation_date: number
  last_authentication_date: number
  disabled: boolean
  data: Record<string, unknown>
  /** Open sessions (emulator-only, never served); default 1. */
  sessions?: number
}

export interface SeedPendingUser {
  _id: string
  domain_id?: string
  login_ids: {id_type: 'email'; id: string}[]
  user_id?: string
}

export interface SeedApp {
  _id: string
  client_app_id: string
  name: string
  product: Product
  location?: string
  deployment_model?: string
  domain_id?: string
  users: SeedUser[]
  /** A seed file may leave it out: validateSeed fills in none. */
  pendingUsers: SeedPendingUser[]
}

export interface SeedProject {
  id: string
  apps: SeedApp[]
}

export interface SeedApiKey {
  publicKey: string
  privateKey: string
  /** The projects this key can see: what `/auth/profile` lists in `roles[].group_id`. */
  groupIds: string[]
}

export interface Seed {
  apiKeys: SeedApiKey[]
  projects: SeedProject[]
}

export interface GenerateSeedOptions {
  users: number
  pendingUsers?: number
  seed?: number
}

export const DEMO_KEYS: Readonly<{publicKey: string; privateKey: string}> = Object.freeze({
  publicKey: 'demo-public-key',
  privateKey: 'demo-private-key-0000',
})

const PROVIDER_WEIGHTS: [ProviderType, number][] = [
  ['local-userpass', 35],
  ['api-key', 8],
  ['oauth2-facebook', 10],
  ['oauth2-google', 15],
  ['anon-user', 10],
  ['custom-token', 9],
  ['oauth2-apple', 8],
  ['custom-function', 5],
]
const FIRST_NAMES = [
  'ada',
  'alan',
  'grace',
  'linus',
  'margaret',
  'ken',
  'barbara',
  'dennis',
  'frances',
  'edsger',
]
const LAST_NAMES = ['lovelace', 'turing', 'hopper', 'torvalds', 'hamilton', 'thompson', 'liskov', 'ritchie']
const SERVICES = ['billing', 'reports', 'sync', 'import', 'export', 'audit']
// Fixed instants, not Date.now(), so that a seed number always gives the same data.
const FIRST_CREATION = Date.UTC(2021, 0, 1) / 1000
const LAST_CREATION = Date.UTC(2025, 5, 1) / 1000
const LAST_LOGIN = Date.UTC(2025, 6, 1) / 1000

/**
 * Builds the standard test data set: project 1 holds `demo` (standard, `users` users and `pendingUsers`
 * pending registrations) and `inventory` (atlas); project 2 holds `reports` (device-sync). The one API key,
 * DEMO_KEYS, sees both projects. The same `seed` number always gives the same data.
 */
export function generateSeed(options: GenerateSeedOptions): Seed {
  const generator = new SeedGenerator(createRandom(options.seed ?? 1))
  const project1 = generator.objectId()
  const project2 = generator.objectId()
  return {
    apiKeys: [{...DEMO_KEYS, groupIds: [project1, project2]}],
    projects: [
      {
        id: project1,
        apps: [
          generator.app('demo', 'demo-abcde', 'standard', options.users, options.pendingUsers ?? 5),
          generator.app('inventory', 'inventory-fghij', 'atlas', 6, 0),
        ],
      },
      {id: project2, apps: [generator.app('reports', 'reports-klmno', 'device-sync', 4, 0)]},
    ],
  }
}

class SeedGenerator {
  private counter = 0
  private readonly codes: number[] = new Array(24).fill(0)
  /** Like the middle bytes of a real ObjectId, fixed for the generating "process". */
  private readonly machine: number

  constructor(private readonly random: Random) {
    this.machine = Math.floor(random() * 2 ** 40)
  }

  /**
   * An ObjectId-like 24-hex id: creation time, a fixed middle part, then a counter. Ids made in order of
   * creation time therefore sort in that order, and none repeats.
   */
  objectId(seconds = FIRST_CREATION): string {
    this.counter++
    writeHex(this.codes, 0, 8, Math.floor(seconds))
    writeHex(this.codes, 8, 10, this.machine)
    writeHex(this.codes, 18, 6, this.counter)
    return String.fromCharCode(...this.codes)
  }

  app(name: string, clientAppId: string, product: Product, users: number, pending: number): SeedApp {
    const id = this.objectId()
    const domainId = this.objectId()
    const providerIds = Object.fromEntries(PROVIDER_TYPES.map((type) => [type, this.objectId()])) as Record<
      ProviderType,
      string
    >
    const creationDates = new Float64Array(users)
    for (let i = 0; i < users; i++) creationDates[i] = randomInt(this.random, FIRST_CREATION, LAST_CREATION)
    // Users made in order of creation come out sorted by _id, as the Admin API serves them.
    creationDates.sort()
    const appUsers: SeedUser[] = []
    for (let i = 0; i < users; i++) appUsers.push(this.user(i, creationDates[i], providerIds))
    const pendingUsers: SeedPendingUser[] = []
    for (let i = 0; i < pending; i++) {
      pendingUsers.push({
        _id: this.objectId(LAST_CREATION),
        domain_id: domainId,
        login_ids: [{id_type: 'email', id: `pending.${i + 1}@example.com`}],
        user_id: '',
      })
    }
    return {
      _id: id,
      client_app_id: clientAppId,
      name,
      product,
      location: 'US-VA',
      deployment_model: 'GLOBAL',
      domain_id: domainId,
      users: appUsers,
      pendingUsers,
    }
  }

  private user(index: number, created: number, providerIds: Record<ProviderType, string>): SeedUser {
    const random = this.random
    // The first users take each provider in turn, so that even a small app has every provider type.
    const provider = index < PROVIDER_TYPES.length ? PROVIDER_TYPES[index] : this.weightedProvider()
    const number = index + 1
    const identities: SeedIdentity[] = [
      {id: this.objectId(created), provider_type: provider, provider_id: providerIds[provider]},
    ]
    let data = this.userData(provider, number)
    // A few users have linked a second identity; the first one's data wins where both have a field.
    if (index === PROVIDER_TYPES.length || (provider !== 'api-key' && random() < 0.05)) {
      const second = provider === 'local-userpass' ? 'oauth2-google' : 'local-userpass'
      identities.push({id: this.objectId(created), provider_type: second, provider_id: providerIds[second]})
      data = {...this.userData(second, number), ...data}
    }
    return {
      _id: this.objectId(created),
      identities,
      type: provider === 'api-key' ? 'server' : 'normal',
      creation_date: created,
      last_authentication_date: randomInt(random, created, LAST_LOGIN),
      disabled: random() < 0.2,
      data,
      sessions: randomInt(random, 1, 3),
    }
  }

  private userData(provider: ProviderType, number: number): Record<string, unknown> {
    const random = this.random
    const first = pick(random, FIRST_NAMES)
    const last = pick(random, LAST_NAMES)
    const email = `${first}.${last}.${number}@example.com`
    switch (provider) {
      case 'local-userpass':
      case 'oauth2-apple':
        return {email}
      case 'api-key':
        return {name: `${pick(random, SERVICES)}-service-${number}`}
      case 'oauth2-google':
        return {email, name: `${capitalise(first)} ${capitalise(last)}`}
      case 'oauth2-facebook':
        return random() < 0.5 ? {name: `${capitalise(first)} ${capitalise(last)}`} : {email}
      case 'custom-token':
        return random() < 0.3 ? {email} : {}
      default:
        return {}
    }
  }

  private weightedProvider(): ProviderType {
    const total = PROVIDER_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0)
    let draw = this.random() * total
    for (const [provider, weight] of PROVIDER_WEIGHTS) {
      draw -= weight
      if (draw < 0) return provider
    }
    return PROVIDER_WEIGHTS[0][0]
  }
}

function capitalise(word: string): string {
  return word[0].toUpperCase() + word.slice(1)
}

export function compareIds(a: {_id: string}, b: {_id: string}): number {
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0
}

export async function loadSeedFile(path: string): Promise<Seed> {
  const text = await readFile(path, 'utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`seed file ${path} is not valid JSON: ${(error as Error).message}`)
  }
  return validateSeed(value)
}

/** Checks the shape a hand-written seed file must have; the messages name the offending field. */
export function validateSeed(value: unknown): Seed {
  const seed = expectObject(value, 'seed')
  expectArray(seed.apiKeys, 'apiKeys').forEach((key, i) => {
    const where = `apiKeys[${i}]`
    const record = expectObject(key, where)
    expectString(record.publicKey, `${where}.publicKey`)
    expectString(record.privateKey, `${where}.privateKey`)
    expectArray(record.groupIds, `${where}.groupIds`).forEach((id, j) =>
      expectString(id, `${where}.groupIds[${j}]`),
    )
  })
  expectArray(seed.projects, 'projects').forEach((project, i) => {
    const where = `projects[${i}]`
    const record = expectObject(project, where)
    expectString(record.id, `${where}.id`)
    expectArray(record.apps, `${where}.apps`).forEach((app, j) => validateApp(app, `${where}.apps[${j}]`))
  })
  return value as Seed
}

function validateApp(value: unknown, where: string): void {
  const app = expectObject(value, where)
  for (const field of ['_id', 'client_app_id', 'name']) expectString(app[field], `${where}.${field}`)
  if (!PRODUCTS.includes(app.product as Product)) {
    throw new Error(`seed: ${where}.product must be one of ${PRODUCTS.join(', ')}`)
  }
  expectArray(app.users, `${where}.users`).forEach((user, i) => {
    const path = `${where}.users[${i}]`
    const record = expectObject(user, path)
    expectString(record._id, `${path}._id`)
    expectArray(record.identities, `${path}.identities`)
    if (typeof record.disabled !== 'boolean') throw new Error(`seed: ${path}.disabled must be a boolean`)
  })
  app.pendingUsers ??= []
  expectArray(app.pendingUsers, `${where}.pendingUsers`).forEach((pending, i) => {
    const path = `${where}.pendingUsers[${i}]`
    expectString(expectObject(pending, path)._id, `${path}._id`)
  })
}

function expectObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`seed: ${where} must be an object`)
  }
  return value as Record<string, unknown>
}

function expectArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`seed: ${where} must be an array`)
  return value
}

function expectString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`seed: ${where} must be a non-empty string`)
  return value
}
