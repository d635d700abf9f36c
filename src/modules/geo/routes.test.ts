// The geo HTTP API on the real app stack (startTestPlatform with only the geo module), seeded
// with the shipped Điện Biên boundaries.
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { after, before, test } from 'node:test'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { geoModule } from './index.ts'

let platform: Platform
before(async () => {
  platform = await startTestPlatform({ modules: [geoModule] })
})
after(async () => {
  await platform?.close()
})

const get = (url: string, headers: Record<string, string> = {}) => platform.app.inject({ method: 'GET', url, headers })

function assertError(res: { statusCode: number; json(): any }, status: number, code: string) {
  assert.equal(res.statusCode, status)
  const body = res.json()
  assert.deepEqual(Object.keys(body), ['error'])
  assert.equal(body.error.code, code)
  assert.equal(typeof body.error.message_vi, 'string')
  assert.equal(typeof body.error.message_en, 'string')
  return body.error
}

test('GET /api/geo/locate: the test point is in Phường Điện Biên Phủ, with its boundary version', async () => {
  const res = await get('/api/geo/locate?lat=21.3856&lon=103.0167')
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.status, 'inside')
  assert.deepEqual(body.unit, { code: '03127', name: 'Điện Biên Phủ', full_name: 'Phường Điện Biên Phủ' })
  assert.equal(body.near_border, false)
  assert.ok(body.distance_to_border_m > 500)
  const unit = (await get('/api/geo/units/03127')).json()
  assert.equal(body.boundary_version, unit.boundary.id)
})

test('GET /api/geo/locate: a point outside every commune is a 200 answer, not an error', async () => {
  const res = await get('/api/geo/locate?lat=21.0285&lon=105.8542')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'outside', unit: null, distance_to_border_m: null, near_border: false, boundary_version: null })
})

test('GET /api/geo/locate refuses NaN, text, missing and out-of-range coordinates with INVALID_COORDINATES', async () => {
  for (const q of ['lat=NaN&lon=103', 'lat=abc&lon=103', 'lat=21.3', 'lat=&lon=103', 'lat=95&lon=103', 'lat=21&lon=200', 'lat=-91&lon=0', 'lat=Infinity&lon=103']) {
    assertError(await get(`/api/geo/locate?${q}`), 400, 'INVALID_COORDINATES')
  }
})

test('GET /api/geo/locate spots swapped lat/lon and says what to send', async () => {
  const err = assertError(await get('/api/geo/locate?lat=103.0167&lon=21.3856'), 400, 'COORDINATES_SWAPPED')
  assert.deepEqual(err.details, { hint: { lat: 21.3856, lon: 103.0167 } })
  assert.match(err.message_en, /Send lat=21\.3856&lon=103\.0167/)
  assert.match(err.message_vi, /bị đảo/)
  // In range both ways but swapped into Vietnam (lat 10.8, lon 106.7 is Hồ Chí Minh City): still a swap.
  assertError(await get('/api/geo/locate?lat=106.7&lon=10.8'), 400, 'COORDINATES_SWAPPED')
})

test('GET /api/geo/units lists units, filtered by level', async () => {
  const all = (await get('/api/geo/units')).json().items
  assert.equal(all.length, 46)
  assert.equal(all[0].code, '11') // the province first
  const communes = await get('/api/geo/units?level=commune')
  assert.equal(communes.statusCode, 200)
  const items = communes.json().items
  assert.equal(items.length, 45)
  assert.deepEqual(Object.keys(items[0]).sort(), ['code', 'full_name', 'level', 'name', 'name_en', 'parent_code', 'unit_type'])
  assert.equal((await get('/api/geo/units?level=province')).json().items.length, 1)
  assertError(await get('/api/geo/units?level=village'), 400, 'VALIDATION_FAILED')
})

test('GET /api/geo/units/:code: detail with merge history; 404 shape when missing', async () => {
  const res = await get('/api/geo/units/03127')
  assert.equal(res.statusCode, 200)
  const u = res.json()
  assert.equal(u.full_name, 'Phường Điện Biên Phủ')
  assert.equal(u.merged_from.length, 6)
  assert.deepEqual(u.merged_from[0], { code: '03127', name: 'Phường Him Lam', old_district_code: '094', type: 'full' })
  assert.equal(u.boundary.valid_from, '2025-07-01')
  assert.equal(u.boundary.valid_to, null)
  assertError(await get('/api/geo/units/99999'), 404, 'NOT_FOUND')
  assertError(await get('/api/geo/units/abc'), 400, 'VALIDATION_FAILED')
})

test('GET /api/geo/units/:code/boundary: one Feature, full or simplified', async (t) => {
  const full = await get('/api/geo/units/03127/boundary')
  assert.equal(full.statusCode, 200)
  assert.match(String(full.headers['content-type']), /^application\/geo\+json/)
  const f = full.json()
  assert.equal(f.type, 'Feature')
  assert.equal(f.id, '03127')
  assert.equal(f.geometry.type, 'MultiPolygon')
  const light = await get('/api/geo/units/03127/boundary?simplified=1')
  assert.ok(light.body.length < full.body.length / 3)
  t.diagnostic(`03127 boundary: ${(full.body.length / 1024).toFixed(0)} KB full, ${(light.body.length / 1024).toFixed(1)} KB simplified`)
  assertError(await get('/api/geo/units/99999/boundary'), 404, 'NOT_FOUND')
})

test('GET /api/geo/boundaries?simplified=1: a phone-sized FeatureCollection with Cache-Control and ETag', async (t) => {
  const res = await get('/api/geo/boundaries?simplified=1')
  assert.equal(res.statusCode, 200)
  const fcol = res.json()
  assert.equal(fcol.type, 'FeatureCollection')
  assert.equal(fcol.features.length, 45)
  assert.match(String(res.headers['cache-control']), /public, max-age=\d+/)
  const etag = String(res.headers.etag)
  assert.match(etag, /^"[\w-]+"$/)
  const kb = res.body.length / 1024
  const gz = gzipSync(res.body).length / 1024
  assert.ok(kb < 400, `${kb} KB`)
  const full = await get('/api/geo/boundaries')
  assert.equal(full.json().features.length, 45)
  assert.notEqual(full.headers.etag, etag)
  t.diagnostic(`communes layer: ${(full.body.length / 1024).toFixed(0)} KB full (${(gzipSync(full.body).length / 1024).toFixed(0)} KB gzip), ${kb.toFixed(0)} KB simplified (${gz.toFixed(0)} KB gzip)`)
  // Exterior rings are rewound counter-clockwise (RFC 7946), unlike the source.
  const ring = fcol.features[0].geometry.coordinates[0][0] as number[][]
  let area2 = 0
  for (let i = 0; i < ring.length - 1; i++) area2 += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
  assert.ok(area2 > 0)

  const again = await get('/api/geo/boundaries?simplified=1', { 'if-none-match': etag })
  assert.equal(again.statusCode, 304)
  assert.equal(again.body, '')
  const province = await get('/api/geo/boundaries?level=province&simplified=1')
  assert.equal(province.json().features[0].id, '11')
})

test('every geo route is documented under the geo tag', async () => {
  const spec = (await get('/docs/json')).json()
  const paths = Object.entries(spec.paths as Record<string, Record<string, { tags?: string[]; summary?: string }>>).filter(([p]) => p.startsWith('/api/geo'))
  assert.equal(paths.length, 5)
  for (const [p, ops] of paths) {
    assert.deepEqual(ops.get.tags, ['geo'], p)
    assert.ok(ops.get.summary, p)
  }
})
