// The Locator on the real Điện Biên boundaries, built straight from the shipped GeoJSON (no DB).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { polygonsOf } from './geojson.ts'
import { Locator } from './locator.ts'
import { BruteForce, interiorPoint, loadShipped, offsetMetres } from './test-helpers.ts'

const communes = loadShipped('dien-bien-communes.geojson').features
const locator = Locator.fromFeatures(communes)
const brute = new BruteForce(communes)
const byCode = new Map(communes.map((f) => [f.properties.code, f]))
const allPositions = communes.flatMap((f) => polygonsOf(f.geometry).flat(2).map((p) => ({ code: f.properties.code, lon: p[0], lat: p[1] })))
const [minX, minY, maxX, maxY] = allPositions.reduce(
  (b, p) => [Math.min(b[0], p.lon), Math.min(b[1], p.lat), Math.max(b[2], p.lon), Math.max(b[3], p.lat)],
  [Infinity, Infinity, -Infinity, -Infinity],
)

test('the layer: 45 communes, every vertex indexed', () => {
  assert.equal(locator.stats.units, 45)
  assert.equal(locator.stats.vertices, allPositions.length)
  // Most leaves lie wholly inside one commune (or outside) and answer without any geometry.
  assert.ok(locator.stats.grid.uniformLeaves > locator.stats.grid.leaves / 2)
})

test('an interior point of each of the 45 communes lands in exactly that commune', () => {
  for (const f of communes) {
    const p = interiorPoint(f)
    assert.deepEqual(brute.codesAt(p.lon, p.lat), [f.properties.code], `reference check for ${f.properties.code}`)
    const r = locator.locate(p.lat, p.lon)
    assert.equal(r.status, 'inside')
    assert.equal(r.unit?.code, f.properties.code, `${f.properties.code} ${f.properties.name}`)
    assert.equal(r.unit?.full_name, f.properties.full_name)
  }
})

test('the test point in Điện Biên Phủ → 03127, about 600 m from its border', () => {
  const r = locator.locate(21.3856, 103.0167)
  assert.equal(r.status, 'inside')
  assert.deepEqual(r.unit, { code: '03127', name: 'Điện Biên Phủ', full_name: 'Phường Điện Biên Phủ' })
  assert.equal(r.near_border, false)
  assert.ok(r.distance_to_border_m! > 500 && r.distance_to_border_m! < 700, String(r.distance_to_border_m))
  assert.equal(r.nearest, undefined)
  assert.equal(r.boundary_version, null) // built from a file, not from DB versions
})

// A long edge shared by two communes (the same two vertices, reversed, in both).
function sharedEdge(): { a: number[]; b: number[]; left: string; right: string } {
  const owner = new Map<string, string>()
  const key = (p: number[], q: number[]) => `${p[0]},${p[1]}>${q[0]},${q[1]}`
  for (const f of communes)
    for (const r of polygonsOf(f.geometry).flat()) for (let i = 0; i < r.length - 1; i++) owner.set(key(r[i], r[i + 1]), f.properties.code)
  for (const f of communes)
    for (const r of polygonsOf(f.geometry).flat())
      for (let i = 0; i < r.length - 1; i++) {
        const other = owner.get(key(r[i + 1], r[i]))
        const lenM = Math.hypot((r[i + 1][0] - r[i][0]) * 104_000, (r[i + 1][1] - r[i][1]) * 111_000)
        if (other && other !== f.properties.code && lenM > 80) return { a: r[i], b: r[i + 1], left: f.properties.code, right: other }
      }
  throw new Error('no shared edge found')
}

test('points on a shared border resolve to one unit deterministically and are flagged near_border', () => {
  const { a, b, left, right } = sharedEdge()
  const pair = [left, right].sort()
  const onEdge = [
    { lon: a[0], lat: a[1] }, // a shared vertex
    { lon: (a[0] + b[0]) / 2, lat: (a[1] + b[1]) / 2 },
    { lon: a[0] + (b[0] - a[0]) * 0.3, lat: a[1] + (b[1] - a[1]) * 0.3 },
  ]
  for (const p of onEdge) {
    const r = locator.locate(p.lat, p.lon)
    assert.equal(r.status, 'inside')
    assert.ok(pair.includes(r.unit!.code), `${r.unit?.code} not in ${pair}`)
    assert.equal(r.unit!.code, brute.codesAt(p.lon, p.lat)[0], 'same answer as even-odd ray casting')
    assert.deepEqual(locator.locate(p.lat, p.lon), r, 'deterministic')
    assert.equal(r.near_border, true)
    assert.ok(r.distance_to_border_m! <= 0.1)
    assert.ok(r.nearest && pair.includes(r.nearest.code) && r.nearest.code !== r.unit!.code, 'names the neighbour across the border')
  }
  // 3 m either side of the edge's midpoint, along its normal: one side each, still near the border.
  const mid = { lat: (a[1] + b[1]) / 2, lon: (a[0] + b[0]) / 2 }
  const k = Math.cos((mid.lat * Math.PI) / 180)
  const nx = -(b[1] - a[1]), ny = (b[0] - a[0]) * k
  const len = Math.hypot(nx, ny)
  const sides = [3, -3].map((m) => {
    const p = offsetMetres(mid.lat, mid.lon, (nx / len) * m, (ny / len) * m)
    const r = locator.locate(p.lat, p.lon)
    assert.equal(r.status, 'inside')
    assert.equal(r.near_border, true)
    assert.ok(Math.abs(r.distance_to_border_m! - 3) < 0.5, String(r.distance_to_border_m))
    assert.deepEqual(brute.codesAt(p.lon, p.lat), [r.unit!.code])
    return r.unit!.code
  })
  assert.deepEqual(sides.sort(), pair)
})

