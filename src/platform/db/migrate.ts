import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Database, Db } from './database.ts'

/** A folder of forward-only SQL migrations (`001_name.sql`, …) owned by one module. */
export interface MigrationSource {
  /** Module name, the prefix of each migration's id (`reports/002_photos.sql`). */
  module: string
  dir: string
}

interface Migration {
  id: string
  sql: string
  checksum: string
}

function readMigrations(sources: MigrationSource[]): Migration[] {
  const all: Migration[] = []
  for (const s of sources) {
    const files = readdirSync(s.dir).filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f)).sort()
    for (const f of files) {
      const text = readFileSync(join(s.dir, f), 'utf8')
      all.push({ id: `${s.module}/${f}`, sql: text, checksum: createHash('sha256').update(text).digest('hex') })
    }
  }
  return all
}

/**
 * Makes the province the database's default for `hoaban.province_code`, so an ad-hoc client
 * (psql, a backup restore, a report tool) that inserts a row gets the same province as the
 * platform. Skipped (no write) when it is already set; a role that may not alter the database
 * leaves it unset, and such a client's insert then fails with "unrecognized configuration
 * parameter" instead of writing a row of no province (it must `set hoaban.province_code` first).
 */
async function setDatabaseDefaultProvince(conn: Db): Promise<void> {
  try {
    await sql`do $$
      declare cur text;
      begin
        select split_part(c, '=', 2) into cur
          from pg_db_role_setting s, unnest(s.setconfig) c
          where s.setrole = 0 and s.setdatabase = (select oid from pg_database where datname = current_database())
            and c like 'hoaban.province_code=%';
        if cur is distinct from current_setting('hoaban.province_code') then
          execute format('alter database %I set hoaban.province_code = %L', current_database(), current_setting('hoaban.province_code'));
        end if;
      end $$`.execute(conn)
  } catch {
    // Not the database owner: connections opened by openDatabase carry the setting anyway.
  }
}

/**
 * Applies the migrations not yet applied, in the order given (modules in list order, files by
 * number), each in its own transaction. An applied migration whose file has since changed stops
 * start-up: migrations are forward-only, a mistake is fixed by the next one. Several nodes may
 * start at once: an advisory lock lets one migrate while the others wait.
 */
export async function migrate(database: Database, sources: MigrationSource[]): Promise<string[]> {
  const migrations = readMigrations(sources)
  const { db } = database
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(727274001)`.execute(conn)
    try {
      // The province_code column defaults read this setting; openDatabase already sets it on
      // every connection, this makes the runner self-sufficient for any Database handed to it.
      await sql`select set_config('hoaban.province_code', ${database.provinceCode}, false)`.execute(conn)
      await sql`create table if not exists schema_migrations (
        id text primary key, checksum text not null, applied_at timestamptz not null default now())`.execute(conn)
      const applied = new Map(
        (await sql<{ id: string; checksum: string }>`select id, checksum from schema_migrations`.execute(conn)).rows.map((r) => [r.id, r.checksum]),
      )
      const done: string[] = []
      for (const m of migrations) {
        const seen = applied.get(m.id)
        if (seen !== undefined) {
          if (seen !== m.checksum) throw new Error(`Migration ${m.id} was changed after it was applied. Migrations are forward-only: restore the file and add a new migration.`)
          continue
        }
        await conn.transaction().execute(async (tx) => {
          await database.execScript(tx, m.sql)
          await sql`insert into schema_migrations (id, checksum) values (${m.id}, ${m.checksum})`.execute(tx)
        })
        done.push(m.id)
      }
      await setDatabaseDefaultProvince(conn)
      return done
    } finally {
      await sql`select pg_advisory_unlock(727274001)`.execute(conn)
    }
  })
}
