import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { catalogueRoutes, seedProcedures } from './catalogue/index.ts'
import { dossierRoutes, setupDossierJobs } from './dossiers/index.ts'

/**
 * services: online public services (dịch vụ công trực tuyến): the procedure catalogue (thủ tục
 * hành chính) and dossiers (hồ sơ) from submission to returned result.
 */
export const servicesModule: Module = {
  name: 'services',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async routes(app, ctx) {
    await catalogueRoutes(app, ctx)
    await dossierRoutes(app, ctx)
  },
  setup: setupDossierJobs,
  seedReference: seedProcedures,
}

export { computeFee, getProcedureVersion, searchProcedures, type ProcedureVersion } from './catalogue/index.ts'
export { applyDossierAction, getDossierByCode, submitDossier, DOSSIER_STATUS } from './dossiers/index.ts'
