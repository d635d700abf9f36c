import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, isStaff, requireUser, type UserPrincipal } from '../auth/principal.ts'
import { notFound } from '../http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../http/idempotency.ts'
import { ErrorSchema } from '../http/schemas.ts'
import type { AppContext } from '../module.ts'
import { loadNotificationSettings } from './config.ts'
import { countUnread, listDeadLetters, listInbox, markRead, removePushSubscription, savePushSubscription, vapidKeys } from './notifications.ts'

const signedIn = async (req: FastifyRequest) => {
  requireUser(req)
}
const inboxOwner = (p: UserPrincipal) => ({ userId: p.userId, unitCode: p.unitCode, staff: isStaff(p) })

const InboxItem = Type.Object({
  id: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  text: Type.String(),
  link: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  read_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  for_unit: Type.Union([Type.String(), Type.Null()], { description: 'Set when the message is addressed to the staff of a unit' }),
})
const Endpoint = Type.String({ minLength: 10, maxLength: 1000, pattern: '^https?://' })

/** The in-app inbox and the PWA's web push subscriptions. */
export async function notificationRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const settings = loadNotificationSettings(ctx.config.env)
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }

  app.get('/api/notifications', {
    preValidation: signedIn,
    schema: {
      tags: ['notifications'],
      summary: "My in-app inbox (hộp thư thông báo): messages to me and, for staff, to my unit; newest first",
      querystring: Type.Object({
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'Keyset paging: the id of the last item of the previous page' })),
        unread: Type.Optional(Type.Boolean()),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(InboxItem), unread: Type.Integer() }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const items = await listInbox(ctx.db, inboxOwner(p), { beforeId: req.query.before, limit: req.query.limit, unreadOnly: req.query.unread })
    const unread = await countUnread(ctx.db, inboxOwner(p))
    return { items, unread }
  })

  app.post('/api/notifications/:id/read', {
    preValidation: signedIn,
    schema: {
      tags: ['notifications'],
      summary: 'Mark one message of my inbox read',
      params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) }),
      response: { 200: Type.Object({ id: Type.String(), read: Type.Boolean() }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const r = await ctx.db.transaction().execute((tx) => markRead(tx, inboxOwner(p), req.params.id, ctx.clock()))
    if (r === 'not_found') throw notFound('Notification', 'thông báo')
    return { id: req.params.id, read: true }
  })

  app.get('/api/notifications/dead-letters', {
    preValidation: async (req) => {
      requireUser(req, 'province_admin')
    },
    schema: {
      tags: ['notifications'],
      summary: 'Messages given up after their last attempt (province admins), newest first',
      querystring: Type.Object({ before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: {
        200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), message_id: Type.String(), channel: Type.String(), attempts: Type.Integer(), error: Type.String(), created_at: Type.String(), subject: Type.Union([Type.String(), Type.Null()]) })) }),
        ...errors,
      },
    },
  }, async (req) => ({ items: await listDeadLetters(ctx.db, { beforeId: req.query.before, limit: req.query.limit }) }))

  app.get('/api/notifications/push/key', {
    schema: {
      tags: ['notifications'],
      summary: "The server's VAPID public key, for PushManager.subscribe({ applicationServerKey })",
      response: { 200: Type.Object({ public_key: Type.String() }) },
    },
  }, async () => ({ public_key: (await vapidKeys(ctx.db, settings)).publicKey }))

  app.post('/api/notifications/push/subscriptions', {
    preValidation: signedIn,
    schema: {
      tags: ['notifications'],
      summary: "Save this device's web push subscription (PushSubscription.toJSON()) for me",
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        endpoint: Endpoint,
        keys: Type.Object({ p256dh: Type.String({ minLength: 20, maxLength: 200, pattern: '^[A-Za-z0-9_=-]+$' }), auth: Type.String({ minLength: 8, maxLength: 100, pattern: '^[A-Za-z0-9_=-]+$' }) }),
        expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      }),
      response: { 201: Type.Object({ id: Type.String(), endpoint: Type.String() }), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const { endpoint, keys } = req.body
    const r = await runIdempotent(ctx.db, { scope: `POST /api/notifications/push/subscriptions|${actorOf(p)}`, key, fingerprint: requestFingerprint({ endpoint, keys }) }, async (tx) => {
      const id = await savePushSubscription(tx, p.userId, { endpoint, p256dh: keys.p256dh, auth: keys.auth }, ctx.clock())
      return { statusCode: 201, body: { id, endpoint } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

  app.delete('/api/notifications/push/subscriptions', {
    preValidation: signedIn,
    schema: {
      tags: ['notifications'],
      summary: 'Remove my web push subscription with this endpoint (after PushSubscription.unsubscribe())',
      querystring: Type.Object({ endpoint: Endpoint }),
      response: { 204: Type.Null(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req)
    const removed = await ctx.db.transaction().execute((tx) => removePushSubscription(tx, p.userId, req.query.endpoint, ctx.clock()))
    if (!removed) throw notFound('Push subscription', 'đăng ký nhận thông báo đẩy')
    return reply.status(204).send(null)
  })
}
