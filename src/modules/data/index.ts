import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { ckanRoutes } from './ckan.ts'
import { dataConfig } from './config.ts'
import { seedPlatformDatasets, setupPlatformDatasets } from './platform-datasets.ts'
import { portalRoutes } from './portal.ts'
import { dataRoutes } from './routes.ts'

/** data: catalogue of shared databases, open-data plan, CKAN-compatible open-data portal with a DataStore. */
export const dataModule: Module = {
  name: 'data',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async routes(app, ctx) {
    const cfg = dataConfig(ctx.config.env)
    await ckanRoutes(app, ctx, cfg)
    await dataRoutes(app, ctx, cfg)
    await portalRoutes(app, ctx, cfg)
  },
  async setup(ctx) {
    await setupPlatformDatasets(ctx, dataConfig(ctx.config.env))
  },
  seedReference: (ctx) => seedPlatformDatasets(ctx),
  routePolicy: {
    'GET /api/3/action/{action}': 'public',
    'POST /api/3/action/{action}': 'public',
    'GET /api/action/{action}': 'public',
    'POST /api/action/{action}': 'public',
    'GET /api/data/shared-databases': 'public',
    'PUT /api/data/shared-databases/{code}': 'admin',
    'GET /api/data/publish-plan': 'public',
    'POST /api/data/publish-plan': 'admin',
    'POST /api/data/publish-plan/{id}/published': 'admin',
    'POST /api/data/datasets': 'staff',
    'GET /api/data/datasets': 'public',
    'GET /api/data/datasets/{name}': 'public',
    'PUT /api/data/datasets/{name}': 'staff',
    'GET /api/data/datasets/{name}/quality': 'public',
    'POST /api/data/datasets/{name}/reuses': 'signed-in',
    'POST /api/data/datasets/{name}/resources': 'staff',
    'PUT /api/data/resources/{id}/data': 'staff',
    'GET /api/data/resources/{id}/download/{filename}': 'public',
    'GET /api/data/resources/{id}/export.csv': 'public',
    'GET /api/data/dcat/catalog.jsonld': 'public',
    'GET /api/data/dcat/catalog.ttl': 'public',
    'GET /api/data/dcat/datasets/{name}/dcat.jsonld': 'public',
    'GET /api/data/dcat/datasets/{name}/dcat.ttl': 'public',
    'GET /data': 'public',
    'GET /data/dataset/{name}': 'public',
    'GET /data/catalogue': 'public',
  },
  examplePathParams: { name: 'thu-tuc-hanh-chinh', filename: 'data.csv' },
}

export { refreshPlatformDatasets } from './platform-datasets.ts'
export { canReadDataset } from './access.ts'
