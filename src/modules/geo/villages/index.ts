// Villages (thôn, bản, tổ dân phố) and their infrastructure, part of the geo module.
export { buildGazetteer, matchPlaceAt, matchPlaceName, searchGazetteer, searchToken, type Gazetteer, type Place, type PlaceMatch, type SpanMatch } from './gazetteer.ts'
export { seedDemoVillages, seedSampleVillages, sampleCsv, SAMPLE_VILLAGES_SOURCE } from './seed.ts'
export {
  countVillagesByCommune,
  getVillage,
  importInfrastructureCsv,
  importVillagesCsv,
  listVillages,
  loadGazetteer,
  whiteZoneGaps,
  type ImportResult,
  type MobileCoverage,
  type Village,
  type VillageInfrastructure,
} from './villages.ts'
export { villagesRoutePolicy, villagesRoutes } from './routes.ts'
