import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import pino, { type Logger } from 'pino'
import { buildApp } from '../app.ts'
import type { PrincipalResolver } from './auth/principal.ts'
import type { Config } from './config.ts'
import { openDatabase, type Database } from './db/database.ts'
import { migrate, type MigrationSource } from './db/migrate.ts'
import { EventBus } from './events/outbox.ts'
import { JobRunner } from './jobs/job-runner.ts'
import { scheduleMonthPartitions } from './db/partitions.ts'
import { outboxRetentionDays, scheduleOutboxRetention } from './events/outbox-retention.ts'
import type { AppContext, DemoSeedOutput, Module } from './module.ts'

export const PLATFORM_MIGRATIONS: MigrationSource = { module: 'platform', dir: fileURLToPath(new URL('./migrations', import.meta.url)) }

export interface Platform {
  app: FastifyInstance
  ctx: AppContext
  database: Database
  demo: DemoSeedOutput | undefined
  /** Stops jobs, closes the HTTP server (finishing in-flight requests) and the database. */
  close(): Promise<void>
}

export interface StartOptions {
  config: Config
  modules: Module[]
  /** Builds the principal resolver once the context exists (the identity module provides it). */
  principalResolver: (ctx: AppContext) => PrincipalResolver
  /** An already open database (tests share one per file). */
  database?: Database
  clock?: () => Date
  logger?: Logger
  after?: (app: FastifyInstance, ctx: AppContext) => Promise<void>
}

/** Opens the database, migrates, loads reference data, builds the app. Does not listen. */
export async function createPlatform(opts: StartOptions): Promise<Platform> {
  const { config, modules } = opts
  const log = opts.logger ?? pino({ level: config.logLevel })
  const database = opts.database ?? (await openDatabase({
    databaseUrl: config.databaseUrl, readUrl: config.databaseReadUrl, dataDir: config.dataDir, recover: process.env.RECOVER_DATA_DIR === '1', provinceCode: config.provinceCode,
    replicaEvents: {
      onFallback: (err) => log.warn({ err }, 'read replica unreachable: reads go to the primary for a while'),
      onRecovered: () => log.info('read replica reachable again: reads go to it'),
    },
  }))
  try {
    if (database.provinceCode !== config.provinceCode) throw new Error(`The database connections carry province ${database.provinceCode} but PROVINCE_CODE is ${config.provinceCode}`)
    const sources = [PLATFORM_MIGRATIONS, ...modules.filter((m) => m.migrations).map((m) => ({ module: m.name, dir: m.migrations! }))]
    const applied = await migrate(database, sources)
    if (applied.length) log.info({ applied }, 'migrations applied')
    const events = new EventBus()
    const ctx: AppContext = {
      config,
      db: database.db,
      readDb: database.readDb,
      replica: database.replica,
      dbKind: database.kind,
      copyIn: database.copyIn,
      events,
      log,
      clock: opts.clock ?? (() => new Date()),
      jobs: undefined as unknown as JobRunner,
    }
    ctx.jobs = new JobRunner(database.db, {
      onError: (err, job) => log.error({ err, job }, 'job failed'),
      beforeTick: async () => {
        await events.dispatchPending(database.db)
      },
    })
    scheduleMonthPartitions(ctx.jobs, (created) => log.info({ created }, 'month partitions created'))
    scheduleOutboxRetention(ctx.jobs, outboxRetentionDays(config.env), (deleted) => log.info({ deleted }, 'delivered outbox events older than the retention deleted'))
    for (const m of modules) await m.setup?.(ctx)
    for (const m of modules) await m.seedReference?.(ctx)
    let demo: DemoSeedOutput | undefined
    if (config.seedDemo) {
      demo = { accounts: [], notes: [] }
      for (const m of modules) await m.seedDemo?.(ctx, demo)
    }
    const app = await buildApp({ ctx, modules, resolvePrincipal: opts.principalResolver(ctx), after: opts.after ? (a) => opts.after!(a, ctx) : undefined })
    await app.ready()
    let closed = false
    return {
      app,
      ctx,
      database,
      demo,
      async close() {
        if (closed) return
        closed = true
        await ctx.jobs.stop()
        await app.close()
        if (!opts.database) await database.close()
      },
    }
  } catch (err) {
    if (!opts.database) await database.close().catch(() => {})
    throw err
  }
}
