import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requirePrincipal, requireUser, STAFF_ROLES, type Role, type UserPrincipal } from '../../platform/auth/principal.ts'
import { enqueueJob } from '../../platform/jobs/job-runner.ts'
import { AppError, badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { writeFileAtomic } from '../../platform/storage/atomic-write.ts'
import { isPdf } from '../documents/index.ts'
import { getOrgUnit } from '../identity/index.ts'
import { complianceConfig } from './config.ts'
import { evaluateCompliance } from './evaluator.ts'
import { QUESTIONS } from './questionnaire.ts'
import { complianceByUnit, suspendedSubjects } from './reads.ts'
import {
  decisionFilePath, getSystem, grantExemption, listExemptions, listRules, listSystems, recordHeartbeats, saveApproval, saveDecisionFile, saveSystemClassification, saveUnitEvidence,
  type SystemRow,
} from './repository.ts'

const READERS: Role[] = [...STAFF_ROLES, 'ioc_viewer']
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
const readers = async (req: FastifyRequest) => {
  requireUser(req, ...READERS)
}
const staff = async (req: FastifyRequest) => {
  requireUser(req, ...STAFF_ROLES)
}
const admin = async (req: FastifyRequest) => {
  requireUser(req, 'province_admin')
}
/** Province admins and the IOC see every unit; other staff their own. */
const scope = (p: UserPrincipal): string | undefined => (p.role === 'province_admin' || p.role === 'ioc_viewer' ? undefined : (p.unitCode ?? '-'))
/** Unit admins manage their own unit; province admins any. */
function mayManage(p: UserPrincipal, unitCode: string): void {
  if (p.role === 'province_admin') return
  if (p.role === 'unit_admin' && p.unitCode === unitCode) return
  throw forbidden('Only the unit admin of this unit or a province admin may change it.', 'Chỉ quản trị của đơn vị hoặc quản trị tỉnh được thay đổi.')
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
const presentSystem = (s: SystemRow) => ({ ...s, created_at: iso(s.created_at), updated_at: iso(s.updated_at) })

const Answers = Type.Object({
  serves: Type.Union([Type.Literal('internal'), Type.Literal('citizens_businesses'), Type.Literal('sector_or_national')]),
  information: Type.Union([Type.Literal('public'), Type.Literal('private_or_personal'), Type.Literal('state_secret')]),
  personal_data_subjects: Type.Integer({ minimum: 0, maximum: 200_000_000 }),
  online_public_service_level: Type.Integer({ minimum: 0, maximum: 4 }),
  shared_platform: Type.Boolean(),
  national_critical: Type.Boolean(),
})

const Heartbeat = Type.Object({
  hostname: Type.String({ minLength: 1, maxLength: 200 }),
  unit_code: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Console reports only: the unit the computer belongs to' })),
  agent_id: Type.Optional(Type.String({ maxLength: 200 })),
  agent_version: Type.String({ minLength: 1, maxLength: 60 }),
  signatures_date: Type.String({ pattern: DATE, description: 'Date of the signature set (YYYY-MM-DD)' }),
  last_scan_at: Type.Optional(Type.String({ format: 'date-time' })),
  threats_found: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
})

export async function complianceRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cfg = complianceConfig(ctx.config)
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
  const tags = ['compliance']

  app.get('/api/compliance/questionnaire', {
    schema: { tags, summary: 'The guided Decree 85/2016 questionnaire that proposes a security level 1–5', response: { 200: Type.Object({ questions: Type.Array(Type.Unknown()) }) } },
  }, async () => ({ questions: [...QUESTIONS] }))

  app.get('/api/compliance/rules', {
    preValidation: readers,
    schema: { tags, summary: 'The policy as data: rules, their parameters, grace periods and how to fix', response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async () => ({ items: await listRules(ctx.db) }))

  app.get('/api/compliance/systems', {
    preValidation: readers,
    schema: { tags, summary: "Systems' classification, proposed and approved security level, approval decision, plan and assessments", response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => ({ items: (await listSystems(ctx.db, scope(requireUser(req, ...READERS)))).map(presentSystem) }))

  app.post('/api/compliance/systems', {
    preValidation: staff,
    schema: {
      tags, summary: 'Classify a system (create or update by system_ref): the questionnaire proposes its level',
      body: Type.Object({
        system_ref: Type.String({ pattern: '^[A-Za-z0-9._-]{1,40}/[A-Za-z0-9._-]{1,40}$', description: 'The system as the gateway names it: {member}/{system}' }),
        unit_code: Type.String({ minLength: 1, maxLength: 32 }), name: Type.String({ minLength: 1, maxLength: 300 }),
        info_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 30 })),
        questionnaire: Answers,
      }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    mayManage(p, req.body.unit_code)
    return presentSystem(await ctx.db.transaction().execute((tx) => saveSystemClassification(tx, req.body, actorOf(p), ctx.clock())))
  })

  app.put('/api/compliance/systems/:id/approval', {
    preValidation: admin,
    schema: {
      tags, summary: 'Record the approval decision (number, date, signer, file), approved level, security plan, re-assessment triggers and assessments',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: Type.Object({
        approved_level: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })), decision_number: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        decision_date: Type.Optional(Type.String({ pattern: DATE })), decision_signer: Type.Optional(Type.String({ maxLength: 200 })),
        decision_file_name: Type.Optional(Type.String({ maxLength: 300 })), decision_file_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
        security_plan: Type.Optional(Type.String({ maxLength: 10000 })), reassessment_triggers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 30 })),
        last_assessment_date: Type.Optional(Type.String({ pattern: DATE })), next_assessment_date: Type.Optional(Type.String({ pattern: DATE })),
      }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const s = await ctx.db.transaction().execute((tx) => saveApproval(tx, req.params.id, req.body, actorOf(p), ctx.clock()))
    if (!s) throw notFound('System', 'hệ thống')
    return presentSystem(s)
  })

  app.put('/api/compliance/systems/:id/decision-file', {
    preValidation: admin,
    schema: {
      tags, summary: 'Store the signed approval decision (quyết định phê duyệt cấp độ) of a system: a PDF, kept byte for byte; its name and SHA-256 are recorded',
      description: `multipart/form-data with one part named "file" (a PDF, at most ${Math.round(cfg.decisionFileMaxBytes / 1_048_576)} MB). Storing the same file again changes nothing.`,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Unknown(), 413: ErrorSchema, 415: ErrorSchema, ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    if (!(await getSystem(ctx.db, req.params.id))) throw notFound('System', 'hệ thống')
    if (!req.isMultipart()) throw new AppError(415, 'MULTIPART_REQUIRED', 'Gửi tệp bằng multipart/form-data (phần "file").', 'Send the file as multipart/form-data (part "file").')
    const part = await req.file({ limits: { fileSize: cfg.decisionFileMaxBytes, files: 1, fields: 10, parts: 12 } })
    if (!part || part.fieldname !== 'file') throw badRequest('FILE_REQUIRED', 'Cần tệp quyết định trong phần "file".', 'Send the decision in the part named "file".')
    const data = await part.toBuffer()
    if (!isPdf(data)) throw new AppError(415, 'FILE_TYPE_NOT_ALLOWED', 'Quyết định phải là tệp PDF.', 'The decision must be a PDF file.')
    const sha256 = createHash('sha256').update(data).digest('hex')
    // Written (tmp, flush, rename) before the row that refers to it is committed; content-addressed,
    // so storing it twice, or a rolled-back request, leaves nothing wrong behind.
    const path = join(ctx.config.uploadDir, decisionFilePath(sha256))
    await mkdir(dirname(path), { recursive: true })
    await writeFileAtomic(path, data, { contentAddressed: true })
    const name = (part.filename || 'quyet-dinh.pdf').slice(0, 255)
    const s = await ctx.db.transaction().execute((tx) => saveDecisionFile(tx, req.params.id, { name, sha256, bytes: data.length }, actorOf(p), ctx.clock()))
    if (!s) throw notFound('System', 'hệ thống')
    return presentSystem(s)
  })

  app.get('/api/compliance/systems/:id/decision-file', {
    preValidation: readers,
    schema: {
      tags, summary: "Download a system's stored approval decision (staff of its unit, province admins, the IOC)",
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const unit = scope(requireUser(req, ...READERS))
    const s = await getSystem(ctx.db, req.params.id)
    // another unit's system is not found, as if it did not exist
    if (!s || (unit !== undefined && s.unit_code !== unit) || !s.decision_file_sha256) throw notFound('Decision file', 'tệp quyết định')
    const data = await readFile(join(ctx.config.uploadDir, decisionFilePath(s.decision_file_sha256))).catch(() => undefined)
    if (!data) throw notFound('Decision file', 'tệp quyết định')
    reply.type('application/pdf').header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(s.decision_file_name ?? 'quyet-dinh.pdf')}`).header('cache-control', 'private, no-store')
    return reply.send(data)
  })

  app.get('/api/compliance/units', {
    preValidation: readers,
    schema: {
      tags, summary: 'Compliance by unit: 4-layer model evidence, anti-malware coverage, systems, open warnings and suspensions',
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors },
    },
  }, async (req) => ({ items: await complianceByUnit(ctx.db, ctx.clock(), scope(requireUser(req, ...READERS))) }))

  app.put('/api/compliance/units/:code', {
    preValidation: staff,
    schema: {
      tags, summary: "Record a unit's 4-layer evidence (on-site team, monitoring provider and contract end, independent assessor, national monitoring link) and registered computers",
      params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 32 }) }),
      body: Type.Object({
        onsite_team: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])), monitoring_provider: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
        monitoring_contract_end: Type.Optional(Type.Union([Type.String({ pattern: DATE }), Type.Null()])), independent_assessor: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
        national_monitoring_connected: Type.Optional(Type.Boolean()), national_monitoring_ref: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
        registered_computers: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
      }),
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...STAFF_ROLES)
    mayManage(p, req.params.code)
    const u = await ctx.db.transaction().execute((tx) => saveUnitEvidence(tx, req.params.code, req.body, actorOf(p), ctx.clock()))
    return { ...u, coverage_below_since: iso(u.coverage_below_since), updated_at: iso(u.updated_at) }
  })

  app.post('/api/compliance/agents/heartbeat', {
    preValidation: async (req) => {
      const p = requirePrincipal(req)
      if (p.kind !== 'client' || !(p.scopes.includes('compliance:agent') || p.scopes.includes('compliance:console'))) {
        throw forbidden('Only anti-malware agents or the central console (API key with scope compliance:agent or compliance:console) report heartbeats.', 'Chỉ tác tử phòng chống mã độc hoặc máy chủ quản trị tập trung được gửi báo cáo.')
      }
    },
    schema: {
      tags, summary: 'Anti-malware agents (scope compliance:agent, for their unit) or the central console (compliance:console, any unit) report computers',
      description: 'Authenticate with X-API-Key. Send an Idempotency-Key to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ endpoints: Type.Array(Heartbeat, { minItems: 1, maxItems: 5000 }) }),
      response: { 200: Type.Object({ recorded: Type.Integer() }), ...errors },
    },
  }, async (req, reply) => {
    const p = requirePrincipal(req)
    if (p.kind !== 'client') throw forbidden()
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const beats = req.body.endpoints
    if (beats.length > cfg.maxEndpointsPerHeartbeat) throw badRequest('TOO_MANY_ENDPOINTS', `Tối đa ${cfg.maxEndpointsPerHeartbeat} máy mỗi lần gửi.`, `At most ${cfg.maxEndpointsPerHeartbeat} endpoints per request.`)
    const console = p.scopes.includes('compliance:console')
    const rows = beats.map((b) => {
      const unit = console ? (b.unit_code ?? p.unitCode) : p.unitCode
      if (!unit) throw badRequest('UNIT_REQUIRED', 'Cần mã đơn vị của máy.', `unit_code is required for ${b.hostname}.`)
      if (!console && b.unit_code && b.unit_code !== p.unitCode) throw forbidden('An agent key reports only for its own unit.', 'Khoá của tác tử chỉ báo cáo cho đơn vị của mình.')
      return { ...b, unit_code: unit }
    })
    for (const unit of new Set(rows.map((b) => b.unit_code))) {
      if (!(await getOrgUnit(ctx.db, unit))) throw badRequest('UNKNOWN_UNIT', `Không có đơn vị mã "${unit}".`, `Unknown unit "${unit}".`)
    }
    const r = await runIdempotent(ctx.db, { scope: `POST /api/compliance/agents/heartbeat|${actorOf(p)}`, key, fingerprint: requestFingerprint(beats) }, async (tx) => {
      const n = await recordHeartbeats(tx, rows, actorOf(p), ctx.clock())
      // Re-evaluate soon (one job per minute at most), so a unit that became compliant is restored quickly.
      await enqueueJob(tx, 'compliance.evaluate', {}, { dedupeKey: `compliance.evaluate@hb@${ctx.clock().toISOString().slice(0, 16)}` })
      return { statusCode: 200, body: { recorded: n } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

  app.get('/api/compliance/suspensions', {
    preValidation: readers,
    schema: { tags, summary: 'Suspended and warned units and systems, with rule, reason, deadline and evidence', response: { 200: Type.Object({ suspended: Type.Array(Type.Unknown()), warned: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => {
    const p = requireUser(req, ...READERS)
    const unit = scope(p)
    const all = await suspendedSubjects(ctx.db, { includeWarnings: true })
    const visible = unit === undefined ? all : all.filter((f) => f.unit_code === unit)
    return { suspended: visible.filter((f) => f.status === 'suspended'), warned: visible.filter((f) => f.status === 'warned') }
  })

  app.post('/api/compliance/evaluate', {
    preValidation: admin,
    schema: { tags, summary: 'Run the policy evaluator now (it also runs on its schedule)', response: { 200: Type.Object({ decisions: Type.Array(Type.Unknown()) }), ...errors } },
  }, async () => ({ decisions: await evaluateCompliance(ctx.db, ctx.clock()) }))

  app.get('/api/compliance/exemptions', {
    preValidation: readers,
    schema: { tags, summary: 'Exemptions granted by administrators (all, or active now)', querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }), response: { 200: Type.Object({ items: Type.Array(Type.Unknown()) }), ...errors } },
  }, async (req) => ({ items: (await listExemptions(ctx.db, req.query.active ? ctx.clock() : undefined)).map((e) => ({ ...e, valid_from: iso(e.valid_from), valid_until: iso(e.valid_until), created_at: iso(e.created_at) })) }))

  app.post('/api/compliance/exemptions', {
    preValidation: admin,
    schema: {
      tags, summary: 'Grant a dated exemption (miễn trừ) from one rule, or from all, to a unit or system, with a reason',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        subject_kind: Type.Union([Type.Literal('unit'), Type.Literal('system')]), subject_ref: Type.String({ minLength: 1, maxLength: 100 }),
        rule_code: Type.Optional(Type.String({ maxLength: 60 })), valid_from: Type.Optional(Type.String({ format: 'date-time' })), valid_until: Type.String({ format: 'date-time' }),
        reason: Type.String({ minLength: 5, maxLength: 2000 }),
      }),
      response: { 201: Type.Unknown(), ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const b = req.body
    const r = await runIdempotent(ctx.db, { scope: `POST /api/compliance/exemptions|${actorOf(p)}`, key, fingerprint: requestFingerprint(b) }, async (tx) => {
      const e = await grantExemption(tx, { subject_kind: b.subject_kind, subject_ref: b.subject_ref, rule_code: b.rule_code ?? null, valid_from: b.valid_from ? new Date(b.valid_from) : ctx.clock(), valid_until: new Date(b.valid_until), reason: b.reason }, actorOf(p), ctx.clock())
      return { statusCode: 201, body: { ...e, valid_from: iso(e.valid_from), valid_until: iso(e.valid_until), created_at: iso(e.created_at) } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

}
