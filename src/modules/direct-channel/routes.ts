import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { actorOf, canSeeUnit, isStaff, requireUser, type Principal } from '../../platform/auth/principal.ts'
import { badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { getGuide, guidesEtag, listGuides, presentGuide, saveGuide } from './guides.ts'
import { changeNoticeStatus, createNotice, getNotice, listPublishedNotices, listUnitNotices, NOTICE_KINDS, presentNotice, type NoticeKind } from './notices.ts'
import {
  answerQuestion, canHandle, getQuestion, listMine, listQueue, listTopics, presentInternalQuestion, presentOwnQuestion, presentPublicQuestion,
  rejectQuestion, searchPublished, submitQuestion, transferQuestion, type QuestionInput,
} from './questions.ts'

const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
const Page = { limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), offset: Type.Integer({ minimum: 0, maximum: 10000, default: 0 }) }
const QCode = Type.Object({ code: Type.String({ pattern: '^HD-[0-9]{4}-[0-9]{6,}$' }) })
const NoticeId = Type.Object({ id: Type.String({ format: 'uuid' }) })
const SlugParam = Type.Object({ slug: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,80}$' }) })
const staff = async (req: Parameters<typeof requireUser>[0]) => void requireUser(req, 'officer', 'unit_admin', 'province_admin')
const Idem = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) })

