import type {AddressInfo} from 'node:net'

import {FaultInjector, type Faults} from './faults.js'
import {API_PREFIX} from './routes.js'
import {generateSeed, type Seed} from './seed.js'
import {createEmulatorServer} from './server.js'
import {EmulatorState} from './state.js'

export type {FaultRoute, FaultRule, Faults} from './faults.js'
export {API_PREFIX} from './routes.js'
export {
  DEMO_KEYS,
  generateSeed,
  loadSeedFile,
  PRODUCTS,
  PROVIDER_TYPES,
  validateSeed,
  type GenerateSeedOptions,
  type Product,
  type ProviderType,
  type Seed,
  type SeedApiKey,
  type SeedApp,
  type SeedIdentity,
  type SeedPendingUser,
  type SeedProject,
  type SeedUser,
} from './seed.js'
export {
  EmulatorState,
  PAGE_SIZE,
  type AdminUser,
  type AppInstance,
  type PendingUser,
  type RequestLogEntry,
  type RouteName,
  type UserCounters,
  type UserRecord,
} from './state.js'

export interface EmulatorOptions {
  /** Default 0: a free port. The emulator listens on 127.0.0.1 only. */
  port?: number
  /** Default generateSeed({users: 120}). */
  seed?: Seed
  /** Default 1800 (30 minutes); fractions of a second are allowed. */
  accessTokenTtlSeconds?: number
  /** Default 60 days. */
  refreshTokenTtlSeconds?: number
  /** Put in front of every issued token, so that tests can recognise tokens wherever they leak. */
  tokenPrefix?: string
  faults?: Faults
}

export interface Emulator {
  /** e.g. http://127.0.0.1:43210, no trailing slash; the Admin API is at url + API_PREFIX. */
  url: string
  /** url + '/api/admin/v3.0' */
  apiUrl: string
  state: EmulatorState
  /** Replaces the fault configuration (and restarts its random draws and counts). */
  setFaults(faults: Faults): void
  close(): Promise<void>
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(options.seed ?? generateSeed({users: 120}), {
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 30 * 60,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 60 * 24 * 60 * 60,
    tokenPrefix: options.tokenPrefix,
  })
  const faults = new FaultInjector(options.faults)
  const {server, close} = createEmulatorServer(state, faults)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {url, apiUrl: url + API_PREFIX, state, setFaults: (next) => faults.set(next), close}
}
