import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { sql } from 'kysely'
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { Db } from '../../../platform/db/database.ts'
import { normalizeSearchText } from '../../../platform/vietnamese-text.ts'
import { checkCoordinates } from '../coordinates.ts'
import { getLocator } from '../locator-cache.ts'
import { buildGazetteer, type Gazetteer, type Place } from './gazetteer.ts'

export const MOBILE_COVERAGE = ['none', '2g', '3g', '4g'] as const
export type MobileCoverage = (typeof MOBILE_COVERAGE)[number]

/** A village (thôn, bản, tổ dân phố) with its current infrastructure, as the API shows it. */
export interface Village {
  id: string
  name: string
  commune_code: string
  commune_name: string
  aliases: string[]
  lat: number | null
  lon: number | null
  source: string
  is_sample: boolean
  infrastructure: VillageInfrastructure | null
}

export interface VillageInfrastructure {
  fixed_broadband: boolean
  broadband_provider: string | null
  mobile_coverage: MobileCoverage
  grid_power: boolean
  as_of: string
  source: string
}

/** A row the import refused: the CSV line (1 = header), a machine code and vi/en messages. */
export interface RowError {
  line: number
  code: string
  message_vi: string
  message_en: string
}

export interface ImportResult {
  /** False when any row was refused: then nothing was written (all or nothing). */
  imported: boolean
  rows: number
  created: number
  updated: number
  errors: RowError[]
}

export const MAX_IMPORT_ROWS = 20_000

/** A row of `villageSelect`: the village and its latest infrastructure survey, flattened. */
type VillageRow = Omit<Village, 'infrastructure'> & {
  fixed_broadband: boolean | null
  broadband_provider: string | null
  mobile_coverage: MobileCoverage | null
  grid_power: boolean | null
  as_of: string | null
  infra_source: string | null
}

const villageSelect = sql`
  select v.id::text as id, v.name, v.commune_code, u.full_name as commune_name, v.aliases,
    st_y(v.location) as lat, st_x(v.location) as lon, v.source, v.is_sample,
    i.fixed_broadband, i.broadband_provider, i.mobile_coverage, i.grid_power, to_char(i.as_of, 'YYYY-MM-DD') as as_of, i.source as infra_source
  from geo_villages v
  join geo_units u on u.code = v.commune_code
  left join lateral (
    select * from geo_village_infrastructure x where x.village_id = v.id order by x.as_of desc, x.id desc limit 1
  ) i on true`

function toVillage(r: VillageRow): Village {
  return {
    id: r.id,
    name: r.name,
    commune_code: r.commune_code,
    commune_name: r.commune_name,
    aliases: r.aliases,
    lat: r.lat,
    lon: r.lon,
    source: r.source,
    is_sample: r.is_sample,
    infrastructure:
      r.mobile_coverage === null
        ? null
        : { fixed_broadband: !!r.fixed_broadband, broadband_provider: r.broadband_provider, mobile_coverage: r.mobile_coverage, grid_power: !!r.grid_power, as_of: r.as_of!, source: r.infra_source! },
  }
}

export interface VillageFilter {
  communeCode?: string
  ids?: string[]
  /** Only villages lacking something: no fixed broadband, no mobile data (none/2G), or no grid power. */
  whiteZones?: boolean
  limit?: number
  offset?: number
}

/** Villages with their current infrastructure, by commune then name. */
export async function listVillages(db: Db, f: VillageFilter = {}): Promise<Village[]> {
  const { rows } = await sql<VillageRow>`${villageSelect}
    where (${f.communeCode ?? null}::text is null or v.commune_code = ${f.communeCode ?? null})
      and (${f.ids ? JSON.stringify(f.ids) : null}::jsonb is null or v.id::text in (select jsonb_array_elements_text(${f.ids ? JSON.stringify(f.ids) : null}::jsonb)))
      and (not ${f.whiteZones ?? false} or (i.id is not null and (not i.fixed_broadband or i.mobile_coverage in ('none', '2g') or not i.grid_power)))
    order by v.commune_code, v.name_search, v.id
    limit ${f.limit ?? 100_000} offset ${f.offset ?? 0}`.execute(db)
  return rows.map(toVillage)
}

