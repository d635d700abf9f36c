import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { calendarModule } from '../../calendar/index.ts'
import { geoModule } from '../../geo/index.ts'
import { documentsModule } from '../../documents/index.ts'
import { identityModule } from '../../identity/index.ts'
import { createTestUser, type TestUser } from '../../identity/test-factories.ts'
import { multipart, PDF_BYTES, PNG_BYTES, saveFeePolicy, saveTestProcedures, testProcedure } from './test-helpers.ts'
import { testServicesModule } from './test-helpers.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
let now = vn('2026-03-02T09:00:00')
let platform: Platform
let citizen: TestUser

before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, documentsModule, testServicesModule], clock: () => now })
  await saveTestProcedures(platform.ctx.db, [
    testProcedure('T.HT'),
    testProcedure('T.CC', { handling_unit: '11.STP', level: 'province', components: [] }),
    testProcedure('T.FEE', { handling_unit: '11.SCT', level: 'province', components: [], fee_vnd: 100_000 }),
  ])
  await saveFeePolicy(platform.ctx.db, {
    code: 'T.FEE.MARCH', name_vi: 'Giảm phí nộp trực tuyến tháng 3', name_en: 'Online discount in March', legal_basis: null, channel: 'online',
    percent_off: null, fixed_vnd: 10_000, valid_from: '2026-03-01', valid_to: '2026-03-31', procedure_code: 'T.FEE', field: null,
  })
  citizen = await createTestUser(platform.ctx.db, 'citizen')
})
after(async () => {
  await platform?.close()
})

const post = (fields: Record<string, string>, files: { field: string; name: string; data: Buffer }[] = [], user: TestUser | null = citizen, extraHeaders: Record<string, string> = {}) => {
  const { payload, headers } = multipart(fields, files)
  return platform.app.inject({ method: 'POST', url: '/api/dossiers', payload, headers: { ...headers, ...(user?.headers ?? {}), ...extraHeaders } })
}
const BASE = { procedure_code: 'T.HT', commune_code: '03127', applicant_name: 'Lò Văn Dân' }

async function totals() {
  const { rows } = await sql<{ dossiers: number; files: number; slips: number; counter: number }>`select
    (select count(*)::int from dossiers) as dossiers, (select count(*)::int from dossier_files) as files,
    (select count(*)::int from dossier_control_slips) as slips, (select coalesce(sum(last), 0)::int from dossier_counters) as counter`.execute(platform.ctx.db)
  return rows[0]
}

describe('numbering', () => {
  test('50 concurrent submissions to one agency on one day get -0001 … -0050 exactly', async () => {
    now = vn('2026-03-02T09:00:00')
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { procedure_code: 'T.CC', applicant_name: `Người nộp ${i}` }, headers: citizen.headers })))
    for (const r of results) assert.equal(r.statusCode, 201, r.body)
    const codes = results.map((r) => r.json().code as string).sort()
    assert.deepEqual(codes, Array.from({ length: 50 }, (_, i) => `11.STP-260302-${String(i + 1).padStart(4, '0')}`))
  })

  test('the counter restarts each Vietnam day (the day turns at 17:00 UTC)', async () => {
    now = new Date('2026-03-02T17:00:00Z')
    const r = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { procedure_code: 'T.CC', applicant_name: 'Người nộp' }, headers: citizen.headers })
    assert.equal(r.json().code, '11.STP-260303-0001')
  })
})

describe('bad input: a clear 4xx and nothing written', () => {
  test('missing components, wrong types, oversize, unknown procedure or component, missing fields', async () => {
    now = vn('2026-03-04T09:00:00')
    const before = await totals()
    const cases: [string, Awaited<ReturnType<typeof post>>, number, string | null][] = [
      ['missing required component', await post(BASE, [{ field: 'anh', name: 'a.png', data: PNG_BYTES }]), 400, 'MISSING_COMPONENTS'],
      ['PNG content named .pdf', await post(BASE, [{ field: 'to_khai', name: 'tk.pdf', data: PNG_BYTES }]), 415, 'FILE_TYPE_NOT_ALLOWED'],
      ['a PDF where images are asked', await post(BASE, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }, { field: 'anh', name: 'a.pdf', data: PDF_BYTES }]), 415, 'FILE_TYPE_NOT_ALLOWED'],
      ['text file', await post(BASE, [{ field: 'to_khai', name: 'tk.txt', data: Buffer.from('hello') }]), 415, 'FILE_TYPE_NOT_ALLOWED'],
      ['oversize', await post(BASE, [{ field: 'to_khai', name: 'tk.pdf', data: Buffer.concat([PDF_BYTES, Buffer.alloc(250_000)]) }]), 413, 'FILE_TOO_LARGE'],
      ['unknown component', await post(BASE, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }, { field: 'la', name: 'x.pdf', data: PDF_BYTES }]), 400, 'UNKNOWN_COMPONENT'],
      ['unknown procedure', await post({ ...BASE, procedure_code: 'NO.SUCH' }, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]), 400, 'UNKNOWN_PROCEDURE'],
      ['no commune for a commune procedure', await post({ procedure_code: 'T.HT', applicant_name: 'A B' }, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]), 400, 'COMMUNE_REQUIRED'],
      ['unknown commune', await post({ ...BASE, commune_code: '99999' }, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]), 400, 'UNKNOWN_COMMUNE'],
      ['no applicant name', await post({ procedure_code: 'T.HT', commune_code: '03127' }, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]), 400, null],
      ['anonymous', await post(BASE, [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }], null), 401, 'UNAUTHENTICATED'],
    ]
    for (const [name, res, status, code] of cases) {
      assert.equal(res.statusCode, status, `${name}: ${res.body}`)
      if (code) assert.equal(res.json().error.code, code, name)
    }
    const files = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { ...BASE, files: [] }, headers: citizen.headers })
    assert.equal(files.json().error.code, 'FILES_NEED_MULTIPART')
    assert.deepEqual(await totals(), before)
  })
})

