import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import { extractText, getDocumentProxy } from 'unpdf'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { calendarModule } from '../../calendar/index.ts'
import { geoModule } from '../../geo/index.ts'
import { documentsModule } from '../../documents/index.ts'
import { identityModule } from '../../identity/index.ts'
import { createTestUser, type TestUser } from '../../identity/test-factories.ts'
import { runDeadlineWarnings } from './jobs.ts'
import { runDossierAction } from './actions.ts'
import { getDossierAccess, getDossierByCode } from './repository.ts'
import { allowedPairs, DOSSIER_ACTIONS, type DossierAction, type DossierStatus } from './status-machine.ts'
import { multipart, PDF_BYTES, saveTestProcedures, testProcedure, testServicesModule, wd } from './test-helpers.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
let now = vn('2026-03-02T09:00:00')
let platform: Platform
let citizen: TestUser
let officer: TestUser
let leader: TestUser
const UNIT = '03127'

before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, documentsModule, testServicesModule], clock: () => now })
  await saveTestProcedures(platform.ctx.db, [
    testProcedure('T.HT', { fee_vnd: 50_000 }),
    testProcedure('T.FREE', { name_vi: 'Chứng thực bản sao', components: [] }),
    testProcedure('T.ONL', { handling_unit: '11.SXD', level: 'province', fully_online: true, components: [] }),
  ])
  citizen = await createTestUser(platform.ctx.db, 'citizen')
  officer = await createTestUser(platform.ctx.db, 'officer', UNIT)
  leader = await createTestUser(platform.ctx.db, 'unit_admin', UNIT)
})
after(async () => {
  await platform?.close()
})

async function submit(procedure = 'T.HT', user: TestUser = citizen, extra: Record<string, string> = {}) {
  const { payload, headers } = multipart({ procedure_code: procedure, commune_code: UNIT, applicant_name: 'Lò Thị Hoa', applicant_phone: '0912345678', ...extra },
    procedure === 'T.HT' ? [{ field: 'to_khai', name: 'to-khai.pdf', data: PDF_BYTES }] : [])
  const res = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload, headers: { ...headers, ...user.headers } })
  assert.equal(res.statusCode, 201, res.body)
  return res.json().code as string
}
const act = (code: string, action: string, user: TestUser | null, body: Record<string, unknown> = {}) =>
  platform.app.inject({ method: 'POST', url: `/api/dossiers/${code}/${action}`, payload: body, headers: user?.headers ?? {} })
