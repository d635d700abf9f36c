import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { parse } from 'csv-parse/sync'
import { sql } from 'kysely'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { createTestUser, type TestUser } from '../../identity/test-factories.ts'
import { getLocator } from '../locator-cache.ts'
import { sampleCsv, seedSampleVillages } from './seed.ts'

let platform: Platform
let admin: TestUser

before(async () => {
  platform = await startTestPlatform()
  admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
  const r = await seedSampleVillages(platform.ctx.db, new Date())
  assert.ok(r, 'sample villages loaded')
})
after(async () => {
  await platform?.close()
})

const get = (url: string) => platform.app.inject({ method: 'GET', url })
const postCsv = (url: string, csv: string, headers: Record<string, string> = {}) =>
  platform.app.inject({ method: 'POST', url, payload: csv, headers: { 'content-type': 'text/csv', ...headers } })

test('every sample village lies inside its commune (geo Locator), not near a border', async () => {
  const rows = parse(sampleCsv('villages'), { columns: true }) as { name: string; commune_code: string; lon: string; lat: string }[]
  assert.ok(rows.length >= 30)
  assert.ok(new Set(rows.map((r) => r.commune_code)).size >= 5)
  const locator = await getLocator(platform.ctx.db)
  for (const r of rows) {
    const at = locator.locate(Number(r.lat), Number(r.lon))
    assert.equal(at.status, 'inside', r.name)
    assert.equal(at.unit?.code, r.commune_code, r.name)
    assert.equal(at.near_border, false, r.name)
  }
})

test('search by name: without diacritics, with a typo, by alias, restricted to a commune', async () => {
  const names = async (q: string, extra = '') => (await get(`/api/places/villages?q=${encodeURIComponent(q)}${extra}`)).json().items.map((v: { name: string }) => v.name)
  assert.equal((await names('ban men'))[0], 'Bản Mển')
  assert.equal((await names('Bản Mển'))[0], 'Bản Mển')
  assert.equal((await names('huoi so'))[0], 'Bản Huổi Só')
  assert.equal((await names('Him Lamm 1'))[0], 'Bản Him Lam 1')
  assert.equal((await names('thon dong tam'))[0], 'Thôn Đồng Tâm')
  // Two "Bản Nà Pen" in different communes; the commune filter picks one.
  assert.equal((await names('na pen')).length, 2)
  assert.deepEqual(await names('na pen', '&commune_code=03328'), ['Bản Nà Pen'])
  assert.deepEqual(await names('zzzzqqq'), [])
})

test('place search covers communes, including old commune names merged into them', async () => {
  const res = await get('/api/places/search?q=chung%20chai')
  assert.equal(res.statusCode, 200)
  const items = res.json().items as { kind: string; commune_code: string; name: string }[]
  assert.ok(items.some((p) => p.kind === 'commune' && p.commune_code === '03160'), JSON.stringify(items))
  assert.ok(items.some((p) => p.kind === 'village' && p.name === 'Bản Chung Chải'))
  const bad = await get('/api/places/search?q=')
  assert.equal(bad.statusCode, 400)
})

test('map layer, white zones and CSV export agree with the infrastructure surveys', async () => {
  const geo = (await get('/api/places/villages.geojson?commune_code=03325')).json()
  assert.equal(geo.type, 'FeatureCollection')
  assert.ok(geo.features.length >= 6)
  for (const f of geo.features) {
    assert.equal(f.geometry.type, 'Point')
    assert.equal(f.properties.commune_code, '03325')
    assert.ok(['none', '2g', '3g', '4g'].includes(f.properties.mobile_coverage))
  }
  const infra = parse(sampleCsv('infrastructure'), { columns: true }) as { fixed_broadband: string; mobile_coverage: string; grid_power: string }[]
  const expected = infra.filter((r) => r.fixed_broadband === 'no' || ['none', '2g'].includes(r.mobile_coverage) || r.grid_power === 'no').length
  const wz = (await get('/api/places/white-zones')).json()
  assert.equal(wz.totals.white_zones, expected)
  assert.equal(wz.totals.no_power, infra.filter((r) => r.grid_power === 'no').length)
  assert.equal(wz.items.length, expected)
  for (const v of wz.items) assert.ok(v.gaps.length > 0)
  const csv = await get('/api/places/villages/infrastructure.csv?white_zones_only=true')
  assert.equal(csv.statusCode, 200)
  assert.match(String(csv.headers['content-type']), /text\/csv/)
  const rows = parse(csv.body.replace(/^\uFEFF/, ''), { columns: true }) as { white_zone_gaps: string }[]
  assert.equal(rows.length, expected)
  assert.ok(rows.every((r) => r.white_zone_gaps.length > 0))
})

