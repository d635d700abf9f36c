import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../platform/db/database.ts'

/*
 * Reports and their children are distributed on province_code (docs/scaling.md, "Distribution
 * key (Citus)"). Every statement that reads or changes them by id or code also names the node's
 * province (`province`, from config.provinceCode) as a bound parameter, so Citus sends it to one
 * shard; the children are joined on it (colocated). Inserts take the column's default.
 */

export type ReportStatus = 'received' | 'assigned' | 'in_progress' | 'resolved' | 'rejected' | 'closed'
export const OPEN_STATUSES: ReportStatus[] = ['received', 'assigned', 'in_progress']

export interface ReportRow {
  id: string
  code: string
  category_code: string
  description: string
  channel: string
  lat: number | null
  lon: number | null
  location_source: string
  address_text: string | null
  commune_code: string | null
  locate_status: string
  near_border: boolean
  distance_to_border_m: number | null
  boundary_version: string | null
  unit_code: string
  assignee_user_id: string | null
  status: ReportStatus
  outcome: string | null
  public_answer: string | null
  reject_reason: string | null
  reporter_user_id: string | null
  reporter_name: string | null
  reporter_phone: string | null
  reporter_email: string | null
  anonymous: boolean
  share_identity: boolean
  created_at: Date
  updated_at: Date
  state_entered_at: Date
  state_due_at: Date | null
  due_at: Date | null
  resolved_at: Date | null
  closed_at: Date | null
  escalation_level: number
  escalated_at: Date | null
  location_confirmed_at: Date | null
  rating: number | null
  rating_comment: string | null
  reopen_count: number
  merged_into: string | null
  supporters_count: number
  is_demo: boolean
}

export interface PhotoRow {
  report_id: string
  seq: number
  file_name: string
  thumb_name: string
  mime: string
  width: number
  height: number
  bytes: number
  sha256: string
}

const REPORT_COLUMNS = sql`r.id, r.code, r.category_code, r.description, r.channel,
  ST_Y(r.location) as lat, ST_X(r.location) as lon, r.location_source, r.address_text, r.commune_code,
  r.locate_status, r.near_border, r.distance_to_border_m, r.boundary_version, r.unit_code, r.assignee_user_id,
  r.status, r.outcome, r.public_answer, r.reject_reason, r.reporter_user_id, r.reporter_name, r.reporter_phone,
  r.reporter_email, r.anonymous, r.share_identity, r.created_at, r.updated_at, r.state_entered_at, r.state_due_at,
  r.due_at, r.resolved_at, r.closed_at, r.escalation_level, r.escalated_at, r.location_confirmed_at, r.rating,
  r.rating_comment, r.reopen_count, r.merged_into, r.supporters_count, r.is_demo`

/**
 * Takes the next tracking number of the year from its own sequence, creating the sequence on the
 * year's first report. Call it outside a transaction: a sequence is not transactional anyway,
 * and creating one inside a failed transaction would be lost.
 */
export async function nextReportNumber(db: Db, year: number): Promise<number> {
  if (!Number.isInteger(year) || year < 2000 || year > 2999) throw new Error(`bad year ${year}`)
  const seq = sql.raw(`report_number_${year}`)
  try {
    return Number((await sql<{ n: string }>`select nextval('${seq}')::text as n`.execute(db)).rows[0].n)
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01') throw err
    try {
      await sql`create sequence if not exists ${seq}`.execute(db)
    } catch (e) {
      // Two first reports of a year at once: the other one created it.
      if (!['23505', '42P07'].includes((e as { code?: string }).code ?? '')) throw e
    }
    return Number((await sql<{ n: string }>`select nextval('${seq}')::text as n`.execute(db)).rows[0].n)
  }
}

/** What intake writes: the row's own columns, before any workflow has touched it. */
export type NewReport = Pick<ReportRow,
  | 'code' | 'category_code' | 'description' | 'channel' | 'lat' | 'lon' | 'location_source' | 'address_text'
  | 'commune_code' | 'locate_status' | 'near_border' | 'distance_to_border_m' | 'boundary_version' | 'unit_code' | 'status'
  | 'reporter_user_id' | 'reporter_name' | 'reporter_phone' | 'reporter_email' | 'anonymous' | 'share_identity' | 'created_at'