const view = (code: string, user: TestUser | null) => platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}`, headers: user?.headers ?? {} })
async function ok(code: string, action: string, user: TestUser | null, body: Record<string, unknown> = {}) {
  const res = await act(code, action, user, body)
  assert.equal(res.statusCode, 200, `${action}: ${res.body}`)
  return res.json()
}
async function supplementFiles(code: string, user: TestUser) {
  const { payload, headers } = multipart({ note: 'bổ sung' }, [{ field: 'to_khai', name: 'to-khai-moi.pdf', data: Buffer.concat([PDF_BYTES, Buffer.from(code)]) }])
  return platform.app.inject({ method: 'POST', url: `/api/dossiers/${code}/supplement`, payload, headers: { ...headers, ...user.headers } })
}
async function counts(code: string) {
  const { rows } = await sql<{ slips: number; audit: number; events: number }>`select
    (select count(*)::int from dossier_control_slips s join dossiers d on d.id = s.dossier_id where d.code = ${code}) as slips,
    (select count(*)::int from audit_log where entity_id = ${code}) as audit,
    (select count(*)::int from outbox_events where topic = 'dossier.status_changed' and payload->>'code' = ${code}) as events`.execute(platform.ctx.db)
  return rows[0]
}

describe('online submission and the happy path', () => {
  test('the citizen submits online; code, fee, one control slip', async () => {
    now = vn('2026-03-02T09:00:00')
    const code = await submit()
    assert.match(code, /^03127-260302-\d{4}$/)
    const d = (await view(code, citizen)).json()
    assert.equal(d.status, 1)
    assert.equal(d.view, 'owner')
    assert.ok(d.fee.amount_vnd > 0 && d.fee.amount_vnd <= 50_000)
    assert.equal(d.fee.payment_status, 'unpaid')
    assert.equal(d.files.length, 1)
    assert.equal(d.control_slips.length, 1)
    assert.equal(d.due_at, null)
  })

  test('receive after 15:00 on Friday → clock from Monday; pauses move the due date; judged at 9, returned at 10', async () => {
    now = vn('2026-03-05T10:00:00')
    const code = await submit()
    now = vn('2026-03-06T15:30:00')
    let d = await ok(code, 'receive', officer)
    assert.equal(d.status, 2)
    assert.equal(d.clock_started_at, vn('2026-03-09T07:30:00').toISOString())
    assert.equal(d.due_at, vn('2026-03-12T07:30:00').toISOString())
    // Step 'handle' has 60% of three working days (22.5 office hours): 13.5 hours after Monday 07:30.
    assert.equal(d.step_due_at, vn('2026-03-10T15:30:00').toISOString())
    assert.equal(d.control_slip.due_at, d.step_due_at)
    assert.equal(d.control_slip.action, 'receive')
    assert.equal((await view(code, officer)).json().control_slips[1].due_at, d.step_due_at)
    now = vn('2026-03-09T08:00:00')
    d = await ok(code, 'process', officer)
    assert.equal(d.status, 4)
    assert.equal(d.current_step, 'handle')
    now = vn('2026-03-09T09:00:00')
    d = await ok(code, 'request_supplement', officer, { reason: 'Thiếu chữ ký trên tờ khai' })
    assert.equal(d.status, 5)
    assert.equal(d.paused, true)
    now = vn('2026-03-10T09:00:00')
    const sup = await supplementFiles(code, citizen)
    assert.equal(sup.statusCode, 200, sup.body)
    d = sup.json()
    assert.equal(d.status, 4)
    assert.equal(d.paused, false)
    // One working day (7.5 office hours) of waiting: due moves from Thu 12 Mar 07:30 to the end of that day.
    assert.equal(d.due_at, vn('2026-03-12T17:00:00').toISOString())
    assert.equal((await view(code, citizen)).json().files.length, 2)
    now = vn('2026-03-10T10:00:00')
    d = await ok(code, 'request_fee', officer)
    assert.equal(d.status, 6)
    now = vn('2026-03-10T11:00:00')
    d = await ok(code, 'pay', citizen, { method: 'online', reference: 'VCB-123456' })
    assert.equal(d.status, 4)
    assert.equal(d.fee.payment_status, 'paid_online')
    assert.equal(d.fee.payment_reference, 'VCB-123456')
    assert.equal(d.due_at, vn('2026-03-13T08:30:00').toISOString())
    d = await ok(code, 'forward', officer, { note: 'Trình ký' })
    assert.equal(d.current_step, 'sign')
    assert.equal(d.step_due_at, d.due_at)
    assert.equal((await act(code, 'forward', officer)).json().error.code, 'NO_NEXT_STEP')
    now = vn('2026-03-11T16:00:00')
    d = await ok(code, 'resolve', officer)
    assert.equal(d.status, 9)
    assert.equal(d.timeliness, 'early')
    assert.match(d.result_document.symbol, /KQ/)
    const { rows: links } = await sql<{ n: number }>`select count(*)::int as n from documents where id::text = ${d.result_document.id}`.execute(platform.ctx.db)
    assert.equal(links[0].n, 1)
    now = vn('2026-03-16T09:00:00')
    d = await ok(code, 'return', officer)
    assert.equal(d.status, 10)
    // Judged at 9: returning late does not change it.
    assert.equal(d.timeliness, 'early')
    const actions = (await view(code, officer)).json().control_slips.map((s: { action: string }) => s.action)
    assert.deepEqual(actions, ['submit', 'receive', 'process', 'request_supplement', 'supplement', 'request_fee', 'pay', 'forward', 'resolve', 'return'])
    const c = await counts(code)
    assert.equal(c.slips, 10)
    assert.equal(c.audit, 10)
    assert.equal(c.events, 10)
    // In-app notices to the citizen: one per status change (forward keeps the status).
    const { rows: notices } = await sql<{ payload: Record<string, unknown> }>`select payload from outbox_events
      where topic = 'dossier.citizen_notice' and payload->>'code' = ${code} order by id`.execute(platform.ctx.db)
    assert.deepEqual(notices.map((n) => n.payload.status), [1, 2, 4, 5, 4, 6, 4, 9, 10])
    assert.equal(notices[0].payload.user_id, citizen.id)
    assert.match(String(notices[7].payload.message_vi), /Đã giải quyết/)
    assert.match(String(notices[7].payload.message_en), /Resolved/)
  })

  test('a second supplement request by the same unit does not pause the clock and makes the dossier late', async () => {
    now = vn('2026-03-02T09:00:00')
    const code = await submit()
    await ok(code, 'receive', officer)
    await ok(code, 'process', officer)
    await ok(code, 'request_supplement', officer, { reason: 'Lần 1' })
    assert.equal((await supplementFiles(code, citizen)).statusCode, 200)
    now = vn('2026-03-02T10:00:00')
    const d = await ok(code, 'request_supplement', officer, { reason: 'Lần 2' })
    assert.equal(d.paused, false)
    assert.equal(d.forced_late, true)
    assert.equal((await view(code, officer)).json().pauses[1].counted_late, true)
    assert.equal((await supplementFiles(code, citizen)).statusCode, 200)
    const resolved = await ok(code, 'resolve', officer)
    assert.equal(resolved.timeliness, 'late')
  })
})

/** A dossier submitted at `submittedAt` (Vietnam time) and brought to `status` along the normal path. */
async function dossierAt(status: DossierStatus, submittedAt: string): Promise<string> {
  now = vn(submittedAt)
  const code = await submit()
  const path: Record<number, [string, Record<string, unknown>, TestUser][]> = {
    1: [], 2: [['receive', {}, officer]], 3: [['refuse', { reason: 'Sai thủ tục' }, officer]],
    4: [['receive', {}, officer], ['process', {}, officer]],
    5: [['receive', {}, officer], ['process', {}, officer], ['request_supplement', { reason: 'Thiếu' }, officer]],
    6: [['receive', {}, officer], ['process', {}, officer], ['request_fee', {}, officer]],
    7: [['withdraw', {}, citizen]], 8: [['receive', {}, officer], ['stop', { reason: 'Dừng' }, officer]],
    9: [['receive', {}, officer], ['process', {}, officer], ['resolve', {}, officer]],
    10: [['receive', {}, officer], ['process', {}, officer], ['resolve', {}, officer], ['return', {}, officer]],
  }
  for (const [a, body, u] of path[status]) await ok(code, a, u, body)
  return code
}

describe('every transition and guard', () => {
  /** A dossier brought to a status along the normal path. */
  const at = (status: DossierStatus) => dossierAt(status, '2026-03-02T09:00:00')
  const BODY: Partial<Record<DossierAction, Record<string, unknown>>> = {
    refuse: { reason: 'Không thuộc thẩm quyền' }, request_supplement: { reason: 'Thiếu giấy tờ' }, stop: { reason: 'Hồ sơ giả mạo' },
    pay: { method: 'online', reference: 'REF-1' },
  }
  const OWNER_ACTIONS: DossierAction[] = ['withdraw', 'pay', 'supplement']

  test('every allowed (action, status) pair succeeds with the expected next status and a control slip', async () => {
    for (const { action, from } of allowedPairs()) {
      if (action === 'approve_apology' || action === 'change_deadline') continue // tested on their own below
      const code = await at(from)
      const before = await counts(code)
      const user = OWNER_ACTIONS.includes(action) ? citizen : officer
      let res
      if (action === 'supplement') res = await supplementFiles(code, user)
      else res = await act(code, action, user, BODY[action] ?? {})
      if (action === 'forward') {
        assert.equal(res.statusCode, 200, `${action} from ${from}: ${res.body}`)
      } else {
        assert.equal(res.statusCode, 200, `${action} from ${from}: ${res.body}`)
      }
      const expected = action === 'supplement' ? (from === 5 ? 4 : from) : action === 'pay' ? (from === 6 ? 4 : from)
        : ({ receive: 2, refuse: 3, process: 4, forward: 4, request_supplement: 5, request_fee: 6, withdraw: 7, stop: 8, resolve: 9, return: 10 } as Record<string, number>)[action]
      assert.equal(res.json().status, expected, `${action} from ${from}`)
      assert.equal((await counts(code)).slips, before.slips + 1)
    }
  })

  test('out-of-order actions are refused with 409 INVALID_TRANSITION and write nothing', async () => {
    for (const status of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as DossierStatus[]) {
      const code = await at(status)
      const before = await counts(code)
      const allowed = new Set(allowedPairs().filter((p) => p.from === status).map((p) => p.action))
      for (const action of DOSSIER_ACTIONS.filter((a) => !allowed.has(a) && a !== 'supplement' && a !== 'approve_apology')) {
        const user = OWNER_ACTIONS.includes(action) ? citizen : officer
        const res = await act(code, action, user, { ...(BODY[action] ?? {}), reason: 'x', approver_user_id: leader.id, new_due: '2026-12-01T09:00:00+07:00' })
        assert.equal(res.statusCode, 409, `${action} from ${status}: ${res.body}`)
        assert.equal(res.json().error.code, 'INVALID_TRANSITION')
      }
      const afterCounts = await counts(code)
      assert.deepEqual(afterCounts, before)
      assert.equal((await view(code, officer)).json().status, status)
    }
  })

  test('guards: reasons required, wrong actor, nothing to pay, payment at the desk by staff only', async () => {
    const code = await at(1)
    assert.equal((await act(code, 'refuse', officer, {})).json().error.code, 'FIELD_REQUIRED')
    assert.equal((await act(code, 'receive', citizen)).statusCode, 403)
    assert.equal((await act(code, 'withdraw', officer)).statusCode, 403)
    assert.equal((await act(code, 'pay', citizen, { method: 'at_desk', reference: 'BL-1' })).statusCode, 403)
    assert.equal((await act(code, 'pay', citizen, { method: 'online' })).json().error.code, 'FIELD_REQUIRED')
    assert.equal((await act(code, 'bogus', officer)).statusCode, 400)
    const free = await submit('T.FREE')
    await ok(free, 'receive', officer)
    assert.equal((await act(free, 'request_fee', officer)).json().error.code, 'NO_FEE_DUE')
    const paid = await ok(code, 'pay', officer, { method: 'at_desk', reference: 'BL-0001' })
    assert.equal(paid.fee.payment_status, 'paid_at_desk')
    assert.equal((await act(code, 'pay', citizen, { method: 'online', reference: 'X' })).json().error.code, 'NOTHING_TO_PAY')
  })

  test('a manual deadline change needs a reason, an approving leader, and leaves an audit entry', async () => {
    const code = await at(4)
    const body = { reason: 'Cần xác minh thực địa', approver_user_id: leader.id, new_due: '2026-03-20T16:00:00+07:00' }
    assert.equal((await act(code, 'change_deadline', officer, { ...body, reason: undefined })).json().error.code, 'FIELD_REQUIRED')
    assert.equal((await act(code, 'change_deadline', officer, { ...body, approver_user_id: officer.id })).json().error.code, 'INVALID_APPROVER')
    assert.equal((await act(code, 'change_deadline', officer, { ...body, new_due: '2026-03-20 16:00' })).json().error.code, 'INVALID_INSTANT')
    const d = await ok(code, 'change_deadline', officer, body)
    assert.equal(d.due_at, vn('2026-03-20T16:00:00').toISOString())
    const changes = (await view(code, officer)).json().deadline_changes
    assert.equal(changes.length, 1)
    assert.equal(changes[0].approver_user_id, leader.id)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_log where entity_id = ${code} and action = 'dossier.change_deadline'`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1)
  })

  test('the stored due date does not move when the calendar is edited later', async () => {
    const code = await at(2)
    const due = (await view(code, officer)).json().due_at
    await platform.app.inject({ method: 'PUT', url: '/api/calendar/schedule/2026-03-03', payload: { kind: 'day_off', note_vi: 'Nghỉ đột xuất', note_en: 'Unplanned' }, headers: (await createTestUser(platform.ctx.db, 'province_admin', '11')).headers })
    assert.equal((await view(code, officer)).json().due_at, due)
    await sql`delete from calendar_schedule_days where date = '2026-03-03'`.execute(platform.ctx.db)
    const { invalidateWorkingCalendars } = await import('../../calendar/index.ts')
    invalidateWorkingCalendars()
  })
})

