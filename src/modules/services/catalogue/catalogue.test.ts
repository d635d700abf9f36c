import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import type { Module } from '../../../platform/module.ts'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { calendarModule } from '../../calendar/index.ts'
import { geoModule } from '../../geo/index.ts'
import { identityModule } from '../../identity/index.ts'
import { catalogueRoutes, computeFee, getProcedureVersion, saveFeePolicy, saveProcedureVersion, searchProcedures, seedProcedures } from './index.ts'

const servicesTestModule: Module = {
  name: 'services',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  routes: catalogueRoutes,
  seedReference: seedProcedures,
}

// A fixed "today": 15 June 2026, 10:00 in Vietnam.
const NOW = new Date('2026-06-15T03:00:00Z')
const at = (isoDate: string) => new Date(`${isoDate}T10:00:00+07:00`)

let platform: Platform
before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, servicesTestModule], clock: () => NOW })
})
after(async () => {
  await platform?.close()
})

const get = (url: string) => platform.app.inject({ method: 'GET', url })

test('the seed loads at least 30 procedures, and seeding again changes nothing', async () => {
  const before = await searchProcedures(platform.ctx.db, { limit: 100, offset: 0, at: NOW })
  assert.ok(before.total >= 30, `${before.total} procedures`)
  await seedProcedures(platform.ctx)
  const again = await searchProcedures(platform.ctx.db, { limit: 100, offset: 0, at: NOW })
  assert.equal(again.total, before.total)
})

test('search ignores diacritics and case', async () => {
  for (const q of ['dang ky khai sinh', 'ĐĂNG KÝ KHAI SINH', 'Dang Ky Khai Sinh', 'khai sinh']) {
    const res = await get(`/api/procedures?q=${encodeURIComponent(q)}`)
    assert.equal(res.statusCode, 200)
    const body = res.json()
    assert.ok(body.items.some((i: { name_vi: string }) => i.name_vi === 'Đăng ký khai sinh'), q)
  }
  const exact = (await get(`/api/procedures?q=${encodeURIComponent('dang ky khai sinh')}`)).json()
  assert.equal(exact.items[0].name_vi, 'Đăng ký khai sinh', 'the name that starts with the phrase comes first')
  // Words in any order, and the field name counts: "hộ tịch" finds the civil status procedures.
  const byField = (await get(`/api/procedures?q=${encodeURIComponent('ho tich')}&limit=100`)).json()
  assert.ok(byField.items.length >= 5 && byField.items.every((i: { field: string; name_vi: string }) => i.field === 'ho_tich' || /hộ tịch/i.test(i.name_vi)))
  // Wildcards are literal.
  assert.equal((await get(`/api/procedures?q=${encodeURIComponent('%_%')}`)).json().total, 0)
})

test('filters, paging and totals', async () => {
  const all = (await get('/api/procedures?limit=100')).json()
  const page1 = (await get('/api/procedures?limit=5&offset=0')).json()
  const page2 = (await get('/api/procedures?limit=5&offset=5')).json()
  assert.equal(page1.total, all.total)
  assert.equal(page1.items.length, 5)
  assert.deepEqual([...page1.items, ...page2.items].map((i: { code: string }) => i.code), all.items.slice(0, 10).map((i: { code: string }) => i.code))
  const province = (await get('/api/procedures?level=province&limit=100')).json()
  assert.ok(province.total > 5 && province.items.every((i: { level: string; handling_unit: string }) => i.level === 'province' && i.handling_unit.startsWith('11.')))
  const online = (await get('/api/procedures?fully_online=true&limit=100')).json()
  assert.ok(online.total > 5 && online.items.every((i: { fully_online: boolean }) => i.fully_online))
  const civil = (await get('/api/procedures?field=ho_tich&limit=100')).json()
  assert.ok(civil.total >= 5 && civil.items.every((i: { field: string; field_name_vi: string }) => i.field === 'ho_tich' && i.field_name_vi === 'Hộ tịch'))
  const fields = (await get('/api/procedures/fields')).json()
  const hoTich = fields.items.find((f: { code: string }) => f.code === 'ho_tich')
  assert.equal(hoTich.count, civil.total)
  assert.equal(fields.items.reduce((s: number, f: { count: number }) => s + f.count, 0), all.total)
})