> & { state_due_at: Date; due_at: Date; is_demo?: boolean }

/**
 * Inserts a report with its first history row in one statement. `alsoRun` are other
 * data-modifying statements (the outbox event) and `alsoSelect` an expression (the audit append)
 * folded into the same statement, to save round trips on the intake path.
 */
export async function insertReport(tx: Db, r: NewReport, extra: { history?: { actor: string; note: string }; alsoRun?: RawBuilder<unknown>[]; alsoSelect?: RawBuilder<unknown> } = {}): Promise<string> {
  const point = r.lat !== null && r.lon !== null ? sql`ST_SetSRID(ST_MakePoint(${r.lon}, ${r.lat}), 4326)` : sql`null`
  const at = r.created_at.toISOString()
  const others = (extra.alsoRun ?? []).map((stmt, i) => sql`, ${sql.raw(`also_${i}`)} as (${stmt})`)
  const history = extra.history
    ? sql`, history as (insert into report_history (report_id, at, actor, action, to_status, to_unit, note)
        select id, ${at}, ${extra.history.actor}, 'created', ${r.status}, ${r.unit_code}, ${extra.history.note} from inserted)`
    : sql``
  const { rows } = await sql<{ id: string }>`with inserted as (
      insert into reports (code, category_code, description, channel, location, location_source,
        address_text, commune_code, locate_status, near_border, distance_to_border_m, boundary_version, unit_code, status,
        reporter_user_id, reporter_name, reporter_phone, reporter_email, anonymous, share_identity,
        created_at, updated_at, state_entered_at, state_due_at, due_at, is_demo)
      values (${r.code}, ${r.category_code}, ${r.description}, ${r.channel}, ${point}, ${r.location_source},
        ${r.address_text}, ${r.commune_code}, ${r.locate_status}, ${r.near_border}, ${r.distance_to_border_m}, ${r.boundary_version}, ${r.unit_code}, ${r.status},
        ${r.reporter_user_id}::uuid, ${r.reporter_name}, ${r.reporter_phone}, ${r.reporter_email}, ${r.anonymous}, ${r.share_identity},
        ${at}, ${at}, ${at}, ${r.state_due_at.toISOString()}, ${r.due_at.toISOString()}, ${r.is_demo ?? false})
      returning id)${history}${others.length ? sql.join(others, sql``) : sql``}
    select id${extra.alsoSelect ? sql`, ${extra.alsoSelect} as also` : sql``} from inserted`.execute(tx)
  return rows[0].id
}

export async function insertPhoto(tx: Db, p: PhotoRow): Promise<void> {
  await sql`insert into report_photos (report_id, seq, file_name, thumb_name, mime, width, height, bytes, sha256)
    values (${p.report_id}::uuid, ${p.seq}, ${p.file_name}, ${p.thumb_name}, ${p.mime}, ${p.width}, ${p.height}, ${p.bytes}, ${p.sha256})`.execute(tx)
}

/** Across every province on purpose: photo files are content-addressed and may be shared by nodes (one store). */
export async function photoStillReferenced(db: Db, sha256: string): Promise<boolean> {
  return (await sql`select 1 from report_photos where sha256 = ${sha256} limit 1`.execute(db)).rows.length > 0
}

export async function listPhotos(db: Db, province: string, reportId: string): Promise<PhotoRow[]> {
  return (await sql<PhotoRow>`select report_id, seq, file_name, thumb_name, mime, width, height, bytes, sha256 from report_photos
    where report_id = ${reportId}::uuid and province_code = ${province} order by seq`.execute(db)).rows
}

