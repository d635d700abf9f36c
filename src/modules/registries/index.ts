import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { civilServantRoutes } from './civil-servants.routes.ts'
import { registriesConfig } from './config.ts'
import { sendPendingNationalChanges } from './national-sync.ts'
import { gatewayProviderRoutes } from './gateway-provider.routes.ts'
import { publishRegistryOnGateway } from './gateway-provider.ts'
import { listSchemas } from './repository.ts'
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
    await gatewayProviderRoutes(app, ctx)
  },
  async setup(ctx) {
    const cfg = registriesConfig(ctx.config.env)
    ctx.jobs.schedule({ name: 'registries.national-sync', cron: '* * * * *' }, async ({ db, now }) => {
      await sendPendingNationalChanges(db, cfg.national, now)
    })
  },
  async seedReference(ctx) {
    await seedRegistries(ctx.db)
    // Every registry the platform ships with is served to other agencies through the gateway.
    const base = registriesConfig(ctx.config.env).providerBaseUrl ?? `http://127.0.0.1:${ctx.config.port}`
    for (const schema of await listSchemas(ctx.db)) await publishRegistryOnGateway(ctx, schema, base, 'system')
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
    'PUT /api/registries/{name}/gateway-service': 'admin',
    'GET /api/registry-provider/{name}/records': 'api-key',
    'POST /api/registry-provider/{name}/records': 'api-key',
    'GET /api/registry-provider/{name}/records/{key}': 'api-key',
    'PATCH /api/registry-provider/{name}/records/{key}': 'api-key',
    'GET /api/registry-provider/{name}/records/{key}/history': 'api-key',
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
export { getGatewayBinding as registryGatewayBinding } from './gateway-provider.ts'
export { getSchema as getRegistrySchema, listSchemas as listRegistrySchemas } from './repository.ts'
