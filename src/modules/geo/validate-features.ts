import type { BoundaryFeature } from './geojson.ts'

/** One thing wrong with an imported feature, named so an operator can find and fix it. */
export interface FeatureProblem {
  /** 0-based position of the feature in the collection. */
  feature: number
  code: string | null
  name: string | null
  /** Machine-readable kind: ring_not_closed, ring_too_short, position_out_of_range, invalid_geometry, … */
  kind: string
  /** Where and what, in English, e.g. `feature #3 (03127 Điện Biên Phủ), polygon 1, ring 2: ring is not closed …`. */
  message: string
  message_vi: string
}

export const LEVELS = ['province', 'district', 'commune'] as const
const CODE_RE = /^\d{2,5}$/
const MAX_PROBLEMS = 50

/** A human label for a feature: `feature #3 (03127 Điện Biên Phủ)`. */
export function featureLabel(index: number, f: unknown): string {
  const p = (f as { properties?: Record<string, unknown> } | null)?.properties
  const code = typeof p?.code === 'string' ? p.code : p?.code === undefined ? '?' : String(p.code)
  const name = typeof p?.name === 'string' ? ` ${p.name}` : ''
  return `feature #${index + 1} (${code}${name})`
}

const fmt = (p: unknown) => JSON.stringify(p)

/**
 * Structural checks done before anything reaches the database: properties (code, name, level),
 * geometry type, ring closure and length, numeric positions in lon/lat range, duplicate codes.
 * Geometric validity (self-intersections …) is PostGIS's job (see importBoundaries). Returns at
 * most 50 problems; an empty list means the collection may be sent to PostGIS.
 */
export function validateBoundaryFeatures(input: unknown): FeatureProblem[] {
  const problems: FeatureProblem[] = []
  const fc = input as { type?: unknown; features?: unknown }
  if (!fc || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    return [{ feature: -1, code: null, name: null, kind: 'not_a_feature_collection', message: 'the file is not a GeoJSON FeatureCollection with a "features" array', message_vi: 'tệp không phải FeatureCollection GeoJSON có mảng "features"' }]
  }
  if (fc.features.length === 0) {
    return [{ feature: -1, code: null, name: null, kind: 'empty', message: 'the FeatureCollection has no features', message_vi: 'FeatureCollection không có đối tượng nào' }]
  }
  const seen = new Map<string, number>()
  fc.features.forEach((f: unknown, i: number) => {
    if (problems.length >= MAX_PROBLEMS) return
    const label = featureLabel(i, f)
    const p = (f as { properties?: Record<string, unknown> })?.properties ?? {}
    const code = typeof p.code === 'string' ? p.code : null
    const name = typeof p.name === 'string' ? p.name : null
    const add = (kind: string, en: string, vi: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push({ feature: i, code, name, kind, message: `${label}: ${en}`, message_vi: `${label}: ${vi}` })
    }
    if ((f as { type?: unknown })?.type !== 'Feature') add('not_a_feature', 'is not a GeoJSON Feature', 'không phải Feature GeoJSON')
    if (code === null || !CODE_RE.test(code)) add('invalid_code', `property "code" must be a string of 2 to 5 digits (GSO code), got ${fmt(p.code)}`, `thuộc tính "code" phải là chuỗi 2–5 chữ số (mã GSO), nhận được ${fmt(p.code)}`)
    else if (seen.has(code)) add('duplicate_code', `code ${code} also appears in feature #${seen.get(code)! + 1}`, `mã ${code} bị trùng với đối tượng #${seen.get(code)! + 1}`)
    else seen.set(code, i)
    if (name === null || name.trim() === '') add('missing_name', 'property "name" is missing or empty', 'thiếu thuộc tính "name"')
    if (!LEVELS.includes(p.level as (typeof LEVELS)[number])) add('invalid_level', `property "level" must be one of ${LEVELS.join(', ')}, got ${fmt(p.level)}`, `thuộc tính "level" phải là một trong ${LEVELS.join(', ')}, nhận được ${fmt(p.level)}`)
    checkGeometry((f as BoundaryFeature)?.geometry, add)
  })
  return problems
}

function checkGeometry(g: unknown, add: (kind: string, en: string, vi: string) => void): void {
  const geom = g as { type?: unknown; coordinates?: unknown } | null
  if (!geom || (geom.type !== 'Polygon' && geom.type !== 'MultiPolygon')) {
    add('geometry_type', `geometry must be a Polygon or MultiPolygon, got ${geom ? fmt(geom.type) : 'none'}`, `hình học phải là Polygon hoặc MultiPolygon, nhận được ${geom ? fmt(geom.type) : 'không có'}`)
    return
  }
  if (!Array.isArray(geom.coordinates) || geom.coordinates.length === 0) {
    add('empty_geometry', 'geometry has no coordinates', 'hình học không có toạ độ')
    return
  }
  const polygons = (geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates) as unknown[]
  polygons.forEach((poly, pi) => {
    const where = geom.type === 'Polygon' ? '' : `polygon ${pi + 1}, `
    if (!Array.isArray(poly) || poly.length === 0) {
      add('empty_polygon', `${where}polygon has no rings`, `${where}đa giác không có vòng nào`)
      return
    }
    poly.forEach((ring: unknown, ri: number) => checkRing(ring, `${where}ring ${ri + 1}${ri === 0 ? ' (outer)' : ' (hole)'}`, add))
  })
}

function checkRing(ring: unknown, where: string, add: (kind: string, en: string, vi: string) => void): void {
  if (!Array.isArray(ring)) {
    add('ring_not_array', `${where}: ring is not an array of positions`, `${where}: vòng không phải mảng toạ độ`)
    return
  }
  for (let k = 0; k < ring.length; k++) {
    const pos = ring[k] as unknown
    if (!Array.isArray(pos) || pos.length < 2 || pos.length > 3 || !pos.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      add('position_not_numeric', `${where}, position ${k + 1}: expected [lon, lat] numbers, got ${fmt(pos)}`, `${where}, điểm ${k + 1}: cần [kinh độ, vĩ độ] dạng số, nhận được ${fmt(pos)}`)
      return
    }
    const [lon, lat] = pos as number[]
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
      add('position_out_of_range', `${where}, position ${k + 1}: [${lon}, ${lat}] is outside lon −180…180 / lat −90…90 (are lon and lat swapped, or is it not EPSG:4326?)`, `${where}, điểm ${k + 1}: [${lon}, ${lat}] nằm ngoài kinh độ −180…180 / vĩ độ −90…90 (đảo kinh/vĩ độ hoặc không phải EPSG:4326?)`)
      return
    }
  }
  if (ring.length < 4) {
    add('ring_too_short', `${where}: a ring needs at least 4 positions (first = last), has ${ring.length}`, `${where}: vòng cần ít nhất 4 điểm (điểm đầu = điểm cuối), chỉ có ${ring.length}`)
    return
  }
  const a = ring[0] as number[]
  const z = ring[ring.length - 1] as number[]
  if (a[0] !== z[0] || a[1] !== z[1]) {
    add('ring_not_closed', `${where}: ring is not closed (first position ${fmt(a)} differs from last ${fmt(z)})`, `${where}: vòng không khép kín (điểm đầu ${fmt(a)} khác điểm cuối ${fmt(z)})`)
  }
}
