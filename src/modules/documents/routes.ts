import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, canSeeUnit, requireUser, STAFF_ROLES, type UserPrincipal } from '../../platform/auth/principal.ts'
import { AppError, badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { Db } from '../../platform/db/database.ts'
import type { AppContext } from '../../platform/module.ts'
import { readDocumentFile, sha256Hex } from './files.ts'
import { readMultipartDocument } from './multipart.ts'
import { presentDocument, presentHandling } from './presenters.ts'
import {
  CONFIDENTIALITIES, DOC_TYPE_PATTERN, getDocument, LINK_KINDS, linkedDocuments, listHandling, listLinks, listRegisters, MAX_SUMMARY,
  prepareFile, registerDocument, searchDocuments, URGENCIES, type Confidentiality, type LinkKind, type Urgency,
} from './repository.ts'
import { assignDocument, canSeeDocument, directDocument, recordHandling } from './workflow.ts'

const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
const Id = Type.Object({ id: Type.String({ format: 'uuid' }) })
const Lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)))
const FileField = Type.Unsafe<{ name: string; mime: string; data: Buffer }>({ description: 'multipart file part named "file" (≤ 20 MB), stored byte for byte' })
const Recipients = Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 })
const Links = Type.Array(Type.Object({ kind: Lit(LINK_KINDS), ref: Type.String({ minLength: 1, maxLength: 100 }) }), { maxItems: 20 })
const Doc = Type.Unknown()

const IncomingBody = Type.Object({
  agency_code: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Registering agency (province admins); others register in their own unit' })),
  doc_type: Type.String({ pattern: DOC_TYPE_PATTERN, description: 'Type abbreviation: QĐ, TB, CV, …' }),
  symbol: Type.Optional(Type.String({ maxLength: 100, description: "The sender's symbol as printed, e.g. 125/QĐ-UBND" })),
  issuer: Type.String({ minLength: 1, maxLength: 300 }),
  signer: Type.Optional(Type.String({ maxLength: 200 })),
  issued_at: Type.String({ pattern: DATE, description: 'Date of the document (YYYY-MM-DD)' }),
  summary: Type.String({ minLength: 1, maxLength: MAX_SUMMARY }),
  urgency: Type.Optional(Lit(URGENCIES)),
  confidentiality: Type.Optional(Lit(CONFIDENTIALITIES)),
  recipients: Type.Optional(Recipients),
  file: Type.Optional(FileField),
})

const OutgoingBody = Type.Object({
  agency_code: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  doc_type: Type.String({ pattern: DOC_TYPE_PATTERN }),
  signer: Type.Optional(Type.String({ maxLength: 200 })),
  summary: Type.String({ minLength: 1, maxLength: MAX_SUMMARY }),
  urgency: Type.Optional(Lit(URGENCIES)),
  confidentiality: Type.Optional(Lit(CONFIDENTIALITIES)),
  recipients: Type.Optional(Recipients),
  links: Type.Optional(Links),
  file: Type.Optional(FileField),
})

interface DocBody {
  agency_code?: string
  doc_type: string
  symbol?: string
  issuer?: string
  signer?: string
  issued_at?: string
  summary: string
  urgency?: Urgency
  confidentiality?: Confidentiality
  recipients?: string[]
  links?: { kind: LinkKind; ref: string }[]
  file?: { name: string; mime: string; data: Buffer }
}

/** Staff only, checked before the body is read or validated. */
const staffOnly = async (req: FastifyRequest) => {
  requireUser(req, ...STAFF_ROLES)
}

/** Staff only, then a multipart body read into the JSON shape (JSON bodies may not carry a file). */
const staffWithUpload = async (req: FastifyRequest) => {
  requireUser(req, ...STAFF_ROLES)
  if (req.isMultipart()) (req as { body: unknown }).body = await readMultipartDocument(req)
  else if (req.body && typeof req.body === 'object' && 'file' in req.body) {
    throw badRequest('FILE_NEEDS_MULTIPART', 'Gửi tệp bằng multipart/form-data.', 'Send the file as a multipart/form-data part named "file".')
  }
}

/** The agency whose register is used: the caller's unit, or any named unit for a province admin. */
function registerAgency(p: UserPrincipal, requested: string | undefined): string {
  if (p.role === 'province_admin') {
    const code = requested ?? p.unitCode
    if (!code) throw badRequest('AGENCY_REQUIRED', 'Cần chọn cơ quan (agency_code).', 'agency_code is required.')
    return code
  }
  if (requested && requested !== p.unitCode) throw forbidden('You may only register documents of your own unit.', 'Bạn chỉ được vào sổ văn bản của đơn vị mình.')
  return p.unitCode!
}

function decodeCursor(c: string | undefined): { t: string; id: string } | undefined {
  if (!c) return undefined
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown }
    if (typeof v.t === 'string' && typeof v.id === 'string' && /^[0-9a-f-]{36}$/i.test(v.id) && !Number.isNaN(Date.parse(v.t))) return { t: v.t, id: v.id }
  } catch {
    // fall through
  }
  throw badRequest('INVALID_CURSOR', 'Con trỏ phân trang không hợp lệ.', 'Invalid cursor.')
}

