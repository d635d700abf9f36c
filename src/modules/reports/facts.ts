/**
 * Read-only facts about field reports for other modules (the IOC rules engine), each "as of" an
 * instant so the same question can be asked of the past (backtests) and of now. Only stored
 * timestamps are used (created, due, resolved, closed), never the current status alone.
 */
import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'

export interface OverdueReportCandidate {
  code: string
  unit_code: string
  commune_code: string | null
  category_code: string
  created_at: Date
  due_at: Date
}

/**
 * Reports that were open at `asOf` (created before it, neither resolved nor closed by then) and
 * whose overall due time had passed by then (or, narrower, was before `dueBefore`). The caller
 * decides how late counts as overdue (e.g. more than one working day). Latest due first (the
 * newest facts come first when there are more than `limit`).
 */
export async function overdueReportCandidatesAsOf(db: Db, asOf: Date, limit = 5000, dueBefore: Date = asOf): Promise<OverdueReportCandidate[]> {
  const t = asOf.toISOString()
  const { rows } = await sql<OverdueReportCandidate>`select code, unit_code, commune_code, category_code, created_at, due_at from reports
    where due_at < ${(dueBefore < asOf ? dueBefore : asOf).toISOString()} and created_at <= ${t}
      and (resolved_at is null or resolved_at > ${t}) and (closed_at is null or closed_at > ${t})
      and merged_into is null
    order by due_at desc, code limit ${limit}`.execute(db)
  return rows
}

export interface CommuneReportActivity {
  commune_code: string
  /** Reports created in (asOf − windowDays, asOf]. */
  recent: number
  /** Reports created in the window before that: (asOf − 2·windowDays, asOf − windowDays]. */
  previous: number
  /** The last report created at or before asOf. */
  last_report_at: Date
}

/** Per commune, how many reports arrived in the last window and in the window before it (as of `asOf`). */
export async function communeReportActivityAsOf(db: Db, asOf: Date, windowDays: number): Promise<CommuneReportActivity[]> {
  const t = asOf.toISOString()
  const { rows } = await sql<{ commune_code: string; recent: number; previous: number; last_report_at: Date }>`
    select commune_code,
      count(*) filter (where created_at > ${t}::timestamptz - make_interval(days => ${windowDays}))::int as recent,
      count(*) filter (where created_at <= ${t}::timestamptz - make_interval(days => ${windowDays}))::int as previous,
      max(created_at) as last_report_at
    from reports
    where commune_code is not null and created_at <= ${t} and created_at > ${t}::timestamptz - make_interval(days => ${2 * windowDays})
    group by commune_code order by commune_code`.execute(db)
  return rows
}

/** The last report of a commune at or before `asOf` (null when none). */
export async function lastCommuneReportAt(db: Db, communeCode: string, asOf: Date): Promise<Date | null> {
  const { rows } = await sql<{ at: Date | null }>`select max(created_at) as at from reports where commune_code = ${communeCode} and created_at <= ${asOf.toISOString()}`.execute(db)
  return rows[0]?.at ?? null
}
