import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, conflict } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'
import { decryptCredential } from './provider-credentials.ts'

export const CODE_PATTERN = '^[A-Za-z0-9._-]{1,40}$'
export const SERVICE_CODE_PATTERN = '^[A-Za-z0-9._-]{1,60}$'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface MemberRow { code: string; name: string; unit_code: string; created_at: Date }
export interface SystemRow { id: string; member_code: string; code: string; name: string; api_key_prefix: string; api_key_hash: string; tls_client_fingerprint: string | null; created_at: Date; unit_code: string }
export interface ServiceRow {
  id: string; system_id: string; member_code: string; code: string; name: string; base_url: string; openapi_url: string | null; version: string
  timeout_ms: number; max_request_bytes: number; max_response_bytes: number; store_bodies: boolean; health_path: string | null; created_at: Date
  system_code: string; unit_code: string
  /** Encrypted credential the gateway presents to the provider (see provider-credentials.ts). */
  provider_credential_enc: string | null
  /** In the gateway's in-memory snapshot only: the decrypted credential. */
  provider_credential?: string
}
export const RIGHT_ACCESS_LEVELS = ['open', 'shared', 'restricted'] as const
export type RightAccessLevel = (typeof RIGHT_ACCESS_LEVELS)[number]
export interface RightRow {
  id: string; service_id: string; system_id: string | null; group_code: string | null; valid_from: Date; valid_until: Date | null; revoked_at: Date | null; created_by: string; created_at: Date
  /** How much of the provider's data the right opens (open / shared among agencies / restricted). */
  access_level: RightAccessLevel
  can_write: boolean
}
export interface SuspensionRow { finding_id: string; subject_kind: 'unit' | 'system'; subject_ref: string; rule_code: string; reason_vi: string; reason_en: string; fix_vi: string; fix_en: string; since: Date }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** Gateway keys look like `gw_<12 hex prefix>_<secret>`; the prefix finds the system, the hash is compared. */
export function newGatewayKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('hex')
  const key = `gw_${prefix}_${randomBytes(24).toString('base64url')}`
  return { key, prefix, hash: sha256(key) }
}

const GATEWAY_KEY = /^gw_([0-9a-f]{12})_[A-Za-z0-9_-]{20,64}$/

/** The system prefix of a well-formed key, without hashing it (rate-limit buckets). */
export function gatewayKeyPrefix(key: string): string | undefined {
  return GATEWAY_KEY.exec(key)?.[1]
}

export function parseGatewayKey(key: string): { prefix: string; hash: string } | undefined {
  const prefix = gatewayKeyPrefix(key)
  return prefix ? { prefix, hash: sha256(key) } : undefined
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

// ---------- members (cơ quan thành viên)

export async function createMember(tx: Db, m: { code: string; name: string; unit_code: string }, actor: string, now: Date): Promise<MemberRow> {
  if (!(await getOrgUnit(tx, m.unit_code))) throw badRequest('UNKNOWN_UNIT', `Không có đơn vị mã "${m.unit_code}".`, `Unknown unit "${m.unit_code}".`)
  const { rows } = await sql<MemberRow>`insert into exchange_members (code, name, unit_code, created_at) values (${m.code}, ${m.name}, ${m.unit_code}, ${now.toISOString()}::timestamptz)
    on conflict (code) do nothing returning *`.execute(tx)
  if (!rows[0]) throw conflict('MEMBER_EXISTS', 'Mã thành viên đã tồn tại.', 'A member with this code already exists.')
  await publishEvent(tx, 'exchange.member.created', { code: m.code, unit_code: m.unit_code })
  await appendAudit(tx, { actor, action: 'exchange.member.created', entityType: 'exchange_member', entityId: m.code, data: { ...m } }, now)
  return rows[0]
}

export async function listMembers(db: Db, unitCode?: string): Promise<MemberRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`unit_code = ${unitCode}`
  return (await sql<MemberRow>`select * from exchange_members where ${where} order by code`.execute(db)).rows
}

export async function getMember(db: Db, code: string): Promise<MemberRow | undefined> {
  return (await sql<MemberRow>`select * from exchange_members where code = ${code}`.execute(db)).rows[0]
}

