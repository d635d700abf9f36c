import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { ReportStatus } from '../repository.ts'

/**
 * The public columns of a report that Open311 shows. Reporter columns (name, phone, e-mail,
 * user id) are never selected here, so no Open311 answer can carry them.
 */
export interface Open311ReportRow {
  id: string
  code: string
  category_code: string
  description: string
  status: ReportStatus
  outcome: string | null
  public_answer: string | null
  reject_reason: string | null
  lat: number | null
  lon: number | null
  address_text: string | null
  commune_code: string | null
  unit_code: string
  created_at: Date
  updated_at: Date
  due_at: Date | null
  /** Tracking code of the report this one was merged into (a duplicate), if any. */
  merged_into_code: string | null
  /** Sequence number of the first photo, if the report has one. */
  first_photo_seq: number | null
}

const PUBLIC_COLUMNS = sql`r.id, r.code, r.category_code, r.description, r.status, r.outcome, r.public_answer, r.reject_reason,
  ST_Y(r.location) as lat, ST_X(r.location) as lon, r.address_text, r.commune_code, r.unit_code,
  r.created_at, r.updated_at, r.due_at, m.code as merged_into_code,
  (select min(p.seq) from report_photos p where p.report_id = r.id and p.province_code = r.province_code) as first_photo_seq`

export interface Open311RequestFilter {
  /** Tracking codes; when given, the other filters are not applied (as the spec says). */
  codes?: string[]
  categories?: string[]
  statuses?: ReportStatus[]
  /** Inclusive bounds on the time the report was received. */
  from?: Date
  to?: Date
  unitCode?: string
  limit: number
  offset: number
}

/** Reports for GET requests, newest first. Merged duplicates only appear when asked for by code. */
export async function findOpen311Requests(db: Db, province: string, f: Open311RequestFilter): Promise<Open311ReportRow[]> {
  // The node's province, so Citus routes the query to one shard; the joins stay on it (colocated).
  const where = [sql`r.province_code = ${province}`]
  if (f.codes) {
    if (f.codes.length === 0) return []
    where.push(sql`r.code in (${sql.join(f.codes)})`)
  } else {
    where.push(sql`r.merged_into is null`)
    if (f.categories?.length) where.push(sql`r.category_code in (${sql.join(f.categories)})`)
    if (f.statuses?.length) where.push(sql`r.status in (${sql.join(f.statuses)})`)
    if (f.from) where.push(sql`r.created_at >= ${f.from.toISOString()}`)
    if (f.to) where.push(sql`r.created_at <= ${f.to.toISOString()}`)
    if (f.unitCode) where.push(sql`r.unit_code = ${f.unitCode}`)
  }
  return (
    await sql<Open311ReportRow>`select ${PUBLIC_COLUMNS} from reports r left join reports m on m.id = r.merged_into and m.province_code = r.province_code
      where ${sql.join(where, sql` and `)}
      order by r.created_at desc, r.id desc limit ${f.limit} offset ${f.offset}`.execute(db)
  ).rows.map(normalise)
}

export async function getOpen311Request(db: Db, province: string, code: string): Promise<Open311ReportRow | undefined> {
  return (await findOpen311Requests(db, province, { codes: [code], limit: 1, offset: 0 }))[0]
}

/** One change of a report worth telling an Open311 client about (a status or unit change). */
export interface StatusUpdateRow {
  id: string
  at: Date
  action: string
  from_status: string | null
  to_status: string | null
  from_unit: string | null
  to_unit: string | null
  /** The history note: shown only for actions whose note is public (the answer, the reject reason). */
  note: string | null
  code: string
  /** The report's current outcome and public answer (used to describe a closing). */
  outcome: string | null
  public_answer: string | null
  merged_into_code: string | null
}

/**
 * History rows in a time window (inclusive), oldest first: every change of status or of the
 * handling unit and every answer, but not the creation itself, ratings, location confirmations
 * or escalations (which change neither). Never the actor.
 */
export async function listStatusUpdates(db: Db, province: string, f: { from: Date; to: Date; limit: number; offset: number }): Promise<StatusUpdateRow[]> {
  const { rows } = await sql<StatusUpdateRow>`select h.id::text as id, h.at, h.action, h.from_status, h.to_status, h.from_unit, h.to_unit, h.note,
        r.code, r.outcome, r.public_answer, m.code as merged_into_code
      from report_history h
      join reports r on r.id = h.report_id and r.province_code = h.province_code
      left join reports m on m.id = r.merged_into and m.province_code = r.province_code
      where h.province_code = ${province} and h.at >= ${f.from.toISOString()} and h.at <= ${f.to.toISOString()}
        and h.action <> 'created'
        and (h.to_status is distinct from h.from_status
          or (h.action <> 'escalated' and h.to_unit is distinct from h.from_unit)
          or h.action in ('resolve', 'reject', 'close', 'merge', 'reopen'))
      order by h.at, h.id
      limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows.map((h) => ({ ...h, at: new Date(h.at) }))
}

function normalise(r: Open311ReportRow): Open311ReportRow {
  return {
    ...r,
    lat: r.lat === null ? null : Number(r.lat),
    lon: r.lon === null ? null : Number(r.lon),
    created_at: new Date(r.created_at),
    updated_at: new Date(r.updated_at),
    due_at: r.due_at ? new Date(r.due_at) : null,
    first_photo_seq: r.first_photo_seq === null ? null : Number(r.first_photo_seq),
  }
}
