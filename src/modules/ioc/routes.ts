import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requireUser, type UserPrincipal } from '../../platform/auth/principal.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { badRequest, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { previousMonth, viewForUnit, type AnalysisResult } from './analysis.ts'
import { AnswerCache } from './answer-cache.ts'
import type { IocConfig } from './config.ts'
import { importDx, listDx, parseDxCsv } from './dx.ts'
import { indicators766, load766Config, reportIndicators, type Period, type ReportGroup } from './indicators.ts'
import { analysisHtml, analysisPdf } from './render.ts'
import { getAnalysis, listAnalyses } from './repository.ts'
import { prepareAnalysis, storeAnalysis } from './service.ts'
import { getSubscription, removeSubscription, saveSubscription, SUBSCRIPTION_CHANNELS, type Subscription } from './subscriptions.ts'

const DateParam = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (Asia/Ho_Chi_Minh)' })
const UnitParam = Type.String({ pattern: '^[0-9A-Za-z._-]{1,32}$' })
const IdParam = Type.String({ format: 'uuid' })
const MonthParam = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' })
const MAX_SPAN_DAYS = 3 * 366
/** Roles that see every unit in an analysis; officers see the province and their own unit. */
const ANALYSIS_ROLES = ['officer', 'unit_admin', 'province_admin', 'ioc_viewer'] as const

function vnToday(now: Date): string {
  return new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
}

/** A checked period: defaults to the last 30 days; at most three years. */
export function parsePeriod(q: { from?: string; to?: string }, now: Date): Period {
  const to = q.to ?? vnToday(now)
  const from = q.from ?? vnToday(new Date(new Date(`${to}T00:00:00Z`).getTime() - 29 * 86_400_000 - 7 * 3600_000))
  const valid = (s: string) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s
  if (!valid(from) || !valid(to)) throw badRequest('INVALID_DATE', 'Ngày không hợp lệ.', 'Invalid date.')
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000
  if (span < 0) throw badRequest('INVALID_PERIOD', 'Ngày bắt đầu phải trước ngày kết thúc.', '"from" must not be after "to".')
  if (span > MAX_SPAN_DAYS) throw badRequest('PERIOD_TOO_LONG', 'Khoảng thời gian tối đa 3 năm.', 'The period may span at most three years.')
  return { from, to }
}

