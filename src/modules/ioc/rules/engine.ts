/**
 * The rules engine: evaluates fact rules "as of" an instant (the schedule: now; a backtest: past
 * instants), event rules in the event handler, and fires each rule at most once per fact (a
 * unique key per rule and fact), recording the firing with its inputs and what each action did,
 * all in one transaction with the actions themselves.
 */
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { Db } from '../../../platform/db/database.ts'
import type { DomainEvent } from '../../../platform/events/outbox.ts'
import { publishEvent } from '../../../platform/events/outbox.ts'
import { enqueueJob } from '../../../platform/jobs/job-runner.ts'
import { enqueueNotification } from '../../../platform/notifications/index.ts'
import { loadWorkingCalendar, type WorkingCalendar } from '../../calendar/index.ts'
import { getOrgUnit } from '../../identity/index.ts'
import { communeReportActivityAsOf, overdueReportCandidatesAsOf } from '../../reports/facts.ts'
import { dossiersDueWithinAsOf } from '../../services/dossiers/facts.ts'
import { matchesFilters, renderTemplate, type Action, type Condition, type Fact, type Scalar, type UnitTarget } from './definitions.ts'
import { eventsBetween, firedFactKeys, insertFiring, insertTask, insertUnitFlag, lastFeedUpdatesAsOf, listRules, setFiringOutcome, type RuleRow } from './repository.ts'

export const APOLOGY_JOB = 'ioc_rules.apology-letters'
const DAY = 86_400_000
const iso = (d: Date) => d.toISOString()

export interface EngineDeps {
  provinceCode: string
}

/** The facts a fact condition sees as of `asOf`, before its filters. */
export async function factsAsOf(db: Db, c: Exclude<Condition, { event: string }>, asOf: Date, cal: WorkingCalendar): Promise<Fact[]> {
  switch (c.fact) {
    case 'report_overdue': {
      const out: Fact[] = []
      // N working days late implies at least N calendar days late: let the database narrow first.
      for (const r of await overdueReportCandidatesAsOf(db, asOf, 5000, new Date(asOf.getTime() - c.min_working_days * DAY))) {
        // Overdue by more than N working days: N working days after the due time have passed.
        if (cal.addWorkingDays(r.due_at, c.min_working_days).getTime() >= asOf.getTime()) continue
        const lateMs = cal.workingMillisBetween(r.due_at, asOf)
        out.push({
          key: `report:${r.code}:${iso(r.due_at)}`,
          unit_code: r.unit_code,
          data: { code: r.code, category_code: r.category_code, commune_code: r.commune_code, due_at: iso(r.due_at), created_at: iso(r.created_at), late_working_hours: Math.round(lateMs / 360_000) / 10 },
        })
      }
      return out
    }
    case 'dossier_due_soon': {
      const horizon = cal.addWorkingDays(asOf, c.within_working_days)
      return (await dossiersDueWithinAsOf(db, asOf, horizon)).map((d) => ({
        key: `dossier:${d.code}:${iso(d.due_at)}`,
        unit_code: d.unit_code,
        data: { code: d.code, procedure_code: d.procedure_code, due_at: iso(d.due_at), due_local: cal.formatLocal(d.due_at) },
      }))
    }
    case 'commune_silent': {
      const out: Fact[] = []
      for (const a of await communeReportActivityAsOf(db, asOf, c.silent_days)) {
        if (a.recent > 0 || a.previous < c.min_previous) continue
        out.push({
          // The silence that began with the commune's last report: the same silence never fires twice.
          key: `commune:${a.commune_code}:silent-after:${iso(a.last_report_at)}`,
          unit_code: a.commune_code,
          data: { commune_code: a.commune_code, previous: a.previous, recent: a.recent, silent_days: c.silent_days, last_report_at: iso(a.last_report_at) },
        })
      }
      return out
    }
    case 'feed_stale': {
      const out: Fact[] = []
      for (const f of await lastFeedUpdatesAsOf(db, asOf)) {
        const ageDays = (asOf.getTime() - f.last_updated_at.getTime()) / DAY
        if (ageDays <= c.stale_days) continue
        out.push({
          key: `feed:${f.feed_code}:stale-after:${iso(f.last_updated_at)}`,
          unit_code: f.unit_code,
          data: { feed_code: f.feed_code, last_updated_at: iso(f.last_updated_at), age_days: Math.floor(ageDays * 10) / 10 },
        })
      }
      return out
    }
  }
}

