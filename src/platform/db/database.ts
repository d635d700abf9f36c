import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { replicaDb, type ReplicaEvents } from './read-replica.ts'
import { serializedDialect } from './serialized-driver.ts'

/** The query layer every module uses. Modules type their own rows; the handle is shared. */
export type Db = Kysely<any>

export interface Database {
  db: Db
  /**
   * For routes that only read and tolerate a replica's lag (seconds): the read replica's pool
   * (DATABASE_READ_URL) with the primary as fallback, read-only connections. Without a replica,
   * and always on PGlite, the same handle as `db`.
   */
  readDb: Db
  /** Set when reads go to a replica: whether they are on the primary now because it could not be reached. */
  replica?: { readonly fallingBack: boolean }
  kind: 'pglite' | 'postgres'
  /** The province every connection carries as `hoaban.province_code` (OpenOptions.provinceCode). */
  provinceCode: string
  /**
   * Runs a multi-statement SQL script (a migration) inside the given transaction. PostgreSQL
   * takes it as one simple query; PGlite needs its exec() (its query() is a prepared statement),
   * which runs on the one connection the serialized transaction already holds.
   */
  execScript(tx: Db, text: string): Promise<void>
  /** PostgreSQL only: see CopyIn. */
  copyIn?: CopyIn
  /** Closes connections; for PGlite, flushes and closes the data folder and removes the lock marker. */
  close(): Promise<void>
}

/**
 * Bulk load on PostgreSQL: runs `copy <table> (<columns>) from stdin` with `text` (COPY text
 * format) as its data, on a connection of its own, as one statement (all rows or none). For
 * append-only tables written in bulk (the gateway's message log): the server parses COPY text at
 * about half the cost of the same rows as JSON (6.2 against 13 µs a row, measured, docs/benchmarks.md).
 * Not on PGlite. No `on conflict`: the caller falls back to an insert when it may hit a key.
 */
export type CopyIn = (statement: string, text: string) => Promise<void>

function copyInto(pool: pg.Pool): CopyIn {
  return async (statement, text) => {
    const client = await pool.connect()
    try {
      await pipeline(Readable.from([Buffer.from(text)]), client.query(copyFrom(statement)))
    } finally {
      client.release()
    }
  }
}

/** Thrown when the embedded data folder was left by a process that did not shut down cleanly. */
export class UncleanDataDirError extends Error {
  constructor(public readonly dataDir: string, public readonly previousPid: string) {
    super(
      [
        `The embedded database in ${dataDir} was not closed cleanly (process ${previousPid} stopped without shutting down: a crash, kill -9 or power loss).`,
        'Cơ sở dữ liệu nhúng chưa được đóng đúng cách ở lần chạy trước.',
        'What to do:',
        `  1. Make sure no other Hoa Ban process uses ${dataDir}.`,
        '  2. Start again with RECOVER_DATA_DIR=1 to let PostgreSQL (PGlite) replay its write-ahead log and check the data;',
        `     keep a copy first: cp -a ${dataDir} ${dataDir}.bak`,
        '  3. If it still cannot open, restore the folder from your last backup.',
        'For production use PostgreSQL (DATABASE_URL), which recovers from crashes by itself.',
      ].join('\n'),
    )
  }
}

export interface OpenOptions {
  databaseUrl?: string
  /** Folder for the embedded database (ignored with databaseUrl). `memory://` keeps it in memory. */
  dataDir: string
  /** Open a data folder even though its lock marker says the last process crashed. */
  recover?: boolean
  /** Pool size for PostgreSQL. */
  poolSize?: number
  /**
   * Named prepared statements on PostgreSQL (default on; DATABASE_PREPARE=false turns them off,
   * e.g. behind a PgBouncer in transaction mode older than 1.21, which cannot carry them).
   */
  prepare?: boolean
  /**
   * GSO code of the province this installation serves (default PROVINCE_CODE, else `11`, Điện
   * Biên). Every connection carries it as the setting `hoaban.province_code`, which the
   * `province_code` column defaults of the distributed tables read (docs/scaling.md,
   * "Distribution key (Citus)").
   */
  provinceCode?: string
  /** A streaming replica of databaseUrl for read-only routes (DATABASE_READ_URL); PostgreSQL only. */
  readUrl?: string
  /** Told when reads fall back to the primary and when the replica answers again. */
  replicaEvents?: ReplicaEvents
}

/** The custom setting every connection carries: the province its rows belong to. */
export const PROVINCE_SETTING = 'hoaban.province_code'

/** Checks a province code before it goes into a connection option or a SQL literal. */
export function checkProvinceCode(code: string): string {
  if (!/^[0-9]{2,3}$/.test(code)) throw new Error(`PROVINCE_CODE must be the province's GSO code (2–3 digits), got "${code}"`)
  return code
}