export async function insertHistory(tx: Db, h: { reportId: string; at: Date; actor: string; action: string; fromStatus?: string | null; toStatus?: string | null; fromUnit?: string | null; toUnit?: string | null; note?: string | null }): Promise<void> {
  await sql`insert into report_history (report_id, at, actor, action, from_status, to_status, from_unit, to_unit, note)
    values (${h.reportId}::uuid, ${h.at.toISOString()}, ${h.actor}, ${h.action}, ${h.fromStatus ?? null}, ${h.toStatus ?? null}, ${h.fromUnit ?? null}, ${h.toUnit ?? null}, ${h.note ?? null})`.execute(tx)
}

export interface HistoryRow {
  at: Date
  actor: string
  action: string
  from_status: string | null
  to_status: string | null
  from_unit: string | null
  to_unit: string | null
  note: string | null
}

export async function listHistory(db: Db, province: string, reportId: string): Promise<HistoryRow[]> {
  return (await sql<HistoryRow>`select at, actor, action, from_status, to_status, from_unit, to_unit, note from report_history
    where report_id = ${reportId}::uuid and province_code = ${province} order by id`.execute(db)).rows
}

export async function getReportByCode(db: Db, province: string, code: string, opts: { forUpdate?: boolean } = {}): Promise<ReportRow | undefined> {
  return (await sql<ReportRow>`select ${REPORT_COLUMNS} from reports r where r.code = ${code} and r.province_code = ${province} ${opts.forUpdate ? sql`for update` : sql``}`.execute(db)).rows[0]
}

export async function getReportById(db: Db, province: string, id: string): Promise<ReportRow | undefined> {
  return (await sql<ReportRow>`select ${REPORT_COLUMNS} from reports r where r.id = ${id}::uuid and r.province_code = ${province}`.execute(db)).rows[0]
}

/** Applies a set of column changes to a report (column names are fixed by the caller, never user input). */
export async function updateReport(tx: Db, province: string, id: string, changes: Partial<Record<keyof ReportRow | 'location', unknown>>): Promise<void> {
  const sets = Object.entries(changes).map(([k, v]) => {
    if (k === 'location') {
      const p = v as { lat: number; lon: number } | null
      return p ? sql`location = ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)` : sql`location = null`
    }
    const val = v instanceof Date ? v.toISOString() : v
    return sql`${sql.ref(k)} = ${val}`
  })
  // Callers that replay history (demo data) set updated_at themselves.
  const touch = 'updated_at' in changes ? sql`` : sql`, updated_at = now()`
  await sql`update reports set ${sql.join(sets, sql`, `)}${touch} where id = ${id}::uuid and province_code = ${province}`.execute(tx)
}

export interface FeedFilter {
  bbox?: [number, number, number, number]
  category?: string
  status?: ReportStatus[]
  from?: Date
  to?: Date
  unitCode?: string
  communeCode?: string
  reporterUserId?: string
  overdueAt?: Date
  /** Keyset cursor: rows strictly after (created_at, id) in newest-first order. */
  after?: { createdAt: Date; id: string }
  limit: number
  includeMerged?: boolean
}

/** One page of reports, newest first, with optional filters (one per line). */
export async function listReports(db: Db, province: string, f: FeedFilter): Promise<ReportRow[]> {
  const where = [sql`r.province_code = ${province}`]
  if (!f.includeMerged) where.push(sql`r.merged_into is null`)
  if (f.bbox) where.push(sql`r.location && ST_MakeEnvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`)
  if (f.category) where.push(sql`r.category_code = ${f.category}`)
  if (f.status?.length) where.push(sql`r.status in (${sql.join(f.status)})`)
  if (f.from) where.push(sql`r.created_at >= ${f.from.toISOString()}`)
  if (f.to) where.push(sql`r.created_at < ${f.to.toISOString()}`)
  if (f.unitCode) where.push(sql`r.unit_code = ${f.unitCode}`)
  if (f.communeCode) where.push(sql`r.commune_code = ${f.communeCode}`)
  if (f.reporterUserId) where.push(sql`r.reporter_user_id = ${f.reporterUserId}::uuid`)
  if (f.overdueAt) where.push(sql`r.state_due_at < ${f.overdueAt.toISOString()} and r.status in ('received', 'assigned', 'in_progress')`)
  if (f.after) where.push(sql`(r.created_at, r.id) < (${f.after.createdAt.toISOString()}::timestamptz, ${f.after.id}::uuid)`)
  return (
    await sql<ReportRow>`select ${REPORT_COLUMNS} from reports r where ${sql.join(where, sql` and `)}
      order by r.created_at desc, r.id desc limit ${f.limit}`.execute(db)
  ).rows
}

