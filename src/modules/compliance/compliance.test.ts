import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { calendarModule } from '../calendar/index.ts'
import { exchangeModule } from '../exchange/index.ts'
import { grant, rawCall, registerService, registerSystem, startProvider } from '../exchange/test-helpers.ts'
import { geoModule } from '../geo/index.ts'
import { createApiClient, identityModule } from '../identity/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { multipart } from '../../platform/testing/multipart.ts'
import { complianceByUnit, complianceModule, evaluateCompliance, proposeLevel, suspendedSubjects, type Answers } from './index.ts'

// Monday 6 July 2026, 09:00 in Điện Biên. The clock only moves when a test moves it.
let now = new Date('2026-07-06T02:00:00Z')
const at = (iso: string) => (now = new Date(iso))
const today = () => new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10)

let platform: Platform
let base: string
let provider: Awaited<ReturnType<typeof startProvider>>
let admin: TestUser, unitAdminSXD: TestUser, officerSXD: TestUser, officerSCT: TestUser, citizen: TestUser, ioc: TestUser
let permits: { id: string; api_key: string }, portal: { id: string; api_key: string }
let agentSXD: string, consoleKey: string, agentNoScope: string

const internal: Answers = { serves: 'internal', information: 'public', personal_data_subjects: 0, online_public_service_level: 0, shared_platform: false, national_critical: false }

