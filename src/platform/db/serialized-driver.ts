import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely'

/**
 * PGlite is one connection. kysely-pglite hands that same connection to every caller, so two
 * concurrent Kysely transactions interleave their statements (measured: a rolled-back
 * transaction's insert survived because another request's COMMIT committed it). This wrapper
 * makes each acquired connection exclusive until it is released: a transaction, or a single
 * statement, runs alone.
 */
export function serializedDialect(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => new SerializedDriver(inner.createDriver()),
  }
}

class SerializedDriver implements Driver {
  #tail: Promise<void> = Promise.resolve()
  #release = new Map<DatabaseConnection, () => void>()
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const previous = this.#tail
    this.#tail = previous.then(() => mine)
    await previous
    const conn = await this.inner.acquireConnection()
    this.#release.set(conn, release)
    return conn
  }

  beginTransaction(c: DatabaseConnection, s: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(c, s)
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(c)
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(c)
  }

  async releaseConnection(c: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(c)
    } finally {
      const release = this.#release.get(c)
      this.#release.delete(c)
      release?.()
    }
  }

  destroy(): Promise<void> {
    return this.inner.destroy()
  }
}
