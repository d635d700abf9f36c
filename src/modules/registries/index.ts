import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { civilServantRoutes } from './civil-servants.routes.ts'
import { registriesConfig } from './config.ts'
import { sendPendingNationalChanges } from './national-sync.ts'
import { registriesRoutes } from './routes.ts'
import { seedRegistries } from './seed.ts'

/**
 * registries: shared sector databases (CSDL dùng chung) with typed schemas, field-level access,
 * versioned records and CSV/XLSX import; the civil-servant registry with its national sync.
 */
export const registriesModule: Module = {
  name: 'registries',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async routes(app, ctx) {
    await registriesRoutes(app, ctx)
    await civilServantRoutes(app, ctx)
  },
  async setup(ctx) {
    const cfg = registriesConfig(ctx.config.env)
    ctx.jobs.schedule({ name: 'registries.national-sync', cron: '* * * * *' }, async ({ db, now }) => {
      await sendPendingNationalChanges(db, cfg.national, now)
    })
  },
  async seedReference(ctx) {
    await seedRegistries(ctx.db)
  },
  routePolicy: {
    'GET /api/registries': 'public',
    'GET /api/registries/{name}': 'public',
    'PUT /api/registries/{name}': 'admin',
    'GET /api/registries/{name}/records': 'public',
    'POST /api/registries/{name}/records': 'signed-in',
    'GET /api/registries/{name}/records/{key}': 'public',
    'PATCH /api/registries/{name}/records/{key}': 'signed-in',
    'GET /api/registries/{name}/records/{key}/history': 'public',
    'POST /api/registries/{name}/import': 'signed-in',
    'GET /api/civil-servants': 'staff',
    'GET /api/civil-servants/me': 'signed-in',
    'POST /api/civil-servants': 'staff',
    'GET /api/civil-servants/national-sync': 'staff',
    'POST /api/civil-servants/national-sync/run': 'staff',
    'GET /api/civil-servants/{code}': 'signed-in',
    'PATCH /api/civil-servants/{code}': 'staff',
    'POST /api/civil-servants/{code}/transfer': 'staff',
    'PUT /api/civil-servants/{code}/account': 'staff',
    'GET /api/civil-servants/{code}/history': 'signed-in',
  },
  examplePathParams: { name: 'schools', key: '11127001' },
}

export { CIVIL_SERVANTS } from './records.ts'
export { callerLevel, projectData, type AccessLevel, type RegistrySchema } from './schema.ts'
export { getSchema as getRegistrySchema, listSchemas as listRegistrySchemas } from './repository.ts'
