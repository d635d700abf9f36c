import type { FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import type { CopyIn, Db } from './db/database.ts'
import type { EventBus } from './events/outbox.ts'
import type { JobRunner } from './jobs/job-runner.ts'
import type { Logger } from 'pino'

/** What the platform hands every module: explicit dependencies, no globals. */
export interface AppContext {
  config: Config
  db: Db
  /**
   * For routes that only read and tolerate a replica's lag (seconds): public feeds and maps, the
   * catalogue, open data, IOC dashboards. The replica (DATABASE_READ_URL) with the primary as
   * fallback; without one, the same handle as `db`. Never for what a user just wrote and reads
   * back, queues, sessions or anything inside a write.
   */
  readDb: Db
  /** Set when a read replica is configured: whether reads are on the primary now because it could not be reached. */
  replica?: { readonly fallingBack: boolean }
  dbKind: 'pglite' | 'postgres'
  /** PostgreSQL only: bulk load with COPY (platform/db/database.ts CopyIn). */
  copyIn?: CopyIn
  events: EventBus
  jobs: JobRunner
  /** The current instant; tests pass a fixed clock. */
  clock: () => Date
  log: Logger
}

/**
 * Who may call a route: public (anyone), signed-in (401 anonymously), staff / admin (401
 * anonymously, 403 for a citizen), api-key (machine clients; 401/403 without a key).
 */
export type RoutePolicy = 'public' | 'signed-in' | 'staff' | 'admin' | 'api-key'

/** A module of the monolith, mounted from the explicit list in src/modules/index.ts. */
export interface Module {
  name: string
  /** Folder of forward-only SQL migrations. */
  migrations?: string
  /** Registers HTTP routes. Called with the app and the context. */
  routes?: (app: FastifyInstance, ctx: AppContext) => Promise<void>
  /** Subscribes to events, registers jobs and schedules. Runs before routes. */
  setup?: (ctx: AppContext) => Promise<void>
  /** Loads reference data (idempotent; runs at every start after migrations). */
  seedReference?: (ctx: AppContext) => Promise<void>
  /** Loads demo data on first start when SEED_DEMO is on. */
  seedDemo?: (ctx: AppContext, out: DemoSeedOutput) => Promise<void>
  /**
   * The authorization policy of each route this module documents, keyed `METHOD /path` as in
   * the OpenAPI description (`GET /api/things/{id}`). src/route-policy.test.ts fails for a
   * documented route that no module (and no entry in its own table) declares.
   */
  routePolicy?: Record<string, RoutePolicy>
  /** Example values for this module's path parameters, valid enough to pass validation. */
  examplePathParams?: Record<string, string>
}

/** Demo seeding reports here what it created, e.g. the generated passwords to print once. */
export interface DemoSeedOutput {
  accounts: { username: string; password: string; role: string; unit?: string }[]
  notes: string[]
}
