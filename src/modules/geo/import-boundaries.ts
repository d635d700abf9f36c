import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { appendAudit, type Actor } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { AppError, badRequest, conflict } from '../../platform/http/errors.ts'
import { polygonsOf, type BoundaryCollection, type BoundaryFeature, type Ring } from './geojson.ts'
import { bumpLayerGeneration } from './locator-cache.ts'
import { simplifyCoverage } from './simplify-coverage.ts'
import { featureLabel, validateBoundaryFeatures, type FeatureProblem } from './validate-features.ts'

export interface ImportOptions {
  /** Where the geometry comes from (attribution), stored with every new version. */
  source: string
  /** First day (YYYY-MM-DD, Vietnam) the new boundaries are in force. */
  validFrom: string
  actor: Actor
  now?: Date
  /** Douglas–Peucker tolerance of the phone-map geometry, metres (default 30). */
  simplifyToleranceM?: number
}

export interface ImportSummary {
  source: string
  valid_from: string
  features: number
  units_created: number
  units_updated: number
  /** Units that got a new boundary version. */
  versions_created: number
  /** Units whose previous version was closed (valid_to = valid_from). */
  versions_closed: number
  /** Units whose geometry was identical to the version in force (nothing added). */
  unchanged: number
  /** Codes of the units that got a new version (first 500). */
  changed_codes: string[]
}

// Serialises imports (and the first-start seed of several nodes starting at once).
const GEO_IMPORT_LOCK = 727274101
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
// Geometry sent to PostGIS per validity query: bounds the size of one parameter.
const CHUNK_CHARS = 4_000_000

function refuse(problems: FeatureProblem[]): AppError {
  const shown = problems.slice(0, 3)
  const more = problems.length > shown.length ? ` (+${problems.length - shown.length} more)` : ''
  return new AppError(
    400,
    'INVALID_BOUNDARIES',
    `Dữ liệu ranh giới bị từ chối, không có gì được ghi: ${shown.map((p) => p.message_vi).join('; ')}${more}`,
    `Boundary import refused, nothing was written: ${shown.map((p) => p.message).join('; ')}${more}`,
    { problems },
  )
}

/** SHA-256 of a geometry's coordinates as a MultiPolygon of [lon, lat]. */
export function geometryHash(f: BoundaryFeature): string {
  const polys = polygonsOf(f.geometry).map((poly) => poly.map((ring) => ring.map((p) => [p[0], p[1]])))
  return createHash('sha256').update(JSON.stringify(polys)).digest('hex')
}

function checkDate(s: string): void {
  const m = DATE_RE.exec(s)
  const d = m ? new Date(`${s}T00:00:00Z`) : null
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) {
    throw badRequest('INVALID_VALID_FROM', `Ngày hiệu lực phải có dạng YYYY-MM-DD, nhận được "${s}".`, `valid_from must be a date YYYY-MM-DD, got "${s}".`)
  }
}

/** Features PostGIS finds invalid (self-intersection, ring self-touch, …), with its reason. */
async function invalidGeometries(tx: Db, features: BoundaryFeature[]): Promise<FeatureProblem[]> {
  const problems: FeatureProblem[] = []
  let start = 0
  while (start < features.length) {
    const chunk: string[] = []
    let chars = 0
    while (start + chunk.length < features.length && (chunk.length === 0 || chars < CHUNK_CHARS)) {
      const g = JSON.stringify(features[start + chunk.length].geometry)
      chunk.push(g)
      chars += g.length
    }
    const { rows } = await sql<{ i: number; reason: string }>`
      select (t.ord - 1)::int as i, ST_IsValidReason(g.geom) as reason
      from jsonb_array_elements(${`[${chunk.join(',')}]`}::jsonb) with ordinality as t(j, ord)
      cross join lateral (select ST_GeomFromGeoJSON(t.j::text) as geom) g
      where not ST_IsValid(g.geom)
      order by 1`.execute(tx)
    for (const r of rows) {
      const i = start + r.i
      const p = features[i].properties
      problems.push({
        feature: i,
        code: p.code,
        name: p.name,
        kind: 'invalid_geometry',
        message: `${featureLabel(i, features[i])}: invalid geometry (PostGIS ST_IsValid): ${r.reason}`,
        message_vi: `${featureLabel(i, features[i])}: hình học không hợp lệ (PostGIS ST_IsValid): ${r.reason}`,
      })
    }
    start += chunk.length
  }
  return problems
}

/**
 * Imports a FeatureCollection of administrative boundaries (properties code, name, level,
 * optional full_name, name_en, unit_type, parent_code, merged_from) as boundary versions valid
 * from `validFrom`. Every feature is checked first (structure here, ST_IsValid in PostGIS); one
 * bad feature refuses the whole import with an INVALID_BOUNDARIES error naming each feature and
 * problem, and nothing is written. Otherwise, in one transaction: units are upserted; a unit whose
 * geometry differs from its open version gets a new version and the old one is closed on
 * validFrom; identical geometry adds nothing; the phone-map geometry of every open version is
 * recomputed; the import is audited. Cached Locators are rebuilt on next use.
 */