/**
 * Open reports of a category within `meters` of a point, nearest first (duplicate suggestions).
 * The GiST index answers the nearest-neighbour order (`<->`) and the bounding-box prefilter;
 * the exact distance on the sphere is computed only for those few rows.
 */
export async function findNearbyOpen(db: Db, province: string, p: { lat: number; lon: number; category?: string; meters: number; limit: number }): Promise<(ReportRow & { distance_m: number })[]> {
  const point = sql`ST_SetSRID(ST_MakePoint(${p.lon}, ${p.lat}), 4326)`
  // Degrees of longitude shrink with latitude; twice the metre-per-degree ratio covers Vietnam.
  const degrees = (p.meters / 111_320) * 2
  return (
    await sql<ReportRow & { distance_m: number }>`select * from (
        select ${REPORT_COLUMNS}, ST_Distance(r.location::geography, ${point}::geography) as distance_m
        from reports r
        where r.province_code = ${province} and r.status in ('received', 'assigned', 'in_progress') and r.merged_into is null
          and (${p.category ?? null}::text is null or r.category_code = ${p.category ?? null})
          and r.location && ST_Expand(${point}, ${degrees})
        order by r.location <-> ${point}
        limit ${p.limit}) nearest
      where nearest.distance_m <= ${p.meters}
      order by nearest.distance_m`.execute(db)
  ).rows
}

/** Adds a supporter ("me too"); returns false when this supporter had already joined. */
export async function addSupporter(tx: Db, province: string, reportId: string, supporterKey: string): Promise<boolean> {
  const { rows } = await sql`insert into report_supporters (report_id, supporter_key) values (${reportId}::uuid, ${supporterKey})
    on conflict do nothing returning supporter_key`.execute(tx)
  if (rows.length === 0) return false
  await sql`update reports set supporters_count = supporters_count + 1 where id = ${reportId}::uuid and province_code = ${province}`.execute(tx)
  return true
}

/** Moves the supporters of a merged report to the report it was merged into. */
export async function moveSupporters(tx: Db, province: string, fromId: string, toId: string): Promise<void> {
  await sql`insert into report_supporters (report_id, supporter_key, created_at)
    select ${toId}::uuid, supporter_key, created_at from report_supporters where report_id = ${fromId}::uuid and province_code = ${province}
    on conflict do nothing`.execute(tx)
  await sql`update reports set supporters_count = (select count(*) from report_supporters s where s.report_id = ${toId}::uuid and s.province_code = ${province})
    where id = ${toId}::uuid and province_code = ${province}`.execute(tx)
}

/** Open reports past their state deadline that have not been escalated yet. */
export async function listOverdueUnescalated(db: Db, province: string, now: Date, limit: number): Promise<ReportRow[]> {
  return (
    await sql<ReportRow>`select ${REPORT_COLUMNS} from reports r
      where r.province_code = ${province} and r.status in ('received', 'assigned', 'in_progress') and r.state_due_at < ${now.toISOString()} and r.escalation_level = 0
      order by r.state_due_at limit ${limit}`.execute(db)
  ).rows
}

/** Resolved reports whose reopen window has passed. */
export async function listResolvedBefore(db: Db, province: string, before: Date, limit: number): Promise<ReportRow[]> {
  return (await sql<ReportRow>`select ${REPORT_COLUMNS} from reports r where r.province_code = ${province} and r.status = 'resolved' and r.resolved_at < ${before.toISOString()} order by r.resolved_at limit ${limit}`.execute(db)).rows
}

export async function countReports(db: Db, province: string): Promise<number> {
  return Number((await sql<{ n: string }>`select count(*)::text as n from reports where province_code = ${province}`.execute(db)).rows[0].n)
}
