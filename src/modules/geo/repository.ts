import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'

export type UnitLevel = 'province' | 'district' | 'commune'

/** An administrative unit as other modules see it. */
export interface AdminUnit {
  code: string
  name: string
  full_name: string
  name_en: string | null
  level: UnitLevel
  parent_code: string | null
  unit_type: string | null
}

/** The boundary version in force for a unit. */
export interface BoundaryVersionInfo {
  id: string
  valid_from: string
  valid_to: string | null
  source: string
  imported_at: string
}

export interface AdminUnitDetail extends AdminUnit {
  /** Pre-merger units it absorbed: [{code, name, old_district_code, type}] (or [{code}]). */
  merged_from: unknown[]
  boundary: BoundaryVersionInfo | null
}

/** Today's date in Vietnam (UTC+7, no daylight saving): the day boundary versions switch on. */
export function vietnamToday(now: Date = new Date()): string {
  return new Date(now.getTime() + 7 * 3_600_000).toISOString().slice(0, 10)
}

/** Versions in force on a date: valid_from ≤ date < valid_to. */
const inForce = (asOf: string) => sql`v.valid_from <= ${asOf}::date and (v.valid_to is null or v.valid_to > ${asOf}::date)`

const UNIT_COLUMNS = sql`u.code, u.name, u.full_name, u.name_en, u.level, u.parent_code, u.unit_type`

/** Units, ordered by level then code; optionally one level and/or the children of one unit. */
export async function listAdminUnits(db: Db, filter: { level?: UnitLevel; parentCode?: string } = {}): Promise<AdminUnit[]> {
  return (
    await sql<AdminUnit>`select ${UNIT_COLUMNS} from geo_units u
      where (${filter.level ?? null}::text is null or u.level = ${filter.level ?? null})
        and (${filter.parentCode ?? null}::text is null or u.parent_code = ${filter.parentCode ?? null})
      order by case u.level when 'province' then 0 when 'district' then 1 else 2 end, u.code`.execute(db)
  ).rows
}

/** One unit with its merge history and the boundary version in force today (or on asOf). */
export async function getAdminUnit(db: Db, code: string, asOf: string = vietnamToday()): Promise<AdminUnitDetail | undefined> {
  const row = (
    await sql<AdminUnit & { merged_from: unknown; b_id: string | null; b_from: string | null; b_to: string | null; b_source: string | null; b_at: string | null }>`
      select ${UNIT_COLUMNS}, u.merged_from, v.id::text as b_id, v.valid_from::text as b_from, v.valid_to::text as b_to, v.source as b_source,
        to_char(v.imported_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as b_at
      from geo_units u
      left join geo_boundary_versions v on v.unit_code = u.code and ${inForce(asOf)}
      where u.code = ${code}`.execute(db)
  ).rows[0]
  if (!row) return undefined
  const { merged_from, b_id, b_from, b_to, b_source, b_at, ...unit } = row
  return {
    ...unit,
    merged_from: (typeof merged_from === 'string' ? JSON.parse(merged_from) : merged_from) as unknown[],
    boundary: b_id ? { id: b_id, valid_from: b_from!, valid_to: b_to, source: b_source!, imported_at: b_at! } : null,
  }
}

/** Current units that absorbed the pre-merger unit with this code (routing old addresses). */
export async function findUnitsByLegacyCode(db: Db, oldCode: string): Promise<AdminUnit[]> {
  return (
    await sql<AdminUnit>`select ${UNIT_COLUMNS} from geo_units u
      where u.merged_from @> ${JSON.stringify([{ code: oldCode }])}::jsonb or u.merged_from @> ${JSON.stringify([oldCode])}::jsonb
      order by u.code`.execute(db)
  ).rows
}

/**
 * A short fingerprint of the layer in force: the ids of its boundary versions and the last unit
 * change. Changes exactly when a Locator or a served map must be rebuilt.
 */
export async function layerSignature(db: Db, opts: { level?: UnitLevel; asOf?: string } = {}): Promise<string> {
  const asOf = opts.asOf ?? vietnamToday()
  const r = await sql<{ sig: string }>`
    select md5(coalesce(string_agg(v.id::text, ',' order by v.id), '') || '|' || coalesce((select max(updated_at)::text from geo_units), '')) as sig
    from geo_boundary_versions v join geo_units u on u.code = v.unit_code
    where u.level = ${opts.level ?? 'commune'} and ${inForce(asOf)}`.execute(db)
  return `${asOf}:${r.rows[0].sig}`
}

export interface BoundaryRow {
  version: string
  code: string
  name: string
  full_name: string
  level: UnitLevel
  unit_type: string | null
  valid_from: string
  /** GeoJSON geometry text. */
  geojson: string
}

/**
 * The boundaries in force of one level, as GeoJSON text. Full geometry keeps every vertex (9
 * decimals, i.e. as stored); simplified geometry is rounded to 5 decimals (≈ 1 m) and rewound to
 * the RFC 7946 right-hand rule. `forDisplay` rewinds the full geometry too.
 */
export async function boundaryRows(db: Db, opts: { level?: UnitLevel; asOf?: string; simplified?: boolean; forDisplay?: boolean; code?: string } = {}): Promise<BoundaryRow[]> {
  const asOf = opts.asOf ?? vietnamToday()
  const geom = opts.simplified
    ? sql`ST_AsGeoJSON(ST_ForcePolygonCCW(coalesce(v.geom_simplified, v.geom)), 5)`
    : opts.forDisplay
      ? sql`ST_AsGeoJSON(ST_ForcePolygonCCW(v.geom), 6)`
      : sql`ST_AsGeoJSON(v.geom)`
  return (
    await sql<BoundaryRow>`select v.id::text as version, u.code, u.name, u.full_name, u.level, u.unit_type, v.valid_from::text as valid_from, ${geom} as geojson
      from geo_boundary_versions v join geo_units u on u.code = v.unit_code
      where ${inForce(asOf)}
        and (${opts.code ?? null}::text is null or u.code = ${opts.code ?? null})
        and (${opts.code ?? null}::text is not null or u.level = ${opts.level ?? 'commune'})
      order by u.code`.execute(db)
  ).rows
}

/** A GeoJSON Feature (text) for a boundary row; the geometry text is spliced in, not re-parsed. */
export function boundaryFeatureJson(r: BoundaryRow): string {
  const props = { code: r.code, name: r.name, full_name: r.full_name, level: r.level, unit_type: r.unit_type, boundary_version: r.version, valid_from: r.valid_from }
  return `{"type":"Feature","id":${JSON.stringify(r.code)},"properties":${JSON.stringify(props)},"geometry":${r.geojson}}`
}