describe('deadline warning and apology letter', () => {
  test('one working day before the due date: warned once, apology drafted once, approved by the leader', async () => {
    now = vn('2026-03-02T09:00:00')
    const code = await submit()
    await ok(code, 'receive', officer)
    await ok(code, 'process', officer)
    // Due Thu 5 Mar 09:00 → warning Wed 4 Mar 09:00.
    assert.equal(await runDeadlineWarnings(platform.ctx.db, platform.ctx.config.provinceCode, vn('2026-03-04T08:59:00')), 0)
    assert.ok((await runDeadlineWarnings(platform.ctx.db, platform.ctx.config.provinceCode, vn('2026-03-04T09:00:00'))) >= 1)
    assert.equal(await runDeadlineWarnings(platform.ctx.db, platform.ctx.config.provinceCode, vn('2026-03-04T10:00:00')), 0)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from dossier_letters l join dossiers d on d.id = l.dossier_id where d.code = ${code}`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1)
    let d = (await view(code, officer)).json()
    assert.equal(d.apology.status, 'pending')
    assert.equal(d.apology.proposed_due, vn('2026-03-09T09:00:00').toISOString())
    assert.equal((await act(code, 'approve_apology', officer)).statusCode, 403)
    await ok(code, 'approve_apology', leader)
    assert.equal((await view(code, officer)).json().apology.status, 'approved')
    assert.equal((await act(code, 'approve_apology', leader)).json().error.code, 'NO_APOLOGY_PENDING')
    const pdf = await platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}/slips/apology.pdf`, headers: citizen.headers })
    assert.equal(pdf.statusCode, 200)
    const text = await pdfText(pdf.rawPayload)
    assert.ok(text.includes('PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ'), text)
  })
})