test('limits and validation answer 400 in the error shape', async () => {
  for (const url of ['/api/procedures?limit=1000', '/api/procedures?limit=0', '/api/procedures?offset=-1', '/api/procedures?level=district', '/api/procedures/1.001193?at=2026-13-01', '/api/procedures/1.001193?at=2026-02-30', '/api/procedures/bad%20code']) {
    const res = await get(url)
    assert.equal(res.statusCode, 400, url)
    assert.equal(typeof res.json().error.code, 'string', url)
    assert.equal(typeof res.json().error.message_vi, 'string', url)
  }
})

test('an unknown procedure is a 404 in the platform error shape', async () => {
  const res = await get('/api/procedures/9.999999')
  assert.equal(res.statusCode, 404)
  const body = res.json()
  assert.equal(body.error.code, 'NOT_FOUND')
  assert.equal(typeof body.error.message_vi, 'string')
  assert.equal(typeof body.error.message_en, 'string')
  // A procedure with no version in force on the date is not found either.
  assert.equal((await get('/api/procedures/1.001193?at=2020-01-01')).statusCode, 404)
})

test('the detail gives the version in force, its components, steps and fee per channel', async () => {
  const res = await get('/api/procedures/1.001193')
  assert.equal(res.statusCode, 200)
  const p = res.json()
  assert.equal(p.name_vi, 'Đăng ký khai sinh')
  assert.equal(p.handling_unit, 'commune')
  assert.deepEqual(p.duration.in_person, { amount: 4, unit: 'working_hours' })
  assert.equal(p.priority, true)
  assert.ok(p.components.some((c: { key: string; required: boolean }) => c.key === 'to_khai' && c.required))
  assert.equal(p.steps.map((s: { key: string }) => s.key).join(','), 'handle,review,sign,issue')
  assert.equal(p.as_of, '2026-06-15')
  assert.deepEqual(p.fees.online, { amount_vnd: 0, policy_code: null, policy_name_vi: null })

  // The building permit has two versions: Nghị định 15/2021 until 2024-12-29, then 175/2024.
  const old = (await get('/api/procedures/1.009994?at=2024-06-01')).json()
  assert.equal(old.version, 1)
  assert.ok(old.legal_basis.some((l: string) => l.includes('15/2021')))
  const cur = (await get('/api/procedures/1.009994')).json()
  assert.equal(cur.version, 2)
  assert.equal(cur.handling_unit, 'commune')
  assert.deepEqual(cur.versions.map((v: { version: number }) => v.version), [2, 1])
  assert.deepEqual(cur.fees.online, { amount_vnd: 37500, policy_code: 'DB-TT-50-2024', policy_name_vi: cur.fees.online.policy_name_vi })
  assert.equal(cur.fees.in_person.amount_vnd, 75000)
})

test('a version valid from a future date does not apply today', async () => {
  const db = platform.ctx.db
  const today = await getProcedureVersion(db, '1.004873', NOW)
  assert.ok(today)
  await saveProcedureVersion(db, { ...today, version: today.version + 1, valid_from: '2027-01-01', valid_to: null, fee_vnd: 20000, name_vi: 'Cấp Giấy xác nhận tình trạng hôn nhân (mẫu mới)' })
  assert.equal((await getProcedureVersion(db, '1.004873', NOW))?.version, today.version)
  // 31 December 2026, 23:30 in Vietnam is still the old version; 00:30 on 1 January is the new one.
  assert.equal((await getProcedureVersion(db, '1.004873', new Date('2026-12-31T16:30:00Z')))?.version, today.version)
  assert.equal((await getProcedureVersion(db, '1.004873', new Date('2026-12-31T17:30:00Z')))?.version, today.version + 1)
  const viaRoute = (await get('/api/procedures/1.004873')).json()
  assert.equal(viaRoute.version, today.version)
  assert.equal((await get('/api/procedures/1.004873?at=2027-02-01')).json().version, today.version + 1)
  // Search shows today's name.
  const found = (await get(`/api/procedures?q=${encodeURIComponent('xac nhan tinh trang hon nhan')}`)).json()
  assert.equal(found.items[0].name_vi, 'Cấp Giấy xác nhận tình trạng hôn nhân')
})

