import { Kysely, PostgresAdapter, PostgresDriver, PostgresIntrospector, PostgresQueryCompiler, type DatabaseConnection, type Dialect, type Driver, type TransactionSettings } from 'kysely'
import type pg from 'pg'
import type { Db } from './database.ts'

/** What the read pool reports: each time it falls back to the primary, and when the replica answers again. */
export interface ReplicaEvents {
  onFallback?: (err: unknown) => void
  onRecovered?: () => void
}

/** How long reads stay on the primary after the replica could not be reached, before it is tried again. */
export const REPLICA_RETRY_MS = 10_000

/**
 * The driver behind `readDb` (a streaming replica): every connection is taken from the replica's
 * pool; when the replica cannot be reached (connection refused, timeout, server starting or
 * shutting down), the read goes to the primary's pool instead and the replica is left alone for
 * `retryMs`. A query that fails once its connection is taken is not retried elsewhere: it fails
 * like any query (503 by the error handler). Each connection is given back to the pool it came from.
 */
export class ReplicaFallbackDriver implements Driver {
  readonly #from = new WeakMap<DatabaseConnection, Driver>()
  #downUntil = 0
  #down = false

  constructor(
    private readonly replica: Driver,
    private readonly primary: Driver,
    private readonly events: ReplicaEvents = {},
    private readonly retryMs = REPLICA_RETRY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async init(): Promise<void> {
    await this.replica.init()
    await this.primary.init()
  }

  /**
   * True from a failed connection to the replica until one succeeds again: reads are on the
   * primary (after `retryMs` the next read tries the replica once more).
   */
  get fallingBack(): boolean {
    return this.#down
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#down || this.now() >= this.#downUntil) {
      try {
        const c = await this.replica.acquireConnection()
        this.#from.set(c, this.replica)
        if (this.#down) {
          this.#down = false
          this.events.onRecovered?.()
        }
        return c
      } catch (err) {
        this.#down = true
        this.#downUntil = this.now() + this.retryMs
        this.events.onFallback?.(err)
      }
    }
    const c = await this.primary.acquireConnection()
    this.#from.set(c, this.primary)
    return c
  }

  #owner(c: DatabaseConnection): Driver {
    const d = this.#from.get(c)
    if (!d) throw new Error('connection not acquired through the read pool')
    return d
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#owner(c).beginTransaction(c, settings)
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.#owner(c).commitTransaction(c)
  }

  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.#owner(c).rollbackTransaction(c)
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.#owner(c).releaseConnection(c)
  }

  /** Ends the replica's pool only: the primary's belongs to the primary's Kysely. */
  destroy(): Promise<void> {
    return this.replica.destroy()
  }
}

/**
 * The query layer for routes that only read and tolerate a replica's lag: the replica's pool with
 * the primary's as fallback. Connections are opened read-only (`default_transaction_read_only`),
 * as a replica is, so a route that writes through it fails in tests even when the read URL
 * points at the primary.
 */
export function replicaDb(replicaPool: pg.Pool, primaryPool: pg.Pool, events: ReplicaEvents = {}): { db: Db; driver: ReplicaFallbackDriver } {
  const driver = new ReplicaFallbackDriver(new PostgresDriver({ pool: replicaPool }), new PostgresDriver({ pool: primaryPool }), events)
  const dialect: Dialect = {
    createDriver: () => driver,
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  }
  return { db: new Kysely<any>({ dialect }), driver }
}
