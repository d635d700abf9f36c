// The containment index on a synthetic layer built on a lattice, where query points fall exactly
// on vertices and edges: the index must give the even-odd ray-casting answer for every one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { BoundaryFeature, Ring } from './geojson.ts'
import { Locator } from './locator.ts'
import { BruteForce } from './test-helpers.ts'

const P = (x: number, y: number) => [100 + x, 10 + y]
const box = (x0: number, y0: number, x1: number, y1: number, clockwise = false): Ring => {
  const r = [P(x0, y0), P(x1, y0), P(x1, y1), P(x0, y1), P(x0, y0)]
  return clockwise ? r.reverse() : r
}
const feature = (code: string, polygons: Ring[][]): BoundaryFeature => ({
  type: 'Feature',
  properties: { code, name: `Unit ${code}`, level: 'commune' },
  geometry: { type: 'MultiPolygon', coordinates: polygons },
})
const triangle: Ring = [P(1.5, 1.5), P(2.5, 1.5), P(2, 2.5), P(1.5, 1.5)]

// A with a hole; B fills the hole and has a triangular hole; C is the triangle (diagonal edges);
// D is a multipolygon sharing vertical edges with A and horizontal ones with E, plus a far island.
const layer = [
  feature('00001', [[box(0, 0, 4, 4, true), box(1, 1, 3, 3)]]),
  feature('00002', [[box(1, 1, 3, 3), [...triangle].reverse()]]),
  feature('00003', [[triangle]]),
  feature('00004', [[box(4, 0, 6, 2)], [box(4, 3, 5, 4, true)], [box(7, 7, 8, 8)]]),
  feature('00005', [[box(4, 2, 6, 3)]]),
]
const brute = new BruteForce(layer)

const variants = [{}, { maxEdgesPerLeaf: 1, maxDepth: 12 }, { maxEdgesPerLeaf: 2 }, { topCellsPerEdge: 8 }, { topCellsPerEdge: 0.01 }]

test('every lattice point (vertices, edges, interiors) gets the even-odd answer, whatever the tuning', () => {
  for (const opts of variants) {
    const locator = Locator.fromFeatures(layer, opts)
    for (let x = -0.5; x <= 8.5; x += 0.125)
      for (let y = -0.5; y <= 8.5; y += 0.125) {
        const [lon, lat] = P(x, y)
        assert.equal(locator.unitAt(lat, lon)?.code ?? null, brute.codesAt(lon, lat)[0] ?? null, `(${x}, ${y}) with ${JSON.stringify(opts)}`)
      }
  }
})

test('holes, islands in holes and multipolygons', () => {
  const locator = Locator.fromFeatures(layer)
  const at = (x: number, y: number) => locator.unitAt(P(x, y)[1], P(x, y)[0])?.code ?? null
  assert.equal(at(0.5, 0.5), '00001')
  assert.equal(at(1.2, 2.8), '00002') // in A's hole = in B
  assert.equal(at(2, 1.8), '00003') // in B's hole = in C
  assert.equal(at(5, 1), '00004')
  assert.equal(at(4.5, 3.5), '00004')
  assert.equal(at(7.5, 7.5), '00004') // the far island
  assert.equal(at(5.5, 3.5), null) // the notch between D's parts
  assert.equal(at(5, 2.5), '00005')
})

test('points on shared edges and vertices: one unit, the same every time, near_border', () => {
  const locator = Locator.fromFeatures(layer)
  for (const [x, y] of [
    [4, 1], // vertical A|D edge
    [5, 2], // horizontal D|E edge
    [4, 2], // vertex shared by A, D, E
    [1, 2], // A|B hole edge
    [1.75, 2], // on the triangle's diagonal
    [2, 1.5], // on the triangle's base
  ]) {
    const [lon, lat] = P(x, y)
    const r = locator.locate(lat, lon)
    assert.equal(r.status, 'inside', `(${x}, ${y})`)
    assert.equal(r.unit!.code, brute.codesAt(lon, lat)[0])
    assert.equal(r.near_border, true)
    assert.equal(r.distance_to_border_m, 0)
    assert.deepEqual(locator.locate(lat, lon), r)
  }
})

test('overlapping units (bad data): the lowest code wins, as everywhere', () => {
  const overlap = [feature('00009', [[box(0, 0, 2, 2)]]), feature('00008', [[box(1, 1, 3, 3)]])]
  for (const opts of variants) {
    const locator = Locator.fromFeatures(overlap, opts)
    assert.equal(locator.unitAt(P(1.5, 1.5)[1], P(1.5, 1.5)[0])?.code, '00008')
    assert.equal(locator.unitAt(P(0.5, 0.5)[1], P(0.5, 0.5)[0])?.code, '00009')
  }
})

test('property: random points near the diagonal edges match brute force', () => {
  const locator = Locator.fromFeatures(layer, { maxEdgesPerLeaf: 1, maxDepth: 10 })
  fc.assert(
    fc.property(fc.double({ min: 1.4, max: 2.6, noNaN: true }), fc.double({ min: 1.4, max: 2.6, noNaN: true }), (x, y) => {
      const [lon, lat] = P(x, y)
      assert.equal(locator.unitAt(lat, lon)?.code ?? null, brute.codesAt(lon, lat)[0] ?? null)
    }),
    { numRuns: 5000, seed: 42 },
  )
})

test('an empty layer locates nothing', () => {
  const locator = Locator.fromFeatures([])
  assert.equal(locator.unitAt(21, 103), null)
  assert.equal(locator.locate(21, 103).status, 'outside')
})
