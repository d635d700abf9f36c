import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Principal } from '../../../platform/auth/principal.ts'
import { AppError, badRequest, notFound } from '../../../platform/http/errors.ts'
import { readIdempotencyKey } from '../../../platform/http/idempotency.ts'
import type { AppContext } from '../../../platform/module.ts'
import { getOrgUnit, principalForApiKey } from '../../identity/index.ts'
import { getCategory, listCategories } from '../categories.ts'
import { submitReport } from '../intake.ts'
import { installOpen311ErrorHandling, listDoc, requestFormat, sendDoc, splitSuffix } from './format.ts'
import {
  dateWindow,
  discoveryDoc,
  parseCodes,
  pickLocale,
  serviceDefinitionDoc,
  serviceNotice,
  serviceRequestsDoc,
  statusesFor,
  toRequestUpdate,
  toService,
  toServiceRequest,
  toSubmission,
  type Lookups,
  type Open311PostBody,
  type UnitName,
} from './mapping.ts'
import { findOpen311Requests, getOpen311Request, listStatusUpdates, type Open311ReportRow } from './repository.ts'

/**
 * Open311 GeoReport v2 at /open311/v2/, with FixMyStreet's GET servicerequestupdates. Every
 * resource answers as `.json` or `.xml` (no suffix: JSON, or XML when Accept asks only for XML).
 * Errors use the spec's shape (see format.ts), in this plugin's scope only.
 *
 * Choices: POST answers 201 Created (FixMyStreet's client accepts any 2xx); a retry is only
 * safe with an Idempotency-Key header (same key + same body → the same service_request_id).
 * Requests are created synchronously, so a token is simply the service_request_id.
 */
export async function open311Routes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => open311Plugin(scope, ctx), { prefix: '/open311/v2' })
}

const SUFFIXES = ['', '.json', '.xml'] as const
const DAY_MS = 86_400_000
/** GET requests: the last 90 days by default, never more than 90 days, at most 1000 per page (the spec's limits). */
const REQUESTS_SPAN_MS = 90 * DAY_MS
/** GET servicerequestupdates: the last 24 hours by default, at most 31 days. */
const UPDATES_DEFAULT_SPAN_MS = DAY_MS
const UPDATES_MAX_SPAN_MS = 31 * DAY_MS

const Common = {
  jurisdiction_id: Type.Optional(Type.String({ maxLength: 100, description: 'Ignored: this endpoint serves one jurisdiction (Điện Biên).' })),
  api_key: Type.Optional(Type.String({ maxLength: 200 })),
  locale: Type.Optional(Type.String({ maxLength: 10, description: 'en or vi (default vi; Accept-Language is also honoured)' })),
}
const Paging = {
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 1000, default: 1000 }),
}
const CommonQuery = Type.Object(Common)
const RequestsQuery = Type.Object({
  ...Common,
  ...Paging,
  service_request_id: Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated; overrides every other filter' })),
  service_code: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated service codes' })),
  start_date: Type.Optional(Type.String({ maxLength: 40 })),
  end_date: Type.Optional(Type.String({ maxLength: 40 })),
  status: Type.Optional(Type.String({ maxLength: 20, description: 'open, closed or open,closed' })),
  agency_responsible: Type.Optional(Type.String({ maxLength: 64, description: 'Handling unit code, e.g. 03127 or 11.SYT' })),
})
const UpdatesQuery = Type.Object({ ...Common, ...Paging, start_date: Type.Optional(Type.String({ maxLength: 40 })), end_date: Type.Optional(Type.String({ maxLength: 40 })) })
const Str = (maxLength: number) => Type.Optional(Type.String({ maxLength }))
const PostBody = Type.Object(
  {
    api_key: Str(200),
    jurisdiction_id: Str(100),
    service_code: Str(64),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    long: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    address_string: Str(300),
    address_id: Str(32),
    email: Str(200),
    device_id: Str(200),
    account_id: Str(200),
    first_name: Str(60),
    last_name: Str(60),
    phone: Str(30),
    description: Str(4000),
    media_url: Str(1000),
  },
  { additionalProperties: true, description: 'application/x-www-form-urlencoded or JSON; attribute[...] fields are accepted and not used' },
)