/** The fact an event stands for: its payload's scalar fields; keyed by key_field or the event id. */
export function factFromEvent(c: Extract<Condition, { event: string }>, event: { id: string; topic: string; payload: Record<string, unknown> }): Fact {
  const data: Record<string, Scalar> = {}
  for (const [k, v] of Object.entries(event.payload)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v as Scalar
  }
  const unit = typeof data.unit_code === 'string' ? data.unit_code : typeof data.commune_code === 'string' ? data.commune_code : null
  const keyValue = c.key_field !== undefined ? data[c.key_field] : undefined
  return { key: `event:${event.topic}:${keyValue === undefined || keyValue === null ? `#${event.id}` : String(keyValue)}`, unit_code: unit, data: { topic: event.topic, ...data } }
}

async function resolveUnit(db: Db, deps: EngineDeps, fact: Fact, target: UnitTarget | undefined): Promise<string> {
  if (target === 'province' || !fact.unit_code) return deps.provinceCode
  if (target === 'parent_unit') return (await getOrgUnit(db, fact.unit_code))?.parent_code ?? deps.provinceCode
  return fact.unit_code
}

/** Runs one action for a firing in the firing's transaction; returns what it did. */
async function runAction(tx: Db, deps: EngineDeps, cal: WorkingCalendar, rule: RuleRow, firingId: string, fact: Fact, action: Action, index: number, now: Date): Promise<Record<string, unknown>> {
  const dedupe = `ioc_rule:${rule.id}:${firingId}:${index}`
  switch (action.type) {
    case 'notify': {
      const text = renderTemplate(action.text_vi, fact).slice(0, 4000)
      const subject = action.subject_vi ? renderTemplate(action.subject_vi, fact).slice(0, 300) : rule.name_vi.slice(0, 300)
      const link = `/ioc/rules/${rule.id}/firings`
      if (action.channel === 'in_app') {
        const unit = await resolveUnit(tx, deps, fact, action.to)
        const id = await enqueueNotification(tx, { channel: 'in_app', to: { unitCode: unit }, subject, text, link, dedupeKey: dedupe }, now)
        return { type: 'notify', channel: 'in_app', unit_code: unit, notification_id: id }
      }
      const to = action.channel === 'email' ? { email: action.to.email } : { phone: action.to.phone }
      const id = await enqueueNotification(tx, { channel: action.channel, to, subject, text, link, dedupeKey: dedupe }, now)
      return { type: 'notify', channel: action.channel, notification_id: id }
    }
    case 'escalate': {
      const parent = await resolveUnit(tx, deps, fact, 'parent_unit')
      await publishEvent(tx, 'ioc.escalation_requested', { rule_id: rule.id, rule_code: rule.code, fact_key: fact.key, unit_code: fact.unit_code, to_unit_code: parent, fact: fact.data })
      const id = await enqueueNotification(tx, {
        channel: 'in_app', to: { unitCode: parent }, subject: `Chuyển cấp: ${rule.name_vi}`.slice(0, 300),
        text: `Đơn vị ${fact.unit_code ?? '?'}: ${rule.name_vi} (${String(fact.data.code ?? fact.key)}).`.slice(0, 4000), link: `/ioc/rules/${rule.id}/firings`, dedupeKey: dedupe,
      }, now)
      return { type: 'escalate', to_unit_code: parent, event: 'ioc.escalation_requested', notification_id: id }
    }
    case 'create_task': {
      const unit = await resolveUnit(tx, deps, fact, action.to)
      const due = action.due_working_days === undefined ? null : cal.addWorkingDays(now, action.due_working_days)
      const id = await insertTask(tx, { unitCode: unit, title: renderTemplate(action.title_vi, fact).slice(0, 300), detail: action.detail_vi ? renderTemplate(action.detail_vi, fact).slice(0, 2000) : null, ruleId: rule.id, firingId, dueAt: due, createdAt: now })
      return { type: 'create_task', task_id: id, unit_code: unit, due_at: due ? iso(due) : null }
    }
    case 'apology_letter': {
      // The services module drafts apology letters for dossiers at risk (runDeadlineWarnings); it
      // opens its own transactions, so it runs as a job right after this firing commits.
      await enqueueJob(tx, APOLOGY_JOB, { dossier_code: fact.data.code ?? null, firing_id: firingId }, { runAt: now, dedupeKey: `${APOLOGY_JOB}:${firingId}` })
      return { type: 'apology_letter', dossier_code: fact.data.code ?? null, queued: true }
    }
    case 'flag_unit': {
      const unit = await resolveUnit(tx, deps, fact, action.to)
      const id = await insertUnitFlag(tx, { unitCode: unit, level: action.level, reasonVi: renderTemplate(action.reason_vi, fact).slice(0, 500), reasonEn: renderTemplate(action.reason_en, fact).slice(0, 500), ruleId: rule.id, firingId, createdAt: now })
      return { type: 'flag_unit', flag_id: id, unit_code: unit, level: action.level }
    }
  }
}

/**
 * Fires a rule for a fact in the caller's transaction, unless it already fired for that fact:
 * records the firing with its inputs, runs the actions, records their outcome, audits it.
 * Returns the firing id, or undefined when it had fired before.
 */
export async function fireRule(tx: Db, deps: EngineDeps, cal: WorkingCalendar, rule: RuleRow, fact: Fact, now: Date, asOf: Date): Promise<string | undefined> {
  const inputs = { fact: fact.data, unit_code: fact.unit_code, condition: rule.condition, as_of: iso(asOf) }
  const firingId = await insertFiring(tx, { ruleId: rule.id, ruleVersion: rule.version, factKey: fact.key, unitCode: fact.unit_code, firedAt: now, inputs })
  if (!firingId) return undefined
  const outcome: Record<string, unknown>[] = []
  for (const [i, a] of rule.actions.entries()) outcome.push(await runAction(tx, deps, cal, rule, firingId, fact, a, i, now))
  await setFiringOutcome(tx, firingId, outcome)
  await appendAudit(tx, { actor: 'system', action: 'ioc_rule.fired', entityType: 'ioc_rule', entityId: rule.id, data: { firing_id: firingId, fact_key: fact.key, actions: outcome.map((o) => o.type as string) } }, now)
  return firingId
}

/**
 * Evaluates every enabled fact rule as of `now` and fires it for each new fact, one transaction
 * per firing (a failing fact does not hold back the others). Safe on several nodes: the unique
 * (rule, fact) key lets only one of them fire. Returns how many firings were recorded.
 */
export async function evaluateFactRules(db: Db, deps: EngineDeps, now: Date): Promise<number> {
  const cal = await loadWorkingCalendar(db)
  let fired = 0
  for (const rule of await listRules(db, { enabledOnly: true })) {
    if ('event' in rule.condition) continue
    const facts = (await factsAsOf(db, rule.condition, now, cal)).filter((f) => matchesFilters(f, rule.condition.where))
    const seen = await firedFactKeys(db, rule.id, facts.map((f) => f.key))
    for (const fact of facts) {
      if (seen.has(fact.key)) continue
      const id = await db.transaction().execute((tx) => fireRule(tx, deps, cal, rule, fact, now, now))
      if (id) fired++
    }
  }
  return fired
}

/** Runs the enabled event rules on one event, inside the event's dispatch transaction. */
export async function handleRuleEvent(tx: Db, deps: EngineDeps, event: DomainEvent, now: Date): Promise<number> {
  const rules = (await listRules(tx, { enabledOnly: true })).filter((r) => 'event' in r.condition && r.condition.event === event.topic)
  if (rules.length === 0) return 0
  const cal = await loadWorkingCalendar(tx)
  let fired = 0
  for (const rule of rules) {
    const c = rule.condition as Extract<Condition, { event: string }>
    const fact = factFromEvent(c, event)
    if (!matchesFilters(fact, c.where)) continue
    if (await fireRule(tx, deps, cal, rule, fact, now, event.createdAt)) fired++
  }
  return fired
}

export interface BacktestHit {
  fact_key: string
  unit_code: string | null
  /** The first instant examined at which the fact held (fact rules) or the event's time. */
  first_seen_at: string
  inputs: Record<string, Scalar>
  /** True when the rule has already fired for this fact for real. */
  already_fired: boolean
  /** What the actions would do (nothing is done). */
  would: { type: string; to?: string }[]
}

/** Maximum days a backtest spans, and hits it lists. */
export const BACKTEST_MAX_DAYS = 93
export const BACKTEST_MAX_HITS = 2000

/**
 * What a rule would have fired in [from, to], without acting: fact rules are evaluated as of the
 * end of each Vietnam day in the range (and at `to`), event rules over the recorded events.
 * Each fact counts once, at the first instant it held.
 */
export async function backtestRule(db: Db, deps: EngineDeps, rule: Pick<RuleRow, 'id' | 'condition' | 'actions'>, from: Date, to: Date): Promise<{ hits: BacktestHit[]; instants: number; truncated: boolean }> {
  const cal = await loadWorkingCalendar(db)
  const hits = new Map<string, BacktestHit>()
  let truncated = false
  const would = async (fact: Fact) => {
    const out: { type: string; to?: string }[] = []
    for (const a of rule.actions) {
      if (a.type === 'notify') out.push({ type: `notify:${a.channel}`, to: a.channel === 'in_app' ? await resolveUnit(db, deps, fact, a.to) : a.channel === 'email' ? a.to.email : a.to.phone })
      else if (a.type === 'escalate') out.push({ type: 'escalate', to: await resolveUnit(db, deps, fact, 'parent_unit') })
      else if (a.type === 'create_task' || a.type === 'flag_unit') out.push({ type: a.type, to: await resolveUnit(db, deps, fact, a.to) })
      else out.push({ type: a.type })
    }
    return out
  }
  const add = async (fact: Fact, at: Date) => {
    if (hits.has(fact.key)) return
    if (hits.size >= BACKTEST_MAX_HITS) {
      truncated = true
      return
    }
    hits.set(fact.key, { fact_key: fact.key, unit_code: fact.unit_code, first_seen_at: iso(at), inputs: fact.data, already_fired: false, would: await would(fact) })
  }
  let instants = 0
  const c = rule.condition
  if ('event' in c) {
    for (const e of await eventsBetween(db, c.event, from, to, BACKTEST_MAX_HITS + 1)) {
      instants++
      const fact = factFromEvent(c, { id: e.id, topic: c.event, payload: e.payload })
      if (matchesFilters(fact, c.where)) await add(fact, e.created_at)
    }
    if (instants > BACKTEST_MAX_HITS) truncated = true
  } else {
    for (const at of endOfDayInstants(from, to)) {
      instants++
      for (const fact of await factsAsOf(db, c, at, cal)) if (matchesFilters(fact, c.where)) await add(fact, at)
    }
  }
  const list = [...hits.values()]
  const fired = await firedFactKeys(db, rule.id, list.map((h) => h.fact_key))
  for (const h of list) h.already_fired = fired.has(h.fact_key)
  return { hits: list, instants, truncated }
}

/** 23:59:59 Vietnam time (16:59:59 UTC) of each day in [from, to], then `to` itself. */
export function endOfDayInstants(from: Date, to: Date): Date[] {
  const out: Date[] = []
  const first = new Date(from.getTime() + 7 * 3600_000)
  first.setUTCHours(23, 59, 59, 0)
  for (let t = first.getTime() - 7 * 3600_000; t < to.getTime(); t += DAY) if (t >= from.getTime()) out.push(new Date(t))
  out.push(to)
  return out
}