before(async () => {
  provider = await startProvider()
  platform = await startTestPlatform({
    modules: [geoModule, identityModule, calendarModule, exchangeModule, complianceModule],
    clock: () => now,
    config: { env: { EXCHANGE_DIR: mkdtempSync(join(tmpdir(), 'hb-compliance-')), EXCHANGE_NODE: 'gw-compliance', EXCHANGE_REGISTRY_TTL_MS: '60000', COMPLIANCE_DECISION_FILE_MAX_BYTES: '65536' } } as never,
  })
  const db = platform.ctx.db
  ;[admin, unitAdminSXD, officerSXD, officerSCT, citizen, ioc] = await Promise.all([
    createTestUser(db, 'province_admin'), createTestUser(db, 'unit_admin', '11.SXD'), createTestUser(db, 'officer', '11.SXD'), createTestUser(db, 'officer', '11.SCT'),
    createTestUser(db, 'citizen'), createTestUser(db, 'ioc_viewer'),
  ])
  const his = await registerSystem(platform, admin, { code: 'SYT', unit: '11.SYT' }, 'his')
  const svc = await registerService(platform, admin, his.id, 'patients', provider.url)
  permits = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'permits')
  portal = await registerSystem(platform, admin, { code: 'SCT', unit: '11.SCT' }, 'portal')
  for (const s of [permits, portal]) await grant(platform, admin, { service_id: svc.id, system_id: s.id, valid_from: '2026-01-01', valid_until: '2027-01-01' })
  const adminP = admin.principal as Extract<typeof admin.principal, { kind: 'user' }>
  agentSXD = (await createApiClient(db, adminP, { name: 'agent SXD', unitCode: '11.SXD', scopes: ['compliance:agent'] })).apiKey
  consoleKey = (await createApiClient(db, adminP, { name: 'central console', unitCode: null, scopes: ['compliance:console'] })).apiKey
  agentNoScope = (await createApiClient(db, adminP, { name: 'other client', unitCode: '11.SXD', scopes: [] })).apiKey
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(platform.app.server.address() as { port: number }).port}`
})
after(async () => {
  await platform?.close()
  await provider?.close()
})

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, user: TestUser | undefined, payload?: unknown, headers: Record<string, string> = {}) =>
  platform.app.inject({ method, url, payload: payload as object, headers: { ...(user?.headers ?? {}), ...headers } })

const heartbeat = (key: string, endpoints: Record<string, unknown>[]) => inject('POST', '/api/compliance/agents/heartbeat', undefined, { endpoints }, { 'x-api-key': key })
const pc = (hostname: string, extra: Record<string, unknown> = {}) => ({ hostname, agent_version: '12.0.1', signatures_date: today(), last_scan_at: now.toISOString(), threats_found: 0, ...extra })

/** Runs the evaluator at the test clock and delivers its events (the gateway's copy of suspensions). */
async function evaluate() {
  const decisions = await evaluateCompliance(platform.ctx.db, now)
  await platform.ctx.events.dispatchPending(platform.ctx.db)
  return decisions
}
const callAs = (key: string) => rawCall(base, 'GET', '/gw/SYT/patients/records', { 'x-exchange-key': key })

test('the questionnaire proposes a Decree 85 level with its reasons', () => {
  assert.equal(proposeLevel(internal).level, 1)
  assert.equal(proposeLevel({ ...internal, information: 'private_or_personal' }).level, 2)
  assert.equal(proposeLevel({ ...internal, personal_data_subjects: 10_000 }).level, 3)
  assert.equal(proposeLevel({ ...internal, online_public_service_level: 4 }).level, 3)
  assert.equal(proposeLevel({ ...internal, shared_platform: true }).reasons[0].article, 'Art. 9')
  assert.equal(proposeLevel({ ...internal, information: 'state_secret' }).level, 4)
  assert.equal(proposeLevel({ ...internal, national_critical: true }).level, 5)
  // Answering "more" never lowers the proposal, and the level is the highest reason's.
  const answers = fc.record({
    serves: fc.constantFrom('internal', 'citizens_businesses', 'sector_or_national'), information: fc.constantFrom('public', 'private_or_personal', 'state_secret'),
    personal_data_subjects: fc.nat(100_000), online_public_service_level: fc.integer({ min: 0, max: 4 }), shared_platform: fc.boolean(), national_critical: fc.boolean(),
  }) as fc.Arbitrary<Answers>
  fc.assert(fc.property(answers, (a) => {
    const p = proposeLevel(a)
    assert.equal(p.level, Math.max(...p.reasons.map((r) => r.level)))
    assert.ok(proposeLevel({ ...a, national_critical: true }).level === 5)
    assert.ok(proposeLevel({ ...a, personal_data_subjects: a.personal_data_subjects + 20_000 }).level >= p.level)
  }))
})

test('warn → suspend at the gateway → restore, driven by heartbeats and the clock', async () => {
  // SXD: full 4-layer evidence, an approved system, 2 registered computers of which 1 reports.
  const u = await inject('PUT', '/api/compliance/units/11.SXD', unitAdminSXD, { onsite_team: 'Tổ ứng cứu SXD', monitoring_provider: 'VNPT', monitoring_contract_end: '2027-12-31', independent_assessor: 'Cục ATTT', national_monitoring_connected: true, registered_computers: 2 })
  assert.equal(u.statusCode, 200, u.body)
  const cls = await inject('POST', '/api/compliance/systems', unitAdminSXD, { system_ref: 'SXD/permits', unit_code: '11.SXD', name: 'Cấp phép xây dựng', info_types: ['hồ sơ cấp phép'], questionnaire: { ...internal, serves: 'citizens_businesses', online_public_service_level: 4, personal_data_subjects: 20000 } })
  assert.equal(cls.statusCode, 200, cls.body)
  assert.equal(cls.json().proposed_level, 3)
  const appr = await inject('PUT', `/api/compliance/systems/${cls.json().id}/approval`, admin, { approved_level: 3, decision_number: '123/QĐ-UBND', decision_date: '2026-03-01', decision_signer: 'Chủ tịch UBND tỉnh', security_plan: 'Phương án bảo đảm ATTT', reassessment_triggers: ['thay đổi kiến trúc'], last_assessment_date: '2026-03-01', next_assessment_date: '2027-03-01' })
  assert.equal(appr.statusCode, 200, appr.body)
  // SCT: everything in order but its system has no approved level.
  assert.equal((await inject('PUT', '/api/compliance/units/11.SCT', admin, { monitoring_provider: 'Viettel', monitoring_contract_end: '2027-12-31', registered_computers: 1 })).statusCode, 200)
  assert.equal((await inject('POST', '/api/compliance/systems', admin, { system_ref: 'SCT/portal', unit_code: '11.SCT', name: 'Cổng TMĐT', questionnaire: internal })).statusCode, 200)
  const beatSCT = async () => assert.equal((await heartbeat(consoleKey, [pc('sct-01', { unit_code: '11.SCT' })])).statusCode, 200)

  const hb = await heartbeat(agentSXD, [pc('sxd-01')])
  assert.equal(hb.statusCode, 200, hb.body)
  await beatSCT()
  let d = await evaluate()
  assert.deepEqual(d.map((x) => `${x.action} ${x.subject_ref} ${x.rule_code}`), ['warned SCT/portal NO_APPROVED_LEVEL'], 'coverage below 100% is only counted from now')
  assert.equal((await callAs(permits.api_key)).status, 200)

  // Seven days later SXD still has one computer of two: warned, with a deadline 3 working days on.
  at('2026-07-13T03:00:00Z')
  await heartbeat(agentSXD, [pc('sxd-01')])
  await beatSCT()
  d = await evaluate()
  const warn = d.find((x) => x.subject_ref === '11.SXD')!
  assert.equal(warn.action, 'warned')
  assert.equal(warn.rule_code, 'ANTIMALWARE_COVERAGE')
  assert.equal(warn.deadline, '2026-07-16T03:00:00.000Z')
  assert.equal((await callAs(permits.api_key)).status, 200, 'a warning does not cut the connection')
  const list = (await inject('GET', '/api/compliance/suspensions', officerSXD)).json()
  assert.equal(list.warned.length, 1)
  assert.match(list.warned[0].reason_en, /50% \(1\/2 computers\)/)

  // The deadline passes: suspended; the gateway refuses with the rule and how to fix it.
  at('2026-07-16T03:01:00Z')
  await heartbeat(agentSXD, [pc('sxd-01')])
  await beatSCT()
  d = await evaluate()
  assert.deepEqual(d.map((x) => `${x.action} ${x.subject_ref}`), ['suspended 11.SXD'])
  const refused = await callAs(permits.api_key)
  assert.equal(refused.status, 403)
  const e = refused.json().error
  assert.equal(e.code, 'SUSPENDED_ANTIMALWARE_COVERAGE')
  assert.match(e.message_en, /anti-malware agent/)
  assert.match(e.message_vi, /phòng chống mã độc/)
  assert.equal(e.details.subject, 'unit:11.SXD')
  assert.equal((await callAs(portal.api_key)).status, 200, 'SCT is only warned so far')
  assert.deepEqual((await suspendedSubjects(platform.ctx.db)).map((s) => s.subject_ref), ['11.SXD'])

  // The second computer's agent reports (through the central console): restored at the next run.
  await heartbeat(consoleKey, [pc('sxd-02', { unit_code: '11.SXD' })])
  at('2026-07-16T03:20:00Z')
  d = await evaluate()
  assert.deepEqual(d.map((x) => `${x.action} ${x.subject_ref} ${x.resolution}`), ['restored 11.SXD compliant'])
  assert.equal((await callAs(permits.api_key)).status, 200)

  // Every decision is audited with its evidence.
  const audit = (await sql<{ action: string; data: { evidence: Record<string, unknown> } }>`select action, data from audit_log where entity_id = '11.SXD' and action like 'compliance.%' and action <> 'compliance.agents.heartbeat' order by id`.execute(platform.ctx.db)).rows
  assert.deepEqual(audit.map((a) => a.action), ['compliance.unit.evidence_recorded', 'compliance.warned', 'compliance.suspended', 'compliance.restored'])
  assert.equal(audit[1].data.evidence.healthy, 1)
  assert.equal(audit[1].data.evidence.registered, 2)

  // SCT's warning runs out: suspended; an admin exemption with dates and a reason restores it.
  at('2026-07-20T02:01:00Z')
  await beatSCT()
  await heartbeat(consoleKey, [pc('sxd-01', { unit_code: '11.SXD' }), pc('sxd-02', { unit_code: '11.SXD' })])
  d = await evaluate()
  assert.deepEqual(d.map((x) => `${x.action} ${x.subject_ref} ${x.rule_code}`), ['suspended SCT/portal NO_APPROVED_LEVEL'])
  assert.equal((await callAs(portal.api_key)).json().error.code, 'SUSPENDED_NO_APPROVED_LEVEL')
  const ex = await inject('POST', '/api/compliance/exemptions', admin, { subject_kind: 'system', subject_ref: 'SCT/portal', rule_code: 'NO_APPROVED_LEVEL', valid_until: '2026-09-30T17:00:00Z', reason: 'Hồ sơ cấp độ đang thẩm định tại Sở KH&CN' }, { 'idempotency-key': 'ex-1' })
  assert.equal(ex.statusCode, 201, ex.body)
  d = await evaluate()
  assert.deepEqual(d.map((x) => `${x.action} ${x.subject_ref} ${x.resolution}`), ['restored SCT/portal exempted'])
  assert.equal((await callAs(portal.api_key)).status, 200, 'an exempted system passes')
  // While exempted, it is not warned again; when the exemption ends, the cycle starts over.
  assert.deepEqual(await evaluate(), [])
  at('2026-10-01T02:00:00Z')
  await beatSCT()
  await heartbeat(consoleKey, [pc('sxd-01', { unit_code: '11.SXD' }), pc('sxd-02', { unit_code: '11.SXD' })])
  assert.deepEqual((await evaluate()).map((x) => `${x.action} ${x.subject_ref}`), ['warned SCT/portal'])

  // The IOC reads compliance by unit.
  const byUnit = await complianceByUnit(platform.ctx.db, now)
  const sxd = byUnit.find((x) => x.unit_code === '11.SXD')!
  assert.equal(sxd.antimalware.coverage, 1)
  assert.equal(sxd.compliant, true)
  assert.equal(sxd.systems[0].approved_level, 3)
  const iocView = await inject('GET', '/api/compliance/units', ioc)
  assert.equal(iocView.statusCode, 200)
  assert.ok(iocView.json().items.length >= 2)
})

test('stale signatures and an expired monitoring contract are rules too', async () => {
  at('2026-10-01T02:00:00Z')
  await inject('PUT', '/api/compliance/units/11.STP', admin, { monitoring_provider: 'FPT', monitoring_contract_end: '2026-01-31', registered_computers: 1 })
  const hb = await heartbeat(consoleKey, [pc('stp-01', { unit_code: '11.STP', signatures_date: '2026-09-01' })])
  assert.equal(hb.statusCode, 200, hb.body)
  assert.equal((await heartbeat(consoleKey, [pc('x-01', { unit_code: 'NOPE' })])).json().error.code, 'UNKNOWN_UNIT')
  const all = await evaluate()
  const d = all.filter((x) => x.subject_ref === '11.STP')
  assert.ok(d.length > 0, JSON.stringify(all))
  assert.deepEqual(d.map((x) => x.rule_code).sort(), ['AGENT_SIGNATURES_STALE', 'MONITORING_CONTRACT_EXPIRED'])
  const rules = (await inject('GET', '/api/compliance/rules', officerSCT)).json().items
  assert.equal(rules.length, 5)
})

test('heartbeat: only agent or console keys; an agent reports for its own unit; bad input is 400', async () => {
  assert.equal((await heartbeat('', [pc('x')])).statusCode, 401)
  assert.equal((await inject('POST', '/api/compliance/agents/heartbeat', officerSXD, { endpoints: [pc('x')] })).statusCode, 403)
  assert.equal((await heartbeat(agentNoScope, [pc('x')])).statusCode, 403)
  assert.equal((await heartbeat(agentSXD, [pc('x', { unit_code: '11.SCT' })])).statusCode, 403)
  const bad = await heartbeat(agentSXD, [pc('x', { signatures_date: 'yesterday' })])
  assert.equal(bad.statusCode, 400)
  assert.equal((await heartbeat(agentSXD, [])).statusCode, 400)
  const k = { 'x-api-key': agentSXD, 'idempotency-key': 'hb-1' }
  const first = await inject('POST', '/api/compliance/agents/heartbeat', undefined, { endpoints: [pc('sxd-01')] }, k)
  const again = await inject('POST', '/api/compliance/agents/heartbeat', undefined, { endpoints: [pc('sxd-01')] }, k)
  assert.equal(first.statusCode, 200)
  assert.equal(again.headers['idempotent-replayed'], 'true')
})

test('compliance routes: roles and units', async () => {
  for (const url of ['/api/compliance/systems', '/api/compliance/units', '/api/compliance/suspensions', '/api/compliance/exemptions', '/api/compliance/rules']) {
    assert.equal((await inject('GET', url, undefined)).statusCode, 401, url)
    assert.equal((await inject('GET', url, citizen)).statusCode, 403, url)
  }
  assert.equal((await inject('GET', '/api/compliance/questionnaire', undefined)).statusCode, 200)
  // Officers see their own unit only.
  const units = (await inject('GET', '/api/compliance/units', officerSCT)).json().items
  assert.deepEqual(units.map((u: { unit_code: string }) => u.unit_code), ['11.SCT'])
  const systems = (await inject('GET', '/api/compliance/systems', officerSCT)).json().items
  assert.ok(systems.every((s: { unit_code: string }) => s.unit_code === '11.SCT'))
  const susp = (await inject('GET', '/api/compliance/suspensions', officerSXD)).json()
  assert.ok([...susp.warned, ...susp.suspended].every((f: { unit_code: string }) => f.unit_code === '11.SXD'))
  // Only a unit's admin (or a province admin) changes it; approvals, exemptions and runs are for province admins.
  assert.equal((await inject('PUT', '/api/compliance/units/11.SXD', officerSXD, { registered_computers: 1 })).statusCode, 403)
  assert.equal((await inject('PUT', '/api/compliance/units/11.SCT', unitAdminSXD, { registered_computers: 1 })).statusCode, 403)
  assert.equal((await inject('POST', '/api/compliance/systems', unitAdminSXD, { system_ref: 'SCT/x', unit_code: '11.SCT', name: 'x', questionnaire: internal })).statusCode, 403)
  assert.equal((await inject('PUT', '/api/compliance/systems/00000000-0000-0000-0000-000000000000/approval', unitAdminSXD, {})).statusCode, 403)
  assert.equal((await inject('PUT', '/api/compliance/systems/00000000-0000-0000-0000-000000000000/approval', admin, {})).statusCode, 404)
  assert.equal((await inject('POST', '/api/compliance/exemptions', unitAdminSXD, {})).statusCode, 403)
  assert.equal((await inject('POST', '/api/compliance/evaluate', unitAdminSXD)).statusCode, 403)
  assert.equal((await inject('POST', '/api/compliance/evaluate', admin)).statusCode, 200)
  // Bad input.
  assert.equal((await inject('PUT', '/api/compliance/units/nope', admin, {})).json().error.code, 'UNKNOWN_UNIT')
  assert.equal((await inject('POST', '/api/compliance/exemptions', admin, { subject_kind: 'unit', subject_ref: '11.SXD', valid_from: '2026-12-01T00:00:00Z', valid_until: '2026-11-01T00:00:00Z', reason: 'sai ngày' })).json().error.code, 'INVALID_VALIDITY')
})

test('the signed approval decision is stored byte for byte with its system, audited, and read by its unit, the province and the IOC only', async () => {
  const created = await inject('POST', '/api/compliance/systems', admin, { system_ref: 'SCT/xuc-tien', unit_code: '11.SCT', name: 'Cổng xúc tiến thương mại', questionnaire: internal })
  assert.equal(created.statusCode, 200, created.body)
  const id = created.json().id as string
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n% Quyết định phê duyệt cấp độ 2\n'), Buffer.alloc(4000, 7), Buffer.from('\n%%EOF\n')])
  const url = `/api/compliance/systems/${id}/decision-file`
  const put = (user: TestUser | undefined, body: ReturnType<typeof multipart>) => platform.app.inject({ method: 'PUT', url, payload: body.payload, headers: { ...(user?.headers ?? {}), ...body.headers } })
  const file = (data: Buffer, name = 'QD-125-UBND.pdf', field = 'file') => multipart({}, [{ field, name, data, type: 'application/pdf' }])

  // Only a province admin stores it.
  assert.equal((await put(undefined, file(pdf))).statusCode, 401)
  assert.equal((await put(unitAdminSXD, file(pdf))).statusCode, 403)
  assert.equal((await put(citizen, file(pdf))).statusCode, 403)
  const stored = await put(admin, file(pdf, 'QĐ 125-UBND phê duyệt.pdf'))
  assert.equal(stored.statusCode, 200, stored.body)
  const sha256 = createHash('sha256').update(pdf).digest('hex')
  assert.equal(stored.json().decision_file_sha256, sha256)
  assert.equal(stored.json().decision_file_name, 'QĐ 125-UBND phê duyệt.pdf')
  // The same file again: the same record; each storing is in the audit log.
  assert.equal((await put(admin, file(pdf, 'QĐ 125-UBND phê duyệt.pdf'))).json().decision_file_sha256, sha256)
  const audit = await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'compliance.system.decision_file_stored' and entity_id = ${id}`.execute(platform.ctx.db)
  assert.equal(audit.rows[0].n, 2)

  // Read back byte for byte by the unit's staff, the province admin and the IOC; another unit's staff do not see it.
  for (const user of [officerSCT, admin, ioc]) {
    const got = await inject('GET', url, user)
    assert.equal(got.statusCode, 200, got.body)
    assert.equal(got.headers['content-type'], 'application/pdf')
    assert.match(String(got.headers['content-disposition']), /^attachment; filename\*=UTF-8''Q%C4%90%20125-UBND/)
    assert.deepEqual(got.rawPayload, pdf)
  }
  assert.equal((await inject('GET', url, officerSXD)).statusCode, 404)
  assert.equal((await inject('GET', url, citizen)).statusCode, 403)
  assert.equal((await inject('GET', url, undefined)).statusCode, 401)

  // Bad input: never a 500, never a changed record.
  assert.equal((await put(admin, file(Buffer.from('GIF89a not a pdf')))).json().error.code, 'FILE_TYPE_NOT_ALLOWED')
  assert.equal((await put(admin, file(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(70_000)])))).statusCode, 413)
  assert.equal((await put(admin, file(pdf, 'a.pdf', 'other'))).json().error.code, 'FILE_REQUIRED')
  assert.equal((await put(admin, multipart({ note: 'no file' }))).json().error.code, 'FILE_REQUIRED')
  const json = await inject('PUT', url, admin, { file: 'x' })
  assert.equal(json.statusCode, 415, json.body)
  const unknown = file(pdf)
  assert.equal((await platform.app.inject({ method: 'PUT', url: '/api/compliance/systems/00000000-0000-0000-0000-000000000000/decision-file', payload: unknown.payload, headers: { ...admin.headers, ...unknown.headers } })).statusCode, 404)
  const after = (await inject('GET', '/api/compliance/systems', admin)).json().items.find((x: { id: string }) => x.id === id)
  assert.equal(after.decision_file_sha256, sha256, 'refused uploads leave the stored decision as it was')
})
