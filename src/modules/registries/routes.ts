import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { actorOf, requirePrincipal, type Principal } from '../../platform/auth/principal.ts'
import { AppError, badRequest, conflict, forbidden, notFound, unauthorized } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { getOrgUnit } from '../identity/index.ts'
import { registriesConfig } from './config.ts'
import { importRows, readCsv, readXlsx } from './import.ts'
import { CIVIL_SERVANTS, createRecord, updateRecord } from './records.ts'
import { countRecords, getRecord, getSchema, listRecords, listSchemas, listVersions, upsertSchema, type RecordRow, type VersionRow } from './repository.ts'
import { ACCESS_LEVELS, atLeast, callerLevel, canSeeRegistry, checkSchemaDefinition, coerceValue, FIELD_TYPES, presentSchema, projectData, visibleFields, type AccessLevel, type RegistrySchema } from './schema.ts'

declare module 'fastify' {
  interface FastifyRequest {
    registry?: { schema: RegistrySchema; level: AccessLevel }
  }
}

const NameParam = Type.String({ pattern: '^[a-z][a-z0-9_]{1,62}$' })
const KeyParam = Type.String({ minLength: 1, maxLength: 200 })

/** Loads the registry named in the path and the caller's level; 401/403/404 before validation. */
async function loadRegistryFor(ctx: AppContext, req: FastifyRequest): Promise<{ schema: RegistrySchema; level: AccessLevel }> {
  const name = (req.params as { name?: string }).name ?? ''
  const schema = /^[a-z][a-z0-9_]{1,62}$/.test(name) ? await getSchema(ctx.db, name) : undefined
  const p = req.principal
  if (!schema) {
    if (!p) throw unauthorized()
    throw notFound('Registry', 'cơ sở dữ liệu')
  }
  const level = callerLevel(p, schema)
  if (!canSeeRegistry(level, schema)) {
    if (!p) throw unauthorized()
    throw forbidden('This registry is not shared with you.', 'Cơ sở dữ liệu này không được chia sẻ cho bạn.')
  }
  req.registry = { schema, level }
  return req.registry
}

/** Who may change a registry's records: its owner agency's staff or systems, province admins, clients with a write scope. */
export function canWriteRegistry(p: Principal | null, schema: RegistrySchema): boolean {
  if (!p) return false
  if (p.kind === 'user') return p.role === 'province_admin' || ((p.role === 'officer' || p.role === 'unit_admin') && p.unitCode === schema.owner_unit)
  return p.unitCode === schema.owner_unit || p.scopes.includes('registries:write') || p.scopes.includes(`registry:${schema.name}:write`)
}

async function loadForWrite(ctx: AppContext, req: FastifyRequest) {
  requirePrincipal(req)
  const r = await loadRegistryFor(ctx, req)
  if (!canWriteRegistry(req.principal, r.schema)) throw forbidden('Only the owner agency changes this registry.', 'Chỉ cơ quan chủ quản được cập nhật cơ sở dữ liệu này.')
  if (r.schema.name === CIVIL_SERVANTS) {
    throw conflict('USE_CIVIL_SERVANT_ROUTES', 'Hồ sơ cán bộ, công chức được cập nhật qua /api/civil-servants.', 'Civil-servant records are changed through /api/civil-servants.')
  }
  return r
}

export function presentRecord(schema: RegistrySchema, level: AccessLevel, r: RecordRow) {
  return {
    key: r.record_key,
    version: r.version,
    updated_at: new Date(r.updated_at).toISOString(),
    ...(atLeast(level, 'shared') ? { unit_code: r.unit_code, updated_by: r.updated_by } : {}),
    data: projectData(schema, level, r.data),
  }
}

