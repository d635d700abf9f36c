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

// ---- Facts for the IOC roll-ups and monthly analysis ----

/**
 * Read-only facts about reports for other modules (the IOC roll-ups and monthly analysis):
 * no personal data, only what aggregates need.
 */
export interface ReportFact {
  code: string
  unit_code: string
  commune_code: string | null
  category: string
  channel: string
  status: string
  received_at: Date
  due_at: Date | null
  resolved_at: Date | null
  rating: number | null
}

/** Reports in code order after a cursor, for rebuilding roll-ups (backfill). */
export async function listReportFacts(db: Db, opts: { afterCode?: string; limit: number }): Promise<ReportFact[]> {
  const { rows } = await sql<ReportFact>`
    select code, unit_code, commune_code, category_code as category, channel, status, created_at as received_at, due_at, resolved_at, rating
    from reports where merged_into is null and code > ${opts.afterCode ?? ''}
    order by code limit ${opts.limit}`.execute(db)
  return rows
}

/** Rated reports changed since an instant (ratings do not emit events). */
export async function listRatedReportsSince(db: Db, since: Date, limit: number): Promise<(ReportFact & { updated_at: Date })[]> {
  const { rows } = await sql<ReportFact & { updated_at: Date }>`
    select code, unit_code, commune_code, category_code as category, channel, status, created_at as received_at, due_at, resolved_at, rating, updated_at
    from reports where rating is not null and updated_at > ${since.toISOString()}
    order by updated_at, code limit ${limit}`.execute(db)
  return rows
}

export interface ReportHotSpot {
  cluster: number
  size: number
  lat: number
  lon: number
  radius_m: number
  top_category: string
  top_category_count: number
  commune_code: string | null
  unit_code: string
  codes: string[]
}

/**
 * Spatial clusters of reports received in [from, to) with PostGIS ST_ClusterDBSCAN: points
 * within `epsMeters` of each other (metres converted to degrees at the province's latitude),
 * at least `minPoints` per cluster. Largest first.
 */
export async function clusterReportLocations(db: Db, opts: { from: Date; to: Date; epsMeters: number; minPoints: number; limit: number }): Promise<ReportHotSpot[]> {
  const epsDeg = opts.epsMeters / 111_320
  const { rows } = await sql<{ cluster: number; size: number; lat: number; lon: number; radius_m: number; top_category: string; top_category_count: number; commune_code: string | null; unit_code: string; codes: string[] }>`
    with pts as (
      select code, category_code, commune_code, unit_code, location,
        ST_ClusterDBSCAN(location, eps := ${epsDeg}::float8, minpoints := ${opts.minPoints}::int) over () as cid
      from reports
      where location is not null and merged_into is null
        and created_at >= ${opts.from.toISOString()} and created_at < ${opts.to.toISOString()}
    ), clusters as (
      select cid, count(*)::int as size, ST_Centroid(ST_Collect(location)) as c, array_agg(code order by code) as codes
      from pts where cid is not null group by cid
    ), cats as (
      select distinct on (cid) cid, category_code, count(*)::int as n
      from pts where cid is not null group by cid, category_code order by cid, count(*) desc, category_code
    ), places as (
      select distinct on (cid) cid, commune_code, unit_code
      from pts where cid is not null group by cid, commune_code, unit_code order by cid, count(*) desc, commune_code
    )
    select c.cid as cluster, c.size, ST_Y(c.c) as lat, ST_X(c.c) as lon,
      (select max(ST_Distance(p.location::geography, c.c::geography)) from pts p where p.cid = c.cid) as radius_m,
      k.category_code as top_category, k.n as top_category_count, pl.commune_code, pl.unit_code, c.codes
    from clusters c join cats k on k.cid = c.cid join places pl on pl.cid = c.cid
    order by c.size desc, c.cid limit ${opts.limit}`.execute(db)
  return rows.map((r) => ({ ...r, lat: Number(r.lat), lon: Number(r.lon), radius_m: Math.round(Number(r.radius_m ?? 0)), codes: r.codes.slice(0, 20) }))
}

/** Report texts received in [from, to), for topic analysis (descriptions are public). */
export async function listReportTexts(db: Db, opts: { from: Date; to: Date; limit: number }): Promise<{ code: string; description: string; category: string; unit_code: string; commune_code: string | null }[]> {
  const { rows } = await sql<{ code: string; description: string; category: string; unit_code: string; commune_code: string | null }>`
    select code, description, category_code as category, unit_code, commune_code from reports
    where merged_into is null and created_at >= ${opts.from.toISOString()} and created_at < ${opts.to.toISOString()}
    order by created_at limit ${opts.limit}`.execute(db)
  return rows
}

/** Category names (lĩnh vực phản ánh) for labels. */
export async function reportCategoryNames(db: Db): Promise<Map<string, { name_vi: string; name_en: string }>> {
  const { rows } = await sql<{ code: string; name_vi: string; name_en: string }>`select code, name_vi, name_en from report_categories`.execute(db)
  return new Map(rows.map((r) => [r.code, { name_vi: r.name_vi, name_en: r.name_en }]))
}
