import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { Role } from '../../platform/auth/principal.ts'

export interface OrgUnit {
  code: string
  name_vi: string
  name_en: string
  kind: 'province' | 'commune' | 'department'
  parent_code: string | null
}

export interface UserRow {
  id: string
  username: string
  display_name: string
  role: Role
  unit_code: string | null
  phone: string | null
  email: string | null
  password_hash: string | null
  failed_logins: number
  locked_until: Date | null
  is_demo: boolean
  disabled_at: Date | null
  created_at: Date
}

export async function upsertOrgUnit(db: Db, u: OrgUnit): Promise<void> {
  await sql`insert into org_units (code, name_vi, name_en, kind, parent_code) values (${u.code}, ${u.name_vi}, ${u.name_en}, ${u.kind}, ${u.parent_code})
    on conflict (code) do update set name_vi = excluded.name_vi, name_en = excluded.name_en, kind = excluded.kind, parent_code = excluded.parent_code`.execute(db)
}

export async function listOrgUnits(db: Db): Promise<OrgUnit[]> {
  return (await sql<OrgUnit>`select code, name_vi, name_en, kind, parent_code from org_units order by kind, code`.execute(db)).rows
}

export async function getOrgUnit(db: Db, code: string): Promise<OrgUnit | undefined> {
  return (await sql<OrgUnit>`select code, name_vi, name_en, kind, parent_code from org_units where code = ${code}`.execute(db)).rows[0]
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return (await sql<UserRow>`select * from users where lower(username) = lower(${username})`.execute(db)).rows[0]
}

export async function getUser(db: Db, id: string): Promise<UserRow | undefined> {
  return (await sql<UserRow>`select * from users where id = ${id}::uuid`.execute(db)).rows[0]
}

export async function insertUser(db: Db, u: { username: string; display_name: string; role: Role; unit_code: string | null; phone?: string | null; email?: string | null; password_hash: string | null; is_demo?: boolean }): Promise<UserRow> {
  return (
    await sql<UserRow>`insert into users (username, display_name, role, unit_code, phone, email, password_hash, is_demo)
      values (${u.username}, ${u.display_name}, ${u.role}, ${u.unit_code}, ${u.phone ?? null}, ${u.email ?? null}, ${u.password_hash}, ${u.is_demo ?? false})
      returning *`.execute(db)
  ).rows[0]
}

export async function listUsers(db: Db, filter: { unitCode?: string; limit: number; afterUsername?: string }): Promise<UserRow[]> {
  return (
    await sql<UserRow>`select * from users
      where (${filter.unitCode ?? null}::text is null or unit_code = ${filter.unitCode ?? null})
        and (${filter.afterUsername ?? null}::text is null or username > ${filter.afterUsername ?? null})
      order by username limit ${filter.limit}`.execute(db)
  ).rows
}

export async function countUsers(db: Db): Promise<number> {
  return Number((await sql<{ n: string }>`select count(*)::text as n from users`.execute(db)).rows[0].n)
}

/** Records a failed login; locks the account when the failures reach the limit. Returns the new state. */
export async function recordLoginFailure(db: Db, userId: string, maxFailures: number, lockMinutes: number, now: Date): Promise<{ failed_logins: number; locked_until: Date | null }> {
  return (
    await sql<{ failed_logins: number; locked_until: Date | null }>`update users set failed_logins = failed_logins + 1,
        locked_until = case when failed_logins + 1 >= ${maxFailures} then ${now.toISOString()}::timestamptz + make_interval(mins => ${lockMinutes}) else locked_until end
      where id = ${userId}::uuid returning failed_logins, locked_until`.execute(db)
  ).rows[0]
}

export async function resetLoginFailures(db: Db, userId: string): Promise<void> {
  await sql`update users set failed_logins = 0, locked_until = null where id = ${userId}::uuid`.execute(db)
}

export async function insertSession(db: Db, s: { tokenHash: string; userId: string; kind: 'cookie' | 'bearer'; provider: string; expiresAt: Date }): Promise<void> {
  await sql`insert into sessions (token_hash, user_id, kind, provider, expires_at) values (${s.tokenHash}, ${s.userId}::uuid, ${s.kind}, ${s.provider}, ${s.expiresAt.toISOString()})`.execute(db)
}

export async function findActiveSession(db: Db, tokenHash: string, now: Date): Promise<(UserRow & { token_hash: string }) | undefined> {
  return (
    await sql<UserRow & { token_hash: string }>`select u.*, s.token_hash from sessions s join users u on u.id = s.user_id
      where s.token_hash = ${tokenHash} and s.revoked_at is null and s.expires_at > ${now.toISOString()} and u.disabled_at is null`.execute(db)
  ).rows[0]
}

export async function revokeSession(db: Db, tokenHash: string): Promise<void> {
  await sql`update sessions set revoked_at = now() where token_hash = ${tokenHash} and revoked_at is null`.execute(db)
}

export interface ApiClientRow {
  id: string
  name: string
  key_prefix: string
  key_hash: string
  unit_code: string | null
  scopes: string[]
  revoked_at: Date | null
}

export async function insertApiClient(db: Db, c: { name: string; keyPrefix: string; keyHash: string; unitCode: string | null; scopes: string[] }): Promise<ApiClientRow> {
  return (
    await sql<ApiClientRow>`insert into api_clients (name, key_prefix, key_hash, unit_code, scopes)
      values (${c.name}, ${c.keyPrefix}, ${c.keyHash}, ${c.unitCode}, string_to_array(${c.scopes.join(',')}, ','))
      returning *`.execute(db)
  ).rows[0]
}

export async function findApiClientByPrefix(db: Db, prefix: string): Promise<ApiClientRow | undefined> {
  return (await sql<ApiClientRow>`select * from api_clients where key_prefix = ${prefix} and revoked_at is null`.execute(db)).rows[0]
}

export async function findUserByIdentity(db: Db, provider: string, subject: string): Promise<UserRow | undefined> {
  return (await sql<UserRow>`select u.* from user_identities i join users u on u.id = i.user_id where i.provider = ${provider} and i.subject = ${subject}`.execute(db)).rows[0]
}

export async function linkIdentity(db: Db, provider: string, subject: string, userId: string): Promise<void> {
  await sql`insert into user_identities (provider, subject, user_id) values (${provider}, ${subject}, ${userId}::uuid) on conflict do nothing`.execute(db)
}
