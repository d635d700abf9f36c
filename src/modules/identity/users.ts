import { forgetCachedSessionsOfUser } from './sessions.ts'
import type { Role, UserPrincipal } from '../../platform/auth/principal.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { badRequest, conflict, forbidden } from '../../platform/http/errors.ts'
import { hashPassword, newApiKey } from './credentials.ts'
import { findUserByUsername, getOrgUnit, getUser, insertApiClient, insertUser, type UserRow } from './repository.ts'

export interface NewUser {
  username: string
  displayName: string
  role: Role
  unitCode: string | null
  password: string
  phone?: string | null
  email?: string | null
  isDemo?: boolean
}

const UNIT_ROLES: Role[] = ['officer', 'unit_admin']

/**
 * Creates an account. Who may create what: anyone may register as a citizen (creator null);
 * a unit admin creates officers of their own unit; a province admin creates any account.
 */
export async function createUser(db: Db, creator: UserPrincipal | null, u: NewUser): Promise<UserRow> {
  if (creator === null && u.role !== 'citizen') throw forbidden()
  if (creator && creator.role === 'unit_admin' && !(u.role === 'officer' && u.unitCode === creator.unitCode)) {
    throw forbidden('A unit admin can only create officers of their own unit.', 'Quản trị đơn vị chỉ tạo được cán bộ của đơn vị mình.')
  }
  if (creator && !['unit_admin', 'province_admin'].includes(creator.role)) throw forbidden()
  if (UNIT_ROLES.includes(u.role) && !u.unitCode) {
    throw badRequest('UNIT_REQUIRED', 'Cán bộ phải thuộc một đơn vị.', 'Officers and unit admins must belong to a unit.')
  }
  if (!UNIT_ROLES.includes(u.role) && u.role !== 'province_admin') u.unitCode = null
  if (u.password.length < 10) throw badRequest('WEAK_PASSWORD', 'Mật khẩu phải có ít nhất 10 ký tự.', 'The password must be at least 10 characters.')
  const passwordHash = await hashPassword(u.password)
  return db.transaction().execute(async (tx) => {
    if (u.unitCode && !(await getOrgUnit(tx, u.unitCode))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${u.unitCode}.`)
    if (await findUserByUsername(tx, u.username)) throw conflict('USERNAME_TAKEN', 'Tên đăng nhập đã được dùng.', 'This username is taken.')
    const row = await insertUser(tx, { username: u.username, display_name: u.displayName, role: u.role, unit_code: u.unitCode, phone: u.phone, email: u.email, password_hash: passwordHash, is_demo: u.isDemo })
    await appendAudit(tx, { actor: creator ? `user:${creator.userId}` : `user:${row.id}`, action: 'user.created', entityType: 'user', entityId: row.id, data: { username: row.username, role: row.role, unit_code: row.unit_code } })
    return row
  })
}

/** Registers a machine client and returns its API key, which is shown this once and never stored. */
export async function createApiClient(db: Db, creator: UserPrincipal, c: { name: string; unitCode: string | null; scopes: string[] }): Promise<{ id: string; apiKey: string }> {
  if (creator.role !== 'province_admin') throw forbidden()
  const k = newApiKey()
  return db.transaction().execute(async (tx) => {
    if (c.unitCode && !(await getOrgUnit(tx, c.unitCode))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${c.unitCode}.`)
    const row = await insertApiClient(tx, { name: c.name, keyPrefix: k.prefix, keyHash: k.hash, unitCode: c.unitCode, scopes: c.scopes })
    await appendAudit(tx, { actor: `user:${creator.userId}`, action: 'api_client.created', entityType: 'api_client', entityId: row.id, data: { name: c.name, unit_code: c.unitCode, scopes: c.scopes } })
    return { id: row.id, apiKey: k.key }
  })
}

/** The public shape of a user (never the password hash or lock state). */
export function presentUser(u: UserRow) {
  return { id: u.id, username: u.username, display_name: u.display_name, role: u.role, unit_code: u.unit_code, is_demo: u.is_demo }
}

/** Who an active account is (role and unit), for other modules' checks; undefined if unknown or disabled. */
export async function getActiveUserRole(db: Db, userId: string): Promise<{ id: string; role: Role; unit_code: string | null } | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) return undefined
  const u = await getUser(db, userId)
  return u && !u.disabled_at ? { id: u.id, role: u.role, unit_code: u.unit_code } : undefined
}

/**
 * Moves a staff account to another unit (a civil servant transferred, điều động): its role stays,
 * its unit changes, audited in the caller's transaction. Sessions read the unit on every
 * request, so the account's access follows at once. Only officers and unit admins move.
 */
export async function moveUserToUnit(tx: Db, userId: string, toUnit: string, actor: string, now: Date = new Date()): Promise<{ from: string | null; to: string }> {
  const u = await getUser(tx, userId)
  if (!u || u.disabled_at) throw badRequest('UNKNOWN_USER', 'Tài khoản không tồn tại hoặc đã khoá.', 'Unknown or disabled account.')
  if (!UNIT_ROLES.includes(u.role)) throw badRequest('NOT_UNIT_STAFF', 'Chỉ tài khoản cán bộ của đơn vị mới chuyển đơn vị được.', 'Only officers and unit admins belong to a unit.')
  if (!(await getOrgUnit(tx, toUnit))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${toUnit}.`)
  if (u.unit_code === toUnit) return { from: u.unit_code, to: toUnit }
  await tx.updateTable('users').set({ unit_code: toUnit }).where('id', '=', userId).execute()
  await appendAudit(tx, { actor, action: 'user.unit_changed', entityType: 'user', entityId: userId, data: { from: u.unit_code, to: toUnit } }, now)
  forgetCachedSessionsOfUser(userId)
  return { from: u.unit_code, to: toUnit }
}
