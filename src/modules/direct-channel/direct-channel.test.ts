import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser } from '../identity/test-factories.ts'
import { redactPersonalData } from './questions.ts'
import { escalateOverdueQuestions } from './questions.ts'

let platform: Platform
let now = new Date('2026-02-13T10:00:00+07:00')
before(async () => {
  platform = await startTestPlatform({ clock: () => now })
})
after(async () => {
  await platform?.close()
})

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) => platform.app.inject({ method: method as 'GET', url, headers, payload: payload as object })
const ask = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  inject('POST', '/api/questions', headers, { topic: 'chuyen_doi_so', title: 'Hỏi về nộp hồ sơ trực tuyến', body: 'Tôi muốn nộp hồ sơ đăng ký hộ kinh doanh trực tuyến thì làm thế nào?', name: 'Giàng A Páo', phone: '0987654321', ...extra })

describe('questions: routing and deadlines', () => {
  test('a question goes to its topic’s department, due in working days over Tết', async () => {
    now = new Date('2026-02-13T10:00:00+07:00')
    const r = await ask()
    assert.equal(r.statusCode, 201, r.body)
    // Three working days from Friday 13 February 2026: Tết closes the offices until 22 February.
    assert.deepEqual([r.json().unit_code, r.json().due_at], ['11.SKHCN', '2026-02-25T03:00:00.000Z'])
    now = new Date('2026-04-24T10:00:00+07:00')
    const b = await ask({ topic: 'dau_tu_doanh_nghiep', asker_kind: 'business', business_name: 'HTX Cà phê Mường Ảng', business_tax_code: '5600123456' })
    // Five working days from Friday 24 April: Hùng Kings day (observed 27 April), 30 April and 1 May are off.
    assert.deepEqual([b.json().unit_code, b.json().due_at], ['11.STC', '2026-05-06T03:00:00.000Z'])
    assert.equal((await ask({ topic: 'nope' })).statusCode, 400)
    assert.equal((await ask({ phone: undefined })).json().error.code, 'CONTACT_REQUIRED')
    assert.equal((await ask({ asker_kind: 'business' })).json().error.code, 'BUSINESS_REQUIRED')
  })

  test('retries with the same Idempotency-Key create one question', async () => {
    const h = { 'idempotency-key': `q-${Math.random()}` }
    const a = await ask({}, h)
    const b = await ask({}, h)
    assert.equal(a.json().code, b.json().code)
    assert.equal(b.headers['idempotent-replayed'], 'true')
  })

  test('only the responsible unit answers; a transfer re-routes; the answer is published without personal data and found without diacritics', async () => {
    now = new Date('2026-03-02T09:00:00+07:00')
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const code = (await ask({ topic: 'y_te', title: 'Thẻ bảo hiểm y tế của con tôi', body: 'Tôi là Giàng A Páo, số điện thoại 0987654321, email pao@example.vn, căn cước 011085001234. Con tôi chưa có thẻ bảo hiểm y tế sau khi đăng ký khai sinh.' }, citizen.headers)).json().code
    const health = await createTestUser(platform.ctx.db, 'officer', '11.SYT')
    const justice = await createTestUser(platform.ctx.db, 'officer', '11.STP')
    const other = await createTestUser(platform.ctx.db, 'citizen')
    assert.equal((await inject('GET', `/api/questions/${code}`, other.headers)).statusCode, 404)
    assert.equal((await inject('GET', `/api/questions/${code}`, citizen.headers)).json().view, 'owner')
    assert.equal((await inject('POST', `/api/questions/${code}/answer`, {}, { answer: 'Trả lời' })).statusCode, 401)
    assert.equal((await inject('POST', `/api/questions/${code}/answer`, citizen.headers, { answer: 'Trả lời' })).statusCode, 403)
    assert.equal((await inject('POST', `/api/questions/${code}/answer`, justice.headers, { answer: 'Trả lời thử' })).statusCode, 403)
    const queueRes = await inject('GET', '/api/questions/queue', health.headers)
    assert.equal(queueRes.statusCode, 200, queueRes.body)
    const queue = queueRes.json()
    assert.ok(queue.items.some((q: { code: string }) => q.code === code))
    assert.equal((await inject('GET', '/api/questions/queue?unit_code=11.SYT', justice.headers)).statusCode, 403)
    // Health sends it to Justice (civil status), which answers.
    const t = await inject('POST', `/api/questions/${code}/transfer`, health.headers, { topic: 'tu_phap_ho_tich', note: 'Liên thông khai sinh – BHYT' })
    assert.equal(t.json().unit_code, '11.STP')
    assert.equal((await inject('POST', `/api/questions/${code}/answer`, health.headers, { answer: 'Trả lời' })).statusCode, 403)
    const a = await inject('POST', `/api/questions/${code}/answer`, justice.headers, { answer: 'Chào anh Giàng A Páo, thủ tục liên thông khai sinh cấp thẻ BHYT cho trẻ dưới 6 tuổi; gọi 0987654321 nếu cần.', publish: true })
    assert.equal(a.statusCode, 200, a.body)
    assert.equal((await inject('POST', `/api/questions/${code}/answer`, justice.headers, { answer: 'Lần hai' })).statusCode, 409)
    const pub = (await inject('GET', `/api/questions/${code}`)).json()
    assert.equal(pub.view, 'public')
    const text = JSON.stringify(pub)
    for (const secret of ['Giàng A Páo', '0987654321', 'pao@example.vn', '011085001234']) assert.ok(!text.includes(secret), `${secret} leaked`)
    assert.match(pub.answer, /liên thông khai sinh/)
    const found = (await inject('GET', `/api/questions?q=${encodeURIComponent('bao hiem y te khai sinh')}`)).json()
    assert.ok(found.items.some((q: { code: string }) => q.code === code))
    assert.ok(!(await inject('GET', '/api/questions?q=BHYT%20xyzzy')).json().items.some((q: { code: string }) => q.code === code))
    assert.ok((await inject('GET', '/api/questions/mine', citizen.headers)).json().items.some((q: { code: string; status: string }) => q.code === code && q.status === 'answered'))
  })

  test('a question whose asker did not agree is answered but never published', async () => {
    const code = (await ask({ allow_publish: false })).json().code
    const officer = await createTestUser(platform.ctx.db, 'unit_admin', '11.SKHCN')
    await inject('POST', `/api/questions/${code}/answer`, officer.headers, { answer: 'Anh vào mục Dịch vụ công.', publish: true })
    assert.equal((await inject('GET', `/api/questions/${code}`)).statusCode, 404)
  })

  test('late questions are escalated once by the scheduled job', async () => {
    now = new Date('2026-06-01T09:00:00+07:00')
    const code = (await ask()).json().code
    const db = platform.ctx.db
    await escalateOverdueQuestions(db, new Date('2026-06-03T09:00:00+07:00'), '11')
    assert.equal((await sql<{ escalation_level: number }>`select escalation_level from dc_questions where code = ${code}`.execute(db)).rows[0].escalation_level, 0, 'not yet due')
    const late = new Date('2026-06-10T09:00:00+07:00')
    assert.ok((await escalateOverdueQuestions(db, late, '11')) >= 1)
    assert.equal(await escalateOverdueQuestions(db, late, '11'), 0)
    const row = (await sql<{ escalation_level: number }>`select escalation_level from dc_questions where code = ${code}`.execute(db)).rows[0]
    assert.equal(row.escalation_level, 1)
    const ev = await sql<{ n: string }>`select count(*)::text as n from outbox_events where topic = 'question.escalated' and payload->>'code' = ${code}`.execute(db)
    assert.equal(ev.rows[0].n, '1')
    const officer = await createTestUser(db, 'officer', '11.SKHCN')
    now = late
    const overdue = (await inject('GET', '/api/questions/queue?overdue=true', officer.headers)).json()
    assert.ok(overdue.items.some((q: { code: string; overdue: boolean; escalation_level: number }) => q.code === code && q.overdue && q.escalation_level === 1))
  })

  test('redaction removes phone numbers, e-mails and ID numbers in any shape', () => {
    const out = redactPersonalData('Gọi +84 912 345 678 hoặc 0215.3825.123, thư a.b@dienbien.gov.vn, CMND 040123456', { asker_name: 'X', asker_phone: null, asker_email: null })
    assert.ok(!/\d{6,}|@/.test(out.replace(/\s|\./g, '')), out)
  })
})

