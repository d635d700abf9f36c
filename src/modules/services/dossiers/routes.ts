import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { documentsLinkedTo } from '../../documents/index.ts'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, isStaff, requireUser, type Principal } from '../../../platform/auth/principal.ts'
import { badRequest, conflict, forbidden, notFound } from '../../../platform/http/errors.ts'
import { readIdempotencyKey } from '../../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext } from '../../../platform/module.ts'
import { loadWorkingCalendar } from '../../calendar/index.ts'
import { getOrgUnit } from '../../identity/index.ts'
import { runDossierAction, isOwner, isUnitStaff, type ActionInput } from './actions.ts'
import type { CataloguePort } from './catalogue-port.ts'
import { MAX_FILES, type UploadedFile } from './files.ts'
import { DOSSIER_CODE_PATTERN } from './numbering.ts'
import { presentAction, presentDetail, presentSummary } from './presenters.ts'
import { getBankAccount, getDossierAccess, getDossierByCode, getLetter, listDeadlineChanges, listDossiers, listFiles, listPauses, listSlips, type DossierAccess, type DossierRow } from './repository.ts'
import { renderSlip, SLIP_KINDS, type SlipKind } from './slips-pdf.ts'
import { DOSSIER_ACTIONS, type DossierAction } from './status-machine.ts'
import { submitDossier, type DossierSubmission } from './submit.ts'
import { vietQrPayload } from './vietqr.ts'

const FileList = Type.Array(Type.Unsafe<UploadedFile>({ description: 'multipart file parts, each named by its component key' }), { maxItems: MAX_FILES })

export const SubmissionSchema = Type.Object({
  procedure_code: Type.String({ minLength: 1, maxLength: 64 }),
  commune_code: Type.Optional(Type.String({ pattern: '^[0-9]{5}$' })),
  channel: Type.Union([Type.Literal('online'), Type.Literal('in_person')], { default: 'online' }),
  applicant_name: Type.String({ minLength: 2, maxLength: 200 }),
  applicant_id_number: Type.Optional(Type.String({ pattern: '^[0-9]{9,12}$' })),
  applicant_phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' })),
  applicant_email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
  applicant_address: Type.Optional(Type.String({ maxLength: 400 })),
  applicant_user_id: Type.Optional(Type.String({ format: 'uuid' })),
  form: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 4000 }))),
  /** reuse.<component key> = an item of the applicant's data store (GET /api/me/store), instead of uploading. */
  reuse: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ pattern: '^[ufr][0-9]{1,18}$', maxLength: 20 }), { maxProperties: 20 })),
  files: Type.Optional(FileList),
})

const ActionBody = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
  note: Type.Optional(Type.String({ maxLength: 2000 })),
  method: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('at_desk')])),
  reference: Type.Optional(Type.String({ maxLength: 100 })),
  approver_user_id: Type.Optional(Type.String({ format: 'uuid' })),
  new_due: Type.Optional(Type.String({ maxLength: 40 })),
  to_user_id: Type.Optional(Type.String({ format: 'uuid' })),
  files: Type.Optional(FileList),
})

const CodeParam = Type.String({ pattern: DOSSIER_CODE_PATTERN, maxLength: 60 })

/**
 * Reads a multipart body into the JSON shape: text fields by name (`form.x` → `form: { x }`), and
 * every file part as `{ field, name, data }` where the field is the component key.
 */
export async function readMultipart(req: FastifyRequest, fileSize: number): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {}
  const files: UploadedFile[] = []
  for await (const part of req.parts({ limits: { files: MAX_FILES, fileSize, fields: 60, parts: MAX_FILES + 60 } })) {
    if (part.type === 'file') {
      files.push({ field: part.fieldname, name: part.filename || part.fieldname, data: await part.toBuffer() })
    } else {
      const value = String(part.value)
      const [head, sub] = part.fieldname.split('.', 2)
      if (sub) ((body[head] ??= {}) as Record<string, unknown>)[sub] = value
      else body[part.fieldname] = value
    }
  }
  if (files.length) body.files = files
  return body
}

