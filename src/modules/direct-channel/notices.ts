import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { actorOf, canSeeUnit, type Principal } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'

export const NOTICE_KINDS = ['announcement', 'investment_conference', 'outage', 'campaign', 'event'] as const
export type NoticeKind = (typeof NOTICE_KINDS)[number]

export interface NoticeRow {
  id: string
  kind: NoticeKind
  title: string
  body: string
  location: string | null
  unit_code: string
  commune_codes: string[]
  starts_at: Date | null
  ends_at: Date | null
  status: 'draft' | 'published' | 'withdrawn'
  created_by: string
  created_at: Date
  published_at: Date | null
  withdrawn_at: Date | null
}

export interface NoticeInput {
  kind: NoticeKind
  title: string
  body: string
  location?: string
  commune_codes: string[]
  starts_at?: string
  ends_at?: string
  unit_code?: string
  publish: boolean
}

export async function getNotice(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<NoticeRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined
  return (await sql<NoticeRow>`select * from dc_notices where id = ${id}::uuid ${opts.forUpdate ? sql`for update` : sql``}`.execute(db)).rows[0]
}

function instant(s: string | undefined, field: string): Date | null {
  if (!s) return null
  const d = new Date(s)
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(s)) throw badRequest('INVALID_TIME', `Thời điểm "${field}" không hợp lệ.`, `Invalid instant for ${field} (ISO 8601 with offset).`)
  return d
}

async function markPublished(tx: Db, n: NoticeRow, p: Principal | null, now: Date): Promise<void> {
  await sql`update dc_notices set status = 'published', published_at = ${now.toISOString()} where id = ${n.id}::uuid`.execute(tx)
  // The notifications module pushes it to the app users of these communes (all when empty).
  await publishEvent(tx, 'notice.published', { id: n.id, commune_codes: n.commune_codes, title: n.title, kind: n.kind })
  await appendAudit(tx, { actor: actorOf(p), action: 'notice.published', entityType: 'notice', entityId: n.id, data: { commune_codes: n.commune_codes } }, now)
}

/** Creates a notice of the caller's unit (a province admin may name any unit), as a draft or published at once. */
export async function createNotice(tx: Db, input: NoticeInput, p: Principal & { kind: 'user' }, now: Date): Promise<NoticeRow> {
  const unit = p.role === 'province_admin' ? input.unit_code ?? p.unitCode ?? '11' : p.unitCode
  if (!unit) throw forbidden()
  if (input.unit_code && input.unit_code !== unit) throw forbidden('You publish for your own unit only.', 'Bạn chỉ đăng thông báo của đơn vị mình.')
  const communes = [...new Set(input.commune_codes)]
  for (const c of communes) {
    const u = await getOrgUnit(tx, c)
    if (!u || u.kind !== 'commune') throw badRequest('UNKNOWN_COMMUNE', `Xã/phường ${c} không tồn tại.`, `Unknown commune ${c}.`)
  }
  const starts = instant(input.starts_at, 'starts_at')
  const ends = instant(input.ends_at, 'ends_at')
  if (starts && ends && ends < starts) throw badRequest('INVALID_PERIOD', 'Thời điểm kết thúc trước thời điểm bắt đầu.', 'ends_at is before starts_at.')
  const { rows } = await sql<NoticeRow>`insert into dc_notices (kind, title, body, location, unit_code, commune_codes, starts_at, ends_at, created_by, created_at)
    values (${input.kind}, ${input.title}, ${input.body}, ${input.location ?? null}, ${unit}, ${communes}::text[], ${starts?.toISOString() ?? null}, ${ends?.toISOString() ?? null}, ${actorOf(p)}, ${now.toISOString()})
    returning *`.execute(tx)
  await appendAudit(tx, { actor: actorOf(p), action: 'notice.created', entityType: 'notice', entityId: rows[0].id, data: { kind: input.kind, unit, commune_codes: communes } }, now)
  if (input.publish) await markPublished(tx, rows[0], p, now)
  return (await getNotice(tx, rows[0].id))!
}

export async function changeNoticeStatus(tx: Db, id: string, to: 'published' | 'withdrawn', p: Principal | null, now: Date): Promise<NoticeRow> {
  const n = await getNotice(tx, id, { forUpdate: true })
  if (!n) throw notFound('Notice', 'thông báo')
  if (!canSeeUnit(p, n.unit_code)) throw forbidden('Only the issuing unit changes this notice.', 'Chỉ đơn vị phát hành được thay đổi thông báo này.')
  if (to === 'published') {
    if (n.status !== 'draft') throw conflict('NOTICE_NOT_DRAFT', 'Thông báo đã được đăng hoặc đã thu hồi.', 'The notice is already published or withdrawn.')
    await markPublished(tx, n, p, now)
  } else {
    if (n.status !== 'published') throw conflict('NOTICE_NOT_PUBLISHED', 'Thông báo chưa được đăng.', 'The notice is not published.')
    await sql`update dc_notices set status = 'withdrawn', withdrawn_at = ${now.toISOString()} where id = ${id}::uuid`.execute(tx)
    await appendAudit(tx, { actor: actorOf(p), action: 'notice.withdrawn', entityType: 'notice', entityId: id, data: {} }, now)
  }
  return (await getNotice(tx, id))!
}

/**
 * Published notices for people: those for the whole province and, with a commune, those
 * targeting it; ended ones are left out unless asked for. Newest first.
 */
export async function listPublishedNotices(db: Db, f: { communeCode?: string; kind?: NoticeKind; includeEnded: boolean; now: Date; limit: number; offset: number }): Promise<NoticeRow[]> {
  return (await sql<NoticeRow>`select * from dc_notices where status = 'published'
    ${f.communeCode ? sql`and (commune_codes = '{}' or commune_codes @> ${[f.communeCode]}::text[])` : sql``}
    ${f.kind ? sql`and kind = ${f.kind}` : sql``}
    ${f.includeEnded ? sql`` : sql`and (ends_at is null or ends_at >= ${f.now.toISOString()})`}
    order by published_at desc, id limit ${f.limit} offset ${f.offset}`.execute(db)).rows
}

export async function listUnitNotices(db: Db, unitCode: string | undefined, limit: number, offset: number): Promise<NoticeRow[]> {
  return (await sql<NoticeRow>`select * from dc_notices ${unitCode ? sql`where unit_code = ${unitCode}` : sql``} order by created_at desc, id limit ${limit} offset ${offset}`.execute(db)).rows
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
export function presentNotice(n: NoticeRow, internal: boolean) {
  return {
    id: n.id, kind: n.kind, title: n.title, body: n.body, location: n.location, unit_code: n.unit_code, commune_codes: n.commune_codes,
    starts_at: iso(n.starts_at), ends_at: iso(n.ends_at), status: n.status, published_at: iso(n.published_at),
    ...(internal ? { created_by: n.created_by, created_at: iso(n.created_at), withdrawn_at: iso(n.withdrawn_at) } : {}),
  }
}
