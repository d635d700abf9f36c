import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import { actorOf, requireUser, type Role, type UserPrincipal } from '../../../platform/auth/principal.ts'
import { badRequest, conflict, forbidden, notFound } from '../../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext } from '../../../platform/module.ts'
import { checkActions, checkCondition } from './definitions.ts'
import { BACKTEST_MAX_DAYS, backtestRule, type EngineDeps } from './engine.ts'
import {
  completeTask, getRule, getTask, insertRule, listActiveUnitFlags, listFirings, listRules, listTasks, setRuleEnabled, updateRule,
  type FiringRow, type RuleRow, type TaskRow, type UnitFlagRow,
} from './repository.ts'

/** Who may read the IOC's automatic operations: staff (their unit) and IOC viewers (province-wide). */
const READERS: Role[] = ['officer', 'unit_admin', 'province_admin', 'ioc_viewer']
const readers = async (req: FastifyRequest) => {
  requireUser(req, ...READERS)
}
const admins = async (req: FastifyRequest) => {
  requireUser(req, 'province_admin')
}
const staff = async (req: FastifyRequest) => {
  requireUser(req, 'officer', 'unit_admin', 'province_admin')
}

/** The unit a reader is limited to: undefined = every unit (province admins, IOC viewers). */
function unitScope(p: UserPrincipal, requested: string | undefined): string | undefined {
  if (p.role === 'province_admin' || p.role === 'ioc_viewer') return requested
  if (requested && requested !== p.unitCode) throw forbidden('You may only see your own unit.', 'Bạn chỉ được xem dữ liệu của đơn vị mình.')
  if (!p.unitCode) throw forbidden('Your account has no unit.', 'Tài khoản của bạn chưa thuộc đơn vị nào.')
  return p.unitCode
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const at = (d: Date) => d.toISOString()
const presentRule = (r: RuleRow) => ({ id: r.id, code: r.code, name_vi: r.name_vi, name_en: r.name_en, enabled: r.enabled, condition: r.condition, actions: r.actions, version: r.version, created_at: at(r.created_at), updated_at: at(r.updated_at) })
const presentFiring = (f: FiringRow) => ({ id: f.id, rule_id: f.rule_id, rule_version: f.rule_version, fact_key: f.fact_key, unit_code: f.unit_code, fired_at: at(f.fired_at), inputs: f.inputs, outcome: f.outcome })
const presentTask = (t: TaskRow) => ({ id: t.id, unit_code: t.unit_code, title: t.title, detail: t.detail, rule_id: t.rule_id, firing_id: t.firing_id, due_at: iso(t.due_at), status: t.status, created_at: at(t.created_at), done_at: iso(t.done_at) })
const presentFlag = (f: UnitFlagRow) => ({ id: f.id, unit_code: f.unit_code, level: f.level, reason_vi: f.reason_vi, reason_en: f.reason_en, rule_id: f.rule_id, firing_id: f.firing_id, created_at: at(f.created_at) })

const Id = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) })
const Cursor = Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'Keyset paging: the id of the last item of the previous page' }))
const UnitCode = Type.Optional(Type.String({ minLength: 1, maxLength: 32 }))
const ConditionSchema = Type.Object({}, {
  additionalProperties: true,
  description: 'A fact condition {"fact": "report_overdue", "min_working_days": 1} | {"fact": "dossier_due_soon", "within_working_days": 1} | {"fact": "commune_silent", "silent_days": 30, "min_previous": 20} | {"fact": "feed_stale", "stale_days": 2}, or an event condition {"event": "report.escalated", "key_field": "code"}; each may add "where": [{"field", "op" (eq, ne, in, gt, gte, lt, lte, contains), "value"}]',
})
const ActionsSchema = Type.Array(Type.Object({ type: Type.String({ maxLength: 32 }) }, { additionalProperties: true }), {
  minItems: 1, maxItems: 10,
  description: 'notify {channel: in_app (to: unit|parent_unit|province) | email (to: {email}) | sms (to: {phone}), text_vi, subject_vi?} (text may use {field} of the fact); escalate; create_task {title_vi, detail_vi?, due_working_days?, to?}; apology_letter; flag_unit {level, reason_vi, reason_en, to?}',
})
const RuleBody = Type.Object({
  code: Type.String({ minLength: 2, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' }),
  name_vi: Type.String({ minLength: 1, maxLength: 300 }),
  name_en: Type.String({ minLength: 1, maxLength: 300 }),
  enabled: Type.Optional(Type.Boolean()),
  condition: ConditionSchema,
  actions: ActionsSchema,
})
const RuleUpdate = Type.Object({
  name_vi: Type.String({ minLength: 1, maxLength: 300 }),
  name_en: Type.String({ minLength: 1, maxLength: 300 }),
  enabled: Type.Boolean(),
  condition: ConditionSchema,
  actions: ActionsSchema,
})
const Rule = Type.Object({
  id: Type.String(), code: Type.String(), name_vi: Type.String(), name_en: Type.String(), enabled: Type.Boolean(),
  condition: Type.Unknown(), actions: Type.Unknown(), version: Type.Integer(), created_at: Type.String(), updated_at: Type.String(),
})
const Firing = Type.Object({
  id: Type.String(), rule_id: Type.String(), rule_version: Type.Integer(), fact_key: Type.String(), unit_code: Type.Union([Type.String(), Type.Null()]),
  fired_at: Type.String(), inputs: Type.Unknown(), outcome: Type.Unknown(),
})
const Task = Type.Object({
  id: Type.String(), unit_code: Type.String(), title: Type.String(), detail: Type.Union([Type.String(), Type.Null()]), rule_id: Type.Union([Type.String(), Type.Null()]),
  firing_id: Type.Union([Type.String(), Type.Null()]), due_at: Type.Union([Type.String(), Type.Null()]), status: Type.String(), created_at: Type.String(), done_at: Type.Union([Type.String(), Type.Null()]),
})
const Flag = Type.Object({
  id: Type.String(), unit_code: Type.String(), level: Type.String(), reason_vi: Type.String(), reason_en: Type.String(),
  rule_id: Type.Union([Type.String(), Type.Null()]), firing_id: Type.Union([Type.String(), Type.Null()]), created_at: Type.String(),
})

function parseInstant(v: string, field: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+07:00` : v)
  if (Number.isNaN(d.getTime())) throw badRequest('INVALID_DATE', `Thời điểm ${field} không hợp lệ.`, `Invalid ${field}.`)
  return d
}

export async function iocRulesRoutes(fastify: FastifyInstance, ctx: AppContext, deps: EngineDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema }
  const tags = ['ioc']

  app.get('/api/ioc/rules', {
    preValidation: readers,
    schema: { tags, summary: 'The automatic-operation rules (quy tắc vận hành tự động) of the IOC', response: { 200: Type.Object({ items: Type.Array(Rule) }), ...errors } },
  }, async () => ({ items: (await listRules(ctx.db)).map(presentRule) }))

  app.post('/api/ioc/rules', {
    preValidation: admins,
    schema: {
      tags, summary: 'Create a rule (province admins). Send an Idempotency-Key header to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: RuleBody, response: { 201: Rule, ...errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, 'province_admin')
    const b = req.body
    const condition: unknown = b.condition
    const actions: unknown = b.actions
    checkCondition(condition)
    checkActions(actions, condition)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `POST /api/ioc/rules|${actorOf(p)}`, key, fingerprint: requestFingerprint(b) }, async (tx) => {
      const now = ctx.clock()
      const row = await insertRule(tx, { code: b.code, name_vi: b.name_vi, name_en: b.name_en, enabled: b.enabled ?? true, condition, actions }, now)
      if (!row) throw conflict('RULE_CODE_TAKEN', 'Mã quy tắc đã tồn tại.', 'A rule with this code already exists.')
      await appendAudit(tx, { actor: actorOf(p), action: 'ioc_rule.created', entityType: 'ioc_rule', entityId: row.id, data: { code: row.code, condition: b.condition, actions: b.actions } }, now)
      return { statusCode: 201, body: presentRule(row) }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.status(r.statusCode).send(r.body)
  })

  app.put('/api/ioc/rules/:id', {
    preValidation: admins,
    schema: { tags, summary: 'Replace a rule (province admins); its version goes up, earlier firings keep the version they ran with', params: Id, body: RuleUpdate, response: { 200: Rule, ...errors } },
  }, async (req) => {
    const p = requireUser(req, 'province_admin')
    const b = req.body
    const condition: unknown = b.condition
    const actions: unknown = b.actions
    checkCondition(condition)
    checkActions(actions, condition)
    return ctx.db.transaction().execute(async (tx) => {
      const now = ctx.clock()
      if (!(await getRule(tx, req.params.id, { forUpdate: true }))) throw notFound('Rule', 'quy tắc')
      const row = await updateRule(tx, req.params.id, { name_vi: b.name_vi, name_en: b.name_en, enabled: b.enabled, condition, actions }, now)
      await appendAudit(tx, { actor: actorOf(p), action: 'ioc_rule.updated', entityType: 'ioc_rule', entityId: row.id, data: { version: row.version, enabled: b.enabled, condition: b.condition, actions: b.actions } }, now)
      return presentRule(row)
    })
  })

  for (const action of ['enable', 'disable'] as const) {
    app.post(`/api/ioc/rules/:id/${action}`, {
      preValidation: admins,
      schema: { tags, summary: `${action === 'enable' ? 'Enable' : 'Disable'} a rule (province admins)`, params: Id, response: { 200: Rule, ...errors } },
    }, async (req) => {
      const p = requireUser(req, 'province_admin')
      return ctx.db.transaction().execute(async (tx) => {
        const now = ctx.clock()
        const before = await getRule(tx, req.params.id, { forUpdate: true })
        if (!before) throw notFound('Rule', 'quy tắc')
        const row = await setRuleEnabled(tx, req.params.id, action === 'enable', now)
        if (before.enabled !== row.enabled) await appendAudit(tx, { actor: actorOf(p), action: `ioc_rule.${action}d`, entityType: 'ioc_rule', entityId: row.id, data: {} }, now)
        return presentRule(row)
      })
    })
  }

  app.get('/api/ioc/rules/:id/firings', {
    preValidation: readers,
    schema: {
      tags, summary: "A rule's firings, newest first, each with its inputs and what its actions did; officers see their unit's",
      params: Id, querystring: Type.Object({ unit_code: UnitCode, before: Cursor, limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(Firing) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...READERS)
    const unit = unitScope(p, req.query.unit_code)
    if (!(await getRule(ctx.db, req.params.id))) throw notFound('Rule', 'quy tắc')
    return { items: (await listFirings(ctx.db, req.params.id, { unitCode: unit, beforeId: req.query.before, limit: req.query.limit })).map(presentFiring) }
  })

  app.post('/api/ioc/rules/:id/backtest', {
    preValidation: readers,
    schema: {
      tags, summary: `What the rule would have fired between from and to (≤ ${BACKTEST_MAX_DAYS} days), without acting; officers see their unit's`,
      description: 'from/to: a date (YYYY-MM-DD, Vietnam time) or an ISO instant. Fact rules are evaluated at the end of each day; event rules over the recorded events.',
      params: Id,
      querystring: Type.Object({ from: Type.String({ minLength: 10, maxLength: 40 }), to: Type.String({ minLength: 10, maxLength: 40 }), unit_code: UnitCode }),
      response: {
        200: Type.Object({
          rule_id: Type.String(), from: Type.String(), to: Type.String(), instants: Type.Integer(), truncated: Type.Boolean(),
          hits: Type.Array(Type.Object({ fact_key: Type.String(), unit_code: Type.Union([Type.String(), Type.Null()]), first_seen_at: Type.String(), inputs: Type.Unknown(), already_fired: Type.Boolean(), would: Type.Unknown() })),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const p = requireUser(req, ...READERS)
    const unit = unitScope(p, req.query.unit_code)
    const from = parseInstant(req.query.from, 'from')
    const to = parseInstant(req.query.to, 'to')
    if (to <= from) throw badRequest('INVALID_RANGE', '"to" phải sau "from".', '"to" must be after "from".')
    if (to.getTime() - from.getTime() > BACKTEST_MAX_DAYS * 86_400_000) throw badRequest('RANGE_TOO_LONG', `Khoảng thời gian tối đa ${BACKTEST_MAX_DAYS} ngày.`, `The range may span at most ${BACKTEST_MAX_DAYS} days.`)
    const rule = await getRule(ctx.db, req.params.id)
    if (!rule) throw notFound('Rule', 'quy tắc')
    const r = await backtestRule(ctx.db, deps, rule, from, to)
    const hits = unit === undefined ? r.hits : r.hits.filter((h) => h.unit_code === unit)
    return { rule_id: rule.id, from: from.toISOString(), to: to.toISOString(), instants: r.instants, truncated: r.truncated, hits }
  })

  app.get('/api/ioc/tasks', {
    preValidation: staff,
    schema: {
      tags, summary: "Tasks (nhiệm vụ) created by rules, for the caller's unit (province admins: any unit), newest first",
      querystring: Type.Object({ unit_code: UnitCode, status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done')])), before: Cursor, limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ items: Type.Array(Task) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    const unit = unitScope(p, req.query.unit_code)
    return { items: (await listTasks(ctx.db, { unitCode: unit, status: req.query.status, beforeId: req.query.before, limit: req.query.limit })).map(presentTask) }
  })

  app.post('/api/ioc/tasks/:id/done', {
    preValidation: staff,
    schema: { tags, summary: 'Mark a task of my unit done', params: Id, response: { 200: Task, ...errors } },
  }, async (req) => {
    const p = requireUser(req, 'officer', 'unit_admin', 'province_admin')
    return ctx.db.transaction().execute(async (tx) => {
      const t = await getTask(tx, req.params.id, { forUpdate: true })
      if (!t || (p.role !== 'province_admin' && t.unit_code !== p.unitCode)) throw notFound('Task', 'nhiệm vụ')
      if (t.status === 'done') return presentTask(t)
      const now = ctx.clock()
      await completeTask(tx, t.id, actorOf(p), now)
      await appendAudit(tx, { actor: actorOf(p), action: 'ioc_task.done', entityType: 'ioc_task', entityId: t.id, data: { unit_code: t.unit_code } }, now)
      return presentTask((await getTask(tx, t.id))!)
    })
  })

  app.get('/api/ioc/unit-flags', {
    preValidation: readers,
    schema: {
      tags, summary: 'Units marked on the IOC wall by rules (active flags), newest first; officers see their unit\'s',
      querystring: Type.Object({ unit_code: UnitCode, limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }),
      response: { 200: Type.Object({ items: Type.Array(Flag) }), ...errors },
    },
  }, async (req) => {
    const p = requireUser(req, ...READERS)
    const unit = unitScope(p, req.query.unit_code)
    return { items: (await listActiveUnitFlags(ctx.db, { unitCode: unit, limit: req.query.limit })).map(presentFlag) }
  })
}
