import { sql } from 'kysely'
import { appendAudit } from '../audit/audit-log.ts'
import type { Db } from '../db/database.ts'
import type { JobRunner } from '../jobs/job-runner.ts'

/**
 * Retention of the outbox (issue 10 §3): `outbox_events` grows with every change and cannot be
 * partitioned by month cheaply (the dispatcher marks rows by id alone). Delivered events are
 * only needed for replay into a new read model (IOC backfill) and for backtesting rules against
 * history ("what would this rule have done last month"), so they are kept OUTBOX_RETENTION_DAYS
 * (default 400: a year of backtesting and a month's margin) and then deleted in batches by this
 * daily job. Pending (undelivered) events are never deleted, however old.
 */
export const OUTBOX_RETENTION_JOB = 'platform.outbox-retention'
/** Daily at 02:41 Asia/Ho_Chi_Minh, after the month partitions job. */
export const OUTBOX_RETENTION_CRON = '41 2 * * *'
export const DEFAULT_OUTBOX_RETENTION_DAYS = 400

/** Days to keep delivered events, from OUTBOX_RETENTION_DAYS (at least 31: backtests read last month). */
export function outboxRetentionDays(env: Readonly<Record<string, string | undefined>>): number {
  const n = Number.parseInt(env.OUTBOX_RETENTION_DAYS ?? '', 10)
  return Number.isFinite(n) ? Math.max(31, n) : DEFAULT_OUTBOX_RETENTION_DAYS
}

/**
 * Deletes delivered events created before `before`, oldest first, `batch` rows per transaction
 * (short locks, bounded WAL per commit), at most `maxBatches` batches per call; each batch is
 * recorded in the audit log with its id range and count. Answers how many were deleted.
 */
export async function pruneDeliveredEvents(db: Db, before: Date, now: Date, opts: { batch?: number; maxBatches?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 10_000
  let total = 0
  for (let i = 0; i < (opts.maxBatches ?? 100); i++) {
    const n = await db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ n: number; first: string | null; last: string | null }>`
        with doomed as (
          select id from outbox_events where dispatched_at is not null and created_at < ${before.toISOString()}::timestamptz
          order by created_at, id limit ${batch}
        ), gone as (
          delete from outbox_events o using doomed d where o.id = d.id returning o.id
        )
        select count(*)::int as n, min(id)::text as first, max(id)::text as last from gone`.execute(tx)
      const r = rows[0]
      if (r.n > 0) {
        await appendAudit(tx, { actor: 'system', action: 'outbox.pruned', entityType: 'outbox_events', entityId: `${r.first}..${r.last}`, data: { deleted: r.n, created_before: before.toISOString() } }, now)
      }
      return r.n
    })
    total += n
    if (n < batch) break
  }
  return total
}

/** Registers the daily retention job (called by the platform at start). */
export function scheduleOutboxRetention(jobs: JobRunner, days: number, onPruned?: (deleted: number) => void): void {
  jobs.schedule({ name: OUTBOX_RETENTION_JOB, cron: OUTBOX_RETENTION_CRON }, async ({ db, now }) => {
    const deleted = await pruneDeliveredEvents(db, new Date(now.getTime() - days * 86_400_000), now)
    if (deleted > 0) onPruned?.(deleted)
  })
}
