import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import { actorOf, requireUser } from '../../../platform/auth/principal.ts'
import { AppError, badRequest, notFound } from '../../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import { writeFileAtomic } from '../../../platform/storage/atomic-write.ts'
import { removeUnreferenced } from '../dossiers/files.ts'
import type { AppContext } from '../../../platform/module.ts'
import { detectFormat, type UploadedFile } from '../dossiers/files.ts'
import { readMultipart } from '../dossiers/routes.ts'
import { withRenderedResult } from './results.ts'
import { deleteStoreItem, getStoreItem, insertStoreItem, listStoreItems, STORE_ITEM_ID, type StoreItem } from './repository.ts'

const ItemId = Type.String({ pattern: STORE_ITEM_ID, maxLength: 20 })
const present = (i: StoreItem) => ({
  id: i.id, source: i.source, title: i.title, name: i.original_name, mime: i.mime, bytes: i.bytes, sha256: i.sha256,
  dossier_code: i.dossier_code, component_key: i.component_key, document_symbol: i.document_symbol, created_at: new Date(i.created_at).toISOString(),
})
const notFoundItem = () => notFound('Stored item', 'tài liệu trong kho')

/**
 * `/api/me/store`: the signed-in person's own data store (kho dữ liệu của công dân). Only the
 * owner ever sees an item; officers see a reused item only as a file of the dossier it was
 * attached to (through the dossier routes, for their unit).
 */
export async function citizenStoreRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const fileSize = ctx.config.uploadFileLimit

  app.get('/api/me/store', {
    preValidation: async (req) => void requireUser(req),
    schema: {
      tags: ['citizen-store'],
      summary: 'My data store: my uploads, the files of my past dossiers and the results of my returned dossiers, reusable in a new dossier (reuse.<component>=<id>)',
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), offset: Type.Integer({ minimum: 0, maximum: 100000, default: 0 }) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const p = requireUser(req)
    return { items: (await listStoreItems(ctx.db, ctx.config.provinceCode, p.userId, req.query.limit, req.query.offset)).map(present) }
  })

  app.post('/api/me/store', {
    preValidation: async (req) => {
      requireUser(req)
      if (!req.isMultipart()) throw new AppError(415, 'MULTIPART_REQUIRED', 'Gửi tệp bằng multipart/form-data.', 'Send the file as multipart/form-data (part "file").')
      ;(req as { body: unknown }).body = await readMultipart(req, fileSize)
    },
    schema: {
      tags: ['citizen-store'],
      summary: 'Upload a document to my data store (multipart: file, title). Send an Idempotency-Key header to retry safely',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        files: Type.Array(Type.Unsafe<UploadedFile>({ description: 'one part named "file"' }), { minItems: 1, maxItems: 1 }),
      }),
      response: { 201: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
    },
  }, async (req, reply) => {
    const p = requireUser(req)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const f = req.body.files[0]
    if (f.field !== 'file') throw badRequest('UNKNOWN_PART', 'Tệp phải gửi trong phần "file".', 'Send the file in the part named "file".')
    if (f.data.length === 0) throw badRequest('EMPTY_FILE', 'Tệp rỗng.', 'The file is empty.')
    const format = detectFormat(f.name, f.data)
    if (!format) throw new AppError(415, 'FILE_TYPE_NOT_ALLOWED', 'Tệp không đúng định dạng cho phép (pdf, jpg, png, doc, docx, xlsx).', 'The file is not an allowed type (pdf, jpg, png, doc, docx, xlsx).')
    const sha256 = createHash('sha256').update(f.data).digest('hex')
    const stored = `dossiers/${sha256}.${format.ext}`
    const now = ctx.clock()
    const title = (req.body.title ?? f.name).slice(0, 200)
    // Written before the transaction (tmp + rename); if the write or the transaction fails, the
    // file is removed unless a committed row refers to the same content.
    const r = await (async () => {
      try {
        await mkdir(join(ctx.config.uploadDir, 'dossiers'), { recursive: true })
        await writeFileAtomic(join(ctx.config.uploadDir, stored), f.data, { contentAddressed: true })
        return await runIdempotent(ctx.db, { scope: `POST /api/me/store|${actorOf(p)}`, key, fingerprint: requestFingerprint({ title, sha256, name: f.name }) }, async (tx) => {
          const id = await insertStoreItem(tx, { owner: p.userId, title, original_name: f.name.slice(0, 255), stored_name: stored, mime: format.mime, bytes: f.data.length, sha256, at: now })
          await appendAudit(tx, { actor: actorOf(p), action: 'citizen_store.uploaded', entityType: 'citizen_store_item', entityId: id, data: { sha256, bytes: f.data.length } }, now)
          const item = (await getStoreItem(tx, ctx.config.provinceCode, p.userId, id))!
          return { statusCode: 201, body: present(item) }
        })
      } catch (err) {
        await removeUnreferenced(ctx.db, ctx.config.uploadDir, [{ stored_name: stored }])
        throw err
      }
    })()
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/me/store/:id/file', {
    preValidation: async (req) => void requireUser(req),
    schema: { tags: ['citizen-store'], summary: 'Download one item of my data store (owner only)', params: Type.Object({ id: ItemId }), response: { 200: Type.Unknown(), 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req, reply) => {
    const p = requireUser(req)
    const found = await getStoreItem(ctx.db, ctx.config.provinceCode, p.userId, req.params.id)
    if (!found) throw notFoundItem()
    const item = await withRenderedResult(ctx.db, ctx.config.provinceCode, ctx.config.uploadDir, found, ctx.clock())
    const data = await readFile(join(ctx.config.uploadDir, item.stored_name)).catch(() => undefined)
    if (!data) throw notFoundItem()
    reply.type(item.mime).header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(item.original_name)}`).header('cache-control', 'private, no-store')
    return reply.send(data)
  })

  app.delete('/api/me/store/:id', {
    preValidation: async (req) => void requireUser(req),
    schema: { tags: ['citizen-store'], summary: 'Remove one of my uploads from my data store (files of dossiers stay with their dossier: 409)', params: Type.Object({ id: ItemId }), response: { 204: Type.Null(), 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema } },
  }, async (req, reply) => {
    const p = requireUser(req)
    const item = await getStoreItem(ctx.db, ctx.config.provinceCode, p.userId, req.params.id)
    if (!item) throw notFoundItem()
    if (item.source !== 'upload') throw new AppError(409, 'PART_OF_DOSSIER', 'Tệp thuộc hồ sơ hoặc là kết quả giải quyết, không xoá được.', 'This file belongs to a dossier or is the result of one and cannot be removed.')
    const now = ctx.clock()
    await ctx.db.transaction().execute(async (tx) => {
      if (!(await deleteStoreItem(tx, p.userId, item.id, now))) throw notFoundItem()
      await appendAudit(tx, { actor: actorOf(p), action: 'citizen_store.deleted', entityType: 'citizen_store_item', entityId: item.id }, now)
    })
    return reply.status(204).send(null)
  })
}