export async function getVillage(db: Db, id: string): Promise<Village | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined
  return (await listVillages(db, { ids: [id] }))[0]
}

/** Number of villages per commune (all communes that have any). */
export async function countVillagesByCommune(db: Db): Promise<Map<string, number>> {
  const { rows } = await sql<{ commune_code: string; n: number }>`select commune_code, count(*)::int as n from geo_villages group by commune_code`.execute(db)
  return new Map(rows.map((r) => [r.commune_code, r.n]))
}

/** Why a village is a white zone (vùng trắng), for coverage planning. */
export function whiteZoneGaps(i: VillageInfrastructure | null): ('no_broadband' | 'no_mobile_data' | 'no_power')[] {
  if (!i) return []
  const gaps: ('no_broadband' | 'no_mobile_data' | 'no_power')[] = []
  if (!i.fixed_broadband) gaps.push('no_broadband')
  if (i.mobile_coverage === 'none' || i.mobile_coverage === '2g') gaps.push('no_mobile_data')
  if (!i.grid_power) gaps.push('no_power')
  return gaps
}

/**
 * Every commune (with the old communes merged into it as aliases) and every village, for the
 * SMS parser and place search. Small (a province has a few thousand villages): built per call.
 */
export async function loadGazetteer(db: Db): Promise<Gazetteer> {
  const communes = await sql<{ code: string; name: string; full_name: string; merged_from: { name?: string }[]; lat: number | null; lon: number | null }>`
    select u.code, u.name, u.full_name, u.merged_from,
      st_y(st_pointonsurface(b.geom)) as lat, st_x(st_pointonsurface(b.geom)) as lon
    from geo_units u left join geo_boundary_versions b on b.unit_code = u.code and b.valid_to is null
    where u.level = 'commune'`.execute(db)
  const villages = await sql<{ id: string; name: string; commune_code: string; aliases: string[]; lat: number | null; lon: number | null }>`
    select id::text as id, name, commune_code, aliases, st_y(location) as lat, st_x(location) as lon from geo_villages`.execute(db)
  const communeName = new Map(communes.rows.map((c) => [c.code, c.full_name]))
  const places: Place[] = [
    ...communes.rows.map((c) => ({
      kind: 'commune' as const,
      id: c.code,
      name: c.full_name,
      commune_code: c.code,
      commune_name: c.full_name,
      lat: c.lat,
      lon: c.lon,
      aliases: [c.name, ...c.merged_from.map((m) => m.name).filter((n): n is string => typeof n === 'string')],
    })),
    ...villages.rows.map((v) => ({ kind: 'village' as const, id: v.id, name: v.name, commune_code: v.commune_code, commune_name: communeName.get(v.commune_code) ?? v.commune_code, lat: v.lat, lon: v.lon, aliases: v.aliases })),
  ]
  return buildGazetteer(places)
}

function rowError(line: number, code: string, vi: string, en: string): RowError {
  return { line, code, message_vi: vi, message_en: en }
}

function readCsv(text: string): { header: string[]; records: { line: number; fields: Record<string, string> }[] } {
  const rows = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[]
  if (rows.length === 0) return { header: [], records: [] }
  const header = rows[0].record.map((h) => h.toLowerCase())
  return {
    header,
    records: rows.slice(1).map((r) => ({ line: r.info.lines, fields: Object.fromEntries(header.map((h, i) => [h, r.record[i] ?? ''])) })),
  }
}

function requireColumns(header: string[], needed: string[]): RowError[] {
  const missing = needed.filter((c) => !header.includes(c))
  return missing.length ? [rowError(1, 'MISSING_COLUMNS', `Thiếu cột: ${missing.join(', ')}.`, `Missing columns: ${missing.join(', ')}.`)] : []
}

