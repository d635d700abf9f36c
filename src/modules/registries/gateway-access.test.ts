import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { SUSPENSION_STARTED } from '../compliance/index.ts'
import { exchangeRuntime } from '../exchange/index.ts'
import { readLogRows } from '../exchange/message-log.ts'
import { grant, rawCall, registerSystem } from '../exchange/test-helpers.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'

// Registries served to other agencies' systems through the exchange gateway, over real HTTP:
// caller → /gw/11.SNNMT/registry-<name>/… → this platform's /api/registry-provider/<name>/….
const dir = mkdtempSync(join(tmpdir(), 'hb-reg-gw-'))
let platform: Platform
let base: string
let admin: TestUser
let gwPath: string
let serviceId: string
const systems: Record<string, { id: string; api_key: string; ref: string }> = {}
const NAME = 'farms_gw'

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) => platform.app.inject({ method: method as 'GET', url, headers, payload: payload as object })
const call = (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  rawCall(base, method, `${gwPath}${path}`, { ...(key ? { 'x-exchange-key': key } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body ? JSON.stringify(body) : undefined)

before(async () => {
  platform = await startTestPlatform({ config: { env: { EXCHANGE_DIR: dir, EXCHANGE_NODE: 'gw-reg', EXCHANGE_LOG_FLUSH_MS: '20' } } as never })
  admin = await createTestUser(platform.ctx.db, 'province_admin')
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(platform.app.server.address() as { port: number }).port}`
  const created = await inject('PUT', `/api/registries/${NAME}`, admin.headers, {
    title_vi: 'Trang trại', title_en: 'Farms', owner_unit: '11.SNNMT', access: 'shared', key_fields: ['code'],
    fields: [
      { name: 'code', type: 'string', label_vi: 'Mã', label_en: 'Code', access: 'open', required: true, pattern: '[A-Z0-9]{3,10}' },
      { name: 'name', type: 'string', label_vi: 'Tên', label_en: 'Name', access: 'open', required: true, max_length: 100 },
      { name: 'herd', type: 'integer', label_vi: 'Số con', label_en: 'Herd', access: 'shared', min: 0 },
      { name: 'owner_id_number', type: 'string', label_vi: 'CCCD chủ', label_en: 'Owner ID', access: 'restricted', pattern: '[0-9]{12}' },
    ],
  })
  assert.equal(created.statusCode, 200, created.body)
  const owner = await createTestUser(platform.ctx.db, 'officer', '11.SNNMT')
  const rec = await inject('POST', `/api/registries/${NAME}/records`, owner.headers, { data: { code: 'F001', name: 'Trại bò Mường Phăng', herd: 120, owner_id_number: '011234567890' } })
  assert.equal(rec.statusCode, 201, rec.body)
  const pub = await inject('PUT', `/api/registries/${NAME}/gateway-service`, admin.headers, { base_url: base })
  assert.equal(pub.statusCode, 200, pub.body)
  assert.equal(pub.json().gateway_path, '/gw/11.SNNMT/registry-farms-gw/')
  gwPath = pub.json().gateway_path.replace(/\/$/, '')
  serviceId = pub.json().service_id
  const now = Date.now()
  for (const [code, unit] of [['health', '11.SYT'], ['tax', '11.STC'], ['owner', '11.SNNMT'], ['norights', '11.SYT'], ['expired', '11.SYT'], ['opened', '11.SYT'], ['suspended', '11.SCT']] as const) {
    systems[code] = await registerSystem(platform, admin, { code: `M-${unit}`, unit }, code)
  }
  const right = (system: string, extra: Record<string, unknown> = {}) => grant(platform, admin, { service_id: serviceId, system_id: systems[system].id, ...extra })
  await right('health', { access_level: 'shared' })
  await right('tax', { access_level: 'restricted' })
  await right('owner', { access_level: 'restricted', can_write: true })
  await right('expired', { access_level: 'shared', valid_from: new Date(now - 10 * 86400_000).toISOString(), valid_until: new Date(now - 86400_000).toISOString() })
  await right('opened', { access_level: 'open' })
  await right('suspended', { access_level: 'shared' })
})
after(async () => {
  await platform?.close()
})

test('the registries the platform ships with are published on the gateway with a provider credential', async () => {
  const services = (await inject('GET', '/api/exchange/services', admin.headers)).json().items as { code: string; has_provider_credential: boolean; base_url: string }[]
  for (const name of ['civil_servants', 'schools', 'cooperatives', 'crop_areas']) {
    const s = services.find((x) => x.code === `registry-${name.replace(/_/g, '-')}`)
    assert.ok(s, `${name} is published`)
    assert.equal(s.has_provider_credential, true)
    assert.ok(s.base_url.endsWith(`/api/registry-provider/${name}`))
  }
  // The credential is kept encrypted, never in clear, and not in any answer.
  const row = (await sql<{ enc: string }>`select provider_credential_enc as enc from exchange_services where id = ${serviceId}::uuid`.execute(platform.ctx.db)).rows[0]
  assert.match(row.enc, /^v1\./)
  assert.ok(!JSON.stringify(services).includes('pc_'))
})

test('a system sees the fields its right opens: shared never sees restricted, restricted sees all', async () => {
  const shared = await call(systems.health.api_key, 'GET', '/records/F001')
  assert.equal(shared.status, 200, shared.body.toString())
  assert.deepEqual(shared.json().data, { code: 'F001', name: 'Trại bò Mường Phăng', herd: 120 })
  const list = await call(systems.health.api_key, 'GET', '/records?limit=10')
  assert.equal(list.status, 200)
  assert.ok(list.json().items.every((r: { data: Record<string, unknown> }) => !('owner_id_number' in r.data)))
  const restricted = await call(systems.tax.api_key, 'GET', '/records/F001')
  assert.equal(restricted.json().data.owner_id_number, '011234567890')
  // History at the caller's level: the shared caller sees no restricted value in any version.
  const hist = await call(systems.health.api_key, 'GET', '/records/F001/history')
  assert.equal(hist.status, 200)
  assert.ok(!hist.body.toString().includes('011234567890'))
  // A right that opens only "open" data does not open a registry shared among agencies.
  const open = await call(systems.opened.api_key, 'GET', '/records/F001')
  assert.equal(open.status, 403)
})

test('a caller cannot raise its own level: its x-hoaban-* headers are dropped by the gateway', async () => {
  const r = await call(systems.health.api_key, 'GET', '/records/F001', undefined, { 'x-hoaban-access-level': 'restricted', 'x-hoaban-can-write': 'true' })
  assert.equal(r.status, 200)
  assert.equal(r.json().data.owner_id_number, undefined)
  const w = await call(systems.health.api_key, 'POST', '/records', { data: { code: 'F900', name: 'x' } }, { 'x-hoaban-can-write': 'true' })
  assert.equal(w.status, 403)
})

test('the gateway refuses callers without a right, with an expired right, unknown or suspended', async () => {
  assert.equal((await call(systems.norights.api_key, 'GET', '/records/F001')).json().error.code, 'NO_RIGHT')
  assert.equal((await call(systems.expired.api_key, 'GET', '/records/F001')).json().error.code, 'RIGHT_NOT_VALID')
  assert.equal((await call(undefined, 'GET', '/records/F001')).status, 401)
  // Compliance cuts the Department of Trade off (its event reaches the gateway's copy).
  await platform.ctx.db.transaction().execute((tx) => publishEvent(tx, SUSPENSION_STARTED, {
    finding_id: 'f-reg-gw-1', subject_kind: 'unit', subject_ref: '11.SCT', rule_code: 'ANTIMALWARE_COVERAGE',
    reason_vi: 'Chưa cài phần mềm phòng chống mã độc tập trung', reason_en: 'Central anti-malware missing', fix_vi: 'Cài đặt', fix_en: 'Install it', since: new Date().toISOString(),
  }))
  await platform.ctx.events.dispatchPending(platform.ctx.db)
  const refused = await call(systems.suspended.api_key, 'GET', '/records/F001')
  assert.equal(refused.status, 403)
  assert.equal(refused.json().error.code, 'SUSPENDED_ANTIMALWARE_COVERAGE')
})

test('the provider routes answer only calls that came through the gateway for that registry', async () => {
  const direct = await rawCall(base, 'GET', `/api/registry-provider/${NAME}/records/F001`, { 'x-hoaban-access-level': 'restricted' })
  assert.equal(direct.status, 401)
  assert.equal(direct.json().error.code, 'GATEWAY_ONLY')
  const forged = await rawCall(base, 'GET', `/api/registry-provider/${NAME}/records/F001`, { 'x-hoaban-provider-credential': 'pc_not-a-real-credential-at-all-000000', 'x-hoaban-access-level': 'restricted' })
  assert.equal(forged.status, 403)
  assert.equal(forged.json().error.code, 'PROVIDER_CREDENTIAL_INVALID')
  // The credential of one registry's service does not open another registry.
  const rt = exchangeRuntime(platform.ctx)
  const snap = await rt.registry.get()
  const schools = [...snap.services.values()].find((s) => s.code === 'registry-schools')!
  const cross = await rawCall(base, 'GET', `/api/registry-provider/${NAME}/records/F001`, { 'x-hoaban-provider-credential': schools.provider_credential!, 'x-hoaban-access-level': 'restricted' })
  assert.equal(cross.status, 403)
})

test('a system with can_write adds and changes records: versioned, audited with the caller, retried without duplicates', async () => {
  const ro = await call(systems.tax.api_key, 'POST', '/records', { data: { code: 'F200', name: 'Trại gà' } })
  assert.equal(ro.status, 403, 'a restricted read right is still read-only')
  const body = { data: { code: 'F200', name: 'Trại gà Thanh Xương', herd: 3000 } }
  const first = await call(systems.owner.api_key, 'POST', '/records', body, { 'idempotency-key': 'farm-f200' })
  assert.equal(first.status, 201, first.body.toString())
  const retry = await call(systems.owner.api_key, 'POST', '/records', body, { 'idempotency-key': 'farm-f200' })
  assert.equal(retry.status, 201)
  assert.equal(retry.headers['idempotent-replayed'], 'true')
  const patched = await call(systems.owner.api_key, 'PATCH', '/records/F200', { data: { herd: 3500 }, expected_version: 1 })
  assert.equal(patched.status, 200, patched.body.toString())
  assert.equal(patched.json().version, 2)
  const n = (await sql<{ n: number }>`select count(*)::int as n from registry_records where registry = ${NAME} and record_key = 'F200'`.execute(platform.ctx.db)).rows[0].n
  assert.equal(n, 1)
  const hist = (await call(systems.owner.api_key, 'GET', '/records/F200/history')).json().versions
  assert.deepEqual(hist.map((v: { version: number; actor: string }) => [v.version, v.actor]), [[1, 'gw:M-11.SNNMT/owner'], [2, 'gw:M-11.SNNMT/owner']])
  const audit = (await sql<{ action: string; actor: string }>`select action, actor from audit_log where entity_type = ${`registry:${NAME}`} and entity_id = 'F200' order by id`.execute(platform.ctx.db)).rows
  assert.deepEqual(audit.map((a) => `${a.action} ${a.actor}`), ['registry.record_created gw:M-11.SNNMT/owner', 'registry.record_updated gw:M-11.SNNMT/owner'])
  assert.equal((await verifyAuditChain(platform.ctx.db)).ok, true)
  // Every call is in the gateway's signed message log, under the caller.
  await exchangeRuntime(platform.ctx).log.flush()
  let logged = 0
  for await (const r of readLogRows(platform.ctx.db)) if (r.columns.service === 'registry-farms-gw' && r.columns.client === 'M-11.SNNMT/owner') logged++
  assert.ok(logged >= 4, `${logged} calls logged`)
})