// ---------- systems (hệ thống thông tin / subsystem)

export async function createSystem(tx: Db, s: { member_code: string; code: string; name: string; tls_client_fingerprint?: string | null }, actor: string, now: Date): Promise<{ system: SystemRow; apiKey: string }> {
  if (!(await getMember(tx, s.member_code))) throw badRequest('UNKNOWN_MEMBER', 'Không có thành viên này.', `Unknown member "${s.member_code}".`)
  const k = newGatewayKey()
  const fp = s.tls_client_fingerprint ? normalizeFingerprint(s.tls_client_fingerprint) : null
  const { rows } = await sql<{ id: string }>`insert into exchange_systems (member_code, code, name, api_key_prefix, api_key_hash, tls_client_fingerprint, created_at)
    values (${s.member_code}, ${s.code}, ${s.name}, ${k.prefix}, ${k.hash}, ${fp}, ${now.toISOString()}::timestamptz)
    on conflict (member_code, code) do nothing returning id`.execute(tx)
  if (!rows[0]) throw conflict('SYSTEM_EXISTS', 'Hệ thống đã tồn tại.', 'This member already has a system with this code.')
  await publishEvent(tx, 'exchange.system.created', { id: rows[0].id, member_code: s.member_code, code: s.code })
  await appendAudit(tx, { actor, action: 'exchange.system.created', entityType: 'exchange_system', entityId: rows[0].id, data: { member_code: s.member_code, code: s.code, name: s.name, tls_client_fingerprint: fp, key_prefix: k.prefix } }, now)
  return { system: (await getSystem(tx, rows[0].id))!, apiKey: k.key }
}

export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
  if (hex.length !== 64) throw badRequest('INVALID_FINGERPRINT', 'Dấu vân tay chứng thư phải là SHA-256 (64 ký tự hex).', 'The certificate fingerprint must be a SHA-256 (64 hex digits).')
  return hex.match(/../g)!.join(':')
}

const SYSTEM_COLUMNS = sql.raw(`s.id, s.member_code, s.code, s.name, s.api_key_prefix, s.api_key_hash, s.tls_client_fingerprint, s.created_at, m.unit_code`)

export async function getSystem(db: Db, id: string): Promise<SystemRow | undefined> {
  if (!UUID.test(id)) return undefined
  return (await sql<SystemRow>`select ${SYSTEM_COLUMNS} from exchange_systems s join exchange_members m on m.code = s.member_code where s.id = ${id}::uuid`.execute(db)).rows[0]
}

export async function listSystems(db: Db, unitCode?: string): Promise<SystemRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`m.unit_code = ${unitCode}`
  return (await sql<SystemRow>`select ${SYSTEM_COLUMNS} from exchange_systems s join exchange_members m on m.code = s.member_code where ${where} order by s.member_code, s.code`.execute(db)).rows
}

// ---------- services (dịch vụ)

export interface NewService {
  system_id: string; code: string; name: string; base_url: string; openapi_url?: string | null; version?: string
  timeout_ms?: number; max_request_bytes?: number; max_response_bytes?: number; store_bodies?: boolean; health_path?: string | null
}