/**
 * Who may see a dossier: its applicant and the staff of its handling unit (province admins too).
 * Staff of another unit get 403; anyone else 404, so the code reveals nothing.
 */
type Visible<D = DossierRow> = { d: D; p: Principal; staffView: boolean }
/** The check made in preValidation, reused by the handler of the same request (one read, not two). */
const visibleOf = new WeakMap<FastifyRequest, Promise<Visible>>()
function loadVisible(ctx: AppContext, req: FastifyRequest, code: string): Promise<Visible> {
  let v = visibleOf.get(req)
  if (!v) visibleOf.set(req, (v = checkVisible(ctx, req, code, getDossierByCode)))
  return v
}
/**
 * The same check before a workflow action, on the access columns only: the action reads the full
 * row itself, under its lock, and answers with it (one wide read per action, not two).
 */
const accessOf = new WeakMap<FastifyRequest, Promise<Visible<DossierAccess>>>()
function loadAccess(ctx: AppContext, req: FastifyRequest, code: string): Promise<Visible<DossierAccess>> {
  let v = accessOf.get(req)
  if (!v) accessOf.set(req, (v = checkVisible(ctx, req, code, getDossierAccess)))
  return v
}
const CODE_RE = new RegExp(DOSSIER_CODE_PATTERN)
async function checkVisible<D extends DossierAccess>(ctx: AppContext, req: FastifyRequest, code: string, read: (db: AppContext['db'], province: string, code: string) => Promise<D | undefined>): Promise<Visible<D>> {
  const p = requireUser(req)
  const d = CODE_RE.test(code) ? await read(ctx.db, ctx.config.provinceCode, code) : undefined
  if (!d) throw notFound('Dossier', 'hồ sơ')
  const staffView = isUnitStaff(p, d)
  if (staffView || isOwner(p, d)) return { d, p, staffView }
  if (isStaff(p)) throw forbidden('The dossier belongs to another unit.', 'Hồ sơ thuộc đơn vị khác.')
  throw notFound('Dossier', 'hồ sơ')
}

export type DossierRoutesOptions = { catalogue: CataloguePort }

