import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requirePrincipal, requireUser, STAFF_ROLES } from '../../platform/auth/principal.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { getOrgUnit } from '../identity/index.ts'
import { ACCESS_LEVELS, canEditDataset, canReadDataset } from './access.ts'
import type { DataConfig } from './config.ts'
import { addResource, createDataset, editDataset, replaceResourceData, type ResourceInput } from './datasets.ts'
import { csvLine, exportRows } from './datastore.ts'
import { catalogueDoc, datasetDoc, toJsonLd, toTurtle } from './dcat.ts'
import { dataFilePath, fileExists, storeUpload } from './files.ts'
import { FIELD_TYPES, type FieldType } from './infer.ts'
import { LICENSE_IDS } from './licenses.ts'
import { packageDict } from './presenters.ts'
import { qualityScore } from './quality.ts'
import {
  FREQUENCIES, getDataset, getResource, getSharedDatabase, insertPlanEntry, insertReuse, listDatasetsPage, listHistory, listPlan, listResources, listReuses,
  listSharedDatabases, markPlanPublished, upsertSharedDatabase, type DatasetRow,
} from './repository.ts'

const Lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)))
const Any = Type.Unknown()
const NamePattern = '^[a-z0-9_-]{2,100}$'
const DatasetName = Type.Object({ name: Type.String({ pattern: NamePattern, description: 'Dataset name (slug) or id' }) })
const ResourceId = Type.Object({ id: Type.String({ format: 'uuid' }) })
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'

const DatasetBody = Type.Object({
  name: Type.String({ pattern: NamePattern, description: 'URL name (slug): lower-case letters, digits, - and _' }),
  title: Type.String({ minLength: 1, maxLength: 300 }),
  notes: Type.Optional(Type.String({ maxLength: 20_000 })),
  owner_org: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "Owning agency (org unit code); default the caller's unit" })),
  license_id: Type.Optional(Lit(LICENSE_IDS)),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
  access_level: Type.Optional(Lit(ACCESS_LEVELS)),
  update_frequency: Type.Optional(Lit(FREQUENCIES)),
  author: Type.Optional(Type.String({ maxLength: 200 })),
  maintainer_email: Type.Optional(Type.String({ maxLength: 200 })),
  spatial_coverage: Type.Optional(Type.String({ maxLength: 200 })),
})
type DatasetBodyT = {
  name: string; title: string; notes?: string; owner_org?: string; license_id?: string; tags?: string[]; access_level?: (typeof ACCESS_LEVELS)[number]
  update_frequency?: (typeof FREQUENCIES)[number]; author?: string; maintainer_email?: string; spatial_coverage?: string
}
const FieldsSchema = Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 63 }), type: Lit(FIELD_TYPES) }), { maxItems: 500 })
const ResourceBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 300 }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2000, description: 'An external URL (instead of a file)' })),
  format: Type.Optional(Type.String({ maxLength: 20 })),
  fields: Type.Optional(FieldsSchema),
  strict: Type.Optional(Type.Boolean({ description: 'Refuse the whole load when any row does not fit (default false: load the rest, report the others with line numbers)' })),
  file: Type.Optional(Type.Unsafe<{ sha256: string; size: number; name: string; mime: string }>({ description: 'multipart file part "file" (CSV, XLSX, JSON, GeoJSON; ≤ DATA_UPLOAD_MAX_BYTES, default 200 MB), streamed to disk' })),
})
type ResourceBodyT = { name: string; description?: string; url?: string; format?: string; fields?: { id: string; type: FieldType }[]; strict?: boolean; file?: ResourceInput['file'] }