test('import: row-level errors, nothing written; then a valid file creates and updates', async () => {
  const before = (await sql<{ n: number }>`select count(*)::int as n from geo_villages`.execute(platform.ctx.db)).rows[0].n
  const bad = [
    'name,commune_code,lon,lat,aliases',
    'Bản Thử Nghiệm,03325,103.15,21.45,',
    ',03325,,,',
    'Bản Không Xã,99999,,,',
    'Bản Lạc Chỗ,03325,105.83,21.03,', // Hà Nội
    'Bản Nửa Toạ Độ,03325,103.1,,',
    'Bản Thử Nghiệm,03325,,,',
  ].join('\n')
  const res = await postCsv('/api/places/villages/import', bad, admin.headers)
  assert.equal(res.statusCode, 422, res.body)
  const errors = res.json().error.details.errors as { line: number; code: string }[]
  assert.deepEqual(errors.map((e) => e.line), [3, 4, 5, 6, 7])
  assert.deepEqual(errors.map((e) => e.code), ['INVALID_NAME', 'UNKNOWN_COMMUNE', 'OUTSIDE_COMMUNE', 'INVALID_COORDINATES', 'DUPLICATE_ROW'])
  const after1 = (await sql<{ n: number }>`select count(*)::int as n from geo_villages`.execute(platform.ctx.db)).rows[0].n
  assert.equal(after1, before)

  const outside = await postCsv('/api/places/villages/import', 'name,commune_code,lon,lat\nBản Sai Xã,03160,103.05070,21.41740\n', admin.headers)
  assert.equal(outside.statusCode, 422)
  assert.equal(outside.json().error.details.errors[0].code, 'OUTSIDE_COMMUNE')

  const good = await postCsv('/api/places/villages/import?source=UBND%20x%C3%A3', 'name,commune_code,lon,lat,aliases\nBản Mới Lập,03385,,,Ban Moi\nBản Mển,03328,,,Mển|Ban Men\n', admin.headers)
  assert.equal(good.statusCode, 200, good.body)
  assert.deepEqual({ created: good.json().created, updated: good.json().updated }, { created: 1, updated: 1 })
  const men = (await get('/api/places/villages?q=men&commune_code=03328')).json().items[0]
  assert.equal(men.name, 'Bản Mển')
  assert.ok(men.lat !== null, 'an update without coordinates keeps the known ones')
  const audit = await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'geo.villages.imported' and actor = ${`user:${admin.id}`}`.execute(platform.ctx.db)
  assert.equal(audit.rows[0].n, 1)
})

test('infrastructure import: a newer survey becomes current; bad values are reported per line', async () => {
  const bad = await postCsv('/api/places/villages/infrastructure/import', 'commune_code,village,fixed_broadband,broadband_provider,mobile_coverage,grid_power,as_of,source\n03385,Bản Tìa Dình,maybe,,4g,yes,2026-07-01,x\n03385,Bản Tìa Dình,yes,,5g,yes,2026-07-01,x\n03385,Bản Không Có,yes,,4g,yes,2026-07-01,x\n03385,Bản Tìa Dình,yes,,4g,yes,2026-02-30,x\n', admin.headers)
  assert.equal(bad.statusCode, 422)
  assert.deepEqual(bad.json().error.details.errors.map((e: { code: string }) => e.code), ['INVALID_YES_NO', 'INVALID_MOBILE_COVERAGE', 'UNKNOWN_VILLAGE', 'INVALID_DATE'])
  const ok = await postCsv('/api/places/villages/infrastructure/import', 'commune_code,village,fixed_broadband,broadband_provider,mobile_coverage,grid_power,as_of,source\n03385,Ban Tia Dinh,có,Viettel,4G,có,2026-09-01,Viettel Điện Biên\n', admin.headers)
  assert.equal(ok.statusCode, 200, ok.body)
  const v = (await get('/api/places/villages?q=tia%20dinh&commune_code=03385')).json().items[0]
  assert.deepEqual(v.infrastructure, { fixed_broadband: true, broadband_provider: 'Viettel', mobile_coverage: '4g', grid_power: true, as_of: '2026-09-01', source: 'Viettel Điện Biên' })
})

test('authorization: imports are for province admins only, checked before the body', async () => {
  const citizen = await createTestUser(platform.ctx.db, 'citizen')
  const officer = await createTestUser(platform.ctx.db, 'officer', '03325')
  for (const url of ['/api/places/villages/import', '/api/places/villages/infrastructure/import']) {
    assert.equal((await postCsv(url, 'garbage')).statusCode, 401)
    assert.equal((await postCsv(url, 'garbage', citizen.headers)).statusCode, 403)
    assert.equal((await postCsv(url, 'garbage', officer.headers)).statusCode, 403)
    assert.equal((await postCsv(url, 'garbage', admin.headers)).statusCode, 422)
  }
})

test('export: a cell that a spreadsheet would run as a formula is neutralised', async () => {
  const imp = await postCsv('/api/places/villages/import', 'name,commune_code\n"=HYPERLINK(""http://x"")",03385\n', admin.headers)
  assert.equal(imp.statusCode, 200, imp.body)
  const csv = await get('/api/places/villages/infrastructure.csv?commune_code=03385')
  const rows = parse(csv.body.replace(/^\uFEFF/, ''), { columns: true }) as { village: string }[]
  assert.ok(rows.some((r) => r.village === `'=HYPERLINK("http://x")`), JSON.stringify(rows.map((r) => r.village)))
  assert.ok(rows.every((r) => !r.village.startsWith('=')))
})
