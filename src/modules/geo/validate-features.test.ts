import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateBoundaryFeatures } from './validate-features.ts'
import { loadShipped } from './test-helpers.ts'

const square = [[[103, 21], [103.1, 21], [103.1, 21.1], [103, 21.1], [103, 21]]]
const feature = (props: Record<string, unknown>, geometry: unknown) => ({ type: 'Feature', properties: { code: '03999', name: 'Thử', level: 'commune', ...props }, geometry })
const fcOf = (...features: unknown[]) => ({ type: 'FeatureCollection', features })

test('the shipped files pass', () => {
  assert.deepEqual(validateBoundaryFeatures(loadShipped('dien-bien-communes.geojson')), [])
  assert.deepEqual(validateBoundaryFeatures(loadShipped('dien-bien-province-from-communes.geojson')), [])
})

test('each structural problem is named with the feature, the ring and the position', () => {
  const cases: [unknown, string, RegExp][] = [
    [feature({}, { type: 'Polygon', coordinates: [[[103, 21], [103.1, 21], [103.1, 21.1], [103, 21.1]]] }), 'ring_not_closed', /feature #1 \(03999 Thử\): ring 1 \(outer\): ring is not closed/],
    [feature({}, { type: 'Polygon', coordinates: [[[103, 21], [103.1, 21], [103, 21]]] }), 'ring_too_short', /at least 4 positions/],
    [feature({}, { type: 'Polygon', coordinates: [[[200, 21], [103.1, 21], [103.1, 21.1], [200, 21]]] }), 'position_out_of_range', /position 1: \[200, 21\] is outside lon/],
    [feature({}, { type: 'Polygon', coordinates: [[[103, 'x'], [103.1, 21], [103.1, 21.1], [103, 'x']]] }), 'position_not_numeric', /position 1: expected \[lon, lat\]/],
    [feature({}, { type: 'Point', coordinates: [103, 21] }), 'geometry_type', /must be a Polygon or MultiPolygon, got "Point"/],
    [feature({ code: 3127 }, { type: 'Polygon', coordinates: square }), 'invalid_code', /"code" must be a string of 2 to 5 digits/],
    [feature({ level: 'village' }, { type: 'Polygon', coordinates: square }), 'invalid_level', /"level" must be one of/],
    [feature({ name: '' }, { type: 'Polygon', coordinates: square }), 'missing_name', /"name" is missing/],
    [feature({}, { type: 'MultiPolygon', coordinates: [[square[0]], []] }), 'empty_polygon', /polygon 2, polygon has no rings/],
  ]
  for (const [f, kind, message] of cases) {
    const problems = validateBoundaryFeatures(fcOf(f))
    assert.equal(problems.length, 1, JSON.stringify(problems))
    assert.equal(problems[0].kind, kind)
    assert.match(problems[0].message, message)
    assert.ok(problems[0].message_vi.length > 0)
  }
})

test('duplicate codes, not a FeatureCollection, empty collection', () => {
  const ok = feature({}, { type: 'Polygon', coordinates: square })
  assert.equal(validateBoundaryFeatures(fcOf(ok, ok))[0].kind, 'duplicate_code')
  assert.equal(validateBoundaryFeatures({ type: 'Feature' })[0].kind, 'not_a_feature_collection')
  assert.equal(validateBoundaryFeatures(fcOf())[0].kind, 'empty')
})