function tooMany(n: number): RowError[] {
  return n > MAX_IMPORT_ROWS ? [rowError(1, 'TOO_MANY_ROWS', `Tối đa ${MAX_IMPORT_ROWS} dòng mỗi lần nhập.`, `At most ${MAX_IMPORT_ROWS} rows per import.`)] : []
}

async function communeCodes(db: Db): Promise<Set<string>> {
  const { rows } = await sql<{ code: string }>`select code from geo_units where level = 'commune'`.execute(db)
  return new Set(rows.map((r) => r.code))
}

/**
 * Imports villages from CSV: `name, commune_code, lon, lat, aliases` (lon/lat optional, both or
 * neither; aliases separated by `|`). A village is identified by its commune and its name
 * without diacritics: importing again updates it. Coordinates must lie in the named commune.
 * All or nothing: any refused row is reported with its line and nothing is written.
 */
export async function importVillagesCsv(db: Db, csv: string, opts: { source: string; actor: string; isSample?: boolean; now: Date }): Promise<ImportResult> {
  let parsed
  try {
    parsed = readCsv(csv)
  } catch (err) {
    return { imported: false, rows: 0, created: 0, updated: 0, errors: [rowError(1, 'INVALID_CSV', 'Tệp CSV không đọc được.', `Unreadable CSV: ${(err as Error).message}`)] }
  }
  const { header, records } = parsed
  const fatal = [...requireColumns(header, ['name', 'commune_code']), ...tooMany(records.length)]
  if (fatal.length) return { imported: false, rows: records.length, created: 0, updated: 0, errors: fatal }
  const communes = await communeCodes(db)
  const locator = await getLocator(db)
  const errors: RowError[] = []
  const good: { name: string; key: string; commune: string; lat: number | null; lon: number | null; aliases: string[] }[] = []
  const seen = new Map<string, number>()
  for (const { line, fields } of records) {
    const name = fields.name.replace(/\s+/g, ' ')
    const commune = fields.commune_code
    if (!name || name.length > 120) {
      errors.push(rowError(line, 'INVALID_NAME', 'Tên thôn/bản trống hoặc dài quá 120 ký tự.', 'Village name is empty or longer than 120 characters.'))
      continue
    }
    if (!communes.has(commune)) {
      errors.push(rowError(line, 'UNKNOWN_COMMUNE', `Mã xã/phường "${commune}" không tồn tại.`, `Unknown commune code "${commune}".`))
      continue
    }
    const key = normalizeSearchText(name)
    const dupOf = seen.get(`${commune}|${key}`)
    if (dupOf !== undefined) {
      errors.push(rowError(line, 'DUPLICATE_ROW', `Trùng với dòng ${dupOf}.`, `Same village as line ${dupOf}.`))
      continue
    }
    seen.set(`${commune}|${key}`, line)
    let lat: number | null = null
    let lon: number | null = null
    if (fields.lon || fields.lat) {
      const la = Number(fields.lat)
      const lo = Number(fields.lon)
      if (!fields.lon || !fields.lat || !Number.isFinite(la) || !Number.isFinite(lo)) {
        errors.push(rowError(line, 'INVALID_COORDINATES', 'Toạ độ không hợp lệ (cần cả kinh độ và vĩ độ).', 'Invalid coordinates (give both lon and lat, as numbers).'))
        continue
      }
      try {
        const c = checkCoordinates(la, lo)
        lat = c.lat
        lon = c.lon
      } catch {
        errors.push(rowError(line, 'INVALID_COORDINATES', 'Toạ độ nằm ngoài Việt Nam hoặc bị đảo.', 'Coordinates are outside Vietnam or swapped.'))
        continue
      }
      const at = locator.locate(lat, lon)
      if (at.unit?.code !== commune) {
        errors.push(rowError(line, 'OUTSIDE_COMMUNE', `Toạ độ không nằm trong xã/phường ${commune}${at.unit ? ` (nằm trong ${at.unit.full_name})` : ''}.`, `The coordinates are not inside commune ${commune}${at.unit ? ` (they are in ${at.unit.code})` : ''}.`))
        continue
      }
    }
    const aliases = (fields.aliases ?? '').split('|').map((a) => a.trim()).filter(Boolean).slice(0, 10)
    good.push({ name, key, commune, lat, lon, aliases })
  }
  if (errors.length) return { imported: false, rows: records.length, created: 0, updated: 0, errors }
  return db.transaction().execute(async (tx) => {
    let created = 0
    for (const v of good) {
      const point = v.lat === null ? sql`null` : sql`st_setsrid(st_makepoint(${v.lon}, ${v.lat}), 4326)`
      const { rows } = await sql<{ inserted: boolean }>`
        insert into geo_villages (commune_code, name, name_search, aliases, location, source, is_sample)
        values (${v.commune}, ${v.name}, ${v.key}, ${JSON.stringify(v.aliases)}::jsonb, ${point}, ${opts.source}, ${opts.isSample ?? false})
        on conflict (commune_code, name_search) do update set name = excluded.name, aliases = excluded.aliases,
          location = coalesce(excluded.location, geo_villages.location), source = excluded.source, is_sample = excluded.is_sample, updated_at = ${opts.now.toISOString()}::timestamptz
        returning (xmax = 0) as inserted`.execute(tx)
      if (rows[0].inserted) created++
    }
    const result = { imported: true, rows: good.length, created, updated: good.length - created, errors: [] }
    await appendAudit(tx, { actor: opts.actor, action: 'geo.villages.imported', entityType: 'geo_villages', entityId: 'csv', data: { source: opts.source, rows: good.length, created, updated: result.updated } }, opts.now)
    return result
  })
}