describe('notices', () => {
  test('staff publish notices targeted by commune; notice.published is in the outbox; people see what concerns them', async () => {
    now = new Date('2026-05-01T08:00:00+07:00')
    const officer = await createTestUser(platform.ctx.db, 'officer', '11.PCDB')
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const body = { kind: 'outage', title: 'Tạm ngừng cấp điện xã Thanh Nưa', body: 'Ngừng cấp điện từ 7h đến 16h để bảo dưỡng đường dây.', commune_codes: ['03328'], starts_at: '2026-05-03T07:00:00+07:00', ends_at: '2026-05-03T16:00:00+07:00' }
    assert.equal((await inject('POST', '/api/notices', {}, body)).statusCode, 401)
    assert.equal((await inject('POST', '/api/notices', citizen.headers, body)).statusCode, 403)
    assert.equal((await inject('POST', '/api/notices', officer.headers, { ...body, commune_codes: ['99999'] })).statusCode, 400)
    const draft = await inject('POST', '/api/notices', officer.headers, body)
    assert.equal(draft.statusCode, 201, draft.body)
    const id = draft.json().id
    assert.equal((await inject('GET', `/api/notices/${id}`)).statusCode, 404)
    const stranger = await createTestUser(platform.ctx.db, 'officer', '11.SYT')
    assert.equal((await inject('POST', `/api/notices/${id}/publish`, stranger.headers)).statusCode, 403)
    assert.equal((await inject('POST', `/api/notices/${id}/publish`, officer.headers)).statusCode, 200)
    assert.equal((await inject('POST', `/api/notices/${id}/publish`, officer.headers)).statusCode, 409)
    const ev = await sql<{ payload: { id: string; commune_codes: string[]; title: string } }>`select payload from outbox_events where topic = 'notice.published' and payload->>'id' = ${id}`.execute(platform.ctx.db)
    assert.deepEqual(ev.rows.map((r) => [r.payload.commune_codes, r.payload.title]), [[['03328'], body.title]])
    const province = await createTestUser(platform.ctx.db, 'province_admin')
    await inject('POST', '/api/notices', province.headers, { kind: 'investment_conference', title: 'Hội nghị xúc tiến đầu tư tỉnh Điện Biên 2026', body: 'Hội nghị tại Nhà văn hoá tỉnh.', publish: true })
    const forThanhNua = (await inject('GET', '/api/notices?commune_code=03328')).json().items.map((n: { title: string }) => n.title)
    assert.ok(forThanhNua.includes(body.title) && forThanhNua.includes('Hội nghị xúc tiến đầu tư tỉnh Điện Biên 2026'))
    const forOther = (await inject('GET', '/api/notices?commune_code=03127')).json().items.map((n: { title: string }) => n.title)
    assert.ok(!forOther.includes(body.title) && forOther.includes('Hội nghị xúc tiến đầu tư tỉnh Điện Biên 2026'))
    now = new Date('2026-05-04T08:00:00+07:00')
    assert.ok(!(await inject('GET', '/api/notices?commune_code=03328')).json().items.some((n: { id: string }) => n.id === id), 'ended notices drop out')
    assert.equal((await inject('POST', `/api/notices/${id}/withdraw`, officer.headers)).json().status, 'withdrawn')
    assert.ok((await inject('GET', '/api/notices/unit', officer.headers)).json().items.some((n: { id: string }) => n.id === id))
  })
})

