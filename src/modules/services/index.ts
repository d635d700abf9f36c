import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { catalogueRoutes, seedProcedures } from './catalogue/index.ts'
import { project06Routes, seedProject06 } from './catalogue/project06.ts'
import { citizenStoreRoutes } from './citizen-store/index.ts'
import { listOrgUnits } from '../identity/index.ts'
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
    await citizenStoreRoutes(app, ctx)
    // Project 06 (Đề án 06) essential services: per-unit indicators for the communes.
    await project06Routes(app, ctx, async () => (await listOrgUnits(ctx.db)).filter((u) => u.kind === 'commune').map((u) => u.code))
  },
  setup: setupDossierJobs,
  routePolicy: {
    'GET /api/dossiers/{code}/files/{id}': 'signed-in',
    'GET /api/me/store': 'signed-in',
    'POST /api/me/store': 'signed-in',
    'GET /api/me/store/{id}/file': 'signed-in',
    'DELETE /api/me/store/{id}': 'signed-in',
    'GET /api/services/project06': 'public',
  },
  async seedReference(ctx) {
    await seedProcedures(ctx)
    await seedProject06(ctx.db)
  },
}

export { computeFee, getProcedureVersion, searchProcedures, type ProcedureVersion } from './catalogue/index.ts'
export { applyDossierAction, getDossierByCode, submitDossier, DOSSIER_STATUS } from './dossiers/index.ts'
export { countReusedComponents } from './citizen-store/index.ts'
