import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { Type } from 'typebox'
import { actorOf, requireUser, STAFF_ROLES, type UserPrincipal } from '../../platform/auth/principal.ts'
import { badRequest, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import type { SigningKey } from './signing.ts'
import {
  CODE_PATTERN, createGroup, createMember, createService, createSystem, grantRight, listGroups, listMembers, listRights, listServices, listSystems,
  revokeRight, RIGHT_ACCESS_LEVELS, SERVICE_CODE_PATTERN, type RegistryCache, type RightRow, type ServiceRow, type SystemRow,
} from './registry.ts'
import { newProviderCredential, setProviderCredential } from './provider-credentials.ts'
import { serviceStats } from './stats.ts'

const staffOnly = async (req: FastifyRequest) => {
  requireUser(req, ...STAFF_ROLES)
}
const adminOnly = async (req: FastifyRequest) => {
  requireUser(req, 'province_admin')
}
/** Province admins see everything; other staff only their own unit's members, systems and services. */
const unitScope = (p: UserPrincipal): string | undefined => (p.role === 'province_admin' ? undefined : (p.unitCode ?? '-'))

const presentSystem = (s: SystemRow) => ({ id: s.id, member_code: s.member_code, code: s.code, name: s.name, unit_code: s.unit_code, key_prefix: s.api_key_prefix, tls_client_fingerprint: s.tls_client_fingerprint, created_at: new Date(s.created_at).toISOString() })
const presentService = (s: ServiceRow) => ({
  id: s.id, provider: s.member_code, system_id: s.system_id, system_code: s.system_code, code: s.code, name: s.name, base_url: s.base_url, openapi_url: s.openapi_url,
  version: s.version, timeout_ms: s.timeout_ms, max_request_bytes: s.max_request_bytes, max_response_bytes: s.max_response_bytes, store_bodies: s.store_bodies,
  health_path: s.health_path, gateway_path: `/gw/${s.member_code}/${s.code}/`, has_provider_credential: s.provider_credential_enc !== null, created_at: new Date(s.created_at).toISOString(),
})
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
const presentRight = (r: RightRow) => ({ id: r.id, service_id: r.service_id, system_id: r.system_id, group_code: r.group_code, valid_from: iso(r.valid_from), valid_until: iso(r.valid_until), revoked_at: iso(r.revoked_at), access_level: r.access_level, can_write: r.can_write, created_by: r.created_by })

function parseInstant(v: string | undefined, field: string): Date | undefined {
  if (v === undefined) return undefined
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+07:00` : v)
  if (Number.isNaN(d.getTime())) throw badRequest('INVALID_DATE', `Ngày giờ ${field} không hợp lệ.`, `Invalid ${field}.`)
  return d
}

export async function exchangeAdminRoutes(fastify: FastifyInstance, ctx: AppContext, deps: { registry: RegistryCache; key: SigningKey; credentialKey: Buffer }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
  const tags = ['exchange']
  const write = async <T>(work: (tx: typeof ctx.db) => Promise<T>): Promise<T> => {
    const r = await ctx.db.transaction().execute(work)
    deps.registry.invalidate()
    return r
  }

  app.get('/api/exchange/members', {
    preValidation: staffOnly,
    schema: { tags, summary: 'Member agencies (cơ quan thành viên) of the exchange platform', response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => ({ items: (await listMembers(ctx.db, unitScope(requireUser(req, ...STAFF_ROLES)))).map((m) => ({ ...m, created_at: iso(m.created_at) })) }))

  app.post('/api/exchange/members', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Register a member agency, linked to an org unit (province admins)',
      body: Type.Object({ code: Type.String({ pattern: CODE_PATTERN }), name: Type.String({ minLength: 1, maxLength: 300 }), unit_code: Type.String({ minLength: 1, maxLength: 32 }) }),
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const m = await write((tx) => createMember(tx, req.body, actorOf(p), ctx.clock()))
    return reply.status(201).send({ ...m, created_at: iso(m.created_at) })
  })

  app.get('/api/exchange/systems', {
    preValidation: staffOnly,
    schema: { tags, summary: 'Information systems (subsystems) of members; keys are shown only by prefix', response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => ({ items: (await listSystems(ctx.db, unitScope(requireUser(req, ...STAFF_ROLES)))).map(presentSystem) }))

  app.post('/api/exchange/systems', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Register a system of a member; answers its gateway key once (stored only as a hash)',
      body: Type.Object({
        member_code: Type.String({ pattern: CODE_PATTERN }), code: Type.String({ pattern: CODE_PATTERN }), name: Type.String({ minLength: 1, maxLength: 300 }),
        tls_client_fingerprint: Type.Optional(Type.String({ maxLength: 120, description: 'SHA-256 fingerprint of the mutual-TLS client certificate (hex, colons optional)' })),
      }),
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const r = await write((tx) => createSystem(tx, req.body, actorOf(p), ctx.clock()))
    return reply.status(201).send({ ...presentSystem(r.system), api_key: r.apiKey })
  })

  app.get('/api/exchange/services', {
    preValidation: staffOnly,
    schema: { tags, summary: 'Services provided through the gateway, with their gateway path', response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => ({ items: (await listServices(ctx.db, unitScope(requireUser(req, ...STAFF_ROLES)))).map(presentService) }))

  app.post('/api/exchange/services', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Register a service a system provides (REST base URL, OpenAPI description, version, limits)',
      body: Type.Object({
        system_id: Type.String({ format: 'uuid' }), code: Type.String({ pattern: SERVICE_CODE_PATTERN }), name: Type.String({ minLength: 1, maxLength: 300 }),
        base_url: Type.String({ minLength: 8, maxLength: 500 }), openapi_url: Type.Optional(Type.String({ maxLength: 500 })), version: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
        timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120000 })), max_request_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 52428800 })),
        max_response_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 52428800 })), store_bodies: Type.Optional(Type.Boolean()),
        health_path: Type.Optional(Type.String({ maxLength: 300 })),
      }),
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const s = await write((tx) => createService(tx, req.body, actorOf(p), ctx.clock()))
    return reply.status(201).send(presentService(s))
  })

  app.put('/api/exchange/services/:id/provider-credential', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Set the credential the gateway presents to the service\'s provider (kept encrypted; never shown again)',
      description: 'Give the credential the provider issued, or omit it to have the gateway generate one: then it is answered once, to be configured at the provider.',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: Type.Object({ credential: Type.Optional(Type.String({ minLength: 24, maxLength: 400 })) }),
      response: { 200: Type.Object({ service_id: Type.String(), sha256_prefix: Type.String(), credential: Type.Optional(Type.String()) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const generated = req.body.credential === undefined ? newProviderCredential() : undefined
    const r = await write((tx) => setProviderCredential(tx, deps.credentialKey, req.params.id, req.body.credential ?? generated!, actorOf(p), ctx.clock()))
    return { service_id: req.params.id, sha256_prefix: r.sha256_prefix, ...(generated ? { credential: generated } : {}) }
  })

  app.get('/api/exchange/groups', {
    preValidation: staffOnly,
    schema: { tags, summary: 'Groups of systems that rights can be granted to', response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async () => ({ items: await listGroups(ctx.db) }))

  app.post('/api/exchange/groups', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Create or replace a group of systems',
      body: Type.Object({ code: Type.String({ pattern: CODE_PATTERN }), name: Type.String({ minLength: 1, maxLength: 300 }), system_ids: Type.Array(Type.String({ format: 'uuid' }), { maxItems: 500 }) }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    return write((tx) => createGroup(tx, req.body, actorOf(p), ctx.clock()))
  })

  app.get('/api/exchange/rights', {
    preValidation: staffOnly,
    schema: {
      tags, summary: 'Access rights (quyền truy cập) per service', querystring: Type.Object({ service_id: Type.Optional(Type.String({ format: 'uuid' })) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors },
    },
  }, async (req) => ({ items: (await listRights(ctx.db, req.query.service_id)).map(presentRight) }))

  app.post('/api/exchange/rights', {
    preValidation: adminOnly,
    schema: {
      tags, summary: 'Grant a system or a group the right to call a service, from a date until an optional date',
      description: 'Dates are ISO instants or YYYY-MM-DD (Vietnam midnight). Send an Idempotency-Key to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        service_id: Type.String({ format: 'uuid' }), system_id: Type.Optional(Type.String({ format: 'uuid' })), group_code: Type.Optional(Type.String({ pattern: CODE_PATTERN })),
        valid_from: Type.Optional(Type.String({ maxLength: 40 })), valid_until: Type.Optional(Type.String({ maxLength: 40 })),
        access_level: Type.Optional(Type.Union(RIGHT_ACCESS_LEVELS.map((l) => Type.Literal(l)), { description: 'How much of the provider\'s data the right opens (default shared)' })),
        can_write: Type.Optional(Type.Boolean({ description: 'Whether the caller may write (default false)' })),
      }),
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const b = req.body
    const validFrom = parseInstant(b.valid_from, 'valid_from') ?? ctx.clock()
    const validUntil = parseInstant(b.valid_until, 'valid_until') ?? null
    const r = await runIdempotent(ctx.db, { scope: `POST /api/exchange/rights|${actorOf(p)}`, key, fingerprint: requestFingerprint(b) }, async (tx) => {
      const right = await grantRight(tx, { service_id: b.service_id, system_id: b.system_id, group_code: b.group_code, valid_from: validFrom, valid_until: validUntil, access_level: b.access_level, can_write: b.can_write }, actorOf(p), ctx.clock())
      return { statusCode: 201, body: presentRight(right) }
    })
    deps.registry.invalidate()
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

  app.delete('/api/exchange/rights/:id', {
    preValidation: adminOnly,
    schema: { tags, summary: 'Revoke an access right', params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Type.Unknown(), ...errors } },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const r = await write((tx) => revokeRight(tx, req.params.id, actorOf(p), ctx.clock()))
    if (!r) throw notFound('Active right', 'quyền đang hiệu lực')
    return presentRight(r)
  })

  app.get('/api/exchange/log', {
    preValidation: staffOnly,
    schema: {
      tags, summary: 'The signed message log (nhật ký thông điệp): who called what, when, status, sizes, duration, body hashes, signature',
      description: "Officers see calls made by or to their unit's members; province admins see all. Newest first; page with `before` (the `cursor` of the last row). Records are signed in batches: an empty `signature` means the record is covered by the next signed record of its node (its hash is chained into it).",
      querystring: Type.Object({
        provider: Type.Optional(Type.String({ maxLength: 60 })), service: Type.Optional(Type.String({ maxLength: 60 })), client: Type.Optional(Type.String({ maxLength: 100 })),
        before: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const q = req.query
    const conds = [sql`true`]
    const unit = unitScope(p)
    if (unit !== undefined) {
      const codes = (await listMembers(ctx.db, unit)).map((m) => m.code)
      if (codes.length === 0) return { items: [], next_cursor: null }
      conds.push(sql`(provider in (${sql.join(codes)}) or split_part(client, '/', 1) in (${sql.join(codes)}))`)
    }
    if (q.provider) conds.push(sql`provider = ${q.provider}`)
    if (q.service) conds.push(sql`service = ${q.service}`)
    if (q.client) conds.push(sql`client = ${q.client}`)
    if (q.before) {
      const m = /^(\d{4}-\d{2}-\d{2}T[0-9:.]+Z)\|([A-Za-z0-9._-]{1,60})\|(\d{1,15})$/.exec(q.before)
      if (!m) throw badRequest('INVALID_CURSOR', 'Con trỏ phân trang không hợp lệ.', 'Invalid cursor.')
      conds.push(sql`(at, node, seq) < (${m[1]}::timestamptz, ${m[2]}, ${m[3]}::bigint)`)
    }
    const { rows } = await sql<{ node: string; seq: string; at: Date; record: string; hash: string; signature: string; has_bodies: boolean }>`
      select node, seq::text as seq, at, record, hash, signature, (request_body is not null) as has_bodies from exchange_message_log
      where ${sql.join(conds, sql` and `)} order by exchange_message_log.at desc, exchange_message_log.node desc, exchange_message_log.seq desc limit ${q.limit}`.execute(ctx.db)
    const items = rows.map((r) => ({ ...JSON.parse(r.record), hash: r.hash, signature: r.signature, bodies_stored: r.has_bodies, cursor: `${new Date(r.at).toISOString()}|${r.node}|${r.seq}` }))
    return { items, next_cursor: rows.length === q.limit ? items[items.length - 1].cursor : null }
  })

  app.get('/api/exchange/log/public-key', {
    schema: {
      tags, summary: "The gateway's Ed25519 public key (PEM) for verifying the message log offline",
      response: { 200: Type.Object({ key_id: Type.String(), algorithm: Type.Literal('Ed25519'), public_key_pem: Type.String() }) },
    },
  }, async () => ({ key_id: deps.key.keyId, algorithm: 'Ed25519' as const, public_key_pem: deps.key.publicKeyPem }))

  app.get('/api/exchange/stats', {
    preValidation: staffOnly,
    schema: {
      tags, summary: 'Per service: calls, failures, latency p50/p95/p99, last success and failure, latest health check',
      querystring: Type.Object({ hours: Type.Integer({ minimum: 1, maximum: 24 * 90, default: 24 }) }),
      response: { 200: Type.Object({ since: Type.String(), items: Type.Array(Type.Unknown()) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const since = new Date(ctx.clock().getTime() - req.query.hours * 3600_000)
    return { since: since.toISOString(), items: await serviceStats(ctx.db, { since, unitCode: unitScope(p) }) }
  })
}
