import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import type { AppContext } from '../../platform/module.ts'
import { publishPlatformService } from '../exchange/index.ts'
import type { RegistrySchema } from './schema.ts'

/**
 * Serving a registry to other agencies' systems through the exchange gateway (LGSP): the
 * registry is published as a gateway service whose provider is this platform's
 * `/api/registry-provider/{name}` routes. The gateway decides who may call (rights, validity,
 * suspensions) and tells the provider the caller's access level; the provider answers only
 * calls that bear the service's provider credential.
 */
export interface GatewayBinding { registry: string; service_id: string; gateway_path: string; published_at: Date; published_by: string }

export const providerPath = (name: string) => `/api/registry-provider/${name}`
export const gatewayServiceCode = (name: string) => `registry-${name.replace(/_/g, '-')}`

export async function getGatewayBinding(db: Db, registry: string): Promise<GatewayBinding | undefined> {
  return (await sql<GatewayBinding>`select registry, service_id::text as service_id, gateway_path, published_at, published_by from registry_gateway_services where registry = ${registry}`.execute(db)).rows[0]
}

/**
 * Publishes a registry on the gateway, once: a member for its owner agency, the system
 * `registries`, the service `registry-<name>` at `<baseUrl>/api/registry-provider/<name>` with
 * a provider credential, and the binding here. Publishing again answers the existing binding.
 */
export async function publishRegistryOnGateway(ctx: AppContext, schema: RegistrySchema, baseUrl: string, actor: string): Promise<GatewayBinding & { created: boolean }> {
  const existing = await getGatewayBinding(ctx.db, schema.name)
  if (existing) return { ...existing, created: false }
  const code = gatewayServiceCode(schema.name)
  const service = await publishPlatformService(ctx, {
    memberCode: schema.owner_unit, memberName: `Cơ quan chủ quản ${schema.owner_unit}`, unitCode: schema.owner_unit,
    systemCode: 'registries', systemName: 'CSDL dùng chung (Hoa Ban)',
    serviceCode: code, serviceName: `${schema.title_vi} / ${schema.title_en}`, baseUrl: `${baseUrl.replace(/\/+$/, '')}${providerPath(schema.name)}`,
  })
  const now = ctx.clock()
  const gatewayPath = `/gw/${schema.owner_unit}/${code}/`
  await ctx.db.transaction().execute(async (tx) => {
    await sql`insert into registry_gateway_services (registry, service_id, gateway_path, published_at, published_by)
      values (${schema.name}, ${service.id}::uuid, ${gatewayPath}, ${now.toISOString()}::timestamptz, ${actor}) on conflict (registry) do nothing`.execute(tx)
    await appendAudit(tx, { actor, action: 'registry.published_on_gateway', entityType: 'registry', entityId: schema.name, data: { service_id: service.id, gateway_path: gatewayPath } }, now)
  })
  return { ...(await getGatewayBinding(ctx.db, schema.name))!, created: true }
}
