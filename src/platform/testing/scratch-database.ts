import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'

/** A fresh database on a PostgreSQL server, for a test file or a bench run. */
export interface ScratchDatabase {
  /** Connection string of the new database. */
  url: string
  /** Drops it (closing anyone still connected). */
  drop(): Promise<void>
}

/** Creates `name` on the server of `serverUrl` (dropping a leftover of the same name first). */
export async function createScratchDatabase(serverUrl: string, name: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`)
  const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: serverUrl, max: 1 }) }) })
  await sql.raw(`drop database if exists ${name} with (force)`).execute(admin)
  await sql.raw(`create database ${name}`).execute(admin)
  const u = new URL(serverUrl)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    async drop() {
      await sql.raw(`drop database if exists ${name} with (force)`).execute(admin)
      await admin.destroy()
    },
  }
}