const YES = new Set(['yes', 'y', 'true', '1', 'co', 'x'])
const NO = new Set(['no', 'n', 'false', '0', 'khong', ''])

function yesNo(v: string): boolean | undefined {
  const n = normalizeSearchText(v)
  return YES.has(n) ? true : NO.has(n) ? false : undefined
}

/**
 * Imports village infrastructure surveys from CSV: `commune_code, village, fixed_broadband
 * (yes/no), broadband_provider, mobile_coverage (none/2g/3g/4g), grid_power (yes/no), as_of
 * (YYYY-MM-DD), source`. Each row adds a dated survey; the latest one per village is current.
 * All or nothing, with row-level errors.
 */
export async function importInfrastructureCsv(db: Db, csv: string, opts: { actor: string; defaultSource: string; now: Date }): Promise<ImportResult> {
  let parsed
  try {
    parsed = readCsv(csv)
  } catch (err) {
    return { imported: false, rows: 0, created: 0, updated: 0, errors: [rowError(1, 'INVALID_CSV', 'Tệp CSV không đọc được.', `Unreadable CSV: ${(err as Error).message}`)] }
  }
  const { header, records } = parsed
  const fatal = [...requireColumns(header, ['commune_code', 'village', 'fixed_broadband', 'mobile_coverage', 'grid_power', 'as_of']), ...tooMany(records.length)]
  if (fatal.length) return { imported: false, rows: records.length, created: 0, updated: 0, errors: fatal }
  const { rows: villages } = await sql<{ id: string; commune_code: string; name_search: string }>`select id::text as id, commune_code, name_search from geo_villages`.execute(db)
  const byKey = new Map(villages.map((v) => [`${v.commune_code}|${v.name_search}`, v.id]))
  const errors: RowError[] = []
  const good: { villageId: string; bb: boolean; provider: string | null; mobile: MobileCoverage; power: boolean; asOf: string; source: string }[] = []
  for (const { line, fields } of records) {
    const villageId = byKey.get(`${fields.commune_code}|${normalizeSearchText(fields.village)}`)
    if (!villageId) {
      errors.push(rowError(line, 'UNKNOWN_VILLAGE', `Không có thôn/bản "${fields.village}" ở xã/phường ${fields.commune_code}.`, `No village "${fields.village}" in commune ${fields.commune_code}.`))
      continue
    }
    const bb = yesNo(fields.fixed_broadband)
    const power = yesNo(fields.grid_power)
    const mobile = normalizeSearchText(fields.mobile_coverage).replace(/^khong$/, 'none') as MobileCoverage
    if (bb === undefined || power === undefined) {
      errors.push(rowError(line, 'INVALID_YES_NO', 'fixed_broadband và grid_power phải là yes/no (có/không).', 'fixed_broadband and grid_power must be yes or no.'))
      continue
    }
    if (!MOBILE_COVERAGE.includes(mobile)) {
      errors.push(rowError(line, 'INVALID_MOBILE_COVERAGE', 'mobile_coverage phải là none, 2g, 3g hoặc 4g.', 'mobile_coverage must be none, 2g, 3g or 4g.'))
      continue
    }
    const asOf = fields.as_of
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`)) || new Date(`${asOf}T00:00:00Z`).toISOString().slice(0, 10) !== asOf) {
      errors.push(rowError(line, 'INVALID_DATE', 'as_of phải là ngày YYYY-MM-DD.', 'as_of must be a date YYYY-MM-DD.'))
      continue
    }
    const provider = fields.broadband_provider?.trim() || null
    good.push({ villageId, bb, provider: bb ? provider : null, mobile, power, asOf, source: (fields.source?.trim() || opts.defaultSource).slice(0, 300) })
  }
  if (errors.length) return { imported: false, rows: records.length, created: 0, updated: 0, errors }
  return db.transaction().execute(async (tx) => {
    for (const r of good) {
      await sql`insert into geo_village_infrastructure (village_id, fixed_broadband, broadband_provider, mobile_coverage, grid_power, as_of, source, recorded_at)
        values (${r.villageId}::bigint, ${r.bb}, ${r.provider}, ${r.mobile}, ${r.power}, ${r.asOf}::date, ${r.source}, ${opts.now.toISOString()}::timestamptz)`.execute(tx)
    }
    await appendAudit(tx, { actor: opts.actor, action: 'geo.village_infrastructure.imported', entityType: 'geo_villages', entityId: 'infrastructure-csv', data: { rows: good.length } }, opts.now)
    return { imported: true, rows: good.length, created: good.length, updated: 0, errors: [] }
  })
}

/** A text cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe. */
function safeCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
}

/** The current infrastructure of villages as CSV (the same columns the import reads, plus white-zone gaps). */
export function infrastructureCsv(villages: Village[]): string {
  return stringify(
    villages.map((v) => ({
      commune_code: v.commune_code,
      commune: safeCell(v.commune_name),
      village: safeCell(v.name),
      lon: v.lon ?? '',
      lat: v.lat ?? '',
      fixed_broadband: v.infrastructure ? (v.infrastructure.fixed_broadband ? 'yes' : 'no') : '',
      broadband_provider: safeCell(v.infrastructure?.broadband_provider ?? ''),
      mobile_coverage: v.infrastructure?.mobile_coverage ?? '',
      grid_power: v.infrastructure ? (v.infrastructure.grid_power ? 'yes' : 'no') : '',
      as_of: v.infrastructure?.as_of ?? '',
      source: safeCell(v.infrastructure?.source ?? ''),
      white_zone_gaps: whiteZoneGaps(v.infrastructure).join('|'),
      is_sample: v.is_sample ? 'yes' : 'no',
    })),
    { header: true, columns: ['commune_code', 'commune', 'village', 'lon', 'lat', 'fixed_broadband', 'broadband_provider', 'mobile_coverage', 'grid_power', 'as_of', 'source', 'white_zone_gaps', 'is_sample'] },
  )
}