/** Reads a multipart resource upload: text fields, and the one file part streamed to disk (hashed, size-limited). */
async function readResourceMultipart(req: FastifyRequest, ctx: AppContext, cfg: DataConfig): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {}
  for await (const part of req.parts({ limits: { fileSize: cfg.uploadMaxBytes, files: 1, fields: 20, parts: 30, fieldSize: 256 * 1024 } })) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        part.file.resume()
        throw badRequest('UNEXPECTED_FILE', `Không nhận tệp ở trường "${part.fieldname}".`, `Unexpected file field "${part.fieldname}"; send the data as "file".`)
      }
      const stored = await storeUpload(ctx.config.uploadDir, part.file, cfg.uploadMaxBytes)
      body.file = { sha256: stored.sha256, size: stored.size, name: (part.filename || 'data').slice(0, 200), mime: part.mimetype || 'application/octet-stream' }
    } else {
      const v = String(part.value)
      if (part.fieldname === 'fields') {
        try {
          body.fields = JSON.parse(v)
        } catch {
          throw badRequest('INVALID_FIELDS', 'Trường fields phải là mảng JSON [{id, type}].', 'The fields part must be a JSON array of {id, type}.')
        }
      } else if (part.fieldname === 'strict') body.strict = /^(1|true|yes|on)$/i.test(v)
      else body[part.fieldname] = v
    }
  }
  return body
}