async function open311Plugin(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  await acceptForms(fastify)
  installOpen311ErrorHandling(fastify)
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const schema = (sfx: string, summary: string) => ({ tags: ['open311'], summary, hide: sfx === '' })

  for (const sfx of SUFFIXES) {
    app.get(`/discovery${sfx}`, { schema: { ...schema(sfx, 'Open311 service discovery'), querystring: CommonQuery } }, async (req, reply) =>
      sendDoc(reply, requestFormat(req), discoveryDoc(baseUrl(req))),
    )

    app.get(`/services${sfx}`, { schema: { ...schema(sfx, 'Open311 services: the report categories'), querystring: CommonQuery } }, async (req, reply) => {
      const locale = pickLocale(req)
      const categories = await listCategories(ctx.db)
      return sendDoc(reply, requestFormat(req), listDoc('services', 'service', categories.map((c) => toService(c, locale))))
    })

    app.post(`/requests${sfx}`, {
      // The key is checked before the body, so a missing key is a 403 whatever else is wrong.
      preValidation: async (req) => {
        dropEmptyFields(req.body)
        req.principal = await clientOf(req, ctx)
      },
      schema: {
        ...schema(sfx, 'Open311: submit a service request (a field report) as an API client'),
        description: 'Form-encoded or JSON. api_key as a field, query parameter or X-API-Key header. Send an Idempotency-Key header to retry safely; answers 201.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        body: PostBody,
      },
    }, async (req, reply) => {
      const client = req.principal as Extract<Principal, { kind: 'client' }>
      const body = req.body as Open311PostBody
      const key = readIdempotencyKey(req.headers['idempotency-key'])
      const submission = toSubmission(body)
      if (!(await getCategory(ctx.db, submission.category))) {
        throw badRequest('UNKNOWN_SERVICE_CODE', 'Lĩnh vực không tồn tại.', `Unknown service_code "${submission.category}"; see services.json.`)
      }
      const r = await submitReport(
        { db: ctx.db, uploadDir: ctx.config.uploadDir, provinceCode: ctx.config.provinceCode, now: ctx.clock() },
        submission,
        client,
        { scope: `open311|client:${client.clientId}`, key },
      )
      if (r.replayed) reply.header('idempotent-replayed', 'true')
      const locale = pickLocale(req)
      const unit = locale === 'en' ? r.body.unit.name_en : r.body.unit.name_vi
      const notice = serviceNotice(unit, r.body.due_at ? new Date(r.body.due_at) : null, locale)
      return sendDoc(reply, requestFormat(req), serviceRequestsDoc([{ service_request_id: r.body.code, service_notice: notice, account_id: null }]), r.statusCode)
    })

    app.get(`/requests${sfx}`, { schema: { ...schema(sfx, 'Open311: service requests (public fields only), newest first'), querystring: RequestsQuery } }, async (req, reply) => {
      const q = req.query
      const page = { limit: q.page_size, offset: (q.page - 1) * q.page_size }
      let rows: Open311ReportRow[]
      if (q.service_request_id) {
        rows = await findOpen311Requests(ctx.db, ctx.config.provinceCode, { codes: parseCodes(q.service_request_id), ...page })
      } else {
        const { from, to } = dateWindow(q.start_date, q.end_date, { now: ctx.clock(), defaultSpanMs: REQUESTS_SPAN_MS, maxSpanMs: REQUESTS_SPAN_MS })
        const categories = q.service_code?.split(',').map((s) => s.trim()).filter(Boolean)
        rows = await findOpen311Requests(ctx.db, ctx.config.provinceCode, { categories, statuses: statusesFor(q.status), from, to, unitCode: q.agency_responsible?.trim() || undefined, ...page })
      }
      const k = await lookups(ctx, req, rows.map((r) => r.unit_code))
      return sendDoc(reply, requestFormat(req), serviceRequestsDoc(rows.map((r) => toServiceRequest(r, k))))
    })

    app.get(`/servicerequestupdates${sfx}`, { schema: { ...schema(sfx, 'FixMyStreet extension: status changes of requests in a time window, oldest first'), querystring: UpdatesQuery } }, async (req, reply) => {
      const q = req.query
      const { from, to } = dateWindow(q.start_date, q.end_date, { now: ctx.clock(), defaultSpanMs: UPDATES_DEFAULT_SPAN_MS, maxSpanMs: UPDATES_MAX_SPAN_MS })
      const rows = await listStatusUpdates(ctx.db, ctx.config.provinceCode, { from, to, limit: q.page_size, offset: (q.page - 1) * q.page_size })
      const units = await unitNames(ctx, rows.flatMap((u) => [u.to_unit ?? u.from_unit ?? '']))
      const locale = pickLocale(req)
      return sendDoc(reply, requestFormat(req), listDoc('service_request_updates', 'request_update', rows.map((u) => toRequestUpdate(u, units, locale))))
    })
  }

  // Resources named by a path parameter take the suffix in the parameter: /requests/PA-2026-000001.xml.
  app.get('/services/:service_code', { schema: { tags: ['open311'], summary: 'Open311 service definition (.json / .xml suffix)', params: Type.Object({ service_code: Type.String({ maxLength: 80 }) }), querystring: CommonQuery } }, async (req, reply) => {
    const { value } = splitSuffix(req.params.service_code)
    const category = await getCategory(ctx.db, value)
    if (!category) throw notFound(`Service "${value}"`, 'lĩnh vực')
    return sendDoc(reply, requestFormat(req), serviceDefinitionDoc(category.code))
  })

  app.get('/requests/:service_request_id', { schema: { tags: ['open311'], summary: 'Open311: one service request, as a one-element list (.json / .xml suffix)', params: Type.Object({ service_request_id: Type.String({ maxLength: 40 }) }), querystring: CommonQuery } }, async (req, reply) => {
    const r = await findByCode(ctx, splitSuffix(req.params.service_request_id).value)
    const k = await lookups(ctx, req, [r.unit_code])
    return sendDoc(reply, requestFormat(req), serviceRequestsDoc([toServiceRequest(r, k)]))
  })

  app.get('/tokens/:token', { schema: { tags: ['open311'], summary: 'Open311: service_request_id for a token (requests are created at once, so the token is the service_request_id)', params: Type.Object({ token: Type.String({ maxLength: 40 }) }), querystring: CommonQuery } }, async (req, reply) => {
    const r = await findByCode(ctx, splitSuffix(req.params.token).value)
    return sendDoc(reply, requestFormat(req), serviceRequestsDoc([{ service_request_id: r.code, token: r.code }]))
  })
}

