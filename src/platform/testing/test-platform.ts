import { randomBytes } from 'node:crypto'
import { loadConfig, type Config } from '../config.ts'
import { openDatabase, type Database } from '../db/database.ts'
import type { Module } from '../module.ts'
import { createPlatform, type Platform } from '../runtime.ts'
import { createScratchDatabase } from './scratch-database.ts'
import { routingCheckFromEnv, type StatementCapture } from './statement-capture.ts'

export interface TestDatabaseOptions {
  /**
   * PostgreSQL only: a read replica for `readDb`: 'same' reads through a second, read-only pool
   * on the test database itself (as a replica without lag), or a URL (e.g. one nobody listens on).
   */
  readReplica?: 'same' | string
  /** Connections per pool (default 10). */
  poolSize?: number
}

/**
 * A fresh database for one test file: PostgreSQL when TEST_DATABASE_URL is set (a new database
 * created on that server and dropped at close), otherwise an in-memory PGlite with PostGIS.
 */
export async function openTestDatabase(opts: TestDatabaseOptions = {}): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL
  if (!url) return openDatabase({ dataDir: 'memory://' })
  const scratch = await createScratchDatabase(url, `hb_test_${process.pid}_${randomBytes(4).toString('hex')}`)
  const readUrl = opts.readReplica === 'same' ? scratch.url : opts.readReplica
  const database = await openDatabase({ databaseUrl: scratch.url, dataDir: '', readUrl, poolSize: opts.poolSize })
  return {
    ...database,
    async close() {
      await database.close()
      await scratch.drop()
    },
  }
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    // Each test process keeps its own data folder (and so its own gateway journal folder): a node
    // adopts dead nodes' journals in its folder, and one test database must not receive another
    // test process's records.
    ...loadConfig({ NODE_ENV: 'test', DATA_DIR: `/tmp/hoaban-test-${process.pid}`, SEED_DEMO: 'false' }),
    uploadDir: `/tmp/hoaban-test-uploads-${process.pid}`,
    rateLimitPerIp: 100_000,
    rateLimitPerClient: 100_000,
    runJobs: false,
    ...overrides,
  }
}

export interface TestPlatformOptions {
  config?: Partial<Config>
  database?: TestDatabaseOptions
  modules?: Module[]
  clock?: () => Date
  /** Sees every statement the platform sends once it is started (migrations and seeding unseen). */
  capture?: StatementCapture
}

/**
 * The whole platform on a fresh test database, not listening (use app.inject). One per test
 * file: it is slow to create; each test makes its own rows.
 */
export async function startTestPlatform(opts: TestPlatformOptions = {}): Promise<Platform> {
  const { allModules, principalResolver } = await import('../../modules/index.ts')
  const database = await openTestDatabase(opts.database)
  const capture = opts.capture ?? routingCheckFromEnv()
  try {
    const platform = await createPlatform({
      config: testConfig(opts.config),
      modules: opts.modules ?? allModules,
      principalResolver,
      database: capture ? capture.wrap(database) : database,
      clock: opts.clock,
    })
    if (capture) capture.enabled = true
    return {
      ...platform,
      async close() {
        await platform.close()
        await database.close()
      },
    }
  } catch (err) {
    await database.close()
    throw err
  }
}
