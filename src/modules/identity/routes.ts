import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requireUser, ROLES, type Role } from '../../platform/auth/principal.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { listOrgUnits, listUsers } from './repository.ts'
import { loginWithPassword, logout, SESSION_COOKIE, sessionToken } from './sessions.ts'
import { createApiClient, createUser, presentUser } from './users.ts'

const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  display_name: Type.String(),
  role: Type.String(),
  unit_code: Type.Union([Type.String(), Type.Null()]),
  is_demo: Type.Boolean(),
})
const Username = Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9._@+-]+$' })
const Password = Type.String({ minLength: 1, maxLength: 256 })

export async function identityRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post('/api/auth/login', {
    config: { rateLimit: { max: 20, timeWindow: 60_000 } },
    schema: {
      tags: ['identity'],
      summary: 'Sign in with username and password (cookie session for the web, bearer token for apps)',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Password, mode: Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('token')])) }),
      response: { 200: Type.Object({ user: UserSchema, token: Type.Optional(Type.String()), expires_at: Type.String() }), 401: ErrorSchema, 423: ErrorSchema },
    },
  }, async (req, reply) => {
    const mode = req.body.mode ?? 'cookie'
    const r = await loginWithPassword(ctx, { username: req.body.username, password: req.body.password, kind: mode === 'cookie' ? 'cookie' : 'bearer', ip: req.ip })
    if (mode === 'cookie') {
      reply.setCookie(SESSION_COOKIE, r.token, { httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, path: '/', expires: r.expiresAt })
      return { user: presentUser(r.user), expires_at: r.expiresAt.toISOString() }
    }
    return { user: presentUser(r.user), token: r.token, expires_at: r.expiresAt.toISOString() }
  })

  app.post('/api/auth/logout', {
    schema: { tags: ['identity'], summary: 'End the current session', response: { 200: Type.Object({ ok: Type.Boolean() }), 401: ErrorSchema } },
  }, async (req, reply) => {
    requireUser(req)
    await logout(ctx.db, sessionToken(req)!, actorOf(req.principal))
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return { ok: true }
  })

  app.get('/api/auth/me', {
    schema: { tags: ['identity'], summary: 'The signed-in user', response: { 200: Type.Object({ id: Type.String(), role: Type.String(), unit_code: Type.Union([Type.String(), Type.Null()]), display_name: Type.String() }), 401: ErrorSchema } },
  }, async (req) => {
    const p = requireUser(req)
    return { id: p.userId, role: p.role, unit_code: p.unitCode, display_name: p.displayName }
  })

  app.post('/api/auth/register', {
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
    schema: {
      tags: ['identity'],
      summary: 'Register a citizen account',
      body: Type.Object({ username: Username, password: Type.String({ minLength: 10, maxLength: 256 }), display_name: Type.String({ minLength: 1, maxLength: 120 }), phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{9,15}$' })), email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })) }),
      response: { 201: UserSchema, 400: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req, reply) => {
    const u = await createUser(ctx.db, null, { username: req.body.username, displayName: req.body.display_name, role: 'citizen', unitCode: null, password: req.body.password, phone: req.body.phone, email: req.body.email })
    return reply.status(201).send(presentUser(u))
  })

  app.post('/api/identity/users', {
    // Authorization before validation: a caller without the right learns nothing about the body.
    preValidation: async (req) => void requireUser(req, 'unit_admin', 'province_admin'),
    schema: {
      tags: ['identity'],
      summary: 'Create an account (unit admin: officers of their unit; province admin: any)',
      body: Type.Object({ username: Username, password: Type.String({ minLength: 10, maxLength: 256 }), display_name: Type.String({ minLength: 1, maxLength: 120 }), role: Type.Union(ROLES.map((r) => Type.Literal(r))), unit_code: Type.Optional(Type.String({ maxLength: 32 })) }),
      response: { 201: UserSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'unit_admin', 'province_admin')
    const u = await createUser(ctx.db, p, { username: req.body.username, displayName: req.body.display_name, role: req.body.role as Role, unitCode: req.body.unit_code ?? null, password: req.body.password })
    return reply.status(201).send(presentUser(u))
  })

  app.get('/api/identity/users', {
    schema: {
      tags: ['identity'],
      summary: 'List accounts (unit admin: own unit; province admin: all)',
      querystring: Type.Object({ unit_code: Type.Optional(Type.String({ maxLength: 32 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), after: Type.Optional(Type.String({ maxLength: 64 })) }),
      response: { 200: Type.Object({ items: Type.Array(UserSchema), next: Type.Union([Type.String(), Type.Null()]) }), 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const p = requireUser(req, 'unit_admin', 'province_admin')
    const unitCode = p.role === 'unit_admin' ? p.unitCode! : req.query.unit_code
    const rows = await listUsers(ctx.db, { unitCode, limit: req.query.limit, afterUsername: req.query.after })
    return { items: rows.map(presentUser), next: rows.length === req.query.limit ? rows[rows.length - 1].username : null }
  })

  app.post('/api/identity/clients', {
    preValidation: async (req) => void requireUser(req, 'province_admin'),
    schema: {
      tags: ['identity'],
      summary: 'Register a machine client; the API key is returned once',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120 }), unit_code: Type.Optional(Type.String({ maxLength: 32 })), scopes: Type.Array(Type.String({ pattern: '^[a-z0-9_.:-]{1,64}$' }), { maxItems: 20, default: [] }) }),
      response: { 201: Type.Object({ id: Type.String(), api_key: Type.String() }), 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const c = await createApiClient(ctx.db, p, { name: req.body.name, unitCode: req.body.unit_code ?? null, scopes: req.body.scopes })
    return reply.status(201).send({ id: c.id, api_key: c.apiKey })
  })

  app.get('/api/identity/units', {
    schema: {
      tags: ['identity'],
      summary: 'Organisational units: province, communes (UBND xã/phường) and departments (sở)',
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String(), kind: Type.String(), parent_code: Type.Union([Type.String(), Type.Null()]) })) }) },
    },
  }, async () => ({ items: await listOrgUnits(ctx.db) }))
}
