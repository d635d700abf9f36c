import { sql } from 'kysely'
import type { Db } from './database.ts'
import type { JobRunner } from '../jobs/job-runner.ts'

/** Schedule name of the job that creates monthly partitions ahead. */
export const MONTH_PARTITIONS_JOB = 'platform.month-partitions'
/** Daily at 02:17 Asia/Ho_Chi_Minh. */
export const MONTH_PARTITIONS_CRON = '17 2 * * *'
/** Months created ahead of the current (UTC) month. */
export const MONTHS_AHEAD = 3

/**
 * The tables partitioned by month (platform/006 and the modules' partition migrations): every
 * range-partitioned table that has a `<name>_default` partition. Found in the catalogue, so a
 * module that adds such a table needs no registration here.
 */
export async function monthPartitionedTables(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_partitioned_table p
    join pg_class c on c.oid = p.partrelid
    join pg_namespace n on n.oid = c.relnamespace
    where p.partstrat = 'r' and n.nspname = current_schema()
      and to_regclass(quote_ident(c.relname || '_default')) is not null
    order by 1`.execute(db)
  return rows.map((r) => r.name)
}

/**
 * Creates the month partitions from `now`'s UTC month through `ahead` months later for every
 * month-partitioned table. Idempotent; several nodes may run it at once (the SQL function takes
 * an advisory lock per table). A month whose rows already sit in the default partition is
 * skipped (see platform/006_month_partitions.sql). Returns partitions created per table.
 */
export async function ensureMonthPartitions(db: Db, now: Date, ahead = MONTHS_AHEAD): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of await monthPartitionedTables(db)) {
    const { rows } = await sql<{ n: number }>`select ensure_month_partitions(${t}, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, ${ahead}) as n`.execute(db)
    out[t] = rows[0].n
  }
  return out
}

/** Registers the daily job that creates month partitions ahead (called by the platform at start). */
export function scheduleMonthPartitions(jobs: JobRunner, onCreated?: (created: Record<string, number>) => void): void {
  jobs.schedule({ name: MONTH_PARTITIONS_JOB, cron: MONTH_PARTITIONS_CRON }, async ({ db, now }) => {
    const created = await ensureMonthPartitions(db, now)
    if (Object.values(created).some((n) => n > 0)) onCreated?.(created)
  })
}