test('the Thanh An hole / Sam Mứn sliver at (103.0132, 21.2842)', () => {
  // The sliver triangle is both a hole of Thanh An (03352) and an extra part of Sam Mứn (03356).
  const sliver = polygonsOf(byCode.get('03356')!.geometry).find((poly) => poly[0].length === 4)![0]
  const c = { lon: (sliver[0][0] + sliver[1][0] + sliver[2][0]) / 3, lat: (sliver[0][1] + sliver[1][1] + sliver[2][1]) / 3 }
  const inSliver = locator.locate(c.lat, c.lon)
  assert.deepEqual(brute.codesAt(c.lon, c.lat), ['03356'])
  assert.equal(inSliver.unit?.code, '03356', 'inside the hole of Thanh An = inside the Sam Mứn part')
  assert.equal(inSliver.near_border, true)
  const vertex = locator.locate(sliver[0][1], sliver[0][0])
  assert.equal(vertex.unit?.code, brute.codesAt(sliver[0][0], sliver[0][1])[0])
  assert.equal(vertex.near_border, true)
  const readme = locator.locate(21.2842, 103.0132)
  assert.equal(readme.status, 'inside')
  assert.deepEqual([readme.unit!.code], brute.codesAt(103.0132, 21.2842))
  assert.ok(['03352', '03356'].includes(readme.unit!.code))
  assert.equal(readme.near_border, true)
})

test('200 m outside the province edge → nearest; 5 km → outside', () => {
  const west = allPositions.reduce((m, p) => (p.lon < m.lon ? p : m))
  const near = offsetMetres(west.lat, west.lon, -200, 0)
  const r = locator.locate(near.lat, near.lon)
  assert.equal(r.status, 'nearest')
  assert.equal(r.unit?.code, west.code)
  assert.ok(r.distance_to_border_m! > 100 && r.distance_to_border_m! <= 200.1, String(r.distance_to_border_m))
  assert.equal(r.near_border, false)
  assert.equal(r.nearest?.code, west.code)
  const far = offsetMetres(west.lat, west.lon, -5000, 0)
  const o = locator.locate(far.lat, far.lon)
  assert.equal(o.status, 'outside')
  assert.equal(o.unit, null)
  assert.equal(o.boundary_version, null)
  assert.equal(o.near_border, false)
  // 20 m outside: 'nearest' and near the border (GPS drift at the edge).
  const drift = offsetMetres(west.lat, west.lon, -20, 0)
  const d = locator.locate(drift.lat, drift.lon)
  assert.equal(d.status, 'nearest')
  assert.equal(d.near_border, true)
})

test('Hanoi and (0, 0) are outside', () => {
  for (const [lat, lon] of [
    [21.0285, 105.8542],
    [0, 0],
    [-90, 180],
  ]) {
    const r = locator.locate(lat, lon)
    assert.equal(r.status, 'outside')
    assert.equal(r.unit, null)
    assert.equal(r.nearest, undefined)
    assert.equal(r.distance_to_border_m, null)
  }
})

test('locate refuses NaN and out-of-range input (callers validate first)', () => {
  assert.throws(() => locator.locate(Number.NaN, 103), RangeError)
  assert.throws(() => locator.locate(21, Infinity), RangeError)
  assert.throws(() => locator.locate(91, 103), RangeError)
})

test('property: equals brute-force even-odd on random points in the province box', () => {
  fc.assert(
    fc.property(fc.double({ min: minX, max: maxX, noNaN: true }), fc.double({ min: minY, max: maxY, noNaN: true }), (lon, lat) => {
      const expected = brute.codesAt(lon, lat)
      assert.ok(expected.length <= 1, `overlap at ${lon},${lat}`)
      assert.equal(locator.unitAt(lat, lon)?.code ?? null, expected[0] ?? null)
    }),
    { numRuns: 3000, seed: 20250701 },
  )
})

test('property: equals brute force on vertices and on points along edges (the tie cases)', () => {
  const rings = communes.flatMap((f) => polygonsOf(f.geometry).flat())
  fc.assert(
    fc.property(fc.nat(rings.length - 1), fc.nat(), fc.constantFrom(0, 0.5, 0.25, 1 / 3, 0.999), (ri, vi, t) => {
      const r = rings[ri]
      const i = vi % (r.length - 1)
      const lon = r[i][0] + (r[i + 1][0] - r[i][0]) * t
      const lat = r[i][1] + (r[i + 1][1] - r[i][1]) * t
      assert.equal(locator.unitAt(lat, lon)?.code ?? null, brute.codesAt(lon, lat)[0] ?? null, `${lon},${lat}`)
    }),
    { numRuns: 5000, seed: 7 },
  )
})

test('nearestUnits lists the units around a border point, nearest first', () => {
  const { a, left, right } = sharedEdge()
  const list = locator.nearestUnits(a[1], a[0], { maxM: 50 })
  assert.ok(list.length >= 2)
  assert.deepEqual(list.slice(0, 2).map((u) => u.code).sort(), [left, right].sort())
  assert.equal(list[0].distance_m, 0)
  assert.deepEqual(locator.nearestUnits(21.0285, 105.8542), [])
})
