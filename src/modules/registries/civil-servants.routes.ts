import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requirePrincipal, requireUser, type Principal } from '../../platform/auth/principal.ts'
import { badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { getActiveUserRole, getOrgUnit, moveUserToUnit } from '../identity/index.ts'
import { registriesConfig } from './config.ts'
import { nationalSyncStatus, sendPendingNationalChanges } from './national-sync.ts'
import { CIVIL_SERVANTS, createRecord, updateRecord } from './records.ts'
import { findRecordByLinkedUser, getRecord, getSchema, listRecords, listVersions, type RecordRow } from './repository.ts'
import { presentHistory, presentRecord } from './routes.ts'
import type { AccessLevel, RegistrySchema } from './schema.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'

/** The Department of Home Affairs (Sở Nội vụ): keeps the registry for the whole province. */
export const HOME_AFFAIRS_UNIT = '11.SNV'

/** Province-wide managers of the registry: province admins and Home Affairs staff. */
export function isRegistryManager(p: Principal | null): boolean {
  return !!p && p.kind === 'user' && (p.role === 'province_admin' || ((p.role === 'officer' || p.role === 'unit_admin') && p.unitCode === HOME_AFFAIRS_UNIT))
}

/** May change the records of a unit's staff: registry managers, and that unit's admin (tổ chức cán bộ). */
export function canManageUnitStaff(p: Principal | null, unitCode: string): boolean {
  return isRegistryManager(p) || (!!p && p.kind === 'user' && p.role === 'unit_admin' && p.unitCode === unitCode)
}

/**
 * What a caller sees of one civil servant: managers and the unit admin everything; the unit's
 * officers the shared fields; the person themself their whole record; anyone else nothing.
 */
export function civilServantLevel(p: Principal | null, r: Pick<RecordRow, 'unit_code' | 'linked_user_id'>): AccessLevel | null {
  if (!p || p.kind !== 'user') return null
  if (r.linked_user_id && p.userId === r.linked_user_id) return 'restricted'
  if (canManageUnitStaff(p, r.unit_code ?? '')) return 'restricted'
  if (p.role === 'officer' && p.unitCode === r.unit_code) return 'shared'
  return null
}

const CodeParam = Type.Object({ code: Type.String({ pattern: '^[0-9A-Z.\\-]{3,30}$' }) })
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
const staffOnly = async (req: Parameters<typeof requireUser>[0]) => void requireUser(req, 'officer', 'unit_admin', 'province_admin')

async function schemaOf(db: Db): Promise<RegistrySchema> {
  const s = await getSchema(db, CIVIL_SERVANTS)
  if (!s) throw notFound('Registry', 'cơ sở dữ liệu')
  return s
}

async function loadVisible(ctx: AppContext, p: Principal | null, code: string): Promise<{ schema: RegistrySchema; row: RecordRow; level: AccessLevel }> {
  const schema = await schemaOf(ctx.db)
  const row = await getRecord(ctx.db, CIVIL_SERVANTS, code)
  const level = row && civilServantLevel(p, row)
  if (!row || !level) throw notFound('Civil servant', 'cán bộ, công chức')
  return { schema, row, level }
}

export async function civilServantRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const cfg = registriesConfig(ctx.config.env)

  app.get('/api/civil-servants', {
    preValidation: staffOnly,
    schema: {
      tags: ['civil-servants'],
      summary: 'Civil servants (cán bộ, công chức, viên chức): your unit’s; Home Affairs and province admins: any unit',
      querystring: Type.Object({ unit_code: Type.Optional(Type.String({ maxLength: 32 })), after: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
      response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), next_after: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    const unit = isRegistryManager(p) ? req.query.unit_code : p.unitCode!
    if (!isRegistryManager(p) && req.query.unit_code && req.query.unit_code !== p.unitCode) throw forbidden()
    const schema = await schemaOf(ctx.db)
    const rows = await listRecords(ctx.db, CIVIL_SERVANTS, { equals: {}, unitCode: unit, afterKey: req.query.after, limit: req.query.limit })
    return { items: rows.map((r) => ({ ...presentRecord(schema, civilServantLevel(p, r) ?? 'shared', r), linked_user_id: r.linked_user_id })), next_after: rows.length === req.query.limit ? rows[rows.length - 1].record_key : null }
  })

  app.get('/api/civil-servants/me', {
    preValidation: async (req) => void requireUser(req),
    schema: { tags: ['civil-servants'], summary: 'The signed-in officer’s own registry record', response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const p = requireUser(req)
    const schema = await schemaOf(ctx.db)
    const row = await findRecordByLinkedUser(ctx.db, CIVIL_SERVANTS, p.userId)
    if (!row) throw notFound('Civil servant record', 'hồ sơ cán bộ')
    return presentRecord(schema, 'restricted', row)
  })

  app.post('/api/civil-servants', {
    preValidation: staffOnly,
    schema: {
      tags: ['civil-servants'],
      summary: 'Add a civil servant (the unit admin for their unit, Home Affairs, province admins); optionally link their platform account',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()), user_id: Type.Optional(Type.String({ format: 'uuid' })) }),
      response: { 201: Type.Unknown(), ...Errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    const unitCode = typeof req.body.data.unit_code === 'string' ? req.body.data.unit_code : ''
    if (!canManageUnitStaff(p, unitCode)) throw forbidden('You may only add staff of your own unit.', 'Bạn chỉ thêm được cán bộ của đơn vị mình.')
    const schema = await schemaOf(ctx.db)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `civil-servant-create|${actorOf(p)}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      if (!(await getOrgUnit(tx, unitCode))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${unitCode}.`)
      let row = await createRecord(tx, schema, req.body.data, { actor: actorOf(p), now: ctx.clock(), unitCode })
      if (req.body.user_id) row = await linkAccount(tx, schema, row, req.body.user_id, actorOf(p), ctx.clock())
      return { statusCode: 201, body: { ...presentRecord(schema, 'restricted', row), linked_user_id: row.linked_user_id } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(201).send(r.body)
  })

  app.get('/api/civil-servants/national-sync', {
    preValidation: async (req) => {
      requirePrincipal(req)
      if (!isRegistryManager(req.principal)) throw forbidden()
    },
    schema: { tags: ['civil-servants'], summary: 'State of the sync with the national database: pending and sent changes, last errors', response: { 200: Type.Unknown(), ...Errors } },
  }, async () => ({ configured: cfg.national.url !== null, format: cfg.national.format, ...(await nationalSyncStatus(ctx.db)) }))

  app.post('/api/civil-servants/national-sync/run', {
    preValidation: async (req) => {
      requirePrincipal(req)
      if (!isRegistryManager(req.principal)) throw forbidden()
    },
    schema: { tags: ['civil-servants'], summary: 'Send due changes to the national database now (the job also does it every minute)', response: { 200: Type.Object({ sent: Type.Integer(), failed: Type.Integer() }), ...Errors } },
  }, async () => sendPendingNationalChanges(ctx.db, cfg.national, ctx.clock()))

  app.get('/api/civil-servants/:code', {
    preValidation: staffOrSelf,
    schema: { tags: ['civil-servants'], summary: 'One civil servant: their unit (officers: shared fields), Home Affairs, or the person themself', params: CodeParam, response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const { schema, row, level } = await loadVisible(ctx, req.principal, req.params.code)
    return { ...presentRecord(schema, level, row), linked_user_id: level === 'restricted' ? row.linked_user_id : undefined }
  })

  app.patch('/api/civil-servants/:code', {
    preValidation: staffOnly,
    schema: {
      tags: ['civil-servants'],
      summary: 'Change a civil servant’s record (position, rank/ngạch, grade/bậc, qualifications, training, appraisals, rewards, discipline); a transfer goes through /transfer',
      params: CodeParam,
      body: Type.Object({ data: Type.Record(Type.String(), Type.Unknown()), expected_version: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: Type.Unknown(), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const { schema, row } = await loadVisible(ctx, p, req.params.code)
    if (!canManageUnitStaff(p, row.unit_code ?? '')) throw forbidden()
    if ('unit_code' in req.body.data && req.body.data.unit_code !== row.unit_code) throw conflict('USE_TRANSFER', 'Chuyển đơn vị bằng thao tác điều động (/transfer).', 'Move a civil servant to another unit with /transfer.')
    const r = await ctx.db.transaction().execute((tx) => updateRecord(tx, schema, row.record_key, req.body.data, { actor: actorOf(p), now: ctx.clock(), expectedVersion: req.body.expected_version }))
    return presentRecord(schema, 'restricted', r.row)
  })

  app.post('/api/civil-servants/:code/transfer', {
    preValidation: async (req) => {
      requirePrincipal(req)
      if (!isRegistryManager(req.principal)) throw forbidden('Transfers are decided by Home Affairs.', 'Điều động do Sở Nội vụ thực hiện.')
    },
    schema: {
      tags: ['civil-servants'],
      summary: 'Transfer (điều động) to another unit: the record and the linked account move together, so access follows at once',
      params: CodeParam,
      body: Type.Object({ to_unit: Type.String({ minLength: 1, maxLength: 32 }), position: Type.Optional(Type.String({ maxLength: 200 })), effective_date: Type.String({ format: 'date' }), decision: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: { 200: Type.Unknown(), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const schema = await schemaOf(ctx.db)
    const now = ctx.clock()
    const row = await ctx.db.transaction().execute(async (tx) => {
      const current = await getRecord(tx, CIVIL_SERVANTS, req.params.code, { forUpdate: true })
      if (!current) throw notFound('Civil servant', 'cán bộ, công chức')
      if (!(await getOrgUnit(tx, req.body.to_unit))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${req.body.to_unit}.`)
      const patch: Record<string, unknown> = { unit_code: req.body.to_unit, position_since: req.body.effective_date, ...(req.body.position ? { position: req.body.position } : {}) }
      const r = await updateRecord(tx, schema, current.record_key, patch, { actor: actorOf(p), now, unitCode: req.body.to_unit, action: 'transferred' })
      if (current.linked_user_id) await moveUserToUnit(tx, current.linked_user_id, req.body.to_unit, actorOf(p), now)
      await appendAudit(tx, { actor: actorOf(p), action: 'civil_servant.transferred', entityType: 'registry:civil_servants', entityId: current.record_key, data: { from: current.unit_code, to: req.body.to_unit, effective_date: req.body.effective_date, decision: req.body.decision ?? null, account_moved: !!current.linked_user_id } }, now)
      return r.row
    })
    return { ...presentRecord(schema, 'restricted', row), linked_user_id: row.linked_user_id }
  })

  app.put('/api/civil-servants/:code/account', {
    preValidation: staffOnly,
    schema: {
      tags: ['civil-servants'],
      summary: 'Link the person’s platform account to their record; the account is placed in the record’s unit',
      params: CodeParam,
      body: Type.Object({ user_id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Unknown(), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const schema = await schemaOf(ctx.db)
    const row = await ctx.db.transaction().execute(async (tx) => {
      const current = await getRecord(tx, CIVIL_SERVANTS, req.params.code, { forUpdate: true })
      if (!current || !canManageUnitStaff(p, current.unit_code ?? '')) throw notFound('Civil servant', 'cán bộ, công chức')
      return linkAccount(tx, schema, current, req.body.user_id, actorOf(p), ctx.clock())
    })
    return { ...presentRecord(schema, 'restricted', row), linked_user_id: row.linked_user_id }
  })

  app.get('/api/civil-servants/:code/history', {
    preValidation: staffOrSelf,
    schema: { tags: ['civil-servants'], summary: 'Versions of a civil servant’s record: who changed what, when', params: CodeParam, response: { 200: Type.Unknown(), ...Errors } },
  }, async (req) => {
    const { schema, row, level } = await loadVisible(ctx, req.principal, req.params.code)
    return { key: row.record_key, versions: presentHistory(schema, level, await listVersions(ctx.db, CIVIL_SERVANTS, row.record_key)) }
  })
}

async function staffOrSelf(req: Parameters<typeof requireUser>[0]): Promise<void> {
  requireUser(req)
}

/** Links an account to a record (one record per account) and moves the account into the record's unit. */
async function linkAccount(tx: Db, schema: RegistrySchema, row: RecordRow, userId: string, actor: string, now: Date): Promise<RecordRow> {
  const user = await getActiveUserRole(tx, userId)
  if (!user) throw badRequest('UNKNOWN_USER', 'Tài khoản không tồn tại hoặc đã khoá.', 'Unknown or disabled account.')
  if (user.role !== 'officer' && user.role !== 'unit_admin') throw badRequest('NOT_UNIT_STAFF', 'Chỉ liên kết được tài khoản cán bộ của đơn vị.', 'Only officer and unit-admin accounts can be linked.')
  const other = await findRecordByLinkedUser(tx, CIVIL_SERVANTS, userId)
  if (other && other.record_key !== row.record_key) throw conflict('ACCOUNT_ALREADY_LINKED', 'Tài khoản đã liên kết với hồ sơ khác.', 'This account is linked to another record.')
  const r = await updateRecord(tx, schema, row.record_key, {}, { actor, now, linkedUserId: userId, action: 'account_linked' })
  if (row.unit_code && user.unit_code !== row.unit_code) await moveUserToUnit(tx, userId, row.unit_code, actor, now)
  return r.row
}