async function pdfText(buf: Buffer): Promise<string> {
  const doc = await getDocumentProxy(new Uint8Array(buf))
  const { text } = await extractText(doc, { mergePages: true })
  return text as string
}

describe('printed slips', () => {
  test('receipt, refusal, supplement, result and control slips: PDF, DejaVu embedded, Vietnamese text extractable', async () => {
    now = vn('2026-03-02T09:00:00')
    const code = await submit()
    const get = (kind: string, u: TestUser = citizen) => platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}/slips/${kind}.pdf`, headers: u.headers })
    assert.equal((await get('receipt')).statusCode, 409)
    await ok(code, 'receive', officer)
    const receipt = await get('receipt')
    assert.equal(receipt.statusCode, 200)
    assert.equal(receipt.headers['content-type'], 'application/pdf')
    assert.equal(receipt.rawPayload.subarray(0, 4).toString(), '%PDF')
    assert.ok(receipt.rawPayload.includes('DejaVuSans'))
    const text = await pdfText(receipt.rawPayload)
    assert.ok(text.includes('Tiếp nhận'), text)
    assert.ok(text.includes('GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ'))
    assert.ok(text.includes('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM'))
    assert.ok(text.includes('Độc lập - Tự do - Hạnh phúc'))
    assert.ok(text.includes('Lò Thị Hoa'))
    assert.ok(text.includes(code))
    await ok(code, 'process', officer)
    await ok(code, 'request_supplement', officer, { reason: 'Bổ sung bản sao giấy chứng sinh' })
    assert.ok((await pdfText((await get('supplement')).rawPayload)).includes('Bổ sung bản sao giấy chứng sinh'))
    assert.equal((await supplementFiles(code, citizen)).statusCode, 200)
    await ok(code, 'resolve', officer)
    assert.ok((await pdfText((await get('result')).rawPayload)).includes('THÔNG BÁO KẾT QUẢ GIẢI QUYẾT HỒ SƠ'))
    assert.ok((await pdfText((await get('control', officer)).rawPayload)).includes('PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ'))
    const refused = await submit()
    await ok(refused, 'refuse', officer, { reason: 'Không thuộc thẩm quyền giải quyết' })
    const r = await platform.app.inject({ method: 'GET', url: `/api/dossiers/${refused}/slips/refusal.pdf`, headers: citizen.headers })
    assert.ok((await pdfText(r.rawPayload)).includes('Không thuộc thẩm quyền giải quyết'))
  })
})

describe('authorization per role and unit', () => {
  test('owner and unit staff see the dossier; others get 404 or 403; anonymous 401', async () => {
    now = vn('2026-03-02T09:00:00')
    const code = await submit()
    const other = await createTestUser(platform.ctx.db, 'citizen')
    const otherUnitOfficer = await createTestUser(platform.ctx.db, 'officer', '11.SXD')
    const province = await createTestUser(platform.ctx.db, 'province_admin', '11')
    assert.equal((await view(code, null)).statusCode, 401)
    assert.equal((await view(code, other)).statusCode, 404)
    assert.equal((await view(code, otherUnitOfficer)).statusCode, 403)
    assert.equal((await view(code, officer)).json().view, 'staff')
    assert.equal((await view(code, province)).json().view, 'staff')
    assert.equal((await act(code, 'receive', otherUnitOfficer)).statusCode, 403)
    assert.equal((await act(code, 'withdraw', other)).statusCode, 404)
    assert.equal((await act(code, 'receive', null)).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}/slips/control.pdf`, headers: other.headers })).statusCode, 404)
    assert.equal((await view('03127-260302-9999', officer)).statusCode, 404)
  })

  test('every dossier route is documented and answers 401 anonymously before looking at the body', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json()
    const routes = Object.entries<Record<string, unknown>>(doc.paths).filter(([path]) => path.startsWith('/api/dossiers'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort()
    assert.deepEqual(routes, ['GET /api/dossiers', 'GET /api/dossiers/{code}', 'GET /api/dossiers/{code}/files/{id}', 'GET /api/dossiers/{code}/slips/{kind}.pdf', 'POST /api/dossiers', 'POST /api/dossiers/{code}/{action}'])
    for (const r of routes) {
      const [method, path] = r.split(' ')
      const url = path.replace('{code}', 'PA-2026-999999').replace('{action}', 'assign').replace('{kind}', 'x').replace('{id}', '1')
      const res = await platform.app.inject({ method: method as 'GET', url, payload: method === 'POST' ? {} : undefined })
      assert.equal(res.statusCode, 401, r)
    }
  })

  test('lists: citizens see their own; officers their unit queue by urgency; ioc viewers none', async () => {
    const mine = (await platform.app.inject({ method: 'GET', url: '/api/dossiers', headers: citizen.headers })).json().items
    assert.ok(mine.length > 0)
    const other = await createTestUser(platform.ctx.db, 'citizen')
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/dossiers', headers: other.headers })).json().items.length, 0)
    const queue = (await platform.app.inject({ method: 'GET', url: '/api/dossiers?status=2,4&limit=200', headers: officer.headers })).json().items
    assert.ok(queue.length > 0)
    assert.ok(queue.every((d: { unit_code: string; status: number }) => d.unit_code === UNIT && (d.status === 2 || d.status === 4)))
    const dues = queue.map((d: { due_at: string | null }) => d.due_at).filter(Boolean)
    assert.deepEqual(dues, [...dues].sort())
    assert.ok(queue.every((d: { working_hours_left: number | null; paused: boolean }) => d.paused || typeof d.working_hours_left === 'number'))
    const byStep = (await platform.app.inject({ method: 'GET', url: '/api/dossiers?step=handle', headers: officer.headers })).json().items
    assert.ok(byStep.every((d: { current_step: string }) => d.current_step === 'handle'))
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/dossiers?unit_code=11.SXD', headers: officer.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/dossiers', headers: (await createTestUser(platform.ctx.db, 'ioc_viewer')).headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/dossiers' })).statusCode, 401)
  })

  test('desk submission: officers of the handling unit only; received at once; paper refused for fully-online procedures', async () => {
    now = vn('2026-03-02T09:00:00')
    const fields = { procedure_code: 'T.HT', commune_code: UNIT, applicant_name: 'Quàng Văn Minh', channel: 'in_person' }
    const files = [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]
    const send = (u: TestUser, f: Record<string, string> = fields) => {
      const { payload, headers } = multipart(f, files)
      return platform.app.inject({ method: 'POST', url: '/api/dossiers', payload, headers: { ...headers, ...u.headers } })
    }
    assert.equal((await send(citizen)).statusCode, 403)
    assert.equal((await send(await createTestUser(platform.ctx.db, 'officer', '11.SXD'))).statusCode, 403)
    const res = await send(officer, { ...fields, applicant_user_id: citizen.id })
    assert.equal(res.statusCode, 201, res.body)
    const d = (await view(res.json().code, citizen)).json()
    assert.equal(d.status, 2)
    assert.equal(d.channel, 'in_person')
    assert.equal(d.due_at, vn('2026-03-05T09:00:00').toISOString())
    assert.deepEqual(d.control_slips.map((s: { action: string }) => s.action), ['submit', 'receive'])
    const sxd = await createTestUser(platform.ctx.db, 'officer', '11.SXD')
    const paper = await send(sxd, { procedure_code: 'T.ONL', applicant_name: 'Quàng Văn Minh', channel: 'in_person' })
    assert.equal(paper.statusCode, 400)
    assert.equal(paper.json().error.code, 'ONLINE_ONLY')
  })
})