/** Adds the form parser in this scope only, unless the application already has one. */
async function acceptForms(app: FastifyInstance): Promise<void> {
  if (app.hasContentTypeParser('application/x-www-form-urlencoded')) return
  try {
    await app.register(formbody)
  } catch (err) {
    if ((err as { code?: string })?.code !== 'FST_ERR_CTP_ALREADY_PRESENT') throw err
  }
}

/** Form clients send empty fields (`phone=`); an empty field means "not given". */
function dropEmptyFields(body: unknown): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return
  const b = body as Record<string, unknown>
  for (const [k, v] of Object.entries(b)) if (typeof v === 'string' && v.trim() === '') delete b[k]
}

/**
 * The API client posting: `api_key` from the body (form clients), otherwise the key the
 * platform already resolved from the query string or X-API-Key header. Signed-in users are
 * not API clients. An invalid key is refused by principalForApiKey (shown as 403 here).
 */
async function clientOf(req: FastifyRequest, ctx: AppContext): Promise<Principal> {
  const raw = (req.body as Record<string, unknown> | undefined)?.api_key
  const key = Array.isArray(raw) ? raw[0] : raw
  const p = typeof key === 'string' && key ? await principalForApiKey(ctx.db, key) : req.principal
  if (p?.kind !== 'client') {
    throw new AppError(403, 'API_KEY_REQUIRED', 'Cần khoá API (api_key).', 'api_key is required: send it as a form field, a query parameter or the X-API-Key header.')
  }
  return p
}

async function findByCode(ctx: AppContext, code: string): Promise<Open311ReportRow> {
  const r = /^PA-\d{4}-\d{6,}$/i.test(code) ? await getOpen311Request(ctx.db, ctx.config.provinceCode, code.toUpperCase()) : undefined
  if (!r) throw notFound(`Service request "${code}"`, 'phản ánh')
  return r
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`
}

async function unitNames(ctx: AppContext, codes: string[]): Promise<Map<string, UnitName>> {
  const unique = [...new Set(codes.filter(Boolean))]
  const units = await Promise.all(unique.map((c) => getOrgUnit(ctx.db, c)))
  return new Map(units.filter((u) => u !== undefined).map((u) => [u.code, { name_vi: u.name_vi, name_en: u.name_en }]))
}

async function lookups(ctx: AppContext, req: FastifyRequest, unitCodes: string[]): Promise<Lookups> {
  const [categories, units] = await Promise.all([listCategories(ctx.db), unitNames(ctx, unitCodes)])
  return { categories: new Map(categories.map((c) => [c.code, c])), units, locale: pickLocale(req), baseUrl: baseUrl(req) }
}