test('fee policies: 50% off online within their dates, full price in person, none after valid_to', async () => {
  const db = platform.ctx.db
  const v = await getProcedureVersion(db, '2.000720', NOW) // household business registration, 100,000 VND
  assert.ok(v)
  assert.equal(v.fee_vnd, 100000)
  const online2026 = await computeFee(db, v, 'online', at('2026-06-15'))
  assert.equal(online2026.amount_vnd, 50000)
  assert.equal(online2026.policy_code, 'DB-TT-50-2024')
  assert.ok(online2026.policy_name_vi?.includes('50%'))
  assert.deepEqual(await computeFee(db, v, 'in_person', at('2026-06-15')), { amount_vnd: 100000, policy_code: null, policy_name_vi: null })
  // Valid-to is inclusive, in Vietnam time.
  assert.equal((await computeFee(db, v, 'online', at('2026-12-31'))).amount_vnd, 50000)
  assert.equal((await computeFee(db, v, 'online', new Date('2026-12-31T16:59:00Z'))).policy_code, 'DB-TT-50-2024')
  // The follow-up policy (30%) from 2027, then nothing after it ends.
  const online2027 = await computeFee(db, v, 'online', at('2027-03-01'))
  assert.deepEqual([online2027.amount_vnd, online2027.policy_code], [70000, 'DB-TT-30-2027'])
  assert.deepEqual(await computeFee(db, v, 'online', at('2031-06-01')), { amount_vnd: 100000, policy_code: null, policy_name_vi: null })
  assert.deepEqual(await computeFee(db, v, 'online', at('2023-06-01')), { amount_vnd: 100000, policy_code: null, policy_name_vi: null })
})

test('fee policies do not stack: the lowest fee wins', async () => {
  const db = platform.ctx.db
  // Online business registration is free (fixed 0), which beats 50% off.
  const dn = await getProcedureVersion(db, '2.001610', NOW)
  assert.ok(dn)
  assert.deepEqual(await computeFee(db, dn, 'online', NOW), { amount_vnd: 0, policy_code: 'BTC-DKDN-ONLINE', policy_name_vi: 'Miễn lệ phí đăng ký doanh nghiệp qua mạng điện tử' })
  assert.equal((await computeFee(db, dn, 'in_person', NOW)).amount_vnd, 50000)
  // A 20%-off policy for one procedure is worse than 50% off online: 50% applies, not 70%.
  const liquor = await getProcedureVersion(db, '2.000633', NOW)
  assert.ok(liquor)
  await saveFeePolicy(db, { code: 'TEST-20', name_vi: 'Giảm 20% (thử)', name_en: '20% off (test)', legal_basis: null, channel: 'any', percent_off: 20, fixed_vnd: null, valid_from: '2026-01-01', valid_to: '2026-12-31', procedure_code: '2.000633', field: null })
  assert.deepEqual([(await computeFee(db, liquor, 'online', NOW)).amount_vnd, (await computeFee(db, liquor, 'online', NOW)).policy_code], [300000, 'DB-TT-50-2024'])
  assert.deepEqual([(await computeFee(db, liquor, 'in_person', NOW)).amount_vnd, (await computeFee(db, liquor, 'in_person', NOW)).policy_code], [480000, 'TEST-20'])
})

test('route policy: every catalogue route is public and documented', async () => {
  const doc = (await get('/docs/json')).json()
  const routes = Object.entries<Record<string, { tags?: string[] }>>(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ route: `${m.toUpperCase()} ${path}`, tags: op.tags })))
  const mine = routes.filter((r) => r.route.includes('/api/procedures'))
  assert.deepEqual(mine.map((r) => r.route).sort(), ['GET /api/procedures', 'GET /api/procedures/fields', 'GET /api/procedures/{code}'])
  for (const r of mine) assert.deepEqual(r.tags, ['services'])
  for (const url of ['/api/procedures', '/api/procedures/fields', '/api/procedures/1.001193']) {
    assert.equal((await get(url)).statusCode, 200, `${url} answers anonymous callers`)
  }
})
