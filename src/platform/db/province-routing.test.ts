// Every statement the platform sends to a distributed table by id or code names the node's
// province (a Citus router query, one shard), and joins between distributed tables are on
// province_code (colocated). The rule is in province-routing.ts; here it is checked on its own
// examples and on every statement of realistic flows — a report submitted with a photo and taken
// through its workflow, a dossier's whole lifecycle, a document registered and handled — captured
// from the platform's database handle. Runs on PGlite and on PostgreSQL (TEST_DATABASE_URL).
// A new query on these tables that forgets the province fails here when a flow reaches it; to
// check the statements any other test file reaches, run it with CHECK_PROVINCE_ROUTING=1.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import sharp from 'sharp'
import type { Platform } from '../runtime.ts'
import { startTestPlatform } from '../testing/test-platform.ts'
import { StatementCapture } from '../testing/statement-capture.ts'
import { createTestUser, type TestUser } from '../../modules/identity/test-factories.ts'
import { runDeadlineWarnings } from '../../modules/services/dossiers/jobs.ts'
import { multipart, PDF_BYTES, saveTestProcedures, testProcedure } from '../../modules/services/dossiers/test-helpers.ts'
import { closeSettledReports, escalateOverdueReports } from '../../modules/reports/escalation.ts'
import { checkProvinceRouting } from './province-routing.ts'
import { DISTRIBUTED } from './distribution.ts'

describe('the rule, on examples', () => {
  const bad = (text: string) => assert.ok(checkProvinceRouting(text).violation, `should be refused: ${text}`)
  const good = (text: string) => assert.equal(checkProvinceRouting(text).violation, undefined, text)

  test('a read or change by id or code names the province', () => {
    bad('select r.id from reports r where r.code = $1')
    bad('update dossiers set status = $1 where id = $2::bigint')
    bad('delete from document_links where document_id = $1::uuid')
    bad('select * from dossiers d where d.code = any($1::text[])')
    bad('select 1 from reports where code in ($1, $2)')
    good('select r.id from reports r where r.code = $1 and r.province_code = $2')
    good('update dossiers set status = $1 where id = $2::bigint and province_code = $3')
    good("select kind from dossier_letters where dossier_id = $1::bigint and province_code = $2 and kind = 'apology'")
  })

  test('every distributed table the statement reads needs its own comparison: joins and subqueries too', () => {
    bad('select d.code from dossier_files f join dossiers d on d.id = f.dossier_id where f.id = $1::bigint and f.province_code = $2')
    good('select d.code from dossier_files f join dossiers d on d.id = f.dossier_id and d.province_code = f.province_code where f.id = $1::bigint and f.province_code = $2')
    bad('update reports set n = (select count(*) from report_supporters where report_id = $1::uuid) where id = $1::uuid and province_code = $2')
    good('update reports set n = (select count(*) from report_supporters s where s.report_id = $1::uuid and s.province_code = $2) where id = $1::uuid and province_code = $2')
    // A scan (no key) still joins distributed tables on the province.
    bad('select d.code, s.step from dossier_control_slips s join dossiers d on d.id = s.dossier_id where s.at > $1')
    good('select d.code, s.step from dossier_control_slips s join dossiers d on d.id = s.dossier_id and d.province_code = s.province_code where s.at > $1')
  })

  test('inserts, other tables, literals and the parts of a union', () => {
    // An insert is routed by the column default (evaluated on the coordinator).
    good('insert into report_history (report_id, at) values ($1::uuid, $2)')
    // Its subquery is a read like any other.
    bad('insert into dossier_control_slips (dossier_id, seq) values ($1::bigint, (select max(seq) + 1 from dossier_control_slips where dossier_id = $1::bigint))')
    good('select * from users where id = $1::uuid')
    good("select $1::text as note, 'from reports where code = $1' as text")
    good('select province_code from audit_log where province_code = $1 and id > $2::bigint')
    // A union is not a join: each part on its own (content-addressed files, across provinces on purpose).
    good('select 1 from dossier_files where stored_name = $1 union all select 1 from dossier_results where stored_name = $2')
  })
})

