import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { AppContext } from '../../platform/module.ts'
import type { BoundaryCollection, BoundaryFeature } from './geojson.ts'
import { importBoundaries, type ImportSummary } from './import-boundaries.ts'
import { getLocator } from './locator-cache.ts'

const dataFile = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url))

/** The boundaries shipped in ./data are those in force from this day (Nghị quyết 1661/NQ-UBTVQH15). */
export const SHIPPED_VALID_FROM = '2025-07-01'

/** Attribution stored with the shipped boundary versions (see data/README.md). */
export const SHIPPED_SOURCE =
  'Administrative boundaries: Vietnamese Provinces Database (T. Le Quoc, MIT, github.com/thanglequoc/vietnamese-provinces-database @cd58063), derived from sapnhap.bando.com.vn (NXB TN-MT & Bản đồ Việt Nam); codes: Cục Thống kê 1027/CTK-CSCL via github.com/dvhcvn/20250701 (MIT).'

interface UnitsFile {
  current: { province: Record<string, unknown>; communes: { code: string; merged_from: unknown[] }[] }
}

/**
 * The shipped Điện Biên layer as one FeatureCollection: the derived province outline and the 45
 * communes, each commune's merged_from replaced by the richer records of units-dien-bien.json.
 */
export function shippedDienBien(): BoundaryCollection {
  const communes = JSON.parse(readFileSync(dataFile('dien-bien-communes.geojson'), 'utf8')) as BoundaryCollection
  const province = JSON.parse(readFileSync(dataFile('dien-bien-province-from-communes.geojson'), 'utf8')) as BoundaryCollection
  const units = JSON.parse(readFileSync(dataFile('units-dien-bien.json'), 'utf8')) as UnitsFile
  const merged = new Map(units.current.communes.map((c) => [c.code, c.merged_from]))
  const features: BoundaryFeature[] = [
    ...province.features,
    ...communes.features.map((f) => ({ ...f, properties: { ...f.properties, merged_from: (merged.get(f.properties.code) ?? f.properties.merged_from) as BoundaryFeature['properties']['merged_from'] } })),
  ]
  return { type: 'FeatureCollection', features, metadata: communes.metadata }
}

/** Imports the shipped Điện Biên units and boundaries when geo_units is empty. Returns the summary, or null when there was data already. */
export async function seedShippedBoundaries(db: Db, now: Date = new Date()): Promise<ImportSummary | null> {
  const has = await sql<{ n: number }>`select count(*)::int as n from (select 1 from geo_units limit 1) x`.execute(db)
  if (has.rows[0].n > 0) return null
  return importBoundaries(db, shippedDienBien(), { source: SHIPPED_SOURCE, validFrom: SHIPPED_VALID_FROM, actor: 'system', now })
}

/** Module hook: first start loads the shipped reference boundaries; every start builds the Locator. */
export async function seedReference(ctx: AppContext): Promise<void> {
  const summary = await seedShippedBoundaries(ctx.db, ctx.clock())
  if (summary) ctx.log.info({ units: summary.features, versions: summary.versions_created }, 'geo: shipped Điện Biên boundaries imported')
  // Build the Locator now (0.2 s for Điện Biên, ~8 s for a nationwide layer), before the server
  // listens, rather than in the first report's request.
  const locator = await getLocator(ctx.db)
  ctx.log.info({ units: locator.stats.units, vertices: locator.stats.vertices, build_ms: locator.stats.buildMs }, 'geo: locator ready')
}