export async function iocRoutes(fastify: FastifyInstance, ctx: AppContext, cfg: IocConfig): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const config766 = load766Config(cfg.indicators766File)
  const viewer = (req: FastifyRequest) => requireUser(req, ...ANALYSIS_ROLES)
  const seesAll = (p: UserPrincipal) => p.role === 'province_admin' || p.role === 'ioc_viewer'
  const answers = new AnswerCache<unknown>(cfg.indicatorCacheMs)

  app.get('/api/ioc/indicators/766', {
    schema: {
      tags: ['ioc'], summary: 'Decision 766/QĐ-TTg service indicators, live from the roll-ups, for the province and each unit (public)',
      querystring: Type.Object({ from: Type.Optional(DateParam), to: Type.Optional(DateParam), unit: Type.Optional(UnitParam) }),
      response: { 200: Type.Unknown(), 400: ErrorSchema },
    },
  }, async (req) => {
    const period = parsePeriod(req.query, ctx.clock())
    return answers.get(`766|${period.from}|${period.to}|${req.query.unit ?? ''}`, async () => ({ basis: config766.basis, ...(await indicators766(ctx.readDb, config766.indicators, period, ctx.clock(), req.query.unit)) }))
  })

  app.get('/api/ioc/indicators/reports', {
    schema: {
      tags: ['ioc'], summary: 'Field-report indicators (received, on time, overdue, satisfaction, median time to resolve) by unit, category or commune (public)',
      querystring: Type.Object({ from: Type.Optional(DateParam), to: Type.Optional(DateParam), unit: Type.Optional(UnitParam), group: Type.Optional(Type.Union([Type.Literal('unit'), Type.Literal('category'), Type.Literal('commune')])) }),
      response: { 200: Type.Unknown(), 400: ErrorSchema },
    },
  }, async (req) => {
    const period = parsePeriod(req.query, ctx.clock())
    const group = (req.query.group ?? 'unit') as ReportGroup
    return answers.get(`reports|${period.from}|${period.to}|${group}|${req.query.unit ?? ''}`, () => reportIndicators(ctx.readDb, period, ctx.clock(), group, req.query.unit))
  })

  app.get('/api/ioc/indicators/dx', {
    schema: { tags: ['ioc'], summary: 'Provincial digital-transformation indicators with period, source, method, target and history (public)', response: { 200: Type.Unknown() } },
  }, async () => ({ items: await listDx(ctx.readDb) }))

  app.post('/api/ioc/indicators/dx/import', {
    bodyLimit: 1_048_576,
    preValidation: async (req) => { requireUser(req, 'province_admin') },
    schema: {
      tags: ['ioc'], summary: 'Import DX indicator values from CSV (province admin). Columns: code,name_vi,name_en,unit,direction,period,value,target,source,method. Send an Idempotency-Key to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ csv: Type.String({ minLength: 1, maxLength: 1_000_000 }) }),
      response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const rows = parseDxCsv(req.body.csv)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: 'ioc.dx.import', key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const result = await importDx(tx, rows)
      await appendAudit(tx, { actor: actorOf(p), action: 'ioc.dx_imported', entityType: 'ioc_dx', entityId: 'registry', data: { ...result, codes: [...new Set(rows.map((x) => x.code))] } }, ctx.clock())
      return { statusCode: 200, body: result }
    })
    return reply.code(r.statusCode as 200).send(r.body)
  })

  const presentSubscription = (s: Subscription | undefined) => (s ? { subscribed: true, channels: s.channels, email: s.email, updated_at: new Date(s.updated_at).toISOString() } : { subscribed: false, channels: [], email: null, updated_at: null })
  const SubscriptionOut = Type.Object({ subscribed: Type.Boolean(), channels: Type.Array(Type.String()), email: Type.Union([Type.String(), Type.Null()]), updated_at: Type.Union([Type.String(), Type.Null()]) })

  app.get('/api/ioc/subscription', {
    preValidation: async (req) => { viewer(req) },
    schema: { tags: ['ioc'], summary: 'My subscription to the monthly analysis (staff and IOC viewers)', response: { 200: SubscriptionOut, 401: ErrorSchema, 403: ErrorSchema } },
  }, async (req) => presentSubscription(await getSubscription(ctx.db, viewer(req).userId)))

  app.put('/api/ioc/subscription', {
    bodyLimit: 4096,
    preValidation: async (req) => { viewer(req) },
    schema: {
      tags: ['ioc'], summary: 'Subscribe to the monthly analysis: by e-mail (PDF attached, with a link) and/or in the in-app inbox. You receive what your role may see.',
      body: Type.Object({ channels: Type.Array(Type.Union(SUBSCRIPTION_CHANNELS.map((c) => Type.Literal(c))), { minItems: 1, maxItems: 2 }), email: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])) }),
      response: { 200: SubscriptionOut, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const p = viewer(req)
    return presentSubscription(await ctx.db.transaction().execute((tx) => saveSubscription(tx, p.userId, req.body, actorOf(p), ctx.clock())))
  })

  app.delete('/api/ioc/subscription', {
    preValidation: async (req) => { viewer(req) },
    schema: { tags: ['ioc'], summary: 'Stop receiving the monthly analysis', response: { 200: SubscriptionOut, 401: ErrorSchema, 403: ErrorSchema } },
  }, async (req) => {
    const p = viewer(req)
    await ctx.db.transaction().execute((tx) => removeSubscription(tx, p.userId, actorOf(p), ctx.clock()))
    return presentSubscription(undefined)
  })

  app.get('/api/ioc/analyses', {
    preValidation: async (req) => { viewer(req) },
    schema: {
      tags: ['ioc'], summary: 'Monthly analyses, newest first (staff and IOC viewers)',
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), offset: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }) }),
      response: { 200: Type.Unknown(), 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => ({ items: (await listAnalyses(ctx.db, req.query.limit, req.query.offset)).map((a) => ({ ...a, created_at: a.created_at.toISOString() })) }))

  app.post('/api/ioc/analyses', {
    bodyLimit: 4096,
    preValidation: async (req) => { requireUser(req, 'province_admin') },
    schema: {
      tags: ['ioc'], summary: 'Run the monthly analysis now (province admin); the month before today by default. Send an Idempotency-Key to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Optional(Type.Object({ period: Type.Optional(MonthParam) })),
      response: { 201: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const now = ctx.clock()
    const period = req.body?.period ?? previousMonth(now)
    if (period > vnToday(now).slice(0, 7)) throw badRequest('FUTURE_PERIOD', 'Không phân tích tháng chưa đến.', 'Cannot analyse a month that has not started.')
    const prepared = await prepareAnalysis(ctx.db, cfg, period, now)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: 'ioc.analysis', key, fingerprint: requestFingerprint({ period }) }, async (tx) => {
      const id = await storeAnalysis(tx, { period, trigger: 'on_demand', actor: actorOf(p), now, result: prepared.result, narrative: prepared.narrative })
      return { statusCode: 201, body: { id, period, recommendations: prepared.result.recommendations.length, narrative_error: prepared.narrativeError } }
    })
    return reply.code(r.statusCode as 201).send(r.body)
  })

  const load = async (req: FastifyRequest, id: string) => {
    const p = viewer(req)
    const row = await getAnalysis(ctx.db, id)
    if (!row) throw notFound('Analysis', 'Bản phân tích')
    const result: AnalysisResult = seesAll(p) ? row.result : viewForUnit(row.result, p.unitCode ?? '')
    return { ...result, id: row.id, trigger: row.trigger, created_by: row.created_by, narrative: seesAll(p) ? row.narrative : null }
  }

  app.get('/api/ioc/analyses/:id.pdf', {
    preValidation: async (req) => { viewer(req) },
    schema: { tags: ['ioc'], summary: 'A monthly analysis as PDF with charts (staff: province and own unit; IOC viewers: all)', params: Type.Object({ id: IdParam }), response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req, reply) => {
    const a = await load(req, req.params.id)
    const pdf = await analysisPdf(a)
    return reply.type('application/pdf').header('content-disposition', `inline; filename="ioc-${a.period}.pdf"`).header('cache-control', 'private, no-store').send(pdf)
  })

  app.get('/api/ioc/analyses/:id.html', {
    preValidation: async (req) => { viewer(req) },
    schema: { tags: ['ioc'], summary: 'A monthly analysis as a web page', params: Type.Object({ id: IdParam }), response: { 200: Type.String(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req, reply) => {
    const a = await load(req, req.params.id)
    return reply.type('text/html; charset=utf-8').header('cache-control', 'private, no-store').send(analysisHtml(a))
  })

  app.get('/api/ioc/analyses/:id', {
    preValidation: async (req) => { viewer(req) },
    schema: { tags: ['ioc'], summary: 'A monthly analysis as JSON (staff: province and own unit; IOC viewers: all)', params: Type.Object({ id: IdParam }), response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req) => load(req, req.params.id))
}
