import { fileURLToPath } from 'node:url'
import type { AppContext, Module } from '../../platform/module.ts'
import { SUSPENSION_LIFTED, SUSPENSION_STARTED } from '../compliance/index.ts'
import { exchangeConfig } from './config.ts'
import { gatewayRoutes, ProviderPools, type GatewayDeps } from './gateway.ts'
import { installLeanGateway } from './lean-gateway.ts'
import { MessageLog } from './message-log.ts'
import { createMember, createService, createSystem, getMember, listServices, listSystems, RegistryCache, removeSuspension, upsertSuspension, type SuspensionRow } from './registry.ts'
import { newProviderCredential, setProviderCredential } from './provider-credentials.ts'
import { exchangeAdminRoutes } from './routes.ts'
import { loadCredentialKey } from './provider-credentials.ts'
import { loadSigningKey, type SigningKey } from './signing.ts'
import { checkProviderHealth } from './stats.ts'

/** What one running platform's gateway holds: its key, registry snapshot, log and pools. */
export interface ExchangeRuntime {
  key: SigningKey
  /** Encrypts provider credentials at rest. */
  credentialKey: Buffer
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
  const credentialKey = loadCredentialKey(cfg.credentialKey, cfg.dir)
  const registry = new RegistryCache(ctx.db, cfg.registryTtlMs, credentialKey)
  const log = await MessageLog.open(ctx.db, key, {
    node: cfg.node, dir: cfg.dir, flushMs: cfg.flushIntervalMs, copyIn: ctx.copyIn,
    onAdoptError: (e) => ctx.log.error({ err: e, dir: cfg.dir }, 'exchange: a dead node\'s message-log journal could not be replayed; kept and retried every minute'),
    onReplay: (r) => {
      if (r.altered) ctx.log.error(r, 'exchange: message-log journal lines failed their hash, link or seal check at replay (edited after they were written); they and the lines after them were dropped, not signed')
      else if (r.dropped > 0) ctx.log.warn(r, 'exchange: message-log journal lines after its last sealed batch were dropped (a write cut short by a crash; never answered)')
      else ctx.log.info(r, 'exchange: message-log journal replayed')
    },
  })
  runtimes.set(ctx, { key, credentialKey, registry, log, pools: new ProviderPools(cfg.connectionsPerProvider) })
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
    await exchangeAdminRoutes(app, ctx, { registry: rt.registry, key: rt.key, credentialKey: rt.credentialKey })
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
    'PUT /api/exchange/services/{id}/provider-credential': 'admin',
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
  examplePathParams: { provider: '11.SYT', service: 'patients', '*': 'x', id: '00000000-0000-4000-8000-000000000000' },
}

export { checkProviderHealth, serviceStats } from './stats.ts'
export { verifyMessageLog, readLogRows } from './message-log.ts'
export { PROVIDER_CREDENTIAL_HEADER, serviceForProviderCredential } from './provider-credentials.ts'
export { ACCESS_LEVEL_HEADER, CAN_WRITE_HEADER, CLIENT_HEADER, REQUEST_ID_HEADER } from './gateway.ts'

/**
 * Publishes a provider inside the platform as a gateway service, once: a member for the owner
 * unit, a system, the service at `baseUrl`, and a provider credential the gateway presents (so
 * the provider answers only calls that came through the gateway). Answers the service id.
 */
export async function publishPlatformService(ctx: AppContext, s: { memberCode: string; memberName: string; unitCode: string; systemCode: string; systemName: string; serviceCode: string; serviceName: string; baseUrl: string }): Promise<{ id: string; created: boolean }> {
  const rt = exchangeRuntime(ctx)
  const r = await ctx.db.transaction().execute(async (tx) => {
    const existing = (await listServices(tx)).find((v) => v.member_code === s.memberCode && v.code === s.serviceCode)
    if (existing) return { id: existing.id, created: false }
    const now = ctx.clock()
    if (!(await getMember(tx, s.memberCode))) await createMember(tx, { code: s.memberCode, name: s.memberName, unit_code: s.unitCode }, 'system', now)
    const system = (await listSystems(tx)).find((y) => y.member_code === s.memberCode && y.code === s.systemCode)
      ?? (await createSystem(tx, { member_code: s.memberCode, code: s.systemCode, name: s.systemName }, 'system', now)).system
    const service = await createService(tx, { system_id: system.id, code: s.serviceCode, name: s.serviceName, base_url: s.baseUrl }, 'system', now)
    await setProviderCredential(tx, rt.credentialKey, service.id, newProviderCredential(), 'system', now)
    return { id: service.id, created: true }
  })
  rt.registry.invalidate()
  return r
}