describe('idempotent submission', () => {
  test('a retry with the same key returns the same dossier; another body with the key is refused', async () => {
    now = vn('2026-03-04T09:00:00')
    const files = [{ field: 'to_khai', name: 'tk.pdf', data: PDF_BYTES }]
    const a = await post(BASE, files, citizen, { 'idempotency-key': 'dossier-retry-1' })
    assert.equal(a.statusCode, 201, a.body)
    const before = await totals()
    const b = await post(BASE, files, citizen, { 'idempotency-key': 'dossier-retry-1' })
    assert.equal(b.statusCode, 201)
    assert.equal(b.json().code, a.json().code)
    assert.equal(b.headers['idempotent-replayed'], 'true')
    const c = await post({ ...BASE, applicant_name: 'Người khác' }, files, citizen, { 'idempotency-key': 'dossier-retry-1' })
    assert.equal(c.statusCode, 409)
    assert.deepEqual(await totals(), before)
  })
})

describe('fees at submission time', () => {
  const fee = async (at: Date, channel: 'online' | 'in_person') => {
    now = at
    const user = channel === 'online' ? citizen : await createTestUser(platform.ctx.db, 'officer', '11.SCT')
    const r = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { procedure_code: 'T.FEE', applicant_name: 'Lò Văn Dân', channel }, headers: user.headers })
    assert.equal(r.statusCode, 201, r.body)
    return (await platform.app.inject({ method: 'GET', url: `/api/dossiers/${r.json().code}`, headers: user.headers })).json().fee
  }
  test('a policy applies between its dates (inclusive, Vietnam dates) and on its channel only', async () => {
    const inMarch = await fee(vn('2026-03-31T23:30:00'), 'online')
    assert.equal(inMarch.amount_vnd, 10_000)
    assert.equal(inMarch.policy_code, 'T.FEE.MARCH')
    assert.equal(inMarch.payment_status, 'unpaid')
    const inApril = await fee(vn('2026-04-01T00:30:00'), 'online')
    assert.notEqual(inApril.policy_code, 'T.FEE.MARCH')
    assert.ok(inApril.amount_vnd > 10_000)
    const before = await fee(vn('2026-02-28T10:00:00'), 'online')
    assert.notEqual(before.policy_code, 'T.FEE.MARCH')
    const desk = await fee(vn('2026-03-10T10:00:00'), 'in_person')
    assert.notEqual(desk.policy_code, 'T.FEE.MARCH')
  })

  test('the fee stays as computed at submission when a policy is added later', async () => {
    now = vn('2026-05-04T09:00:00')
    const r = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { procedure_code: 'T.FEE', applicant_name: 'Lò Văn Dân' }, headers: citizen.headers })
    const code = r.json().code
    const first = (await platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}`, headers: citizen.headers })).json().fee
    await saveFeePolicy(platform.ctx.db, {
      code: 'T.FEE.MAY', name_vi: 'Miễn phí tháng 5', name_en: 'Free in May', legal_basis: null, channel: 'any',
      percent_off: 100, fixed_vnd: null, valid_from: '2026-05-01', valid_to: '2026-05-31', procedure_code: 'T.FEE', field: null,
    })
    const later = (await platform.app.inject({ method: 'GET', url: `/api/dossiers/${code}`, headers: citizen.headers })).json().fee
    assert.deepEqual(later, first)
  })

  test('a VietQR code is offered when the unit has a bank account', async () => {
    now = vn('2026-03-10T09:00:00')
    await sql`insert into dossier_bank_accounts (unit_code, bank_bin, account_no, account_name) values ('11.SCT', '970415', '113366668888', 'SO CONG THUONG DIEN BIEN')`.execute(platform.ctx.db)
    const r = await platform.app.inject({ method: 'POST', url: '/api/dossiers', payload: { procedure_code: 'T.FEE', applicant_name: 'Lò Văn Dân' }, headers: citizen.headers })
    const d = (await platform.app.inject({ method: 'GET', url: `/api/dossiers/${r.json().code}`, headers: citizen.headers })).json()
    assert.match(d.vietqr, /^000201010212.*0010A000000727.*53037045405100005802VN/)
    assert.ok(d.vietqr.includes(r.json().code))
  })
})
