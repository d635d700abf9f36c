import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { closeSettledReports, escalateOverdueReports } from './escalation.ts'

// Two neighbouring units: Phường Điện Biên Phủ (03127) and a second commune found at start.
const DBP = { lat: 21.3856, lon: 103.0167 }
let platform: Platform
let communeB: string

before(async () => {
  platform = await startTestPlatform()
  const units = await platform.app.inject({ method: 'GET', url: '/api/geo/units?level=commune' })
  const list = units.json().items ?? units.json()
  communeB = list.map((u: { code: string }) => u.code).find((c: string) => c !== '03127')
})
after(async () => {
  await platform?.close()
})

async function send(extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: { category: 'traffic', description: 'Sạt lở taluy', ...DBP, ...extra }, headers })
  assert.equal(res.statusCode, 201, res.body)
  return res.json().code as string
}
const act = (code: string, action: string, user: TestUser | null, body: Record<string, unknown> = {}) =>
  platform.app.inject({ method: 'POST', url: `/api/reports/${code}/${action}`, payload: body, headers: user?.headers ?? {} })
const view = (code: string, user: TestUser | null) => platform.app.inject({ method: 'GET', url: `/api/reports/${code}`, headers: user?.headers ?? {} })

describe('authorization: who sees what', () => {
  test('an officer of commune A sees the internal view of A’s report, without the reporter unless allowed', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const officerA = await createTestUser(platform.ctx.db, 'officer', '03127')
    const hidden = await send({ contact: { name: 'Giàng A Páo', phone: '0987654321' }, share_identity: false }, citizen.headers)
    const shared = await send({ contact: { name: 'Giàng A Páo', phone: '0987654321' }, share_identity: true }, citizen.headers)
    const v1 = (await view(hidden, officerA)).json()
    assert.equal(v1.view, 'internal')
    assert.equal(v1.reporter, null)
    assert.ok(!JSON.stringify(v1).includes('0987654321'))
    const v2 = (await view(shared, officerA)).json()
    assert.equal(v2.reporter.phone, '0987654321')
  })

  test('an officer of commune B gets only the public view of A’s report and cannot act on it', async () => {
    const officerB = await createTestUser(platform.ctx.db, 'officer', communeB)
    const code = await send({ contact: { name: 'Người gửi', phone: '0911111111' }, share_identity: true })
    const v = (await view(code, officerB)).json()
    assert.equal(v.view, 'public')
    assert.ok(!JSON.stringify(v).includes('0911111111'))
    assert.equal(v.history, undefined)
    assert.equal((await act(code, 'assign', officerB)).statusCode, 403)
    const queue = (await platform.app.inject({ method: 'GET', url: '/api/reports/queue', headers: officerB.headers })).json()
    assert.ok(!queue.items.some((r: { code: string }) => r.code === code))
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/reports/queue?unit_code=03127', headers: officerB.headers })).statusCode, 403)
  })

  test('the reporter sees their own contact; anonymous reporters leave none', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const other = await createTestUser(platform.ctx.db, 'citizen')
    const code = await send({ contact: { name: 'Tôi', phone: '0922222222' } }, citizen.headers)
    assert.equal((await view(code, citizen)).json().view, 'owner')
    assert.equal((await view(code, citizen)).json().reporter.phone, '0922222222')
    assert.equal((await view(code, other)).json().view, 'public')
    assert.ok(!(await view(code, other)).body.includes('0922222222'))
    const mine = (await platform.app.inject({ method: 'GET', url: '/api/reports/mine', headers: citizen.headers })).json()
    assert.ok(mine.items.some((r: { code: string }) => r.code === code))
    const anon = await send({ anonymous: true, share_identity: true, contact: { phone: '0933333333' } })
    const row = (await sql<{ reporter_phone: string | null }>`select reporter_phone from reports where code = ${anon}`.execute(platform.ctx.db)).rows[0]
    assert.equal(row.reporter_phone, null)
  })

  test('staff routes need a signed-in staff member', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const ioc = await createTestUser(platform.ctx.db, 'ioc_viewer')
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/reports/queue' })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/reports/queue', headers: citizen.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/reports/queue', headers: ioc.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/reports/mine' })).statusCode, 401)
    const code = await send()
    assert.equal((await act(code, 'assign', null)).statusCode, 401)
    assert.equal((await act(code, 'assign', citizen)).statusCode, 403)
    assert.equal((await act(code, 'rate', citizen, { rating: 5 })).statusCode, 403, 'only the reporter rates')
  })

  test('a province admin sees every unit’s queue', async () => {
    const admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
    const code = await send()
    const q = (await platform.app.inject({ method: 'GET', url: '/api/reports/queue?unit_code=03127&limit=200', headers: admin.headers })).json()
    assert.ok(q.items.some((r: { code: string }) => r.code === code))
  })
})