const encodeCursor = (r: { cursor_t: string; id: string }) => Buffer.from(JSON.stringify({ t: r.cursor_t, id: r.id })).toString('base64url')

export async function documentsRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }

  /**
   * The part incoming and outgoing registration share: the register's agency, the file stored
   * untouched, and the numbering run once per Idempotency-Key (a retry replays the answer).
   */
  async function registerFromRequest(
    req: FastifyRequest, reply: FastifyReply, direction: 'incoming' | 'outgoing',
    register: (tx: Db, r: { agency: string; file: Awaited<ReturnType<typeof prepareFile>> | undefined; actor: string }) => ReturnType<typeof registerDocument>,
  ) {
    const p = requireUser(req, ...STAFF_ROLES)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const body = req.body as DocBody
    const agency = registerAgency(p, body.agency_code)
    const file = body.file ? await prepareFile(ctx.config.uploadDir, body.file) : undefined
    const { file: _f, ...fields } = body
    const fingerprint = requestFingerprint({ ...fields, agency, file: file?.sha256 ?? null })
    const r = await runIdempotent(ctx.db, { scope: `POST /api/documents/${direction}|${actorOf(p)}`, key, fingerprint }, async (tx) => {
      const d = await register(tx, { agency, file, actor: actorOf(p) })
      return { statusCode: 201, body: presentDocument(d) }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  }

  app.get('/api/documents/registers', {
    preValidation: staffOnly,
    schema: {
      tags: ['documents'],
      summary: "Document registers (sổ văn bản đi/đến) of the caller's unit with counts per year; province admins: any unit or all",
      querystring: Type.Object({ unit_code: Type.Optional(Type.String({ maxLength: 32 })) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ agency_code: Type.String(), direction: Type.String(), year: Type.Integer(), last_number: Type.Integer(), documents: Type.Integer() })) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    if (p.role !== 'province_admin' && req.query.unit_code && req.query.unit_code !== p.unitCode) throw forbidden()
    const unit = p.role === 'province_admin' ? req.query.unit_code : p.unitCode!
    return { items: await listRegisters(ctx.db, ctx.config.provinceCode, unit) }
  })

  app.post('/api/documents/incoming', {
    preValidation: staffWithUpload,
    schema: {
      tags: ['documents'],
      summary: 'Register an incoming document (văn bản đến): next number in the register of the year, file stored untouched',
      description: 'JSON, or multipart/form-data with the same fields (recipients may repeat) and one file part "file" (≤ 20 MB). Send an Idempotency-Key header to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: IncomingBody,
      response: { 201: Doc, ...errors, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const body = req.body as DocBody
    const issuedAt = new Date(`${body.issued_at}T00:00:00+07:00`)
    if (Number.isNaN(issuedAt.getTime())) throw badRequest('INVALID_DATE', 'Ngày văn bản không hợp lệ.', 'Invalid issued_at date.')
    return registerFromRequest(req, reply, 'incoming', (tx, { agency, file, actor }) => registerDocument(tx, {
      agencyCode: agency, direction: 'incoming', docType: body.doc_type, symbol: body.symbol, issuer: body.issuer, signer: body.signer ?? null,
      issuedAt, registeredAt: ctx.clock(), summary: body.summary, urgency: body.urgency, confidentiality: body.confidentiality,
      recipients: body.recipients, file, actor,
    }))
  })

  app.post('/api/documents/outgoing', {
    preValidation: staffWithUpload,
    schema: {
      tags: ['documents'],
      summary: 'Register and number an outgoing document (văn bản đi): gapless number of the year and its symbol, e.g. 05/TB-SXD',
      description: 'JSON, or multipart/form-data with one file part "file" (the signed PDF, stored byte for byte). Send an Idempotency-Key header to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: OutgoingBody,
      response: { 201: Doc, ...errors, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const body = req.body as DocBody
    return registerFromRequest(req, reply, 'outgoing', (tx, { agency, file, actor }) => {
      const now = ctx.clock()
      return registerDocument(tx, {
        agencyCode: agency, direction: 'outgoing', docType: body.doc_type, signer: body.signer ?? null, issuedAt: now, registeredAt: now,
        summary: body.summary, urgency: body.urgency, confidentiality: body.confidentiality, recipients: body.recipients, links: body.links, file, actor,
      })
    })
  })

  app.get('/api/documents', {
    preValidation: staffOnly,
    schema: {
      tags: ['documents'],
      summary: "Search documents of the caller's unit (Vietnamese, diacritics-insensitive, over symbol, summary and the PDF's text), newest first, keyset paging",
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 200 })),
        direction: Type.Optional(Lit(['incoming', 'outgoing'] as const)),
        year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2200 })),
        unit_code: Type.Optional(Type.String({ maxLength: 32 })),
        cursor: Type.Optional(Type.String({ maxLength: 300 })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Doc), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    if (p.role !== 'province_admin' && req.query.unit_code && req.query.unit_code !== p.unitCode) throw forbidden()
    const unitCode = p.role === 'province_admin' ? req.query.unit_code : p.unitCode!
    const rows = await searchDocuments(ctx.db, ctx.config.provinceCode, { unitCode, q: req.query.q, direction: req.query.direction, year: req.query.year, after: decodeCursor(req.query.cursor), limit: req.query.limit })
    return { items: rows.map(presentDocument), next_cursor: rows.length === req.query.limit ? encodeCursor(rows[rows.length - 1]) : null }
  })

  const loadVisible = async (req: FastifyRequest, id: string) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d = await getDocument(ctx.db, ctx.config.provinceCode, id)
    if (!d || !canSeeDocument(p, d)) throw notFound('Document', 'văn bản')
    return { p, d }
  }

  app.get('/api/documents/:id', {
    preValidation: staffOnly,
    schema: { tags: ['documents'], summary: 'One document with its handling history, its links and the documents linked to it', params: Id, response: { 200: Doc, ...errors } },
  }, async (req) => {
    const { p, d } = await loadVisible(req, req.params.id)
    const [history, links, linked] = await Promise.all([listHandling(ctx.db, ctx.config.provinceCode, d.id), listLinks(ctx.db, ctx.config.provinceCode, d.id), linkedDocuments(ctx.db, ctx.config.provinceCode, 'document', d.id)])
    return {
      ...presentDocument(d),
      history: history.map(presentHandling),
      links: links.map((l) => ({ kind: l.kind, ref: l.ref, created_at: new Date(l.created_at).toISOString() })),
      linked_documents: linked.filter((x) => canSeeUnit(p, x.agency_code)).map(({ agency_code: _a, ...x }) => x),
    }
  })

  app.get('/api/documents/:id/file', {
    preValidation: staffOnly,
    compress: false,
    schema: { tags: ['documents'], summary: 'The stored file, byte for byte as received or signed; its sha256 in ETag and Digest', params: Id, response: { 200: Type.Unknown(), ...errors } },
  }, async (req, reply) => {
    const { d } = await loadVisible(req, req.params.id)
    if (!d.file_sha256) throw notFound('Document file', 'tệp văn bản')
    const etag = `"${d.file_sha256}"`
    reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate')
    if (req.headers['if-none-match'] === etag) return reply.status(304).send()
    const data = await readDocumentFile(ctx.config.uploadDir, d.file_sha256)
    if (!data) throw notFound('Document file', 'tệp văn bản')
    // Never serve bytes that are not the ones registered.
    if (sha256Hex(data) !== d.file_sha256) throw new AppError(500, 'FILE_INTEGRITY', 'Tệp lưu trữ không khớp mã băm đã đăng ký.', 'The stored file does not match its registered sha256.')
    const b64 = Buffer.from(d.file_sha256, 'hex').toString('base64')
    const ascii = (d.file_name ?? 'document').replace(/[^\x20-\x7e]|["\\]/g, '_')
    return reply
      .header('digest', `sha-256=${b64}`)
      .header('repr-digest', `sha-256=:${b64}:`)
      .header('x-content-sha256', d.file_sha256)
      .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(d.file_name ?? 'document')}`)
      .type(d.file_mime ?? 'application/octet-stream')
      .send(data)
  })

  app.post('/api/documents/:id/assign', {
    preValidation: staffOnly,
    schema: {
      tags: ['documents'], summary: 'Assign an incoming document to a leader of the agency (trình lãnh đạo)', params: Id,
      body: Type.Object({ leader_user_id: Type.String({ format: 'uuid' }), note: Type.Optional(Type.String({ maxLength: 2000 })) }),
      response: { 200: Doc, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d = await ctx.db.transaction().execute((tx) => assignDocument(tx, ctx.config.provinceCode, req.params.id, req.body.leader_user_id, req.body.note ?? null, p, ctx.clock()))
    return presentDocument(d)
  })

  app.post('/api/documents/:id/direct', {
    preValidation: staffOnly,
    schema: {
      tags: ['documents'], summary: 'The leader directs handling (bút phê) to a unit or a person, with a deadline', params: Id,
      body: Type.Object({
        unit_code: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
        user_id: Type.Optional(Type.String({ format: 'uuid' })),
        deadline: Type.String({ pattern: DATE }),
        note: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
      response: { 200: Doc, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d = await ctx.db.transaction().execute((tx) => directDocument(tx, ctx.config.provinceCode, req.params.id, req.body, p, ctx.clock()))
    return presentDocument(d)
  })

  app.post('/api/documents/:id/handling', {
    preValidation: staffOnly,
    schema: {
      tags: ['documents'], summary: 'Record handling progress of an incoming document, or mark it done', params: Id,
      body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })), done: Type.Optional(Type.Boolean()) }),
      response: { 200: Doc, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d = await ctx.db.transaction().execute((tx) => recordHandling(tx, ctx.config.provinceCode, req.params.id, req.body, p, ctx.clock()))
    return presentDocument(d)
  })
}