export async function importBoundaries(db: Db, input: unknown, opts: ImportOptions): Promise<ImportSummary> {
  const problems = validateBoundaryFeatures(input)
  if (problems.length) throw refuse(problems)
  checkDate(opts.validFrom)
  const fc = input as BoundaryCollection
  const features = fc.features
  const hashes = features.map(geometryHash)
  const now = opts.now ?? new Date()

  const summary = await db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${GEO_IMPORT_LOCK})`.execute(tx)
    const invalid = await invalidGeometries(tx, features)
    if (invalid.length) throw refuse(invalid)

    let unitsCreated = 0
    let unitsUpdated = 0
    for (const f of features) {
      const p = f.properties
      const merged = Array.isArray(p.merged_from) ? JSON.stringify(p.merged_from.map((m) => (typeof m === 'string' ? { code: m } : m))) : null
      const r = await sql<{ created: boolean }>`
        insert into geo_units (code, name, full_name, name_en, level, unit_type, parent_code, merged_from)
        values (${p.code}, ${p.name}, ${p.full_name ?? p.name}, ${p.name_en ?? null}, ${p.level}, ${p.unit_type ?? null}, ${p.parent_code ?? null}, coalesce(${merged}::jsonb, '[]'::jsonb))
        on conflict (code) do update set
          name = excluded.name, full_name = excluded.full_name, name_en = excluded.name_en, level = excluded.level,
          unit_type = excluded.unit_type, parent_code = excluded.parent_code,
          merged_from = coalesce(${merged}::jsonb, geo_units.merged_from), updated_at = now()
        where (geo_units.name, geo_units.full_name, geo_units.name_en, geo_units.level, geo_units.unit_type, geo_units.parent_code)
            is distinct from (excluded.name, excluded.full_name, excluded.name_en, excluded.level, excluded.unit_type, excluded.parent_code)
          or (${merged}::jsonb is not null and geo_units.merged_from is distinct from ${merged}::jsonb)
        returning (xmax = 0) as created`.execute(tx)
      if (r.rows[0]?.created) unitsCreated++
      else if (r.rows.length) unitsUpdated++
    }

    const open = new Map(
      (
        await sql<{ unit_code: string; id: string; geom_hash: string; valid_from: string }>`
          select unit_code, id::text as id, geom_hash, valid_from::text as valid_from from geo_boundary_versions
          where valid_to is null and unit_code in (select jsonb_array_elements_text(${JSON.stringify(features.map((f) => f.properties.code))}::jsonb))`.execute(tx)
      ).rows.map((r) => [r.unit_code, r]),
    )
    const changed: string[] = []
    let closed = 0
    let unchanged = 0
    for (const [i, f] of features.entries()) {
      const code = f.properties.code
      const hash = hashes[i]
      const prev = open.get(code)
      if (prev && prev.geom_hash === hash) {
        unchanged++
        continue
      }
      if (prev) {
        if (prev.valid_from > opts.validFrom) {
          throw conflict(
            'BOUNDARY_VERSION_CONFLICT',
            `Đơn vị ${code} đã có ranh giới hiệu lực từ ${prev.valid_from}, sau ngày ${opts.validFrom} của bản nhập; không thể chèn phiên bản vào trước.`,
            `Unit ${code} already has a boundary valid from ${prev.valid_from}, after this import's ${opts.validFrom}; versions can only be added after the one in force.`,
          )
        }
        await sql`update geo_boundary_versions set valid_to = ${opts.validFrom}::date where id = ${prev.id}::bigint`.execute(tx)
        closed++
      }
      await sql`insert into geo_boundary_versions (unit_code, geom, geom_hash, valid_from, source, imported_by)
        values (${code}, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(f.geometry)}), 4326)), ${hash}, ${opts.validFrom}::date, ${opts.source}, ${opts.actor})`.execute(tx)
      changed.push(code)
    }
    if (changed.length) await refreshSimplified(tx, opts.simplifyToleranceM ?? 30)

    const result: ImportSummary = {
      source: opts.source,
      valid_from: opts.validFrom,
      features: features.length,
      units_created: unitsCreated,
      units_updated: unitsUpdated,
      versions_created: changed.length,
      versions_closed: closed,
      unchanged,
      changed_codes: changed.slice(0, 500),
    }
    const digest = createHash('sha256').update(features.map((f, i) => `${f.properties.code}:${hashes[i]}`).join('\n')).digest('hex')
    await appendAudit(tx, { actor: opts.actor, action: 'geo.boundaries_imported', entityType: 'geo_boundary_import', entityId: digest.slice(0, 16), data: { ...result } }, now)
    return result
  })
  bumpLayerGeneration()
  return summary
}

/**
 * Recomputes the phone-map geometry of every open version, all levels together, so that shared
 * borders (commune–commune, commune–province outline) are simplified once and stay shared.
 */
export async function refreshSimplified(tx: Db, toleranceM: number): Promise<void> {
  const rows = (await sql<{ id: string; geojson: string }>`select id::text as id, ST_AsGeoJSON(geom) as geojson from geo_boundary_versions where valid_to is null order by id`.execute(tx)).rows
  const simplified = simplifyCoverage(
    rows.map((r) => ({ key: r.id, polygons: (JSON.parse(r.geojson) as { coordinates: Ring[][] }).coordinates })),
    toleranceM,
  )
  for (const r of rows) {
    const geometry = { type: 'MultiPolygon', coordinates: simplified.get(r.id) }
    await sql`update geo_boundary_versions set geom_simplified = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(geometry)}), 4326)) where id = ${r.id}::bigint`.execute(tx)
  }
}