describe('workflow', () => {
  test('received → assigned → in progress → resolved, then the reporter rates and reopens', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const code = await send({}, citizen.headers)
    assert.equal((await act(code, 'assign', officer)).json().status, 'assigned')
    assert.equal((await act(code, 'start', officer)).json().status, 'in_progress')
    const noAnswer = await act(code, 'resolve', officer)
    assert.equal(noAnswer.statusCode, 400)
    assert.equal(noAnswer.json().error.code, 'FIELD_REQUIRED')
    const resolved = (await act(code, 'resolve', officer, { answer: 'Đã san gạt đất đá, thông đường.' })).json()
    assert.equal(resolved.status, 'resolved')
    assert.equal((await view(code, null)).json().public_answer, 'Đã san gạt đất đá, thông đường.')
    assert.equal((await act(code, 'rate', citizen, { rating: 2, comment: 'Chưa sạch' })).statusCode, 200)
    const reopened = await act(code, 'reopen', citizen, { reason: 'Đất đá lại tràn xuống' })
    assert.equal(reopened.json().status, 'in_progress')
    assert.equal((await act(code, 'start', officer)).statusCode, 409, 'invalid transition')
    const history = (await view(code, officer)).json().history.map((h: { action: string }) => h.action)
    assert.deepEqual(history, ['created', 'assign', 'start', 'resolve', 'rate', 'reopen'])
    const audit = await sql<{ action: string }>`select action from audit_log where entity_id = ${code} order by id`.execute(platform.ctx.db)
    assert.deepEqual(audit.rows.map((r) => r.action), ['report.created', 'report.assign', 'report.start', 'report.resolve', 'report.rate', 'report.reopen'])
  })

  test('reject needs a reason; "closed, not fixed" needs an answer', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const a = await send()
    assert.equal((await act(a, 'reject', officer)).statusCode, 400)
    assert.equal((await act(a, 'reject', officer, { reason: 'Không thuộc thẩm quyền' })).json().status, 'rejected')
    const b = await send()
    await act(b, 'start', officer)
    assert.equal((await act(b, 'close', officer, { outcome: 'not_fixed' })).statusCode, 400)
    const closed = (await act(b, 'close', officer, { outcome: 'not_fixed', answer: 'Cần vốn sửa chữa lớn, đã đưa vào kế hoạch 2027' })).json()
    assert.equal(closed.status, 'closed')
    assert.equal(closed.outcome, 'not_fixed')
  })

  test('transfer moves the report to another unit’s queue; a corrected pin re-locates it', async () => {
    const officerA = await createTestUser(platform.ctx.db, 'officer', '03127')
    const officerB = await createTestUser(platform.ctx.db, 'officer', communeB)
    const code = await send()
    assert.equal((await act(code, 'transfer', officerA, { to_unit: communeB })).statusCode, 400, 'reason required')
    const moved = await act(code, 'transfer', officerA, { to_unit: communeB, reason: 'Thuộc địa bàn xã bên' })
    assert.equal(moved.statusCode, 200, moved.body)
    assert.equal((await view(code, officerA)).json().view, 'public')
    const q = (await platform.app.inject({ method: 'GET', url: '/api/reports/queue', headers: officerB.headers })).json()
    assert.ok(q.items.some((r: { code: string }) => r.code === code))
    // Back to 03127 by correcting the pin.
    const back = await act(code, 'transfer', officerB, { reason: 'Ghim sai vị trí', ...DBP })
    assert.equal(back.statusCode, 200, back.body)
    assert.equal((await view(code, officerA)).json().unit_code, '03127')
  })

  test('staff merge a duplicate into the original; its reporter becomes a supporter', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const original = await send()
    const dup = await send()
    const merged = (await act(dup, 'merge', officer, { into_code: original })).json()
    assert.equal(merged.status, 'closed')
    assert.equal(merged.outcome, 'duplicate')
    assert.equal((await view(original, null)).json().supporters_count, 1)
  })

  test('overdue reports are escalated to the province once, and recorded', async () => {
    const code = await send()
    const later = new Date(Date.now() + 30 * 86_400_000)
    assert.ok((await escalateOverdueReports(platform.ctx.db, later, '11')) >= 1)
    assert.equal(await escalateOverdueReports(platform.ctx.db, later, '11'), 0)
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const v = (await view(code, officer)).json()
    assert.equal(v.escalation_level, 1)
    assert.ok(v.history.some((h: { action: string; to_unit: string }) => h.action === 'escalated' && h.to_unit === '11'))
    const ev = await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = 'report.escalated' and payload->>'code' = ${code}`.execute(platform.ctx.db)
    assert.equal(ev.rows[0].n, 1)
  })

  test('resolved reports close by themselves after the reopen window', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const code = await send()
    await act(code, 'resolve', officer, { answer: 'Xong' })
    assert.ok((await closeSettledReports(platform.ctx.db, new Date(Date.now() + 11 * 86_400_000), platform.ctx.config.provinceCode)) >= 1)
    assert.equal((await view(code, null)).json().status, 'closed')
  })
})

describe('categories are configuration', () => {
  test('a province admin adds a category routed to a department; others may not', async () => {
    const admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const body = { name_vi: 'Cây xanh đô thị', name_en: 'Urban trees', icon: 'tree', handling: 'department', department_code: '11.SXD', deadlines: { received: 4, assigned: 8, in_progress: 24 } }
    assert.equal((await platform.app.inject({ method: 'PUT', url: '/api/reports/categories/trees', payload: body, headers: officer.headers })).statusCode, 403)
    const bad = await platform.app.inject({ method: 'PUT', url: '/api/reports/categories/trees', payload: { ...body, department_code: null }, headers: admin.headers })
    assert.equal(bad.statusCode, 400)
    const ok = await platform.app.inject({ method: 'PUT', url: '/api/reports/categories/trees', payload: body, headers: admin.headers })
    assert.equal(ok.statusCode, 200, ok.body)
    // Reference data is cached for up to 30 s on the intake path; the category list is read live.
    const list = (await platform.app.inject({ method: 'GET', url: '/api/reports/categories' })).json().items
    assert.ok(list.some((c: { code: string; department_code: string }) => c.code === 'trees' && c.department_code === '11.SXD'))
    const audit = await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'report_category.saved' and entity_id = 'trees'`.execute(platform.ctx.db)
    assert.equal(audit.rows[0].n, 1)
  })
})

describe('joined with the document system', () => {
  test('an answer issued as a document gets a register number and shows on the report', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    const code = await send()
    const res = await act(code, 'resolve', officer, { answer: 'Đã khắc phục sạt lở.', issue_document: true, signer: 'Chủ tịch UBND phường' })
    assert.equal(res.statusCode, 200, res.body)
    const v = (await view(code, officer)).json()
    assert.equal(v.linked_documents.length, 1)
    assert.match(v.linked_documents[0].symbol, /^\d+\/CV-UBND$/)
    assert.equal(v.linked_documents[0].direction, 'outgoing')
    assert.equal((await view(code, null)).json().linked_documents, undefined, 'not in the public view')
  })
})
