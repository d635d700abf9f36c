import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { listRatedReportsSince, listReportFacts } from '../reports/facts.ts'
import { listDossierFacts, listDossierStepTimes } from '../services/dossiers/facts.ts'
import {
  applyFactDeltas, applyRating, applyStepDeltas, dossierOpenItem, foldDossierReceived, foldDossierResolved, foldDossierReturned, foldReportCreated,
  foldReportFinished, foldStep, upsertOpenItem, type FactDelta, type StepDelta,
} from './rollups.ts'

const BATCH = 1000
const REPORT_OPEN = ['received', 'assigned', 'in_progress']

/** The day-keyed roll-up tables, partitioned by month on `day` (migration 006). */
export const DAY_PARTITIONED_TABLES = ['ioc_daily_facts', 'ioc_duration_buckets', 'ioc_daily_coarse', 'ioc_daily_coarse_buckets']

/**
 * Creates the month partitions of the day-keyed tables from the oldest day of the facts it is
 * given through the current month, once per older month seen (a rebuild may fold years of
 * reports into a database whose partitions start at its migration's month; without this those
 * days would all go to the default partitions). Call it in the transaction that writes the facts,
 * before writing them. A month whose days already sit in a default partition is left there
 * (platform/006 month_partition_create); the rebuild deletes its province's rows first, so on a
 * database of one province it has none.
 */
export class MonthPartitionCover {
  private from: string | undefined
  async cover(tx: Db, facts: { day: string }[]): Promise<void> {
    let min: string | undefined
    for (const f of facts) if (min === undefined || f.day < min) min = f.day
    if (min === undefined || (this.from !== undefined && min.slice(0, 7) >= this.from)) return
    for (const t of DAY_PARTITIONED_TABLES) {
      await sql`select ensure_month_partitions(${t}, ${min}::date::timestamp at time zone 'UTC', now(), 0)`.execute(tx)
    }
    this.from = min.slice(0, 7)
  }
}

/**
 * Rebuilds every roll-up from the owning modules' read functions, in one transaction. Events
 * already in the outbox at that moment describe changes the rebuild has read, so they are
 * marked as folded: nothing is counted twice when they are delivered afterwards.
 */
export async function rebuildRollups(db: Db): Promise<{ reports: number; dossiers: number }> {
  return db.transaction().execute(async (tx) => {
    await sql`lock table ioc_processed_events in exclusive mode`.execute(tx)
    for (const t of ['ioc_daily_facts', 'ioc_duration_buckets', 'ioc_monthly_facts', 'ioc_monthly_duration_buckets', 'ioc_daily_coarse', 'ioc_monthly_coarse', 'ioc_daily_coarse_buckets', 'ioc_monthly_coarse_buckets', 'ioc_step_facts', 'ioc_open_items', 'ioc_report_ratings']) {
      // Only this node's province (the key's last column, ioc/007): another province's roll-ups
      // on a shared database, or on Citus, are not this rebuild's to delete.
      await sql`delete from ${sql.table(t)} where province_code = current_setting('hoaban.province_code')`.execute(tx)
    }
    await sql`insert into ioc_processed_events (event_id)
      select id from outbox_events where topic in ('report.created', 'report.status_changed', 'dossier.status_changed')
      on conflict do nothing`.execute(tx)

    const months = new MonthPartitionCover()
    let reports = 0
    let after: string | undefined
    for (;;) {
      const batch = await listReportFacts(tx, { afterCode: after, limit: BATCH })
      if (batch.length === 0) break
      const facts: FactDelta[] = []
      for (const r of batch) {
        const { facts: created, open } = foldReportCreated({ code: r.code, unit_code: r.unit_code, commune_code: r.commune_code, category: r.category, channel: r.channel, received_at: r.received_at.toISOString(), due_at: r.due_at?.toISOString() ?? null }, r.received_at)
        facts.push(...created)
        if (REPORT_OPEN.includes(r.status)) await upsertOpenItem(tx, { ...open, unit_code: r.unit_code, last_step: r.status })
        else if (r.resolved_at) facts.push(...foldReportFinished(open, r.resolved_at, 'resolved'))
      }
      await months.cover(tx, facts)
      await applyFactDeltas(tx, facts)
      reports += batch.length
      after = batch[batch.length - 1]!.code
    }
    await syncRatings(tx, new Date(0))

    let dossiers = 0
    after = undefined
    for (;;) {
      const batch = await listDossierFacts(tx, { afterCode: after, limit: BATCH })
      if (batch.length === 0) break
      const stepTimes = await listDossierStepTimes(tx, batch.map((d) => d.code))
      const facts: FactDelta[] = []
      const steps: StepDelta[] = []
      for (const d of batch) {
        let item = dossierOpenItem(d.code, d, null, d.submitted_at)
        for (const s of stepTimes.filter((x) => x.code === d.code)) {
          steps.push(...foldStep(item, s.at))
          item = { ...item, last_step: s.step, last_at: s.at }
        }
        if (d.received_at) facts.push(...foldDossierReceived(item, d.received_at, d))
        if (d.resolved_at) facts.push(...foldDossierResolved(item, d.resolved_at, d.timeliness))
        if (d.status === 10) facts.push(...foldDossierReturned(item, stepTimes.filter((x) => x.code === d.code && x.to_status === 10).at(-1)?.at ?? d.resolved_at ?? d.submitted_at, d))
        if (![3, 7, 8, 10].includes(d.status)) await upsertOpenItem(tx, item)
      }
      await months.cover(tx, facts)
      await applyFactDeltas(tx, facts)
      await applyStepDeltas(tx, steps)
      dossiers += batch.length
      after = batch[batch.length - 1]!.code
    }
    return { reports, dossiers }
  })
}

/** Folds ratings given since an instant (ratings change no status, so they send no event). */
export async function syncRatings(db: Db, since: Date): Promise<number> {
  let n = 0
  let cursor = since
  for (;;) {
    const batch = await listRatedReportsSince(db, cursor, BATCH)
    for (const r of batch) if (r.rating !== null && (await applyRating(db, { ...r, rating: r.rating }))) n++
    if (batch.length < BATCH) break
    cursor = batch[batch.length - 1]!.updated_at
  }
  return n
}