describe('guides', () => {
  test('guides are served whole with a validator for offline caching; staff edit them', async () => {
    const all = await inject('GET', '/api/guides')
    assert.equal(all.statusCode, 200)
    const list = all.json()
    assert.ok(['cai-dat-ung-dung', 'tao-tai-khoan-vneid', 'nop-ho-so-truc-tuyen', 'thanh-toan-truc-tuyen'].every((s) => list.items.some((g: { slug: string }) => g.slug === s)))
    assert.ok(list.items.every((g: { steps: { illustration_svg: string }[] }) => g.steps.length >= 3 && g.steps.every((s) => s.illustration_svg.startsWith('<svg'))))
    assert.match(String(all.headers['cache-control']), /max-age/)
    const etag = String(all.headers.etag)
    assert.equal((await inject('GET', '/api/guides', { 'if-none-match': etag })).statusCode, 304)
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const staffer = await createTestUser(platform.ctx.db, 'officer', '11.SKHCN')
    const g = (await inject('GET', '/api/guides/thanh-toan-truc-tuyen')).json()
    const edit = { title_vi: g.title_vi, title_en: g.title_en, summary_vi: 'Thanh toán bằng mã VietQR.', summary_en: g.summary_en, steps: g.steps }
    assert.equal((await inject('PUT', '/api/guides/thanh-toan-truc-tuyen', {}, edit)).statusCode, 401)
    assert.equal((await inject('PUT', '/api/guides/thanh-toan-truc-tuyen', citizen.headers, edit)).statusCode, 403)
    const bad = { ...edit, steps: [{ ...g.steps[0], illustration_svg: '<svg onload="alert(1)"></svg>' }] }
    assert.equal((await inject('PUT', '/api/guides/thanh-toan-truc-tuyen', staffer.headers, bad)).statusCode, 400)
    const saved = await inject('PUT', '/api/guides/thanh-toan-truc-tuyen', staffer.headers, edit)
    assert.equal(saved.statusCode, 200, saved.body)
    assert.equal(saved.json().version, g.version + 1)
    const after = await inject('GET', '/api/guides', { 'if-none-match': etag })
    assert.equal(after.statusCode, 200, 'an edit changes the validator, so cached copies refresh')
  })
})
