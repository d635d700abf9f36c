import { getActiveUserRole } from '../identity/index.ts'
import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { UserPrincipal } from '../../platform/auth/principal.ts'
import { actorOf, canSeeUnit } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'
import { addHandling, getDocument, type DocumentRow } from './repository.ts'

/** Who may see a document: staff of its agency, staff of the unit directed to handle it, the people named on it, province admins. */
export function canSeeDocument(p: UserPrincipal, d: DocumentRow): boolean {
  return canSeeUnit(p, d.agency_code) || (!!d.handler_unit_code && canSeeUnit(p, d.handler_unit_code)) || p.userId === d.handler_user_id || p.userId === d.leader_user_id
}

async function loadForChange(tx: Db, province: string, id: string, p: UserPrincipal): Promise<DocumentRow> {
  const d = await getDocument(tx, province, id, { forUpdate: true })
  if (!d || !canSeeDocument(p, d)) throw notFound('Document', 'văn bản')
  return d
}

const notIncoming = () => conflict('NOT_INCOMING', 'Chỉ văn bản đến mới được phân công xử lý.', 'Only incoming documents are assigned and directed.')
const alreadyDone = () => conflict('DOCUMENT_DONE', 'Văn bản đã xử lý xong.', 'This document has already been handled.')

async function staffUser(tx: Db, userId: string): Promise<{ id: string; role: string; unit_code: string | null } | undefined> {
  const u = await getActiveUserRole(tx, userId)
  return u && ['officer', 'unit_admin', 'province_admin'].includes(u.role) ? u : undefined
}

/** Assigns an incoming document to a leader of its agency (the clerk's step after registering). */
export async function assignDocument(tx: Db, province: string, id: string, leaderUserId: string, note: string | null, p: UserPrincipal, now: Date): Promise<DocumentRow> {
  const d = await loadForChange(tx, province, id, p)
  if (!canSeeUnit(p, d.agency_code)) throw forbidden('Only staff of the registering agency may assign this document.', 'Chỉ cán bộ của cơ quan đăng ký được phân công văn bản này.')
  if (d.direction !== 'incoming') throw notIncoming()
  if (d.status === 'done') throw alreadyDone()
  const leader = await staffUser(tx, leaderUserId)
  // A leader (lãnh đạo) of the agency: identity's unit_admin role of that unit.
  if (!leader || leader.role !== 'unit_admin' || leader.unit_code !== d.agency_code) {
    throw badRequest('INVALID_LEADER', 'Người được giao phải là cán bộ lãnh đạo của cơ quan.', 'The leader must be an active leader (unit admin) of the agency.')
  }
  await sql`update documents set leader_user_id = ${leaderUserId}::uuid, status = 'assigned', updated_at = ${now.toISOString()}::timestamptz
    where id = ${id}::uuid and province_code = ${province}`.execute(tx)
  const actor = actorOf(p)
  await addHandling(tx, id, now, actor, 'assigned', note, { leader_user_id: leaderUserId })
  await publishEvent(tx, 'document.assigned', { id, leader_user_id: leaderUserId })
  await appendAudit(tx, { actor, action: 'document.assigned', entityType: 'document', entityId: id, data: { leader_user_id: leaderUserId } }, now)
  return (await getDocument(tx, province, id))!
}

/** The leader directs handling (bút phê) to a unit or a person, with a deadline. */
export async function directDocument(tx: Db, province: string, id: string, input: { unit_code?: string; user_id?: string; deadline: string; note?: string }, p: UserPrincipal, now: Date): Promise<DocumentRow> {
  const d = await loadForChange(tx, province, id, p)
  if (d.direction !== 'incoming') throw notIncoming()
  if (d.status === 'done') throw alreadyDone()
  const isLeader = d.leader_user_id === p.userId
  const isAdmin = p.role === 'province_admin' || (p.role === 'unit_admin' && p.unitCode === d.agency_code)
  if (!isLeader && !isAdmin) throw forbidden('Only the leader the document was assigned to may direct its handling.', 'Chỉ lãnh đạo được giao mới được chỉ đạo xử lý văn bản này.')
  if (!input.unit_code === !input.user_id) throw badRequest('HANDLER_REQUIRED', 'Chọn một đơn vị hoặc một người xử lý.', 'Give either unit_code or user_id.')
  const deadline = new Date(`${input.deadline}T00:00:00Z`)
  if (Number.isNaN(deadline.getTime()) || deadline.toISOString().slice(0, 10) !== input.deadline) throw badRequest('INVALID_DEADLINE', 'Hạn xử lý không hợp lệ (YYYY-MM-DD).', 'Invalid deadline (YYYY-MM-DD).')
  let unitCode: string | null = null
  let userId: string | null = null
  if (input.unit_code) {
    if (!(await getOrgUnit(tx, input.unit_code))) throw badRequest('UNKNOWN_UNIT', `Không có đơn vị mã "${input.unit_code}".`, `Unknown unit "${input.unit_code}".`)
    unitCode = input.unit_code
  } else {
    const u = await staffUser(tx, input.user_id!)
    if (!u) throw badRequest('INVALID_HANDLER', 'Người xử lý phải là cán bộ đang hoạt động.', 'The handler must be an active staff member.')
    userId = u.id
    unitCode = u.unit_code
  }
  await sql`update documents set handler_unit_code = ${unitCode}, handler_user_id = ${userId}::uuid, handling_deadline = ${input.deadline}::date,
    status = 'directed', updated_at = ${now.toISOString()}::timestamptz where id = ${id}::uuid and province_code = ${province}`.execute(tx)
  const actor = actorOf(p)
  const data = { unit_code: unitCode, user_id: userId, deadline: input.deadline }
  await addHandling(tx, id, now, actor, 'directed', input.note ?? null, data)
  await publishEvent(tx, 'document.directed', { id, ...data })
  await appendAudit(tx, { actor, action: 'document.directed', entityType: 'document', entityId: id, data }, now)
  return (await getDocument(tx, province, id))!
}

/** A progress note, or marking the handling done: by the handler, the handling unit, the leader or the agency. */
export async function recordHandling(tx: Db, province: string, id: string, input: { note?: string; done?: boolean }, p: UserPrincipal, now: Date): Promise<DocumentRow> {
  const d = await loadForChange(tx, province, id, p)
  if (d.direction !== 'incoming') throw notIncoming()
  if (d.status === 'done') throw alreadyDone()
  if (!input.done && !input.note?.trim()) throw badRequest('NOTE_REQUIRED', 'Cần nội dung ghi nhận tiến độ.', 'A progress note is required unless marking done.')
  const done = !!input.done
  await sql`update documents set status = ${done ? 'done' : 'in_progress'}, done_at = ${done ? now.toISOString() : null}::timestamptz,
    updated_at = ${now.toISOString()}::timestamptz where id = ${id}::uuid and province_code = ${province}`.execute(tx)
  const actor = actorOf(p)
  const action = done ? 'done' : 'progress'
  await addHandling(tx, id, now, actor, action, input.note ?? null)
  await publishEvent(tx, `document.${done ? 'handled' : 'progress'}`, { id })
  await appendAudit(tx, { actor, action: `document.${action}`, entityType: 'document', entityId: id, data: { note: input.note ?? null } }, now)
  return (await getDocument(tx, province, id))!
}
