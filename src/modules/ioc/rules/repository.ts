import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { Action, Condition } from './definitions.ts'

export interface RuleRow {
  id: string
  code: string
  name_vi: string
  name_en: string
  enabled: boolean
  condition: Condition
  actions: Action[]
  version: number
  created_at: Date
  updated_at: Date
}

const RULE_COLS = sql`id::text as id, code, name_vi, name_en, enabled, condition, actions, version, created_at, updated_at`

export async function listRules(db: Db, opts: { enabledOnly?: boolean } = {}): Promise<RuleRow[]> {
  return (await sql<RuleRow>`select ${RULE_COLS} from ioc_rules where (${opts.enabledOnly ?? false}::boolean = false or enabled) order by id limit 500`.execute(db)).rows
}

export async function getRule(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<RuleRow | undefined> {
  const lock = opts.forUpdate ? sql`for update` : sql``
  return (await sql<RuleRow>`select ${RULE_COLS} from ioc_rules where id = ${id}::bigint ${lock}`.execute(db)).rows[0]
}

export async function insertRule(tx: Db, r: { code: string; name_vi: string; name_en: string; enabled: boolean; condition: Condition; actions: Action[] }, now: Date): Promise<RuleRow | undefined> {
  return (await sql<RuleRow>`insert into ioc_rules (code, name_vi, name_en, enabled, condition, actions, created_at, updated_at)
    values (${r.code}, ${r.name_vi}, ${r.name_en}, ${r.enabled}, ${JSON.stringify(r.condition)}::jsonb, ${JSON.stringify(r.actions)}::jsonb, ${now.toISOString()}, ${now.toISOString()})
    on conflict (code) do nothing returning ${RULE_COLS}`.execute(tx)).rows[0]
}

export async function updateRule(tx: Db, id: string, r: { name_vi: string; name_en: string; enabled: boolean; condition: Condition; actions: Action[] }, now: Date): Promise<RuleRow> {
  return (await sql<RuleRow>`update ioc_rules set name_vi = ${r.name_vi}, name_en = ${r.name_en}, enabled = ${r.enabled},
      condition = ${JSON.stringify(r.condition)}::jsonb, actions = ${JSON.stringify(r.actions)}::jsonb, version = version + 1, updated_at = ${now.toISOString()}
    where id = ${id}::bigint returning ${RULE_COLS}`.execute(tx)).rows[0]
}

export async function setRuleEnabled(tx: Db, id: string, enabled: boolean, now: Date): Promise<RuleRow> {
  return (await sql<RuleRow>`update ioc_rules set enabled = ${enabled}, updated_at = ${now.toISOString()} where id = ${id}::bigint returning ${RULE_COLS}`.execute(tx)).rows[0]
}

export interface FiringRow {
  id: string
  rule_id: string
  rule_version: number
  fact_key: string
  unit_code: string | null
  fired_at: Date
  inputs: Record<string, unknown>
  outcome: Record<string, unknown>[]
}

/** Records a firing unless this rule already fired for this fact; returns its id, or undefined. */
export async function insertFiring(tx: Db, f: { ruleId: string; ruleVersion: number; factKey: string; unitCode: string | null; firedAt: Date; inputs: Record<string, unknown> }): Promise<string | undefined> {
  return (await sql<{ id: string }>`insert into ioc_rule_firings (rule_id, rule_version, fact_key, unit_code, fired_at, inputs, outcome)
    values (${f.ruleId}::bigint, ${f.ruleVersion}, ${f.factKey}, ${f.unitCode}, ${f.firedAt.toISOString()}, ${JSON.stringify(f.inputs)}::jsonb, '[]'::jsonb)
    on conflict (rule_id, fact_key) do nothing returning id::text as id`.execute(tx)).rows[0]?.id
}

export async function setFiringOutcome(tx: Db, id: string, outcome: Record<string, unknown>[]): Promise<void> {
  await sql`update ioc_rule_firings set outcome = ${JSON.stringify(outcome)}::jsonb where id = ${id}::bigint`.execute(tx)
}

export async function firedFactKeys(db: Db, ruleId: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set()
  const { rows } = await sql<{ fact_key: string }>`select fact_key from ioc_rule_firings where rule_id = ${ruleId}::bigint and fact_key = any(${keys}::text[])`.execute(db)
  return new Set(rows.map((r) => r.fact_key))
}

export async function listFirings(db: Db, ruleId: string, opts: { unitCode?: string; beforeId?: string; limit: number }): Promise<FiringRow[]> {
  const { rows } = await sql<FiringRow>`select id::text as id, rule_id::text as rule_id, rule_version, fact_key, unit_code, fired_at, inputs, outcome
    from ioc_rule_firings where rule_id = ${ruleId}::bigint
      and (${opts.unitCode ?? null}::text is null or unit_code = ${opts.unitCode ?? null}::text)
      and (${opts.beforeId ?? null}::bigint is null or id < ${opts.beforeId ?? null}::bigint)
    order by id desc limit ${opts.limit}`.execute(db)
  return rows
}

export interface TaskRow {
  id: string
  unit_code: string
  title: string
  detail: string | null
  rule_id: string | null
  firing_id: string | null
  due_at: Date | null
  status: 'open' | 'done'
  created_at: Date
  done_at: Date | null
}

export async function insertTask(tx: Db, t: { unitCode: string; title: string; detail: string | null; ruleId: string; firingId: string; dueAt: Date | null; createdAt: Date }): Promise<string> {
  return (await sql<{ id: string }>`insert into ioc_tasks (unit_code, title, detail, rule_id, firing_id, due_at, created_at)
    values (${t.unitCode}, ${t.title}, ${t.detail}, ${t.ruleId}::bigint, ${t.firingId}::bigint, ${t.dueAt?.toISOString() ?? null}, ${t.createdAt.toISOString()})
    returning id::text as id`.execute(tx)).rows[0].id
}

export async function listTasks(db: Db, opts: { unitCode?: string; status?: 'open' | 'done'; beforeId?: string; limit: number }): Promise<TaskRow[]> {
  const { rows } = await sql<TaskRow>`select id::text as id, unit_code, title, detail, rule_id::text as rule_id, firing_id::text as firing_id, due_at, status, created_at, done_at
    from ioc_tasks
    where (${opts.unitCode ?? null}::text is null or unit_code = ${opts.unitCode ?? null}::text)
      and (${opts.status ?? null}::text is null or status = ${opts.status ?? null}::text)
      and (${opts.beforeId ?? null}::bigint is null or id < ${opts.beforeId ?? null}::bigint)
    order by id desc limit ${opts.limit}`.execute(db)
  return rows
}

export async function getTask(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<TaskRow | undefined> {
  const lock = opts.forUpdate ? sql`for update` : sql``
  return (await sql<TaskRow>`select id::text as id, unit_code, title, detail, rule_id::text as rule_id, firing_id::text as firing_id, due_at, status, created_at, done_at
    from ioc_tasks where id = ${id}::bigint ${lock}`.execute(db)).rows[0]
}

export async function completeTask(tx: Db, id: string, by: string, now: Date): Promise<void> {
  await sql`update ioc_tasks set status = 'done', done_at = ${now.toISOString()}, done_by = ${by} where id = ${id}::bigint`.execute(tx)
}

export interface UnitFlagRow {
  id: string
  unit_code: string
  level: 'info' | 'warning' | 'critical'
  reason_vi: string
  reason_en: string
  rule_id: string | null
  firing_id: string | null
  created_at: Date
}

export async function insertUnitFlag(tx: Db, f: { unitCode: string; level: string; reasonVi: string; reasonEn: string; ruleId: string; firingId: string; createdAt: Date }): Promise<string> {
  return (await sql<{ id: string }>`insert into ioc_unit_flags (unit_code, level, reason_vi, reason_en, rule_id, firing_id, created_at)
    values (${f.unitCode}, ${f.level}, ${f.reasonVi}, ${f.reasonEn}, ${f.ruleId}::bigint, ${f.firingId}::bigint, ${f.createdAt.toISOString()})
    returning id::text as id`.execute(tx)).rows[0].id
}

export async function listActiveUnitFlags(db: Db, opts: { unitCode?: string; limit: number }): Promise<UnitFlagRow[]> {
  const { rows } = await sql<UnitFlagRow>`select id::text as id, unit_code, level, reason_vi, reason_en, rule_id::text as rule_id, firing_id::text as firing_id, created_at
    from ioc_unit_flags where cleared_at is null and (${opts.unitCode ?? null}::text is null or unit_code = ${opts.unitCode ?? null}::text)
    order by id desc limit ${opts.limit}`.execute(db)
  return rows
}

export async function recordFeedUpdate(tx: Db, feedCode: string, updatedAt: Date, unitCode: string | null): Promise<void> {
  await sql`insert into ioc_feed_updates (feed_code, updated_at, unit_code) values (${feedCode}, ${updatedAt.toISOString()}, ${unitCode})
    on conflict (feed_code, updated_at) do nothing`.execute(tx)
}

/** Per feed, the last update at or before `asOf` (feeds first seen after asOf are left out). */
export async function lastFeedUpdatesAsOf(db: Db, asOf: Date): Promise<{ feed_code: string; last_updated_at: Date; unit_code: string | null }[]> {
  const { rows } = await sql<{ feed_code: string; last_updated_at: Date; unit_code: string | null }>`
    select distinct on (feed_code) feed_code, updated_at as last_updated_at, unit_code from ioc_feed_updates
    where updated_at <= ${asOf.toISOString()} order by feed_code, updated_at desc`.execute(db)
  return rows
}

/** Outbox events of a topic created in [from, to), for backtesting event rules (at most `limit`). */
export async function eventsBetween(db: Db, topic: string, from: Date, to: Date, limit: number): Promise<{ id: string; payload: Record<string, unknown>; created_at: Date }[]> {
  const { rows } = await sql<{ id: string; payload: Record<string, unknown>; created_at: Date }>`select id::text as id, payload, created_at from outbox_events
    where topic = ${topic} and created_at >= ${from.toISOString()} and created_at < ${to.toISOString()} order by id limit ${limit}`.execute(db)
  return rows
}