export function checkBaseUrl(u: string): string {
  let url: URL
  try {
    url = new URL(u)
  } catch {
    throw badRequest('INVALID_BASE_URL', 'Địa chỉ dịch vụ không hợp lệ.', 'Invalid base_url.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('INVALID_BASE_URL', 'Địa chỉ dịch vụ phải là http(s).', 'base_url must be http or https.')
  if (url.username || url.password || url.search || url.hash) throw badRequest('INVALID_BASE_URL', 'Địa chỉ dịch vụ không được chứa thông tin đăng nhập, truy vấn hay #.', 'base_url must not carry credentials, a query or a fragment.')
  return url.origin + url.pathname.replace(/\/+$/, '')
}

export async function createService(tx: Db, s: NewService, actor: string, now: Date): Promise<ServiceRow> {
  const system = await getSystem(tx, s.system_id)
  if (!system) throw badRequest('UNKNOWN_SYSTEM', 'Không có hệ thống này.', 'Unknown system.')
  const baseUrl = checkBaseUrl(s.base_url)
  if (s.health_path && !s.health_path.startsWith('/')) throw badRequest('INVALID_HEALTH_PATH', 'Đường dẫn kiểm tra phải bắt đầu bằng /.', 'health_path must start with /.')
  const { rows } = await sql<{ id: string }>`insert into exchange_services (system_id, member_code, code, name, base_url, openapi_url, version, timeout_ms,
      max_request_bytes, max_response_bytes, store_bodies, health_path, created_at)
    values (${system.id}::uuid, ${system.member_code}, ${s.code}, ${s.name}, ${baseUrl}, ${s.openapi_url ?? null}, ${s.version ?? 'v1'}, ${s.timeout_ms ?? 10000},
      ${s.max_request_bytes ?? 1048576}, ${s.max_response_bytes ?? 10485760}, ${s.store_bodies ?? false}, ${s.health_path ?? null}, ${now.toISOString()}::timestamptz)
    on conflict (member_code, code) do nothing returning id`.execute(tx)
  if (!rows[0]) throw conflict('SERVICE_EXISTS', 'Thành viên đã có dịch vụ mã này.', 'This member already provides a service with this code.')
  await publishEvent(tx, 'exchange.service.created', { id: rows[0].id, member_code: system.member_code, code: s.code })
  await appendAudit(tx, { actor, action: 'exchange.service.created', entityType: 'exchange_service', entityId: rows[0].id, data: { ...s, base_url: baseUrl } }, now)
  return (await getService(tx, rows[0].id))!
}

const SERVICE_COLUMNS = sql.raw(`v.id, v.system_id, v.member_code, v.code, v.name, v.base_url, v.openapi_url, v.version, v.timeout_ms, v.max_request_bytes,
  v.max_response_bytes, v.store_bodies, v.health_path, v.created_at, s.code as system_code, m.unit_code, v.provider_credential_enc`)
const SERVICE_FROM = sql.raw(`exchange_services v join exchange_systems s on s.id = v.system_id join exchange_members m on m.code = v.member_code`)

export async function getService(db: Db, id: string): Promise<ServiceRow | undefined> {
  if (!UUID.test(id)) return undefined
  return (await sql<ServiceRow>`select ${SERVICE_COLUMNS} from ${SERVICE_FROM} where v.id = ${id}::uuid`.execute(db)).rows[0]
}

export async function listServices(db: Db, unitCode?: string): Promise<ServiceRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`m.unit_code = ${unitCode}`
  return (await sql<ServiceRow>`select ${SERVICE_COLUMNS} from ${SERVICE_FROM} where ${where} order by v.member_code, v.code`.execute(db)).rows
}

// ---------- groups and rights (quyền truy cập)

export async function createGroup(tx: Db, g: { code: string; name: string; system_ids: string[] }, actor: string, now: Date): Promise<{ code: string; name: string; system_ids: string[] }> {
  for (const id of g.system_ids) if (!(await getSystem(tx, id))) throw badRequest('UNKNOWN_SYSTEM', 'Không có hệ thống này.', `Unknown system ${id}.`)
  await sql`insert into exchange_groups (code, name) values (${g.code}, ${g.name}) on conflict (code) do update set name = excluded.name`.execute(tx)
  await sql`delete from exchange_group_systems where group_code = ${g.code}`.execute(tx)
  for (const id of new Set(g.system_ids)) await sql`insert into exchange_group_systems (group_code, system_id) values (${g.code}, ${id}::uuid)`.execute(tx)
  await publishEvent(tx, 'exchange.group.changed', { code: g.code })
  await appendAudit(tx, { actor, action: 'exchange.group.saved', entityType: 'exchange_group', entityId: g.code, data: { ...g } }, now)
  return { code: g.code, name: g.name, system_ids: [...new Set(g.system_ids)] }
}

export async function listGroups(db: Db): Promise<{ code: string; name: string; system_ids: string[] }[]> {
  return (await sql<{ code: string; name: string; system_ids: string[] }>`select g.code, g.name,
      coalesce(array_agg(gs.system_id::text order by gs.system_id) filter (where gs.system_id is not null), '{}') as system_ids
    from exchange_groups g left join exchange_group_systems gs on gs.group_code = g.code group by g.code, g.name order by g.code`.execute(db)).rows
}

export async function grantRight(tx: Db, r: { service_id: string; system_id?: string; group_code?: string; valid_from: Date; valid_until: Date | null; access_level?: RightAccessLevel; can_write?: boolean }, actor: string, now: Date): Promise<RightRow> {
  if (!r.system_id === !r.group_code) throw badRequest('RIGHT_SUBJECT', 'Cấp quyền cho đúng một hệ thống hoặc một nhóm.', 'Grant the right to exactly one system or one group.')
  if (!(await getService(tx, r.service_id))) throw badRequest('UNKNOWN_SERVICE', 'Không có dịch vụ này.', 'Unknown service.')
  if (r.system_id && !(await getSystem(tx, r.system_id))) throw badRequest('UNKNOWN_SYSTEM', 'Không có hệ thống này.', 'Unknown system.')
  if (r.group_code && !(await sql`select 1 from exchange_groups where code = ${r.group_code}`.execute(tx)).rows[0]) throw badRequest('UNKNOWN_GROUP', 'Không có nhóm này.', 'Unknown group.')
  if (r.valid_until && r.valid_until <= r.valid_from) throw badRequest('INVALID_VALIDITY', 'Ngày hết hạn phải sau ngày bắt đầu.', 'valid_until must be after valid_from.')
  const level = r.access_level ?? 'shared'
  const canWrite = r.can_write ?? false
  const { rows } = await sql<RightRow>`insert into exchange_rights (service_id, system_id, group_code, valid_from, valid_until, created_by, created_at, access_level, can_write)
    values (${r.service_id}::uuid, ${r.system_id ?? null}::uuid, ${r.group_code ?? null}, ${r.valid_from.toISOString()}::timestamptz,
      ${r.valid_until?.toISOString() ?? null}::timestamptz, ${actor}, ${now.toISOString()}::timestamptz, ${level}, ${canWrite}) returning *`.execute(tx)
  await publishEvent(tx, 'exchange.right.granted', { id: rows[0].id, service_id: r.service_id })
  await appendAudit(tx, { actor, action: 'exchange.right.granted', entityType: 'exchange_right', entityId: rows[0].id, data: { service_id: r.service_id, system_id: r.system_id ?? null, group_code: r.group_code ?? null, valid_from: r.valid_from, valid_until: r.valid_until, access_level: level, can_write: canWrite } }, now)
  return rows[0]
}

export async function revokeRight(tx: Db, id: string, actor: string, now: Date): Promise<RightRow | undefined> {
  if (!UUID.test(id)) return undefined
  const { rows } = await sql<RightRow>`update exchange_rights set revoked_at = ${now.toISOString()}::timestamptz where id = ${id}::uuid and revoked_at is null returning *`.execute(tx)
  if (!rows[0]) return undefined
  await publishEvent(tx, 'exchange.right.revoked', { id, service_id: rows[0].service_id })
  await appendAudit(tx, { actor, action: 'exchange.right.revoked', entityType: 'exchange_right', entityId: id, data: {} }, now)
  return rows[0]
}

export async function listRights(db: Db, serviceId?: string): Promise<RightRow[]> {
  const where = serviceId && UUID.test(serviceId) ? sql`service_id = ${serviceId}::uuid` : sql`true`
  return (await sql<RightRow>`select * from exchange_rights where ${where} order by created_at desc, id limit 1000`.execute(db)).rows
}

// ---------- suspensions copied from compliance events

export async function upsertSuspension(tx: Db, s: SuspensionRow): Promise<void> {
  await sql`insert into exchange_suspensions (finding_id, subject_kind, subject_ref, rule_code, reason_vi, reason_en, fix_vi, fix_en, since)
    values (${s.finding_id}, ${s.subject_kind}, ${s.subject_ref}, ${s.rule_code}, ${s.reason_vi}, ${s.reason_en}, ${s.fix_vi}, ${s.fix_en}, ${new Date(s.since).toISOString()}::timestamptz)
    on conflict (finding_id) do update set rule_code = excluded.rule_code, reason_vi = excluded.reason_vi, reason_en = excluded.reason_en,
      fix_vi = excluded.fix_vi, fix_en = excluded.fix_en`.execute(tx)
}

export async function removeSuspension(tx: Db, findingId: string): Promise<void> {
  await sql`delete from exchange_suspensions where finding_id = ${findingId}`.execute(tx)
}

// ---------- the in-memory registry the proxy decides from

export interface RegistrySnapshot {
  loadedAt: number
  systemsByPrefix: Map<string, SystemRow>
  /** `member/service` → service */
  services: Map<string, ServiceRow>
  rightsByService: Map<string, RightRow[]>
  groupsBySystem: Map<string, Set<string>>
  /** subject `unit:<code>` or `system:<member/system>` → its suspensions */
  suspensions: Map<string, SuspensionRow[]>
  /**
   * Keys already checked against this snapshot (hash compared) → their system, so a system's
   * calls hash its key once per snapshot (registryTtlMs), not once per call. Dies with the
   * snapshot, so a changed or revoked key stops working when the registry is next loaded, as
   * before. At most KEYS_SEEN_MAX entries.
   */
  keysSeen: Map<string, SystemRow>
}

export const KEYS_SEEN_MAX = 10_000

/**
 * Loads the registry into memory. With the credential key, each service's provider credential
 * is decrypted once here, so the proxy never decrypts on its path.
 */
export async function loadRegistry(db: Db, credentialKey?: Buffer): Promise<RegistrySnapshot> {
  const [systems, services, rights, groups, suspensions] = await Promise.all([
    listSystems(db),
    listServices(db),
    sql<RightRow>`select * from exchange_rights where revoked_at is null`.execute(db).then((r) => r.rows),
    sql<{ group_code: string; system_id: string }>`select group_code, system_id::text as system_id from exchange_group_systems`.execute(db).then((r) => r.rows),
    sql<SuspensionRow>`select * from exchange_suspensions order by since`.execute(db).then((r) => r.rows),
  ])
  const snap: RegistrySnapshot = { loadedAt: Date.now(), systemsByPrefix: new Map(), services: new Map(), rightsByService: new Map(), groupsBySystem: new Map(), suspensions: new Map(), keysSeen: new Map() }
  for (const s of systems) snap.systemsByPrefix.set(s.api_key_prefix, s)
  for (const v of services) {
    if (v.provider_credential_enc && credentialKey) v.provider_credential = decryptCredential(credentialKey, v.provider_credential_enc)
    snap.services.set(`${v.member_code}/${v.code}`, v)
  }
  for (const r of rights) snap.rightsByService.set(r.service_id, [...(snap.rightsByService.get(r.service_id) ?? []), r])
  for (const g of groups) snap.groupsBySystem.set(g.system_id, new Set([...(snap.groupsBySystem.get(g.system_id) ?? []), g.group_code]))
  for (const s of suspensions) {
    const k = `${s.subject_kind}:${s.subject_ref}`
    snap.suspensions.set(k, [...(snap.suspensions.get(k) ?? []), s])
  }
  return snap
}

/**
 * The registry as the proxy sees it: a snapshot in memory, reloaded when older than the TTL or
 * after a change made through this process (single flight), so no database round trip sits on
 * the proxy's path. Other nodes see a change within the TTL.
 */
export class RegistryCache {
  #snap: RegistrySnapshot | undefined
  #loading: Promise<RegistrySnapshot> | undefined
  #stale = true
  constructor(private readonly db: Db, private readonly ttlMs: number, private readonly credentialKey?: Buffer) {}

  invalidate(): void {
    this.#stale = true
  }

  get(): RegistrySnapshot | Promise<RegistrySnapshot> {
    if (this.#snap && !this.#stale && Date.now() - this.#snap.loadedAt < this.ttlMs) return this.#snap
    if (!this.#loading) {
      this.#stale = false
      this.#loading = loadRegistry(this.db, this.credentialKey).then((s) => {
        this.#snap = s
        return s
      }).finally(() => {
        this.#loading = undefined
      })
    }
    return this.#loading
  }
}
