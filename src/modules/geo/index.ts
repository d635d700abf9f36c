import { fileURLToPath } from 'node:url'
import type { Db } from '../../platform/db/database.ts'
import type { MigrationSource } from '../../platform/db/migrate.ts'
import type { Module } from '../../platform/module.ts'
import { getLocator } from './locator-cache.ts'
import type { LocatedUnit } from './locator.ts'
import { geoRoutes } from './routes.ts'
import { seedReference } from './seed.ts'
import { seedDemoVillages, villagesRoutePolicy, villagesRoutes } from './villages/index.ts'

/** The geo module's migrations, for tools that migrate without the module list (the import CLI, the bench). */
export const GEO_MIGRATIONS: MigrationSource = { module: 'geo', dir: fileURLToPath(new URL('./migrations', import.meta.url)) }

/** Administrative units, versioned boundaries, point location, map layers. */
export const geoModule: Module = {
  name: 'geo',
  migrations: GEO_MIGRATIONS.dir,
  async routes(app, ctx) {
    await geoRoutes(app, ctx)
    await villagesRoutes(app, ctx)
  },
  seedReference,
  seedDemo: seedDemoVillages,
  routePolicy: villagesRoutePolicy,
}

// What other modules use. Reports: `const locator = await getLocator(db)`, then
// `locator.locate(lat, lon)` (synchronous) after `checkCoordinates`, and store boundary_version.
export { checkCoordinates, VIETNAM_BBOX } from './coordinates.ts'
export type { BoundaryCollection, BoundaryFeature } from './geojson.ts'
export { importBoundaries, type ImportOptions, type ImportSummary } from './import-boundaries.ts'
export { getLocator, loadLocator } from './locator-cache.ts'
export { Locator, type LocatedUnit, type LocateResult, type LocatorOptions } from './locator.ts'
export {
  findUnitsByLegacyCode,
  getAdminUnit,
  listAdminUnits,
  vietnamToday,
  type AdminUnit,
  type AdminUnitDetail,
  type UnitLevel,
} from './repository.ts'
export { SHIPPED_SOURCE, SHIPPED_VALID_FROM } from './seed.ts'
export {
  buildGazetteer,
  countVillagesByCommune,
  getVillage,
  importInfrastructureCsv,
  importVillagesCsv,
  listVillages,
  loadGazetteer,
  matchPlaceAt,
  matchPlaceName,
  sampleCsv,
  searchGazetteer,
  searchToken,
  seedSampleVillages,
  whiteZoneGaps,
  type Gazetteer,
  type Place,
  type Village,
} from './villages/index.ts'

/** Units whose border lies within maxM metres of a point (default 500 m), nearest first: "did you mean" lists. */
export async function nearestUnits(db: Db, lat: number, lon: number, opts: { maxM?: number; limit?: number } = {}): Promise<(LocatedUnit & { distance_m: number })[]> {
  return (await getLocator(db)).nearestUnits(lat, lon, opts)
}
