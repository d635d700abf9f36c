import { createReadStream, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { canSeeUnit, isStaff, requireUser, type Principal } from '../../platform/auth/principal.ts'
import { badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { documentsLinkedTo } from '../documents/index.ts'
import { listCategories, saveCategory } from './categories.ts'
import { decodeCursor, encodeCursor, parseBbox, parseInstant } from './feed-cursor.ts'
import { CHANNELS, submitReport, type ReportSubmission } from './intake.ts'
import { readMultipartSubmission } from './multipart-body.ts'
import { presentFeature, presentInternal, presentPublic, presentPublicTimeline } from './presenters.ts'
import { addSupporter, findNearbyOpen, getReportByCode, listHistory, listPhotos, listReports, OPEN_STATUSES, type ReportRow, type ReportStatus } from './repository.ts'
import { CITIZEN_ACTIONS, STAFF_ACTIONS, applyReportAction, type ReportAction } from './workflow.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { actorOf } from '../../platform/auth/principal.ts'

const STATUSES = ['received', 'assigned', 'in_progress', 'resolved', 'rejected', 'closed'] as const
const Lat = Type.Number({ minimum: -90, maximum: 90 })
const Lon = Type.Number({ minimum: -180, maximum: 180 })

export const SubmissionSchema = Type.Object({
  category: Type.String({ minLength: 1, maxLength: 64 }),
  description: Type.String({ minLength: 3, maxLength: 4000 }),
  channel: Type.Union(CHANNELS.map((c) => Type.Literal(c)), { default: 'web' }),
  // Range checks happen in intake, which can tell a swapped pair from a wrong one.
  lat: Type.Optional(Type.Number()),
  lon: Type.Optional(Type.Number()),
  commune_code: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })),
  address_text: Type.Optional(Type.String({ maxLength: 300 })),
  anonymous: Type.Boolean({ default: false }),
  share_identity: Type.Boolean({ default: false }),
  contact: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.String({ maxLength: 120 })),
      phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' })),
      email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
    }),
  ),
  photos: Type.Optional(Type.Array(Type.Unsafe<{ name: string; data: Buffer }>({ description: 'multipart file parts named "photos" (JPEG, PNG or WebP, ≤ 10 MB each)' }), { maxItems: 3 })),
})

const Answer = Type.Object({
  code: Type.String(),
  status: Type.String(),
  unit: Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String() }),
  commune: Type.Union([Type.Object({ code: Type.String(), name: Type.String() }), Type.Null()]),
  locate_status: Type.String(),
  near_border: Type.Boolean(),
  due_at: Type.String(),
  state_due_at: Type.String(),
  possible_duplicates: Type.Array(Type.Object({ code: Type.String(), distance_m: Type.Number(), status: Type.String(), description: Type.String() })),
})