describe('resolution result', () => {
  test('resolve without a PDF registers and numbers the result document and the result notice PDF is generated; with a PDF the document keeps it', async () => {
    now = vn('2026-03-02T09:00:00')
    for (const withFile of [false, true]) {
      const code = await submit()
      await ok(code, 'receive', officer)
      await ok(code, 'process', officer)
      let d
      if (withFile) {
        const bad = multipart({}, [{ field: 'result', name: 'kq.pdf', data: Buffer.from('not a pdf') }])
        assert.equal((await platform.app.inject({ method: 'POST', url: `/api/dossiers/${code}/resolve`, payload: bad.payload, headers: { ...bad.headers, ...officer.headers } })).statusCode, 415)
        const signed = Buffer.concat([PDF_BYTES, Buffer.from(`signed ${code}`)])
        const { payload, headers } = multipart({}, [{ field: 'result', name: 'ket-qua.pdf', data: signed }])
        const res = await platform.app.inject({ method: 'POST', url: `/api/dossiers/${code}/resolve`, payload, headers: { ...headers, ...officer.headers } })
        assert.equal(res.statusCode, 200, res.body)
        d = res.json()
        const doc = await platform.app.inject({ method: 'GET', url: `/api/documents/${d.result_document.id}/file`, headers: officer.headers })
        assert.equal(doc.statusCode, 200)
        assert.deepEqual(doc.rawPayload, signed)
      } else {
        d = await ok(code, 'resolve', officer)
      }
      assert.equal(d.status, 9)
      assert.match(d.result_document.symbol, /^\d+\/KQ-/)
      const pdf = await platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}/slips/result.pdf`, headers: citizen.headers })
      assert.equal(pdf.statusCode, 200)
      assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-')
    }
  })
})

describe('the answer of an action', () => {
  /** A dossier brought to a status along the normal path, at a date far from the other tests' deadlines. */
  const atStatus = (status: DossierStatus) => dossierAt(status, '2026-06-01T09:00:00')

  test('the dossier an action answers with is the row as stored after it (changes applied to the locked row, no second read)', async () => {
    for (const { action, from } of allowedPairs()) {
      if (action === 'approve_apology' || action === 'change_deadline') continue
      const code = await atStatus(from)
      now = new Date(now.getTime() + 3_600_000)
      const user = ['withdraw', 'pay', 'supplement'].includes(action) ? citizen : officer
      const input = action === 'supplement'
        ? { files: [{ field: 'to_khai', name: 'to-khai-moi.pdf', data: Buffer.concat([PDF_BYTES, Buffer.from(`${code} direct`)]) }] }
        : (({ refuse: { reason: 'Không thuộc thẩm quyền' }, request_supplement: { reason: 'Thiếu giấy tờ' }, stop: { reason: 'Hồ sơ giả mạo' }, pay: { method: 'online', reference: 'REF-1' } } as Record<string, object>)[action] ?? {})
      const r = await runDossierAction({ db: platform.ctx.db, provinceCode: platform.ctx.config.provinceCode, uploadDir: platform.ctx.config.uploadDir, now }, code, action, input, user.principal)
      const stored = await getDossierByCode(platform.ctx.db, platform.ctx.config.provinceCode, code)
      assert.deepEqual(r.dossier, stored, `${action} from ${from}`)
      assert.notEqual(r.dossier.status, undefined)
    }
    // The access read before an action carries exactly what the visibility check needs.
    const code = await atStatus(2)
    const full = (await getDossierByCode(platform.ctx.db, platform.ctx.config.provinceCode, code))!
    assert.deepEqual(await getDossierAccess(platform.ctx.db, platform.ctx.config.provinceCode, code), { id: full.id, code, unit_code: full.unit_code, applicant_user_id: full.applicant_user_id })
    assert.equal(await getDossierAccess(platform.ctx.db, platform.ctx.config.provinceCode, 'X-000000-0000'), undefined)
  })
})