describe('every statement of realistic flows', () => {
  const vn = (s: string) => new Date(`${s}+07:00`)
  const DBP = { lat: 21.3856, lon: 103.0167 }
  const UNIT = '03127'
  let now = vn('2026-03-02T09:00:00')
  let platform: Platform
  let capture: StatementCapture
  let citizen: TestUser, officer: TestUser, leader: TestUser

  before(async () => {
    capture = new StatementCapture()
    platform = await startTestPlatform({ clock: () => now, capture })
    // Fixtures are written before capturing starts again (the flows below are what is checked).
    capture.enabled = false
    await saveTestProcedures(platform.ctx.db, [testProcedure('T.ROUTE', { fee_vnd: 50_000 })])
    ;[citizen, officer, leader] = await Promise.all([createTestUser(platform.ctx.db, 'citizen'), createTestUser(platform.ctx.db, 'officer', UNIT), createTestUser(platform.ctx.db, 'unit_admin', UNIT)])
    capture.enabled = true
  })
  after(async () => {
    await platform?.close()
  })

  const inject = async (method: 'GET' | 'POST', url: string, user: TestUser | null, body?: unknown, expect = 200) => {
    const isMultipart = body && typeof body === 'object' && 'payload' in body && 'headers' in body
    const res = await platform.app.inject({
      method, url,
      ...(isMultipart ? { payload: (body as { payload: Buffer }).payload, headers: { ...(body as { headers: Record<string, string> }).headers, ...(user?.headers ?? {}) } } : { payload: body as object, headers: user?.headers ?? {} }),
    })
    assert.equal(res.statusCode, expect, `${method} ${url}: ${res.body.slice(0, 500)}`)
    return res
  }

  test('a report: submitted with a photo, supported, worked through, merged, rated and reopened, escalated, closed', async () => {
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 60 } } }).jpeg().toBuffer()
    const form = (description: string) => {
      const boundary = '----hoabanroute'
      const fields = { category: 'traffic', description, lat: String(DBP.lat), lon: String(DBP.lon) }
      const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), photo, Buffer.from(`\r\n--${boundary}--\r\n`))
      return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
    }
    const code = (await inject('POST', '/api/reports', citizen, form('Ổ gà trên đường Võ Nguyên Giáp'), 201)).json().code as string
    const dup = (await inject('POST', '/api/reports', null, { category: 'traffic', description: 'Ổ gà (gửi lại)', ...DBP }, 201)).json().code as string
    await inject('POST', `/api/reports/${code}/support`, leader, undefined)
    const view = (await inject('GET', `/api/reports/${code}`, officer)).json()
    await inject('GET', view.photos[0].url, null)
    await inject('GET', `/api/reports?limit=5`, null)
    await inject('GET', `/api/reports/queue?unit_code=${UNIT}`, officer)
    await inject('GET', '/api/reports/mine', citizen)
    await inject('GET', `/api/reports/nearby?lat=${DBP.lat}&lon=${DBP.lon}&radius_m=300`, null)
    await inject('POST', `/api/reports/${dup}/merge`, officer, { into_code: code })
    await inject('POST', `/api/reports/${code}/assign`, officer, {})
    await inject('POST', `/api/reports/${code}/start`, officer, {})
    await inject('POST', `/api/reports/${code}/resolve`, officer, { answer: 'Đã vá ổ gà', issue_document: true })
    await inject('POST', `/api/reports/${code}/rate`, citizen, { rating: 4 })
    await inject('POST', `/api/reports/${code}/reopen`, citizen, { reason: 'Lại hỏng' })
    await inject('GET', `/api/reports/${code}`, citizen)
    await inject('GET', `/open311/v2/requests/${code}.json`, null)
    await inject('GET', '/open311/v2/requests.json', null)
    // The jobs: escalation of overdue reports, closing settled ones.
    const later = new Date(now.getTime() + 60 * 86_400_000)
    assert.ok((await escalateOverdueReports(platform.ctx.db, later, platform.ctx.config.provinceCode)) >= 1)
    await inject('POST', `/api/reports/${code}/resolve`, officer, { answer: 'Đã vá lại' })
    assert.ok((await closeSettledReports(platform.ctx.db, later, platform.ctx.config.provinceCode)) >= 1)
    await platform.ctx.events.dispatchPending(platform.ctx.db, 10_000)
  })

  test('a dossier: the whole lifecycle, with files, a pause, a fee, the result, the apology letter and the citizen store', async () => {
    now = vn('2026-03-02T09:00:00')
    const submitted = multipart({ procedure_code: 'T.ROUTE', commune_code: UNIT, applicant_name: 'Lò Thị Hoa', applicant_phone: '0912345678' }, [{ field: 'to_khai', name: 'to-khai.pdf', data: PDF_BYTES }])
    const code = (await inject('POST', '/api/dossiers', citizen, submitted, 201)).json().code as string
    const act = (action: string, user: TestUser, body: unknown = {}) => inject('POST', `/api/dossiers/${code}/${action}`, user, body)
    await act('receive', officer)
    await act('process', officer)
    // One working day before the due instant: the warning job drafts the apology letter.
    assert.ok((await runDeadlineWarnings(platform.ctx.db, platform.ctx.config.provinceCode, vn('2026-03-05T09:00:00'))) >= 1)
    await act('approve_apology', leader)
    now = vn('2026-03-03T09:00:00')
    await act('request_supplement', officer, { reason: 'Thiếu chữ ký' })
    now = vn('2026-03-04T09:00:00')
    await act('supplement', citizen, multipart({ note: 'bổ sung' }, [{ field: 'to_khai', name: 'to-khai-2.pdf', data: Buffer.concat([PDF_BYTES, Buffer.from(code)]) }]))
    await act('request_fee', officer)
    await act('pay', citizen, { method: 'online', reference: 'VCB-1' })
    await act('change_deadline', officer, { reason: 'Cần xác minh', new_due: '2026-03-20T16:00:00+07:00', approver_user_id: leader.id })
    await act('forward', officer, { note: 'Trình ký' })
    now = vn('2026-03-05T10:00:00')
    await act('resolve', officer, multipart({}, [{ field: 'result', name: 'ket-qua.pdf', data: Buffer.concat([PDF_BYTES, Buffer.from(`kq ${code}`)]) }]))
    await act('return', officer)
    const d = (await inject('GET', `/api/dossiers/${code}`, officer)).json()
    await inject('GET', `/api/dossiers/${code}`, citizen)
    await inject('GET', `/api/dossiers/${code}/files/${d.files[0].id}`, citizen)
    await inject('GET', `/api/dossiers/${code}/slips/control.pdf`, citizen)
    await inject('GET', '/api/dossiers', citizen)
    await inject('GET', `/api/dossiers?unit_code=${UNIT}`, officer)
    // The result and the files in the applicant's data store (kho dữ liệu).
    const items = (await inject('GET', '/api/me/store', citizen)).json().items as { id: string }[]
    assert.ok(items.length >= 2)
    for (const item of items) await inject('GET', `/api/me/store/${item.id}/file`, citizen)
    await platform.ctx.events.dispatchPending(platform.ctx.db, 10_000)
  })

  test('a document: registered, assigned, directed, handled, linked, searched', async () => {
    const doc = (await inject('POST', '/api/documents/incoming', officer, { doc_type: 'CV', symbol: '12/SXD-QLXD', issuer: 'Sở Xây dựng', issued_at: '2026-03-01', summary: 'V/v rà soát công trình' }, 201)).json()
    await inject('POST', `/api/documents/${doc.id}/assign`, officer, { leader_user_id: leader.id })
    await inject('POST', `/api/documents/${doc.id}/direct`, leader, { user_id: officer.id, deadline: '2026-03-20' })
    await inject('POST', `/api/documents/${doc.id}/handling`, officer, { note: 'Đang rà soát' })
    await inject('POST', `/api/documents/${doc.id}/handling`, officer, { done: true })
    await inject('GET', `/api/documents/${doc.id}`, officer)
    await inject('GET', '/api/documents?q=ra+soat', officer)
    await inject('GET', '/api/documents/registers', officer)
    await platform.ctx.events.dispatchPending(platform.ctx.db, 10_000)
  })

  test('no statement breaks the rule, and the flows reached every distributed table by key', () => {
    const checked = capture.statements.map((text) => ({ text, ...checkProvinceRouting(text) }))
    const bad = checked.filter((c) => c.violation).map((c) => `${c.violation}:\n  ${c.text.replace(/\s+/g, ' ').slice(0, 400)}`)
    assert.deepEqual(bad, [], `${bad.length} statement(s) not routable to one shard`)
    const byKey = new Set(checked.filter((c) => c.byKey).flatMap((c) => c.references))
    // Written only by inserts (`on conflict` upserts for the counters, audit_append for the log),
    // which Citus routes by the column default. The gateway's message log and the IOC roll-ups are
    // written the same way (batched inserts, upserts) and read by period, not by key: those reads
    // are not routed to one shard (docs/scaling.md, "known limits").
    const insertOnly = [
      'dossier_counters', 'document_register_counters', 'audit_log', 'exchange_message_log',
      'ioc_daily_facts', 'ioc_duration_buckets', 'ioc_daily_coarse', 'ioc_daily_coarse_buckets', 'ioc_monthly_facts',
      'ioc_monthly_duration_buckets', 'ioc_step_facts', 'ioc_monthly_coarse', 'ioc_monthly_coarse_buckets', 'ioc_report_ratings',
    ]
    const missing = DISTRIBUTED.map((t) => t.table).filter((t) => !insertOnly.includes(t) && !byKey.has(t))
    assert.deepEqual(missing, [], 'distributed tables the flows never read or changed by key (extend the flows)')
    assert.ok(checked.filter((c) => c.byKey).length > 100, `${checked.filter((c) => c.byKey).length} statements by key`)
  })

  test('a statement that forgets the province is caught on what is really sent', async () => {
    const start = capture.statements.length
    await sql`select r.id from reports r where r.code = ${'PA-2026-000001'}`.execute(platform.ctx.db)
    const sent = capture.statements.slice(start)
    assert.equal(sent.length, 1)
    assert.match(checkProvinceRouting(sent[0]).violation ?? '', /by key \(reports\)/)
    capture.statements.length = start
  })
})