const FeedQuery = Type.Object({
  bbox: Type.Optional(Type.String({ description: 'minLon,minLat,maxLon,maxLat', maxLength: 100 })),
  category: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Optional(Type.String({ description: 'comma-separated statuses', maxLength: 100 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  commune_code: Type.Optional(Type.String({ maxLength: 10 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
})

function parseStatuses(s: string | undefined): ReportStatus[] | undefined {
  if (!s) return undefined
  const list = s.split(',').map((x) => x.trim())
  for (const x of list) if (!(STATUSES as readonly string[]).includes(x)) throw badRequest('INVALID_STATUS', `Trạng thái "${x}" không hợp lệ.`, `Unknown status "${x}".`)
  return list as ReportStatus[]
}

function feedFilter(q: Static<typeof FeedQuery>) {
  return {
    bbox: parseBbox(q.bbox),
    category: q.category,
    status: parseStatuses(q.status),
    from: parseInstant(q.from, 'from'),
    to: parseInstant(q.to, 'to'),
    communeCode: q.commune_code,
    after: decodeCursor(q.cursor),
    limit: q.limit,
  }
}

const page = (rows: ReportRow[], limit: number) => (rows.length === limit ? encodeCursor(rows[rows.length - 1]) : null)

/** Who may see the internal view of a report: its unit's staff, province admins. */
function internalViewer(p: Principal | null, r: ReportRow): boolean {
  return canSeeUnit(p, r.unit_code)
}

export async function reportsRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // The node's province: every read of reports by code names it (routed to one shard on Citus).
  const province = ctx.config.provinceCode

  app.get('/api/reports/categories', {
    schema: { tags: ['reports'], summary: 'Report categories (lĩnh vực phản ánh) and how each is handled', response: { 200: Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String(), icon: Type.String(), handling: Type.String(), department_code: Type.Union([Type.String(), Type.Null()]), deadlines: Type.Record(Type.String(), Type.Number()) })) }) } },
  }, async () => ({ items: await listCategories(ctx.db) }))

  const Hours = Type.Number({ minimum: 0.5, maximum: 2000 })
  app.put('/api/reports/categories/:code', {
    preValidation: async (req) => void requireUser(req, 'province_admin'),
    schema: {
      tags: ['reports'],
      summary: 'Create or change a report category (province admin); deadlines are working hours per state',
      params: Type.Object({ code: Type.String({ pattern: '^[a-z][a-z0-9_]{1,40}$' }) }),
      body: Type.Object({
        name_vi: Type.String({ minLength: 1, maxLength: 200 }),
        name_en: Type.String({ minLength: 1, maxLength: 200 }),
        icon: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }),
        handling: Type.Union([Type.Literal('commune'), Type.Literal('department')]),
        department_code: Type.Union([Type.String({ maxLength: 32 }), Type.Null()], { default: null }),
        deadlines: Type.Object({ received: Hours, assigned: Hours, in_progress: Hours }),
        sort_order: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
        active: Type.Boolean({ default: true }),
      }),
      response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    return saveCategory(ctx.db, { code: req.params.code, ...req.body, department_code: req.body.department_code ?? null }, actorOf(p))
  })

  app.post('/api/reports', {
    preValidation: async (req) => {
      if (req.isMultipart()) (req as { body: unknown }).body = await readMultipartSubmission(req)
      else if (req.body && typeof req.body === 'object' && 'photos' in req.body) {
        throw badRequest('PHOTOS_NEED_MULTIPART', 'Gửi ảnh bằng multipart/form-data.', 'Send photos as multipart/form-data parts named "photos".')
      }
    },
    schema: {
      tags: ['reports'],
      summary: 'Send a field report (phản ánh hiện trường); routed to the commune or department in the same request',
      description: 'JSON, or multipart/form-data with the same fields and up to 3 files named "photos". Send an Idempotency-Key header to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: SubmissionSchema,
      response: { 201: Answer, 400: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const p = req.principal
    const body = req.body as ReportSubmission
    if ((body.channel === 'sms' || body.channel === 'hotline') && !(isStaff(p) || p?.kind === 'client')) {
      throw forbidden('Only operators and gateways may submit SMS or hotline reports.', 'Chỉ tổng đài viên hoặc cổng SMS được gửi phản ánh qua SMS/đường dây nóng.')
    }
    if (body.channel === 'open311' && p?.kind !== 'client') body.channel = 'web'
    const scope = `POST /api/reports|${p ? actorOf(p) : 'anonymous'}`
    const r = await submitReport({ db: ctx.db, uploadDir: ctx.config.uploadDir, provinceCode: ctx.config.provinceCode, now: ctx.clock() }, body, p, { scope, key })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/reports', {
    schema: { tags: ['reports'], summary: 'Public feed of reports (no personal data), newest first, keyset paging', querystring: FeedQuery, response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorSchema } },
  }, async (req) => {
    const rows = await listReports(ctx.readDb, province, feedFilter(req.query))
    return { items: rows.map((r) => presentPublic(r)), next_cursor: page(rows, req.query.limit) }
  })

  app.get('/api/reports.geojson', {
    schema: { tags: ['reports'], summary: 'Public feed as GeoJSON (same filters)', querystring: FeedQuery, response: { 200: Type.Unknown(), 400: ErrorSchema } },
  }, async (req, reply) => {
    const rows = await listReports(ctx.readDb, province, feedFilter(req.query))
    reply.type('application/geo+json; charset=utf-8')
    return { type: 'FeatureCollection', features: rows.filter((r) => r.lat !== null).map(presentFeature), next_cursor: page(rows, req.query.limit) }
  })

  app.get('/api/reports/nearby', {
    schema: { tags: ['reports'], summary: 'Open reports near a point (to say "me too" instead of sending a duplicate)', querystring: Type.Object({ lat: Lat, lon: Lon, category: Type.Optional(Type.String({ maxLength: 64 })), radius_m: Type.Integer({ minimum: 10, maximum: 2000, default: 250 }) }), response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), 400: ErrorSchema } },
  }, async (req) => {
    const rows = await findNearbyOpen(ctx.readDb, province, { lat: req.query.lat, lon: req.query.lon, category: req.query.category, meters: req.query.radius_m, limit: 20 })
    return { items: rows.map((r) => ({ ...presentPublic(r), distance_m: Math.round(r.distance_m) })) }
  })

  app.get('/api/reports/queue', {
    schema: {
      tags: ['reports'],
      summary: "The unit's work queue (officers: their unit; province admins: any unit or all)",
      querystring: Type.Object({ unit_code: Type.Optional(Type.String({ maxLength: 32 })), status: Type.Optional(Type.String({ maxLength: 100 })), overdue: Type.Optional(Type.Boolean()), cursor: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    const unitCode = p.role === 'province_admin' ? req.query.unit_code : p.unitCode!
    if (p.role !== 'province_admin' && req.query.unit_code && req.query.unit_code !== p.unitCode) throw forbidden()
    const rows = await listReports(ctx.db, province, { unitCode, status: parseStatuses(req.query.status) ?? OPEN_STATUSES, overdueAt: req.query.overdue ? ctx.clock() : undefined, after: decodeCursor(req.query.cursor), limit: req.query.limit })
    return { items: rows.map((r) => presentInternal(r, [], [], p)), next_cursor: page(rows, req.query.limit) }
  })

  app.get('/api/reports/mine', {
    schema: { tags: ['reports'], summary: "The signed-in citizen's own reports", querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }), response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 401: ErrorSchema } },
  }, async (req) => {
    const p = requireUser(req)
    const rows = await listReports(ctx.db, province, { reporterUserId: p.userId, after: decodeCursor(req.query.cursor), limit: req.query.limit, includeMerged: true })
    return { items: rows.map((r) => ({ ...presentPublic(r), reporter: { name: r.reporter_name, phone: r.reporter_phone, email: r.reporter_email } })), next_cursor: page(rows, req.query.limit) }
  })

  const CodeParams = Type.Object({ code: Type.String({ pattern: '^PA-[0-9]{4}-[0-9]{6,}$' }) })

  app.get('/api/reports/:code', {
    schema: { tags: ['reports'], summary: 'One report: public view; the handling unit gets the internal view; the reporter also sees their contact details', params: CodeParams, response: { 200: Type.Unknown(), 400: ErrorSchema, 404: ErrorSchema } },
  }, async (req) => {
    const r = await getReportByCode(ctx.db, province, req.params.code)
    if (!r) throw notFound('Report', 'phản ánh')
    const [photos, history] = await Promise.all([listPhotos(ctx.db, province, r.id), listHistory(ctx.db, province, r.id)])
    const p = req.principal
    if (internalViewer(p, r)) return { view: 'internal', ...presentInternal(r, photos, history, p), linked_documents: await documentsLinkedTo(ctx.db, province, 'report', r.code) }
    const base = { view: 'public', ...presentPublic(r, photos), timeline: presentPublicTimeline(history) }
    if (p?.kind === 'user' && p.userId === r.reporter_user_id) return { ...base, view: 'owner', reporter: { name: r.reporter_name, phone: r.reporter_phone, email: r.reporter_email } }
    return base
  })

  app.post('/api/reports/:code/support', {
    schema: {
      tags: ['reports'],
      summary: '"Me too": support an open report instead of sending a duplicate (one per user or device)',
      params: CodeParams,
      headers: Type.Object({ 'x-device-id': Type.Optional(Type.String({ minLength: 8, maxLength: 100 })) }),
      response: { 200: Type.Object({ code: Type.String(), supporters_count: Type.Integer(), added: Type.Boolean() }), 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req) => {
    const p = req.principal
    const device = req.headers['x-device-id']
    const supporterKey = p ? actorOf(p) : device ? `device:${device}` : undefined
    if (!supporterKey) throw badRequest('SUPPORTER_REQUIRED', 'Cần đăng nhập hoặc gửi mã thiết bị (X-Device-Id).', 'Sign in or send an X-Device-Id header.')
    return ctx.db.transaction().execute(async (tx) => {
      const r = await getReportByCode(tx, province, req.params.code, { forUpdate: true })
      if (!r) throw notFound('Report', 'phản ánh')
      if (!OPEN_STATUSES.includes(r.status)) throw badRequest('REPORT_NOT_OPEN', 'Phản ánh đã được xử lý xong.', 'This report is no longer open.')
      const added = await addSupporter(tx, province, r.id, supporterKey)
      if (added) await appendAudit(tx, { actor: actorOf(p), action: 'report.supported', entityType: 'report', entityId: r.code, data: {} }, ctx.clock())
      return { code: r.code, supporters_count: r.supporters_count + (added ? 1 : 0), added }
    })
  })

  app.post('/api/reports/:code/:action', {
    schema: {
      tags: ['reports'],
      summary: 'Workflow action. Staff of the handling unit: assign, start, resolve, reject, transfer, confirm_location, close, merge. Reporter: rate, reopen.',
      params: Type.Object({ code: CodeParams.properties.code, action: Type.Union([...STAFF_ACTIONS, ...CITIZEN_ACTIONS].map((a) => Type.Literal(a))) }),
      body: Type.Object({
        note: Type.Optional(Type.String({ maxLength: 2000 })),
        answer: Type.Optional(Type.String({ maxLength: 4000 })),
        reason: Type.Optional(Type.String({ maxLength: 2000 })),
        to_unit: Type.Optional(Type.String({ maxLength: 32 })),
        lat: Type.Optional(Lat),
        lon: Type.Optional(Lon),
        assignee_user_id: Type.Optional(Type.String({ format: 'uuid' })),
        outcome: Type.Optional(Type.Union([Type.Literal('fixed'), Type.Literal('not_fixed')])),
        rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
        comment: Type.Optional(Type.String({ maxLength: 1000 })),
        into_code: Type.Optional(CodeParams.properties.code),
        issue_document: Type.Optional(Type.Boolean()),
        signer: Type.Optional(Type.String({ maxLength: 120 })),
      }),
      response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req) => {
    requireUser(req)
    const r = await applyReportAction({ db: ctx.db, now: ctx.clock(), provinceCode: ctx.config.provinceCode, uploadDir: ctx.config.uploadDir }, req.params.code, req.params.action as ReportAction, req.body ?? {}, req.principal)
    const [photos, history] = await Promise.all([listPhotos(ctx.db, province, r.id), listHistory(ctx.db, province, r.id)])
    return internalViewer(req.principal, r) ? { view: 'internal', ...presentInternal(r, photos, history, req.principal) } : { view: 'owner', ...presentPublic(r, photos), timeline: presentPublicTimeline(history) }
  })

  const PhotoParams = Type.Object({ code: CodeParams.properties.code, seq: Type.Integer({ minimum: 0, maximum: 2 }) })
  for (const variant of ['full', 'thumb'] as const) {
    app.get(variant === 'full' ? '/api/reports/:code/photos/:seq' : '/api/reports/:code/photos/:seq/thumb', {
      schema: { tags: ['reports'], summary: variant === 'full' ? 'A report photo (EXIF removed)' : 'A report photo thumbnail', params: PhotoParams, response: { 200: Type.Unknown(), 404: ErrorSchema } },
    }, async (req, reply) => {
      const r = await getReportByCode(ctx.db, province, req.params.code)
      const photo = r && (await listPhotos(ctx.db, province, r.id)).find((x) => x.seq === req.params.seq)
      if (!photo) throw notFound('Photo', 'ảnh')
      const path = join(ctx.config.uploadDir, variant === 'full' ? photo.file_name : photo.thumb_name)
      if (!existsSync(path)) throw notFound('Photo file', 'tệp ảnh')
      reply.header('cache-control', 'public, max-age=86400, immutable').type(variant === 'full' ? photo.mime : 'image/jpeg')
      return reply.send(createReadStream(path))
    })
  }
}