export async function directChannelRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  // ---- Questions (hỏi đáp) ----
  app.get('/api/questions/topics', {
    schema: { tags: ['direct-channel'], summary: 'Question topics, the department answering each and its deadline in working days', response: { 200: Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String(), unit_code: Type.String(), answer_days: Type.Integer() })) }) } },
  }, async () => ({ items: await listTopics(ctx.db) }))

  app.post('/api/questions', {
    schema: {
      tags: ['direct-channel'],
      summary: 'Ask the province a question (people and businesses); routed to the responsible department with a deadline in working days',
      headers: Idem,
      body: Type.Object({
        topic: Type.String({ minLength: 1, maxLength: 64 }),
        title: Type.String({ minLength: 5, maxLength: 200 }),
        body: Type.String({ minLength: 10, maxLength: 5000 }),
        asker_kind: Type.Union([Type.Literal('person'), Type.Literal('business')], { default: 'person' }),
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
        phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
        business_name: Type.Optional(Type.String({ maxLength: 200 })),
        business_tax_code: Type.Optional(Type.String({ pattern: '^[0-9]{10}(-[0-9]{3})?$' })),
        commune_code: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })),
        allow_publish: Type.Boolean({ default: true, description: 'May the question and answer be published (personal data removed)?' }),
      }),
      response: { 201: Type.Object({ code: Type.String(), topic: Type.String(), unit_code: Type.String(), due_at: Type.String() }), ...Errors },
    },
  }, async (req, reply) => {
    const p = req.principal
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `POST /api/questions|${actorOf(p)}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const q = await submitQuestion(tx, req.body as QuestionInput, p, ctx.clock())
      return { statusCode: 201, body: { code: q.code, topic: q.topic, unit_code: q.unit_code, due_at: new Date(q.due_at).toISOString() } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/questions', {
    schema: {
      tags: ['direct-channel'],
      summary: 'Published questions with their answers (personal data removed); q searches without regard to diacritics',
      querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), topic: Type.Optional(Type.String({ maxLength: 64 })), ...Page }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), 400: ErrorSchema },
    },
  }, async (req) => ({ items: (await searchPublished(ctx.db, req.query)).map(presentPublicQuestion) }))

  app.get('/api/questions/queue', {
    preValidation: staff,
    schema: {
      tags: ['direct-channel'],
      summary: 'Questions for your unit to answer, earliest deadline first (province admins: any unit)',
      querystring: Type.Object({ unit_code: Type.Optional(Type.String({ maxLength: 32 })), status: Type.Union([Type.Literal('received'), Type.Literal('answered'), Type.Literal('rejected')], { default: 'received' }), overdue: Type.Optional(Type.Boolean()), ...Page }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    if (p.role !== 'province_admin' && req.query.unit_code && req.query.unit_code !== p.unitCode) throw forbidden()
    const unit = p.role === 'province_admin' ? req.query.unit_code : p.unitCode!
    const now = ctx.clock()
    return { items: (await listQueue(ctx.db, { unitCode: unit, status: req.query.status, overdueAt: req.query.overdue ? now : undefined, limit: req.query.limit, offset: req.query.offset })).map((q) => presentInternalQuestion(q, now)) }
  })

  app.get('/api/questions/mine', {
    preValidation: async (req) => void requireUser(req),
    schema: { tags: ['direct-channel'], summary: 'Questions the signed-in person asked', querystring: Type.Object(Page), response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...Errors } },
  }, async (req) => {
    const p = requireUser(req)
    return { items: (await listMine(ctx.db, p.userId, req.query.limit, req.query.offset)).map(presentOwnQuestion) }
  })

  app.get('/api/questions/:code', {
    schema: { tags: ['direct-channel'], summary: 'A question: the public view once published; the asker’s own view; the responsible unit’s internal view', params: QCode, response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const q = await getQuestion(ctx.db, req.params.code)
    const p = req.principal
    if (q && canHandle(p, q)) return { view: 'internal', ...presentInternalQuestion(q, ctx.clock()) }
    if (q && p?.kind === 'user' && q.asker_user_id === p.userId) return { view: 'owner', ...presentOwnQuestion(q) }
    if (q && q.published_at) return { view: 'public', ...presentPublicQuestion(q) }
    throw notFound('Question', 'câu hỏi')
  })

  const handle = (action: 'answer' | 'transfer' | 'reject') => async (req: { params: { code: string }; body: Record<string, unknown>; principal: Principal | null }) => {
    const now = ctx.clock()
    const q = await ctx.db.transaction().execute((tx) => {
      if (action === 'answer') return answerQuestion(tx, req.params.code, { answer: req.body.answer as string, publish: req.body.publish as boolean }, req.principal, now)
      if (action === 'transfer') return transferQuestion(tx, req.params.code, req.body.topic as string, req.body.note as string | undefined, req.principal, now)
      return rejectQuestion(tx, req.params.code, req.body.reason as string, req.principal, now)
    })
    return presentInternalQuestion(q, now)
  }

  app.post('/api/questions/:code/answer', {
    preValidation: staff,
    schema: { tags: ['direct-channel'], summary: 'Answer a question (the responsible unit); publish it with the answer, personal data removed, if the asker agreed', params: QCode, body: Type.Object({ answer: Type.String({ minLength: 5, maxLength: 10000 }), publish: Type.Boolean({ default: true }) }), response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => handle('answer')(req as never))

  app.post('/api/questions/:code/transfer', {
    preValidation: staff,
    schema: { tags: ['direct-channel'], summary: 'Send a wrongly routed question to another topic’s department (the deadline stays)', params: QCode, body: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 64 }), note: Type.Optional(Type.String({ maxLength: 1000 })) }), response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => handle('transfer')(req as never))

  app.post('/api/questions/:code/reject', {
    preValidation: staff,
    schema: { tags: ['direct-channel'], summary: 'Decline a question (out of scope, abusive) with a reason', params: QCode, body: Type.Object({ reason: Type.String({ minLength: 5, maxLength: 2000 }) }), response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => handle('reject')(req as never))

  // ---- Notices and events (thông báo, sự kiện) ----
  app.get('/api/notices', {
    schema: {
      tags: ['direct-channel'],
      summary: 'Published notices and events for the whole province and, with commune_code, those targeting that commune',
      querystring: Type.Object({ commune_code: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })), kind: Type.Optional(Type.Union(NOTICE_KINDS.map((k) => Type.Literal(k)))), include_ended: Type.Boolean({ default: false }), ...Page }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), 400: ErrorSchema },
    },
  }, async (req) => ({ items: (await listPublishedNotices(ctx.db, { communeCode: req.query.commune_code, kind: req.query.kind as NoticeKind | undefined, includeEnded: req.query.include_ended, now: ctx.clock(), limit: req.query.limit, offset: req.query.offset })).map((n) => presentNotice(n, false)) }))

  app.get('/api/notices/unit', {
    preValidation: staff,
    schema: { tags: ['direct-channel'], summary: 'Your unit’s notices, drafts included (province admins: all)', querystring: Type.Object(Page), response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...Errors } },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    return { items: (await listUnitNotices(ctx.db, p.role === 'province_admin' ? undefined : p.unitCode!, req.query.limit, req.query.offset)).map((n) => presentNotice(n, true)) }
  })

  app.post('/api/notices', {
    preValidation: staff,
    schema: {
      tags: ['direct-channel'],
      summary: 'Create a notice or event of your unit, targeted at communes (none: whole province); publish now or keep as a draft',
      headers: Idem,
      body: Type.Object({
        kind: Type.Union(NOTICE_KINDS.map((k) => Type.Literal(k))),
        title: Type.String({ minLength: 3, maxLength: 200 }),
        body: Type.String({ minLength: 3, maxLength: 10000 }),
        location: Type.Optional(Type.String({ maxLength: 300 })),
        commune_codes: Type.Array(Type.String({ pattern: '^[0-9]{5}$' }), { maxItems: 200, default: [] }),
        starts_at: Type.Optional(Type.String({ maxLength: 40 })),
        ends_at: Type.Optional(Type.String({ maxLength: 40 })),
        unit_code: Type.Optional(Type.String({ maxLength: 32 })),
        publish: Type.Boolean({ default: false }),
      }),
      response: { 201: Type.Unknown(), ...Errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `POST /api/notices|${actorOf(p)}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => ({ statusCode: 201, body: presentNotice(await createNotice(tx, req.body, p, ctx.clock()), true) }))
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/notices/:id', {
    schema: { tags: ['direct-channel'], summary: 'A notice: anyone once published; drafts and withdrawn ones for the issuing unit', params: NoticeId, response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const n = await getNotice(ctx.db, req.params.id)
    if (n && canSeeUnit(req.principal, n.unit_code)) return presentNotice(n, true)
    if (n && n.status === 'published') return presentNotice(n, false)
    throw notFound('Notice', 'thông báo')
  })

  for (const [action, to] of [['publish', 'published'], ['withdraw', 'withdrawn']] as const) {
    app.post(`/api/notices/:id/${action}`, {
      preValidation: staff,
      schema: { tags: ['direct-channel'], summary: action === 'publish' ? 'Publish a draft (sends notice.published for push notifications)' : 'Withdraw a published notice', params: NoticeId, response: { 200: Type.Unknown(), ...Errors } },
    }, async (req) => {
      const now = ctx.clock()
      return presentNotice(await ctx.db.transaction().execute((tx) => changeNoticeStatus(tx, req.params.id, to, req.principal, now)), true)
    })
  }

  // ---- Digital-skills guides (hướng dẫn kỹ năng số) ----
  const cacheHeaders = { 'cache-control': 'public, max-age=300, stale-while-revalidate=604800' }
  app.get('/api/guides', {
    schema: { tags: ['direct-channel'], summary: 'All guides with their steps and inline illustrations, for the app to cache offline (ETag; If-None-Match gives 304)', response: { 200: Type.Object({ etag: Type.String(), items: Type.Array(Type.Unknown()) }), 304: Type.Null() } },
  }, async (req, reply) => {
    const guides = await listGuides(ctx.db)
    const etag = guidesEtag(guides)
    reply.headers({ ...cacheHeaders, etag })
    if (req.headers['if-none-match'] === etag) return reply.status(304).send(null)
    return { etag, items: guides.map(presentGuide) }
  })

  app.get('/api/guides/:slug', {
    schema: { tags: ['direct-channel'], summary: 'One guide', params: SlugParam, response: { 200: Type.Unknown(), 304: Type.Null(), ...Errors } },
  }, async (req, reply) => {
    const g = await getGuide(ctx.db, req.params.slug)
    if (!g) throw notFound('Guide', 'hướng dẫn')
    const etag = guidesEtag([g])
    reply.headers({ ...cacheHeaders, etag })
    if (req.headers['if-none-match'] === etag) return reply.status(304).send(null)
    return presentGuide(g)
  })

  const Step = Type.Object({
    title_vi: Type.String({ minLength: 1, maxLength: 200 }),
    title_en: Type.String({ minLength: 1, maxLength: 200 }),
    body_vi: Type.String({ minLength: 1, maxLength: 2000 }),
    body_en: Type.String({ minLength: 1, maxLength: 2000 }),
    illustration_svg: Type.String({ maxLength: 20000, pattern: '^<svg[\\s\\S]*</svg>$' }),
    illustration_alt_vi: Type.String({ minLength: 1, maxLength: 300 }),
  })
  app.put('/api/guides/:slug', {
    preValidation: async (req) => {
      const p = requireUser(req)
      if (!isStaff(p)) throw forbidden()
    },
    schema: {
      tags: ['direct-channel'],
      summary: 'Create or edit a guide (staff); each save is a new version',
      params: SlugParam,
      body: Type.Object({ title_vi: Type.String({ minLength: 1, maxLength: 200 }), title_en: Type.String({ minLength: 1, maxLength: 200 }), summary_vi: Type.String({ maxLength: 1000 }), summary_en: Type.String({ maxLength: 1000 }), steps: Type.Array(Step, { minItems: 1, maxItems: 20 }), sort_order: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })) }),
      response: { 200: Type.Unknown(), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    for (const s of req.body.steps) {
      if (/<script|\son\w+\s*=|javascript:|<foreignObject/i.test(s.illustration_svg)) {
        throw badRequest('UNSAFE_SVG', 'Hình minh hoạ chứa mã không an toàn.', 'The illustration contains scripts or event handlers.')
      }
    }
    return presentGuide(await ctx.db.transaction().execute((tx) => saveGuide(tx, req.params.slug, req.body, actorOf(p), ctx.clock())))
  })
}