/** Opens PostgreSQL (DATABASE_URL) or the embedded PGlite database with PostGIS. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const province = checkProvinceCode(opts.provinceCode ?? (process.env.PROVINCE_CODE || '11'))
  if (opts.databaseUrl) {
    const prepare = opts.prepare ?? !['0', 'false', 'no', 'off'].includes((process.env.DATABASE_PREPARE ?? '').toLowerCase())
    return openPostgres(opts.databaseUrl, opts.poolSize ?? 10, prepare, province, opts.readUrl ? { url: opts.readUrl, events: opts.replicaEvents ?? {} } : undefined)
  }
  if (opts.readUrl) throw new Error('DATABASE_READ_URL needs DATABASE_URL: the embedded database has no replicas')
  return openPGlite(opts.dataDir, opts.recover ?? false, province)
}

/**
 * A client that sends each parameterised statement as a named prepared statement, so PostgreSQL
 * parses and analyses a given SQL text once per connection instead of on every call. At most
 * PREPARED_PER_CONNECTION distinct texts are kept per connection (texts built with a varying number
 * of placeholders would otherwise grow the server's memory); later ones go unnamed as before.
 */
const PREPARED_PER_CONNECTION = 400
class PreparingClient extends pg.Client {
  #names = new Map<string, string>()
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && typeof callback !== 'function') {
      let name = this.#names.get(config)
      if (!name && this.#names.size < PREPARED_PER_CONNECTION) this.#names.set(config, (name = `hb${this.#names.size}`))
      if (name) return super.query({ name, text: config, values } as pg.QueryConfig)
    }
    return (super.query as (...a: unknown[]) => unknown)(config, values, callback)
  }
}

async function openPostgres(url: string, max: number, prepare: boolean, province: string, read?: { url: string; events: ReplicaEvents }): Promise<Database> {
  // The province travels in the start-up packet (no extra round trip per connection). An
  // `options` parameter in DATABASE_URL replaces it; the database default set at migrate
  // (`alter database … set hoaban.province_code`, see migrate.ts) then still applies.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, options: `-c ${PROVINCE_SETTING}=${province}`, ...(prepare ? { Client: PreparingClient } : {}) })
  // A dropped idle connection (server restart) must not crash the process.
  pool.on('error', () => {})
  // A connection that dies while checked out (mid-transaction, between queries) emits 'error' on
  // its client, where the pool's listener is not attached: without this, a PostgreSQL restart
  // crashes the process. The query in flight fails and is answered 503 (see error-handler.ts).
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  await sql`select 1`.execute(db)
  // what the primary gives with or without a replica
  const primary = { db, kind: 'postgres' as const, provinceCode: province, execScript: async (tx: Db, text: string) => void (await sql.raw(text).execute(tx)), copyIn: copyInto(pool) }
  if (!read) return { ...primary, readDb: db, close: () => db.destroy() }
  // The replica: read-only connections (as a hot standby's are), a short connect timeout so that
  // an unreachable replica costs a read at most 2 s before it falls back to the primary.
  const replicaPool = new pg.Pool({
    connectionString: read.url, max, connectionTimeoutMillis: 2000, application_name: 'hoaban-read',
    options: `-c ${PROVINCE_SETTING}=${province} -c default_transaction_read_only=on`, ...(prepare ? { Client: PreparingClient } : {}),
  })
  replicaPool.on('error', () => {})
  replicaPool.on('connect', (client) => client.on('error', () => {}))
  const replica = replicaDb(replicaPool, pool, read.events)
  return {
    ...primary, readDb: replica.db, replica: replica.driver,
    close: async () => {
      await replica.db.destroy()
      await db.destroy()
    },
  }
}

async function openPGlite(dataDir: string, recover: boolean, province: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { postgis } = await import('@electric-sql/pglite-postgis')
  const { KyselyPGlite } = await import('kysely-pglite')
  const inMemory = dataDir.startsWith('memory://')
  const pgDir = inMemory ? dataDir : join(dataDir, 'pglite')
  const lockFile = join(dataDir, 'hoaban.lock')
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true })
    if (existsSync(lockFile)) {
      const pid = readFileSync(lockFile, 'utf8').trim()
      if (pidAlive(Number(pid)) && Number(pid) !== process.pid) {
        throw new Error(`The data folder ${dataDir} is in use by process ${pid}. PGlite allows one process per folder; stop it first or use DATABASE_URL.`)
      }
      if (!recover) throw new UncleanDataDirError(dataDir, pid)
    }
    writeFileSync(lockFile, String(process.pid))
  }
  let client
  try {
    client = await PGlite.create({ dataDir: pgDir, extensions: { postgis } })
  } catch (err) {
    if (!inMemory) rmSync(lockFile, { force: true })
    throw new Error(`Could not open the embedded database in ${pgDir}: ${(err as Error).message}. Restore it from a backup or move it away to start empty.`)
  }
  // PGlite is one connection: a session setting covers every later statement.
  await client.exec(`set ${PROVINCE_SETTING} = '${province}'`)
  const db = new Kysely<any>({ dialect: serializedDialect(new KyselyPGlite(client).dialect) })
  let closed = false
  return {
    db,
    readDb: db,
    kind: 'pglite',
    provinceCode: province,
    async execScript(_tx, text) {
      await client.exec(text)
    },
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
      if (!client.closed) await client.close()
      if (!inMemory) rmSync(lockFile, { force: true })
    },
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
