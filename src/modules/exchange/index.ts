import { fileURLToPath } from 'node:url'
import type { AppContext, Module } from '../../platform/module.ts'
import { SUSPENSION_LIFTED, SUSPENSION_STARTED } from '../compliance/index.ts'
import { exchangeConfig } from './config.ts'
import { gatewayRoutes, ProviderPools, type GatewayDeps } from './gateway.ts'
import { installLeanGateway } from './lean-gateway.ts'
import { MessageLog } from './message-log.ts'
import { RegistryCache, removeSuspension, upsertSuspension, type SuspensionRow } from './registry.ts'
import { exchangeAdminRoutes } from './routes.ts'
import { loadSigningKey, type SigningKey } from './signing.ts'
import { checkProviderHealth } from './stats.ts'

/** What one running platform's gateway holds: its key, registry snapshot, log and pools. */
export interface ExchangeRuntime {
  key: SigningKey
  registry: RegistryCache
  log: MessageLog
  pools: ProviderPools
}

const runtimes = new WeakMap<AppContext, ExchangeRuntime>()

/** The gateway runtime of a platform (tests flush its log; the bench reads its figures). */
export function exchangeRuntime(ctx: AppContext): ExchangeRuntime {
  const r = runtimes.get(ctx)
  if (!r) throw new Error('exchange module is not set up on this platform')
  return r
}


async function setup(ctx: AppContext): Promise<void> {
  const cfg = exchangeConfig(ctx.config)
  const key = loadSigningKey(cfg.signingKeyPem, cfg.dir)
  const registry = new RegistryCache(ctx.db, cfg.registryTtlMs)
  const log = await MessageLog.open(ctx.db, key, { node: cfg.node, dir: cfg.dir, flushMs: cfg.flushIntervalMs })
  runtimes.set(ctx, { key, registry, log, pools: new ProviderPools(cfg.connectionsPerProvider) })
  ctx.events.subscribe(SUSPENSION_STARTED, async (tx, e) => {
    await upsertSuspension(tx, e.payload as unknown as SuspensionRow)
    registry.invalidate()
  })
  ctx.events.subscribe(SUSPENSION_LIFTED, async (tx, e) => {
    await removeSuspension(tx, String(e.payload.finding_id))
    registry.invalidate()
  })
  ctx.jobs.schedule({ name: 'exchange.health-check', cron: cfg.healthCron }, async (job) => {
    await checkProviderHealth(job.db, job.now)
  })
}

/** exchange: the data exchange gateway (LGSP) with access rights, a signed message log and statistics. */
export const exchangeModule: Module = {
  name: 'exchange',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  setup,
  async routes(app, ctx) {
    const rt = exchangeRuntime(ctx)
    const cfg = exchangeConfig(ctx.config)
    await exchangeAdminRoutes(app, ctx, { registry: rt.registry, key: rt.key })
    const deps: GatewayDeps = { cfg, registry: rt.registry, log: rt.log, pools: rt.pools, clock: ctx.clock }
    await gatewayRoutes(app, deps)
    // On a listening server /gw/ is answered before Fastify (EXCHANGE_LEAN=false turns it off).
    if (cfg.lean) installLeanGateway(app.server, deps)
    app.addHook('onClose', async () => {
      await rt.pools.close()
      await rt.log.close()
    })
  },
  routePolicy: {
    'GET /api/exchange/members': 'staff',
    'POST /api/exchange/members': 'admin',
    'GET /api/exchange/systems': 'staff',
    'POST /api/exchange/systems': 'admin',
    'GET /api/exchange/services': 'staff',
    'POST /api/exchange/services': 'admin',
    'GET /api/exchange/groups': 'staff',
    'POST /api/exchange/groups': 'admin',
    'GET /api/exchange/rights': 'staff',
    'POST /api/exchange/rights': 'admin',
    'DELETE /api/exchange/rights/{id}': 'admin',
    'GET /api/exchange/log': 'staff',
    'GET /api/exchange/log/public-key': 'public',
    'GET /api/exchange/stats': 'staff',
    'GET /gw/{provider}/{service}/{*}': 'api-key',
    'POST /gw/{provider}/{service}/{*}': 'api-key',
    'PUT /gw/{provider}/{service}/{*}': 'api-key',
    'PATCH /gw/{provider}/{service}/{*}': 'api-key',
    'DELETE /gw/{provider}/{service}/{*}': 'api-key',
  },
  examplePathParams: { provider: '11.SYT', service: 'patients', '*': 'x' },
}

export { checkProviderHealth, serviceStats } from './stats.ts'
export { verifyMessageLog, readLogRows } from './message-log.ts'