/** `/api/dossiers`: submission, tracking, the unit work queue, workflow actions, printed slips. */
export function createDossierRoutes(opts: DossierRoutesOptions) {
  return async function dossierRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
    const fileSize = ctx.config.uploadFileLimit
    // The node's province: every read of a dossier and its children names it (one shard on Citus).
    const province = ctx.config.provinceCode

    app.post('/api/dossiers', {
      preValidation: async (req) => {
        requireUser(req)
        if (req.isMultipart()) (req as { body: unknown }).body = await readMultipart(req, fileSize)
        else if (req.body && typeof req.body === 'object' && 'files' in req.body) {
          throw badRequest('FILES_NEED_MULTIPART', 'Gửi tệp bằng multipart/form-data.', 'Send files as multipart/form-data parts named by component key.')
        }
      },
      schema: {
        tags: ['dossiers'],
        summary: 'Submit a dossier (hồ sơ): online by the citizen, or at the one-stop desk by an officer (channel in_person)',
        description: 'multipart/form-data: text fields (form.<name> for form fields), files named by component key, and reuse.<component key>=<item id> to attach an item of the citizen\'s data store instead of uploading. Send an Idempotency-Key header to retry safely.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        body: SubmissionSchema,
        response: { 201: Type.Object({ code: Type.String() }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
      },
    }, async (req, reply) => {
      const key = readIdempotencyKey(req.headers['idempotency-key'])
      const p = req.principal
      const r = await submitDossier({ db: ctx.db, provinceCode: province, catalogue: opts.catalogue, uploadDir: ctx.config.uploadDir, now: ctx.clock() }, req.body as DossierSubmission, p, { scope: `POST /api/dossiers|${actorOf(p)}`, key })
      if (r.replayed) reply.header('idempotent-replayed', 'true')
      return reply.status(201).send(r.body)
    })

    app.get('/api/dossiers', {
      preValidation: async (req) => {
        const p = requireUser(req)
        if (p.role === 'ioc_viewer') throw forbidden()
      },
      schema: {
        tags: ['dossiers'],
        summary: "Citizens: their own dossiers, newest first. Staff: their unit's work queue by urgency (earliest due first), with due times",
        querystring: Type.Object({
          status: Type.Optional(Type.String({ pattern: '^([0-9]{1,2})(,[0-9]{1,2})*$', maxLength: 40 })),
          step: Type.Optional(Type.String({ maxLength: 64 })),
          unit_code: Type.Optional(Type.String({ maxLength: 32 })),
          mine: Type.Optional(Type.Boolean()),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          offset: Type.Integer({ minimum: 0, maximum: 100000, default: 0 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    }, async (req) => {
      const p = requireUser(req)
      const q = req.query
      const statuses = q.status?.split(',').map(Number)
      if (statuses?.some((s) => s < 1 || s > 10)) throw badRequest('INVALID_STATUS', 'Mã trạng thái từ 1 đến 10.', 'Status codes are 1 to 10.')
      const now = ctx.clock()
      const cal = await loadWorkingCalendar(ctx.db)
      if (!isStaff(p) || q.mine) {
        const rows = await listDossiers(ctx.db, province, { applicantUserId: p.userId, statuses, step: q.step, limit: q.limit, offset: q.offset })
        return { items: rows.map((d) => presentSummary(d, now, cal)) }
      }
      if (p.role !== 'province_admin' && q.unit_code && q.unit_code !== p.unitCode) throw forbidden()
      const unitCode = p.role === 'province_admin' ? q.unit_code : p.unitCode!
      const rows = await listDossiers(ctx.db, province, { unitCode, statuses: statuses ?? [1, 2, 4, 5, 6, 9], step: q.step, limit: q.limit, offset: q.offset })
      return { items: rows.map((d) => presentSummary(d, now, cal)) }
    })

    app.get('/api/dossiers/:code', {
      preValidation: async (req) => {
        await loadVisible(ctx, req, (req.params as { code: string }).code)
      },
      schema: { tags: ['dossiers'], summary: 'One dossier: its applicant and the staff of its handling unit', params: Type.Object({ code: CodeParam }), response: { 200: Type.Unknown(), 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
    }, async (req) => {
      const { d, staffView } = await loadVisible(ctx, req, req.params.code)
      return detail(ctx, d, staffView)
    })

    app.post('/api/dossiers/:code/:action', {
      preValidation: async (req) => {
        await loadAccess(ctx, req, (req.params as { code: string }).code)
        if (req.isMultipart()) (req as { body: unknown }).body = await readMultipart(req, fileSize)
      },
      schema: {
        tags: ['dossiers'],
        description: 'Answers with the dossier as it now is (the fields of the list view, plus `view` and the `control_slip` this action wrote); GET the dossier for its files, slips and pauses.',
        summary: 'Workflow action. Staff of the unit: receive, refuse, process, forward, request_supplement, request_fee, stop, resolve, return, change_deadline; leader: approve_apology; applicant: supplement (with files), pay (online), withdraw',
        params: Type.Object({ code: CodeParam, action: Type.Union(DOSSIER_ACTIONS.map((a) => Type.Literal(a))) }),
        body: Type.Optional(ActionBody),
        response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
      },
    }, async (req) => {
      const { p } = await loadAccess(ctx, req, req.params.code)
      const now = ctx.clock()
      const r = await runDossierAction({ db: ctx.db, provinceCode: province, uploadDir: ctx.config.uploadDir, now }, req.params.code, req.params.action as DossierAction, (req.body ?? {}) as ActionInput, p)
      // A slim answer: the dossier as it now is and the control slip just written; GET the dossier for its lists.
      return presentAction(r.dossier, now, await loadWorkingCalendar(ctx.db), isUnitStaff(p, r.dossier), r.slip)
    })

    app.get('/api/dossiers/:code/files/:id', {
      preValidation: async (req) => {
        await loadVisible(ctx, req, (req.params as { code: string }).code)
      },
      schema: {
        tags: ['dossiers'],
        summary: "Download one of the dossier's component files (ids in the dossier's files list): its applicant and the staff of its handling unit",
        params: Type.Object({ code: CodeParam, id: Type.String({ pattern: '^[0-9]{1,18}$' }) }),
        response: { 200: Type.Unknown(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    }, async (req, reply) => {
      const { d } = await loadVisible(ctx, req, req.params.code)
      const f = (await listFiles(ctx.db, province, d.id)).find((x) => x.id === req.params.id)
      const data = f && (await readFile(join(ctx.config.uploadDir, f.stored_name)).catch(() => undefined))
      if (!f || !data) throw notFound('File', 'tệp')
      reply.type(f.mime).header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.original_name)}`).header('cache-control', 'private, no-store')
      return reply.send(data)
    })

    app.get('/api/dossiers/:code/slips/:kind.pdf', {
      preValidation: async (req) => {
        await loadVisible(ctx, req, (req.params as { code: string }).code)
      },
      schema: {
        tags: ['dossiers'],
        summary: 'A printed form of the dossier as PDF: receipt, refusal, supplement, apology, result, control',
        params: Type.Object({ code: CodeParam, kind: Type.Union(SLIP_KINDS.map((k) => Type.Literal(k))) }),
        response: { 200: Type.Unknown(), 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    }, async (req, reply) => {
      const { d } = await loadVisible(ctx, req, req.params.code)
      const kind = req.params.kind as SlipKind
      const letter = await getLetter(ctx.db, province, d.id)
      const available: Record<SlipKind, boolean> = {
        receipt: d.received_at !== null,
        refusal: d.status === 3,
        supplement: d.supplement_reason !== null,
        apology: !!letter,
        result: d.status === 9 || d.status === 10,
        control: true,
      }
      if (!available[kind]) throw conflict('SLIP_NOT_AVAILABLE', 'Hồ sơ chưa có phiếu này.', `The dossier has no ${kind} slip (yet).`)
      const [files, slips, unit] = await Promise.all([listFiles(ctx.db, province, d.id), listSlips(ctx.db, province, d.id), getOrgUnit(ctx.db, d.unit_code)])
      const pdf = await renderSlip(kind, { dossier: d, agencyName: unit?.name_vi ?? d.unit_code, files, slips, letter, place: 'Điện Biên', now: ctx.clock() })
      reply.type('application/pdf').header('content-disposition', `inline; filename="${d.code}-${kind}.pdf"`).header('cache-control', 'private, no-store')
      return reply.send(pdf)
    })
  }
}

async function detail(ctx: AppContext, d: DossierRow, staffView: boolean) {
  const province = ctx.config.provinceCode
  const [files, slips, pauses, changes, letter, cal, bank] = await Promise.all([
    listFiles(ctx.db, province, d.id), listSlips(ctx.db, province, d.id), listPauses(ctx.db, province, d.id), listDeadlineChanges(ctx.db, province, d.id), getLetter(ctx.db, province, d.id),
    loadWorkingCalendar(ctx.db), d.payment_status === 'unpaid' ? getBankAccount(ctx.db, d.unit_code) : Promise.resolve(undefined),
  ])
  const vietqr = bank ? vietQrPayload({ bankBin: bank.bank_bin, accountNo: bank.account_no, amountVnd: d.fee_vnd, purpose: d.code }) : null
  // Everything linked to the dossier in the document system (its result, related letters).
  const linked_documents = staffView ? await documentsLinkedTo(ctx.db, province, 'dossier', d.code) : undefined
  return { ...presentDetail(d, ctx.clock(), cal, { files, slips, pauses, changes, letter, vietqr, staffView }), ...(linked_documents ? { linked_documents } : {}) }
}