/** A record's history as this level may see it: the diff and the data keep only visible fields. */
export function presentHistory(schema: RegistrySchema, level: AccessLevel, versions: VersionRow[]) {
  return versions.map((v) => ({
    version: v.version,
    at: new Date(v.at).toISOString(),
    action: v.action,
    ...(atLeast(level, 'shared') ? { actor: v.actor } : {}),
    changed: Object.fromEntries(Object.entries(v.diff).filter(([k]) => projectData(schema, level, { [k]: true })[k] !== undefined).map(([k, [a, b]]) => [k, { before: a, after: b }])),
    data: projectData(schema, level, v.data),
  }))
}

/** Parses `filter=field:value,field:value` against the fields the caller may see. */
export function parseFilter(schema: RegistrySchema, level: AccessLevel, filter: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (!filter) return out
  const fields = new Map(visibleFields(schema, level).map((f) => [f.name, f]))
  for (const part of filter.split(',')) {
    const i = part.indexOf(':')
    const name = i > 0 ? part.slice(0, i).trim() : ''
    const f = fields.get(name)
    if (!f || f.type === 'list') throw badRequest('INVALID_FILTER', `Không lọc được theo "${name || part}".`, `Cannot filter on "${name || part}" (unknown, not visible to you, or a list).`)
    const v = coerceValue(f, part.slice(i + 1))
    if (v.error || v.value === undefined) throw badRequest('INVALID_FILTER', `Giá trị lọc của "${name}" không hợp lệ.`, `Invalid filter value for "${name}".`, v.error)
    out[name] = v.value
  }
  return out
}

const FieldSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$' }),
  type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))),
  label_vi: Type.String({ minLength: 1, maxLength: 200 }),
  label_en: Type.String({ minLength: 1, maxLength: 200 }),
  access: Type.Union(ACCESS_LEVELS.map((t) => Type.Literal(t))),
  required: Type.Optional(Type.Boolean()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  pattern: Type.Optional(Type.String({ maxLength: 300 })),
  values: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 })),
  max_items: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  item_fields: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 50 })),
})

const RecordOut = Type.Object({ key: Type.String(), version: Type.Integer(), updated_at: Type.String(), unit_code: Type.Optional(Type.Union([Type.String(), Type.Null()])), updated_by: Type.Optional(Type.String()), data: Type.Record(Type.String(), Type.Unknown()) })
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }

export async function registriesRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cfg = registriesConfig(ctx.config.env)

  app.get('/api/registries', {
    schema: {
      tags: ['registries'],
      summary: 'Shared databases (CSDL dùng chung) the caller may see, with the fields visible at their access level',
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }) },
    },
  }, async (req) => {
    const items = []
    for (const s of await listSchemas(ctx.db)) {
      const level = callerLevel(req.principal, s)
      if (canSeeRegistry(level, s)) items.push({ ...presentSchema(s, level), your_access: level, records: await countRecords(ctx.db, s.name) })
    }
    return { items }
  })

  app.get('/api/registries/:name', {
    preValidation: async (req) => void (await loadRegistryFor(ctx, req)),
    schema: { tags: ['registries'], summary: 'One registry schema (fields visible at your level)', params: Type.Object({ name: NameParam }), response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const { schema, level } = req.registry!
    return { ...presentSchema(schema, level), your_access: level, records: await countRecords(ctx.db, schema.name) }
  })

  app.put('/api/registries/:name', {
    preValidation: async (req) => {
      const p = requirePrincipal(req)
      if (p.kind !== 'user' || p.role !== 'province_admin') throw forbidden()
    },
    schema: {
      tags: ['registries'],
      summary: 'Create or change a registry schema (province admin): typed fields, keys, rules, owner agency, access per field',
      params: Type.Object({ name: NameParam }),
      body: Type.Object({
        title_vi: Type.String({ minLength: 1, maxLength: 200 }),
        title_en: Type.String({ minLength: 1, maxLength: 200 }),
        description: Type.String({ maxLength: 2000, default: '' }),
        owner_unit: Type.String({ minLength: 1, maxLength: 32 }),
        access: Type.Union(ACCESS_LEVELS.map((t) => Type.Literal(t))),
        key_fields: Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 5 }),
        fields: Type.Array(FieldSchema, { minItems: 1, maxItems: 200 }),
      }),
      response: { 200: Type.Unknown(), ...Errors },
    },
  }, async (req) => {
    const p = requirePrincipal(req)
    const name = req.params.name
    if (name === CIVIL_SERVANTS) throw conflict('BUILT_IN_REGISTRY', 'Lược đồ CSDL cán bộ, công chức do hệ thống quản lý.', 'The civil-servant registry schema is built in.')
    const schema: RegistrySchema = { name, schema_version: 1, ...req.body, description: req.body.description ?? '', fields: req.body.fields as RegistrySchema['fields'] }
    const problems = checkSchemaDefinition(schema)
    if (problems.length > 0) throw badRequest('INVALID_SCHEMA', 'Lược đồ không hợp lệ.', 'The schema is not valid.', { errors: problems })
    return ctx.db.transaction().execute(async (tx) => {
      if (!(await getOrgUnit(tx, schema.owner_unit))) throw badRequest('UNKNOWN_UNIT', 'Cơ quan chủ quản không tồn tại.', `Unknown owner unit ${schema.owner_unit}.`)
      const before = await getSchema(tx, name)
      if (before && (await countRecords(tx, name)) > 0 && before.key_fields.join('~') !== schema.key_fields.join('~')) {
        throw conflict('KEY_FIELDS_LOCKED', 'Không đổi được trường khoá khi đã có dữ liệu.', 'Key fields cannot change once the registry has records.')
      }
      await upsertSchema(tx, schema, { replace: true })
      await appendAudit(tx, { actor: actorOf(p), action: before ? 'registry.schema_changed' : 'registry.schema_created', entityType: 'registry', entityId: name, data: { owner_unit: schema.owner_unit, access: schema.access, fields: schema.fields.map((f) => `${f.name}:${f.type}:${f.access}`) } }, ctx.clock())
      const saved = (await getSchema(tx, name))!
      return presentSchema(saved, 'restricted')
    })
  })

  app.get('/api/registries/:name/records', {
    preValidation: async (req) => void (await loadRegistryFor(ctx, req)),
    schema: {
      tags: ['registries'],
      summary: 'Records of a registry, fields limited to your access level; filter by visible fields, keyset paging',
      params: Type.Object({ name: NameParam }),
      querystring: Type.Object({
        filter: Type.Optional(Type.String({ maxLength: 500, description: 'field:value pairs separated by commas, e.g. commune_code:03127,level:thcs' })),
        after: Type.Optional(Type.String({ maxLength: 200, description: 'the last key of the previous page' })),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(RecordOut), next_after: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
    },
  }, async (req) => {
    const { schema, level } = req.registry!
    const rows = await listRecords(ctx.db, schema.name, { equals: parseFilter(schema, level, req.query.filter), afterKey: req.query.after, limit: req.query.limit })
    return { items: rows.map((r) => presentRecord(schema, level, r)), next_after: rows.length === req.query.limit ? rows[rows.length - 1].record_key : null }
  })

  app.post('/api/registries/:name/records', {
    preValidation: async (req) => void (await loadForWrite(ctx, req)),
    schema: {
      tags: ['registries'],
      summary: 'Add a record (owner agency); validated against the schema; send an Idempotency-Key to retry safely',
      params: Type.Object({ name: NameParam }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()) }),
      response: { 201: RecordOut, ...Errors },
    },
  }, async (req, reply) => {
    const { schema, level } = req.registry!
    const p = req.principal!
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `registry-create|${schema.name}|${actorOf(p)}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const row = await createRecord(tx, schema, req.body.data, { actor: actorOf(p), now: ctx.clock() })
      return { statusCode: 201, body: presentRecord(schema, level, row) }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/registries/:name/records/:key', {
    preValidation: async (req) => void (await loadRegistryFor(ctx, req)),
    schema: { tags: ['registries'], summary: 'One record, fields limited to your access level', params: Type.Object({ name: NameParam, key: KeyParam }), response: { 200: RecordOut, ...Errors } },
  }, async (req) => {
    const { schema, level } = req.registry!
    const r = await getRecord(ctx.db, schema.name, req.params.key)
    if (!r) throw notFound('Record', 'bản ghi')
    return presentRecord(schema, level, r)
  })

  app.patch('/api/registries/:name/records/:key', {
    preValidation: async (req) => void (await loadForWrite(ctx, req)),
    schema: {
      tags: ['registries'],
      summary: 'Change a record (owner agency): the fields given; null clears an optional field; a new version with its diff',
      params: Type.Object({ name: NameParam, key: KeyParam }),
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()), expected_version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: RecordOut, ...Errors },
    },
  }, async (req) => {
    const { schema, level } = req.registry!
    const p = req.principal!
    const r = await ctx.db.transaction().execute((tx) => updateRecord(tx, schema, req.params.key, req.body.data, { actor: actorOf(p), now: ctx.clock(), expectedVersion: req.body.expected_version }))
    return presentRecord(schema, level, r.row)
  })

  app.get('/api/registries/:name/records/:key/history', {
    preValidation: async (req) => void (await loadRegistryFor(ctx, req)),
    schema: { tags: ['registries'], summary: 'Versions of a record: when, what changed (fields visible at your level), and who (agencies)', params: Type.Object({ name: NameParam, key: KeyParam }), response: { 200: Type.Object({ key: Type.String(), versions: Type.Array(Type.Unknown()) }), ...Errors } },
  }, async (req) => {
    const { schema, level } = req.registry!
    const versions = await listVersions(ctx.db, schema.name, req.params.key)
    if (versions.length === 0) throw notFound('Record', 'bản ghi')
    return { key: req.params.key, versions: presentHistory(schema, level, versions) }
  })

  app.post('/api/registries/:name/import', {
    preValidation: async (req) => void (await loadForWrite(ctx, req)),
    bodyLimit: Math.ceil(cfg.importMaxBytes * 1.4) + 1024,
    schema: {
      tags: ['registries'],
      summary: 'Import records from CSV or XLSX (first row: field names); a row-level error report; all_or_nothing or valid_rows',
      params: Type.Object({ name: NameParam }),
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]),
        content: Type.String({ minLength: 1, description: 'CSV text, or the XLSX file in base64' }),
        mode: Type.Union([Type.Literal('all_or_nothing'), Type.Literal('valid_rows')], { default: 'all_or_nothing' }),
      }),
      response: { 200: Type.Unknown(), ...Errors, 413: ErrorSchema, 422: ErrorSchema },
    },
  }, async (req, reply) => {
    const { schema } = req.registry!
    const p = req.principal!
    const bytes = req.body.format === 'csv' ? Buffer.byteLength(req.body.content) : Math.floor((req.body.content.length * 3) / 4)
    if (bytes > cfg.importMaxBytes) throw new AppError(413, 'IMPORT_TOO_LARGE', 'Tệp nhập quá lớn.', `The file is larger than ${cfg.importMaxBytes} bytes.`)
    const rows = req.body.format === 'csv' ? readCsv(req.body.content, cfg.importMaxRows) : await readXlsx(Buffer.from(req.body.content, 'base64'), cfg.importMaxRows)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `registry-import|${schema.name}|${actorOf(p)}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const report = await importRows(tx, schema, rows, req.body.mode ?? 'all_or_nothing', { actor: actorOf(p), now: ctx.clock() })
      if (!report.applied) throw new AppError(422, 'IMPORT_ROWS_INVALID', 'Có dòng không hợp lệ; chưa ghi dòng nào. Xem chi tiết theo dòng.', 'Some rows are invalid; nothing was written. See the row-level report.', report)
      await appendAudit(tx, { actor: actorOf(p), action: 'registry.imported', entityType: 'registry', entityId: schema.name, data: { format: req.body.format, rows: report.rows, created: report.created, updated: report.updated, rejected: report.rejected } }, ctx.clock())
      return { statusCode: 200, body: report }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })
}
