import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requireUser } from '../../platform/auth/principal.ts'
import { AppError, badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { ACCESS_LEVEL_HEADER, CAN_WRITE_HEADER, CLIENT_HEADER, PROVIDER_CREDENTIAL_HEADER, serviceForProviderCredential } from '../exchange/index.ts'
import { registriesConfig } from './config.ts'
import { getGatewayBinding, publishRegistryOnGateway } from './gateway-provider.ts'
import { CIVIL_SERVANTS, createRecord, updateRecord } from './records.ts'
import { getRecord, getSchema, listRecords, listVersions } from './repository.ts'
import { parseFilter, presentHistory, presentRecord } from './routes.ts'
import { ACCESS_LEVELS, canSeeRegistry, type AccessLevel, type RegistrySchema } from './schema.ts'

interface GatewayCaller { schema: RegistrySchema; level: AccessLevel; canWrite: boolean; client: string }

declare module 'fastify' {
  interface FastifyRequest {
    gatewayCaller?: GatewayCaller
  }
}

const NameParam = Type.String({ pattern: '^[a-z][a-z0-9_]{1,62}$' })
const KeyParam = Type.String({ minLength: 1, maxLength: 200 })
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/**
 * Accepts a call only when it came through the gateway for this registry: the provider
 * credential names a gateway service, and that service is the one bound to the registry. The
 * access level and the write flag are the gateway's (from the caller's rights); the caller's own
 * x-hoaban-* headers never reach here, the gateway drops them.
 */
async function gatewayCaller(ctx: AppContext, req: FastifyRequest): Promise<GatewayCaller> {
  const credential = one(req.headers[PROVIDER_CREDENTIAL_HEADER])
  if (!credential) throw new AppError(401, 'GATEWAY_ONLY', 'Dịch vụ này chỉ nhận lời gọi qua nền tảng chia sẻ dữ liệu (LGSP).', 'This provider answers only calls made through the exchange gateway.')
  const service = await serviceForProviderCredential(ctx.db, credential)
  const name = (req.params as { name?: string }).name ?? ''
  const binding = service && /^[a-z][a-z0-9_]{1,62}$/.test(name) ? await getGatewayBinding(ctx.db, name) : undefined
  if (!service || !binding || binding.service_id !== service.id) {
    throw new AppError(403, 'PROVIDER_CREDENTIAL_INVALID', 'Khoá của cổng không đúng cho cơ sở dữ liệu này.', 'The gateway credential does not match this registry.')
  }
  const schema = await getSchema(ctx.db, name)
  if (!schema) throw notFound('Registry', 'cơ sở dữ liệu')
  const rawLevel = one(req.headers[ACCESS_LEVEL_HEADER]) ?? 'open'
  if (!(ACCESS_LEVELS as readonly string[]).includes(rawLevel)) throw badRequest('INVALID_ACCESS_LEVEL', 'Mức truy cập không hợp lệ.', 'Invalid access level from the gateway.')
  const level = rawLevel as AccessLevel
  if (!canSeeRegistry(level, schema)) throw forbidden('Your right does not open this registry.', 'Quyền của hệ thống không đủ để xem cơ sở dữ liệu này.')
  const caller = { schema, level, canWrite: one(req.headers[CAN_WRITE_HEADER]) === 'true', client: one(req.headers[CLIENT_HEADER]) ?? 'unknown' }
  req.gatewayCaller = caller
  return caller
}

async function gatewayWriter(ctx: AppContext, req: FastifyRequest): Promise<GatewayCaller> {
  const c = await gatewayCaller(ctx, req)
  if (!c.canWrite) throw forbidden('Your right is read-only.', 'Quyền của hệ thống chỉ cho phép đọc.')
  if (c.schema.name === CIVIL_SERVANTS) throw conflict('USE_CIVIL_SERVANT_ROUTES', 'Hồ sơ cán bộ, công chức được cập nhật qua /api/civil-servants.', 'Civil-servant records are changed through /api/civil-servants.')
  return c
}

const RecordOut = Type.Object({ key: Type.String(), version: Type.Integer(), updated_at: Type.String(), unit_code: Type.Optional(Type.Union([Type.String(), Type.Null()])), updated_by: Type.Optional(Type.String()), data: Type.Record(Type.String(), Type.Unknown()) })
const tags = ['registries']
const gatewayNote = 'Reached through the exchange gateway only (`/gw/{owner unit}/registry-{name}/…`): the gateway checks the caller\'s right and presents the provider credential; fields are limited to the access level of the right.'

export async function gatewayProviderRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cfg = registriesConfig(ctx.config.env)
  const gatewayActor = (c: GatewayCaller) => `gw:${c.client}`

  app.put('/api/registries/:name/gateway-service', {
    preValidation: async (req) => void requireUser(req, 'province_admin'),
    schema: {
      tags, summary: 'Publish a registry on the exchange gateway (province admin): a gateway service whose provider is this platform',
      description: 'Then grant systems the right to the service with an access level (open / shared / restricted) and, if they may write, can_write.',
      params: Type.Object({ name: NameParam }),
      body: Type.Object({ base_url: Type.Optional(Type.String({ minLength: 8, maxLength: 300, description: 'where the gateway reaches this platform (default REGISTRIES_PROVIDER_BASE_URL or http://127.0.0.1:PORT)' })) }),
      response: { 200: Type.Object({ registry: Type.String(), service_id: Type.String(), gateway_path: Type.String(), created: Type.Boolean() }), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const schema = await getSchema(ctx.db, req.params.name)
    if (!schema) throw notFound('Registry', 'cơ sở dữ liệu')
    const b = await publishRegistryOnGateway(ctx, schema, req.body.base_url ?? cfg.providerBaseUrl ?? `http://127.0.0.1:${ctx.config.port}`, actorOf(p))
    return { registry: b.registry, service_id: b.service_id, gateway_path: b.gateway_path, created: b.created }
  })

  app.get('/api/registry-provider/:name/records', {
    preValidation: async (req) => void (await gatewayCaller(ctx, req)),
    schema: {
      tags, summary: 'Gateway provider: records of a registry at the caller\'s access level; filter, keyset paging', description: gatewayNote,
      params: Type.Object({ name: NameParam }),
      querystring: Type.Object({ filter: Type.Optional(Type.String({ maxLength: 500 })), after: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
      response: { 200: Type.Object({ items: Type.Array(RecordOut), next_after: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
    },
  }, async (req) => {
    const { schema, level } = req.gatewayCaller!
    const rows = await listRecords(ctx.db, schema.name, { equals: parseFilter(schema, level, req.query.filter), afterKey: req.query.after, limit: req.query.limit })
    return { items: rows.map((r) => presentRecord(schema, level, r)), next_after: rows.length === req.query.limit ? rows[rows.length - 1].record_key : null }
  })

  app.get('/api/registry-provider/:name/records/:key', {
    preValidation: async (req) => void (await gatewayCaller(ctx, req)),
    schema: { tags, summary: 'Gateway provider: one record at the caller\'s access level', description: gatewayNote, params: Type.Object({ name: NameParam, key: KeyParam }), response: { 200: RecordOut, ...Errors } },
  }, async (req) => {
    const { schema, level } = req.gatewayCaller!
    const r = await getRecord(ctx.db, schema.name, req.params.key)
    if (!r) throw notFound('Record', 'bản ghi')
    return presentRecord(schema, level, r)
  })

  app.get('/api/registry-provider/:name/records/:key/history', {
    preValidation: async (req) => void (await gatewayCaller(ctx, req)),
    schema: { tags, summary: 'Gateway provider: versions of a record (fields visible at the caller\'s level)', description: gatewayNote, params: Type.Object({ name: NameParam, key: KeyParam }), response: { 200: Type.Object({ key: Type.String(), versions: Type.Array(Type.Unknown()) }), ...Errors } },
  }, async (req) => {
    const { schema, level } = req.gatewayCaller!
    const versions = await listVersions(ctx.db, schema.name, req.params.key)
    if (versions.length === 0) throw notFound('Record', 'bản ghi')
    return { key: req.params.key, versions: presentHistory(schema, level, versions) }
  })

  app.post('/api/registry-provider/:name/records', {
    preValidation: async (req) => void (await gatewayWriter(ctx, req)),
    schema: {
      tags, summary: 'Gateway provider: add a record (right with can_write); audited and versioned; Idempotency-Key for retries', description: gatewayNote,
      params: Type.Object({ name: NameParam }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()) }),
      response: { 201: RecordOut, ...Errors },
    },
  }, async (req, reply) => {
    const c = req.gatewayCaller!
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `registry-provider-create|${c.schema.name}|${c.client}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const row = await createRecord(tx, c.schema, req.body.data, { actor: gatewayActor(c), now: ctx.clock() })
      return { statusCode: 201, body: presentRecord(c.schema, c.level, row) }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.patch('/api/registry-provider/:name/records/:key', {
    preValidation: async (req) => void (await gatewayWriter(ctx, req)),
    schema: {
      tags, summary: 'Gateway provider: change a record (right with can_write); a new version with its diff', description: gatewayNote,
      params: Type.Object({ name: NameParam, key: KeyParam }),
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()), expected_version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: RecordOut, ...Errors },
    },
  }, async (req) => {
    const c = req.gatewayCaller!
    const r = await ctx.db.transaction().execute((tx) => updateRecord(tx, c.schema, req.params.key, req.body.data, { actor: gatewayActor(c), now: ctx.clock(), expectedVersion: req.body.expected_version }))
    return presentRecord(c.schema, c.level, r.row)
  })
}