export async function dataRoutes(fastify: FastifyInstance, ctx: AppContext, cfg: DataConfig): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
  const staffOnly = async (req: FastifyRequest) => void requireUser(req, ...STAFF_ROLES)
  const adminOnly = async (req: FastifyRequest) => void requireUser(req, 'province_admin')

  /** A dataset the caller may read, or 404 (never telling restricted ones apart from missing ones). */
  const readable = async (req: FastifyRequest, name: string): Promise<DatasetRow> => {
    const d = await getDataset(ctx.db, name)
    if (!d || !canReadDataset(req.principal, d)) throw notFound('Dataset', 'bộ dữ liệu')
    return d
  }
  /** Staff of the owning unit (or a province admin), checked before any body is read. */
  const editorOf = async (req: FastifyRequest): Promise<DatasetRow> => {
    const p = requireUser(req, ...STAFF_ROLES)
    const name = (req.params as { name?: string }).name ?? ''
    const d = /^[a-z0-9_-]{2,100}$/.test(name) || /^[0-9a-f-]{36}$/.test(name) ? await getDataset(ctx.db, name) : undefined
    if (!d || !canReadDataset(p, d)) throw notFound('Dataset', 'bộ dữ liệu')
    if (!canEditDataset(p, d.owner_org)) throw forbidden('Only staff of the owning agency may change this dataset.', 'Chỉ cán bộ của cơ quan chủ quản được sửa bộ dữ liệu này.')
    return d
  }

  // ---- Catalogue of shared databases and the publish plan ------------------------------------
  app.get('/api/data/shared-databases', {
    schema: { tags: ['data'], summary: 'Catalogue of shared databases (danh mục CSDL dùng chung): open ones for everyone, shared ones for agencies, restricted ones for their owner', response: { 200: Type.Object({ items: Type.Array(Any) }), ...errors } },
  }, async (req) => ({ items: (await listSharedDatabases(ctx.db, req.principal)).map((s) => { const { owner_org: _o, ...rest } = s as typeof s & { owner_org?: string }; return rest }) }))

  app.put('/api/data/shared-databases/:code', {
    preValidation: adminOnly,
    schema: {
      tags: ['data'], summary: 'Create or update an entry of the catalogue of shared databases (province admins)',
      params: Type.Object({ code: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 300 }),
        owner_unit: Type.String({ minLength: 1, maxLength: 32 }),
        custodian: Type.String({ minLength: 1, maxLength: 300 }),
        description: Type.Optional(Type.String({ maxLength: 20_000 })),
        fields: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), type: Type.String({ maxLength: 50 }), description: Type.Optional(Type.String({ maxLength: 1000 })) }), { maxItems: 500 })),
        update_frequency: Lit(FREQUENCIES),
        access_level: Lit(ACCESS_LEVELS),
        legal_basis: Type.Optional(Type.String({ maxLength: 2000 })),
        systems_using: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
        contact: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      response: { 200: Any, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const b = req.body
    if (!(await getOrgUnit(ctx.db, b.owner_unit))) throw badRequest('UNKNOWN_ORGANIZATION', 'Không có cơ quan này.', `Unknown org unit ${b.owner_unit}.`)
    const now = ctx.clock()
    return ctx.db.transaction().execute(async (tx) => {
      const before = await getSharedDatabase(tx, req.params.code)
      const s = await upsertSharedDatabase(tx, {
        code: req.params.code, name: b.name, owner_unit: b.owner_unit, custodian: b.custodian, description: b.description ?? '', fields: b.fields ?? [],
        update_frequency: b.update_frequency, access_level: b.access_level, legal_basis: b.legal_basis ?? '', systems_using: b.systems_using ?? [], contact: b.contact ?? '',
      }, now)
      await appendAudit(tx, { actor: actorOf(p), action: before ? 'data.shared_database.updated' : 'data.shared_database.created', entityType: 'shared_database', entityId: s.code, data: { access_level: s.access_level, owner_unit: s.owner_unit } }, now)
      return s
    })
  })

  app.get('/api/data/publish-plan', {
    schema: { tags: ['data'], summary: 'The open-data publish plan (kế hoạch công bố dữ liệu mở): entries with planned dates, and whether each was met', response: { 200: Type.Object({ items: Type.Array(Any), met: Type.Integer(), due: Type.Integer() }), ...errors } },
  }, async () => {
    const today = new Date(ctx.clock().getTime() + 7 * 3_600_000).toISOString().slice(0, 10)
    const items = (await listPlan(ctx.db)).map((e) => ({
      ...e,
      status: e.published_date ? (e.published_date <= e.planned_date ? 'met' : 'met_late') : e.planned_date < today ? 'missed' : 'pending',
    }))
    return { items, met: items.filter((i) => i.status === 'met').length, due: items.filter((i) => i.planned_date < today).length }
  })

  app.post('/api/data/publish-plan', {
    preValidation: adminOnly,
    schema: {
      tags: ['data'], summary: 'Add an entry to the open-data publish plan (province admins)',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        title: Type.String({ minLength: 1, maxLength: 300 }), owner_unit: Type.String({ minLength: 1, maxLength: 32 }), planned_date: Type.String({ pattern: DATE }),
        shared_database_code: Type.Optional(Type.String({ maxLength: 64 })), dataset_name: Type.Optional(Type.String({ pattern: NamePattern })), note: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
      response: { 201: Any, ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const b = req.body
    if (Number.isNaN(Date.parse(b.planned_date))) throw badRequest('INVALID_DATE', 'Ngày không hợp lệ.', 'Invalid planned_date.')
    if (!(await getOrgUnit(ctx.db, b.owner_unit))) throw badRequest('UNKNOWN_ORGANIZATION', 'Không có cơ quan này.', `Unknown org unit ${b.owner_unit}.`)
    const sdb = b.shared_database_code ? await getSharedDatabase(ctx.db, b.shared_database_code) : undefined
    if (b.shared_database_code && !sdb) throw badRequest('UNKNOWN_SHARED_DATABASE', 'Không có CSDL này trong danh mục.', 'Unknown shared database code.')
    const now = ctx.clock()
    const r = await runIdempotent(ctx.db, { scope: `POST /api/data/publish-plan|${actorOf(p)}`, key, fingerprint: requestFingerprint(b) }, async (tx) => {
      const e = await insertPlanEntry(tx, { title: b.title, owner_unit: b.owner_unit, planned_date: b.planned_date, shared_database_id: sdb?.id ?? null, dataset_name: b.dataset_name ?? null, note: b.note ?? '' }, now)
      await appendAudit(tx, { actor: actorOf(p), action: 'data.plan.created', entityType: 'publish_plan', entityId: e.id, data: { title: e.title, planned_date: e.planned_date } }, now)
      return { statusCode: 201, body: e }
    })
    return reply.status(r.statusCode).send(r.body)
  })

  app.post('/api/data/publish-plan/:id/published', {
    preValidation: adminOnly,
    schema: {
      tags: ['data'], summary: 'Record that a plan entry was published, by which dataset and when (province admins)', params: ResourceId,
      body: Type.Object({ dataset_name: Type.String({ pattern: NamePattern }), published_date: Type.String({ pattern: DATE }) }),
      response: { 200: Any, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    if (!(await getDataset(ctx.db, req.body.dataset_name))) throw badRequest('UNKNOWN_DATASET', 'Không có bộ dữ liệu này.', 'Unknown dataset_name.')
    const now = ctx.clock()
    return ctx.db.transaction().execute(async (tx) => {
      const e = await markPlanPublished(tx, req.params.id, req.body.dataset_name, req.body.published_date)
      if (!e) throw notFound('Plan entry', 'mục kế hoạch')
      await appendAudit(tx, { actor: actorOf(p), action: 'data.plan.published', entityType: 'publish_plan', entityId: e.id, data: { dataset_name: e.dataset_name, published_date: e.published_date } }, now)
      return e
    })
  })

  // ---- Datasets and resources ----------------------------------------------------------------
  app.post('/api/data/datasets', {
    preValidation: staffOnly,
    schema: {
      tags: ['data'], summary: "Create a dataset (package) of the caller's agency",
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: DatasetBody, response: { 201: Any, ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const b = req.body as DatasetBodyT
    const owner = b.owner_org ?? p.unitCode
    if (!owner) throw badRequest('ORGANIZATION_REQUIRED', 'Cần chọn cơ quan (owner_org).', 'owner_org is required.')
    if (!canEditDataset(p, owner)) throw forbidden('You may only create datasets of your own agency.', 'Bạn chỉ được tạo bộ dữ liệu của cơ quan mình.')
    const now = ctx.clock()
    const r = await runIdempotent(ctx.db, { scope: `POST /api/data/datasets|${actorOf(p)}`, key, fingerprint: requestFingerprint(b) }, async (tx) => {
      const d = await createDataset(tx, {
        name: b.name, title: b.title, notes: b.notes ?? '', owner_org: owner, license_id: b.license_id ?? 'cc-by-4.0', tags: b.tags ?? [], access_level: b.access_level ?? 'open',
        update_frequency: b.update_frequency ?? 'irregular', author: b.author ?? '', maintainer_email: b.maintainer_email ?? '', spatial_coverage: b.spatial_coverage ?? 'Điện Biên', source_system: null,
      }, actorOf(p), now)
      return { statusCode: 201, body: packageDict(d, [], await getOrgUnit(tx, d.owner_org), cfg.baseUrl, now) }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

  app.put('/api/data/datasets/:name', {
    preValidation: async (req) => void (await editorOf(req)),
    schema: { tags: ['data'], summary: 'Update a dataset\'s metadata (a new version in its history)', params: DatasetName, body: Type.Omit(DatasetBody, ['name']), response: { 200: Any, ...errors } },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d0 = await editorOf(req)
    const b = req.body as Omit<DatasetBodyT, 'name'>
    const owner = b.owner_org ?? d0.owner_org
    if (!canEditDataset(p, owner)) throw forbidden('You may only give datasets to your own agency.', 'Bạn chỉ được giao bộ dữ liệu cho cơ quan mình.')
    const now = ctx.clock()
    const d = await ctx.db.transaction().execute((tx) => editDataset(tx, d0.id, {
      title: b.title, notes: b.notes ?? d0.notes, owner_org: owner, license_id: b.license_id ?? d0.license_id, tags: b.tags ?? d0.tags, access_level: b.access_level ?? d0.access_level,
      update_frequency: b.update_frequency ?? d0.update_frequency, author: b.author ?? d0.author, maintainer_email: b.maintainer_email ?? d0.maintainer_email, spatial_coverage: b.spatial_coverage ?? d0.spatial_coverage,
    }, actorOf(p), now))
    return packageDict(d, await listResources(ctx.db, [d.id]), await getOrgUnit(ctx.db, d.owner_org), cfg.baseUrl, now)
  })

  app.get('/api/data/datasets', {
    schema: {
      tags: ['data'], summary: 'Datasets the caller may see, by name (paged)',
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }), offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }) }),
      response: { 200: Type.Object({ items: Type.Array(Any), total: Type.Integer() }), ...errors },
    },
  }, async (req) => {
    const { rows, total } = await listDatasetsPage(ctx.db, req.principal, req.query.limit, req.query.offset)
    const resources = await listResources(ctx.db, rows.map((d) => d.id))
    const now = ctx.clock()
    return { items: await Promise.all(rows.map(async (d) => packageDict(d, resources.filter((r) => r.dataset_id === d.id), await getOrgUnit(ctx.db, d.owner_org), cfg.baseUrl, now))), total }
  })

  app.get('/api/data/datasets/:name', {
    schema: { tags: ['data'], summary: 'One dataset with its resources, quality score, reuses and change history', params: DatasetName, response: { 200: Any, ...errors } },
  }, async (req) => {
    const d = await readable(req, req.params.name)
    const now = ctx.clock()
    const [resources, reuses, history] = await Promise.all([listResources(ctx.db, [d.id]), listReuses(ctx.db, d.id), listHistory(ctx.db, d.id)])
    return { ...packageDict(d, resources, await getOrgUnit(ctx.db, d.owner_org), cfg.baseUrl, now), reuses, history }
  })

  app.get('/api/data/datasets/:name/quality', {
    schema: { tags: ['data'], summary: 'Quality score of a dataset: metadata completeness, freshness against its frequency, open format, licence', params: DatasetName, response: { 200: Any, ...errors } },
  }, async (req) => {
    const d = await readable(req, req.params.name)
    return qualityScore(d, await listResources(ctx.db, [d.id]), ctx.clock())
  })

  app.post('/api/data/datasets/:name/reuses', {
    preValidation: async (req) => void requirePrincipal(req),
    schema: {
      tags: ['data'], summary: 'Record a reuse of a dataset (an app or article that uses it)', params: DatasetName,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ kind: Lit(['application', 'article', 'visualization', 'api'] as const), title: Type.String({ minLength: 1, maxLength: 300 }), url: Type.String({ pattern: '^https?://', maxLength: 2000 }), description: Type.Optional(Type.String({ maxLength: 5000 })) }),
      response: { 201: Any, ...errors },
    },
  }, async (req, reply) => {
    const p = requirePrincipal(req)
    const d = await readable(req, req.params.name)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const now = ctx.clock()
    const r = await runIdempotent(ctx.db, { scope: `POST reuses|${actorOf(p)}`, key, fingerprint: requestFingerprint({ d: d.id, ...req.body }) }, async (tx) => {
      const reuse = await insertReuse(tx, { dataset_id: d.id, kind: req.body.kind, title: req.body.title, url: req.body.url, description: req.body.description ?? '' }, now)
      await appendAudit(tx, { actor: actorOf(p), action: 'data.reuse.created', entityType: 'dataset', entityId: d.id, data: { reuse_id: reuse.id, url: reuse.url } }, now)
      return { statusCode: 201, body: reuse }
    })
    return reply.status(r.statusCode).send(r.body)
  })

  app.post('/api/data/datasets/:name/resources', {
    preValidation: async (req) => {
      await editorOf(req)
      if (req.isMultipart()) (req as { body: unknown }).body = await readResourceMultipart(req, ctx, cfg)
      else if (req.body && typeof req.body === 'object' && 'file' in req.body) throw badRequest('FILE_NEEDS_MULTIPART', 'Gửi tệp bằng multipart/form-data.', 'Send the file as a multipart/form-data part named "file".')
    },
    schema: {
      tags: ['data'], summary: 'Add a resource: an uploaded CSV / XLSX / JSON / GeoJSON (loaded into the DataStore, types declared or inferred over the whole file) or a URL',
      description: 'multipart/form-data with fields name, description, fields (JSON [{id,type}]), strict, and one file part "file"; or JSON {name, url}. Rows that do not fit are reported with their line numbers in load_report. Send an Idempotency-Key to retry safely.',
      params: DatasetName, headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: ResourceBody, response: { 201: Any, ...errors, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const d = await editorOf(req)
    const b = req.body as ResourceBodyT
    if (!b.file && !b.url) throw badRequest('FILE_OR_URL_REQUIRED', 'Cần tệp hoặc đường dẫn (url).', 'Send a file or a url.')
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const { file, ...rest } = b
    const now = ctx.clock()
    const r = await addResource(ctx.db, d.id, { name: b.name, description: b.description ?? '', url: b.url, format: b.format, file, fields: b.fields, strict: b.strict }, {
      actor: actorOf(p), now, uploadDir: ctx.config.uploadDir,
      idempotency: { scope: `POST resources|${actorOf(p)}|${d.id}`, key, fingerprint: requestFingerprint({ ...rest, file: file?.sha256 ?? null }) },
    })
    const dd = (await getDataset(ctx.db, d.id))!
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send({ resource: packageDict(dd, [r.resource], undefined, cfg.baseUrl, now).resources[0], load_report: r.report })
  })

  app.put('/api/data/resources/:id/data', {
    preValidation: async (req) => {
      const p = requireUser(req, ...STAFF_ROLES)
      const r = await getResource(ctx.db, (req.params as { id: string }).id)
      const d = r && (await getDataset(ctx.db, r.dataset_id))
      if (!r || !d || !canReadDataset(p, d)) throw notFound('Resource', 'tài nguyên')
      if (!canEditDataset(p, d.owner_org)) throw forbidden()
      if (!req.isMultipart()) throw badRequest('FILE_NEEDS_MULTIPART', 'Gửi tệp bằng multipart/form-data.', 'Send the new file as a multipart/form-data part named "file".')
      ;(req as { body: unknown }).body = await readResourceMultipart(req, ctx, cfg)
    },
    schema: {
      tags: ['data'], summary: 'Replace a resource\'s data with a new file (a new version; the DataStore table is reloaded and swapped in atomically)',
      params: ResourceId, body: Type.Object({ fields: Type.Optional(FieldsSchema), strict: Type.Optional(Type.Boolean()), file: ResourceBody.properties.file }),
      response: { 200: Any, ...errors, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    const b = req.body as ResourceBodyT
    if (!b.file) throw badRequest('FILE_REQUIRED', 'Cần gửi tệp.', 'Send the file as the part "file".')
    const now = ctx.clock()
    const r = await replaceResourceData(ctx.db, req.params.id, { file: b.file, fields: b.fields, strict: b.strict }, { actor: actorOf(p), now, uploadDir: ctx.config.uploadDir })
    const dd = (await getDataset(ctx.db, r.resource.dataset_id))!
    return { resource: packageDict(dd, [r.resource], undefined, cfg.baseUrl, now).resources[0], load_report: r.report }
  })

  const readableResource = async (req: FastifyRequest, id: string) => {
    const r = await getResource(ctx.db, id)
    const d = r && (await getDataset(ctx.db, r.dataset_id))
    if (!r || !d || !canReadDataset(req.principal, d)) throw notFound('Resource', 'tài nguyên')
    return { r, d }
  }

  app.get('/api/data/resources/:id/download/:filename', {
    compress: false,
    schema: { tags: ['data'], summary: 'The uploaded file of a resource, byte for byte (sha256 in ETag)', params: Type.Object({ id: Type.String({ format: 'uuid' }), filename: Type.String({ maxLength: 300 }) }), response: { 200: Any, ...errors } },
  }, async (req, reply) => {
    const { r } = await readableResource(req, req.params.id)
    if (!r.file_sha256) throw notFound('Resource file', 'tệp')
    const path = dataFilePath(ctx.config.uploadDir, r.file_sha256)
    if (!(await fileExists(path))) throw notFound('Resource file', 'tệp')
    const ascii = (r.file_name ?? 'data').replace(/[^\x20-\x7e]|["\\]/g, '_')
    return reply.header('etag', `"${r.file_sha256}"`).header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(r.file_name ?? 'data')}`)
      .type(r.mimetype ?? 'application/octet-stream').send(createReadStream(path))
  })

  app.get('/api/data/resources/:id/export.csv', {
    schema: {
      tags: ['data'], summary: 'Full export of a DataStore table as CSV, streamed by keyset paging on _id (no row cap, flat memory)', params: ResourceId,
      querystring: Type.Object({ bom: Type.Optional(Type.Boolean({ description: 'Start with a UTF-8 BOM (for Excel)' })) }),
      response: { 200: Any, ...errors },
    },
  }, async (req, reply) => {
    const { r } = await readableResource(req, req.params.id)
    if (!r.datastore_active || !r.datastore_table) throw notFound('DataStore table', 'bảng dữ liệu')
    const table = r.datastore_table
    const fields = r.fields
    const db = ctx.db
    async function* lines() {
      if (req.query.bom) yield '\uFEFF'
      yield csvLine(fields.map((f) => f.id))
      for await (const batch of exportRows(db, table, fields)) yield batch.map((row) => csvLine(row)).join('')
    }
    const ascii = `${r.id}.csv`
    return reply.header('content-disposition', `attachment; filename="${ascii}"`).type('text/csv; charset=utf-8').send(Readable.from(lines()))
  })

  // ---- DCAT-AP ------------------------------------------------------------------------------
  const CatalogQuery = Type.Object({ page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }), page_size: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) })
  const catalogue = async (req: FastifyRequest, page: number, size: number) => {
    const { rows, total } = await listDatasetsPage(ctx.db, req.principal, size, (page - 1) * size)
    const resources = await listResources(ctx.db, rows.map((d) => d.id))
    return catalogueDoc(cfg.baseUrl, rows.map((d) => ({ d, resources: resources.filter((r) => r.dataset_id === d.id) })), { page, size, total })
  }
  app.get('/api/data/dcat/catalog.jsonld', {
    schema: { tags: ['data', 'dcat'], summary: 'DCAT-AP catalogue (JSON-LD), paged with hydra:PartialCollectionView', querystring: CatalogQuery, response: { 200: Any, ...errors } },
  }, async (req, reply) => reply.type('application/ld+json; charset=utf-8').send(toJsonLd(await catalogue(req, req.query.page, req.query.page_size))))
  app.get('/api/data/dcat/catalog.ttl', {
    schema: { tags: ['data', 'dcat'], summary: 'DCAT-AP catalogue (Turtle), paged', querystring: CatalogQuery, response: { 200: Any, ...errors } },
  }, async (req, reply) => reply.type('text/turtle; charset=utf-8').send(await toTurtle(await catalogue(req, req.query.page, req.query.page_size))))
  app.get('/api/data/dcat/datasets/:name/dcat.jsonld', {
    schema: { tags: ['data', 'dcat'], summary: 'DCAT-AP description of one dataset (JSON-LD)', params: DatasetName, response: { 200: Any, ...errors } },
  }, async (req, reply) => {
    const d = await readable(req, req.params.name)
    return reply.type('application/ld+json; charset=utf-8').send(toJsonLd(datasetDoc(cfg.baseUrl, d, await listResources(ctx.db, [d.id]))))
  })
  app.get('/api/data/dcat/datasets/:name/dcat.ttl', {
    schema: { tags: ['data', 'dcat'], summary: 'DCAT-AP description of one dataset (Turtle)', params: DatasetName, response: { 200: Any, ...errors } },
  }, async (req, reply) => {
    const d = await readable(req, req.params.name)
    return reply.type('text/turtle; charset=utf-8').send(await toTurtle(datasetDoc(cfg.baseUrl, d, await listResources(ctx.db, [d.id]))))
  })
}
