/**
 * Rules as data: a condition (over facts read from the owning modules, or over one domain event)
 * and a list of actions. Pure: validation, filters and message templates.
 */
import { badRequest } from '../../../platform/http/errors.ts'

/** Facts the engine can evaluate "as of" any instant (now, or a past instant for a backtest). */
export const FACT_KINDS = ['report_overdue', 'dossier_due_soon', 'commune_silent', 'feed_stale'] as const
export type FactKind = (typeof FACT_KINDS)[number]

/** Domain events an event rule may listen to. */
export const EVENT_TOPICS = [
  'report.created', 'report.escalated', 'report.status_changed',
  'dossier.deadline_warning', 'dossier.apology_drafted', 'dossier.citizen_notice',
  'data.feed_updated',
] as const

export const FILTER_OPS = ['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'contains'] as const
export type FilterOp = (typeof FILTER_OPS)[number]
export type Scalar = string | number | boolean | null
export interface Filter {
  field: string
  op: FilterOp
  value: Scalar | Scalar[]
}

export type Condition =
  | { fact: 'report_overdue'; min_working_days: number; where?: Filter[] }
  | { fact: 'dossier_due_soon'; within_working_days: number; where?: Filter[] }
  | { fact: 'commune_silent'; silent_days: number; min_previous: number; where?: Filter[] }
  | { fact: 'feed_stale'; stale_days: number; where?: Filter[] }
  | { event: (typeof EVENT_TOPICS)[number]; where?: Filter[]; key_field?: string }

/** Who an action addresses: the fact's unit, its parent unit, the province, or an explicit address. */
export const UNIT_TARGETS = ['unit', 'parent_unit', 'province'] as const
export type UnitTarget = (typeof UNIT_TARGETS)[number]
export const NOTIFY_CHANNELS = ['email', 'sms', 'in_app'] as const

export type Action =
  | { type: 'notify'; channel: 'in_app'; to: UnitTarget; text_vi: string; subject_vi?: string }
  | { type: 'notify'; channel: 'email'; to: { email: string }; text_vi: string; subject_vi?: string }
  | { type: 'notify'; channel: 'sms'; to: { phone: string }; text_vi: string; subject_vi?: string }
  | { type: 'escalate' }
  | { type: 'create_task'; to?: UnitTarget; title_vi: string; detail_vi?: string; due_working_days?: number }
  | { type: 'apology_letter' }
  | { type: 'flag_unit'; to?: UnitTarget; level: 'info' | 'warning' | 'critical'; reason_vi: string; reason_en: string }

export const ACTION_TYPES = ['notify', 'escalate', 'create_task', 'apology_letter', 'flag_unit'] as const

/** A fact: something true about one thing at one instant, with a key that names it for good. */
export interface Fact {
  key: string
  unit_code: string | null
  data: Record<string, Scalar>
}

function bad(what: string, whatVi: string): never {
  throw badRequest('INVALID_RULE', `Quy tắc không hợp lệ: ${whatVi}.`, `Invalid rule: ${what}.`, { field: what })
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v)

function checkFilters(where: unknown): void {
  if (where === undefined) return
  if (!Array.isArray(where) || where.length > 20) bad('condition.where (an array of at most 20 filters)', 'condition.where (tối đa 20 điều kiện lọc)')
  for (const f of where) {
    if (!isObj(f) || !isText(f.field, 64) || !/^[a-z_][a-z0-9_]*$/.test(f.field as string)) bad('condition.where[].field', 'condition.where[].field')
    if (!FILTER_OPS.includes(f.op as FilterOp)) bad(`condition.where[].op (one of ${FILTER_OPS.join(', ')})`, 'condition.where[].op')
    const ok = f.op === 'in' ? Array.isArray(f.value) && f.value.length <= 200 && f.value.every(isScalar) : isScalar(f.value)
    if (!ok) bad('condition.where[].value', 'condition.where[].value')
  }
}

/** Checks a condition; throws a 400 INVALID_RULE naming the field. */
export function checkCondition(c: unknown): asserts c is Condition {
  if (!isObj(c)) bad('condition', 'điều kiện')
  checkFilters(c.where)
  if ('event' in c) {
    if (!EVENT_TOPICS.includes(c.event as (typeof EVENT_TOPICS)[number])) bad(`condition.event (one of ${EVENT_TOPICS.join(', ')})`, 'condition.event')
    if (c.key_field !== undefined && !(isText(c.key_field, 64) && /^[a-z_][a-z0-9_]*$/.test(c.key_field as string))) bad('condition.key_field', 'condition.key_field')
    return
  }
  switch (c.fact) {
    case 'report_overdue':
      if (!isInt(c.min_working_days, 0, 60)) bad('condition.min_working_days (0–60)', 'condition.min_working_days (0–60)')
      return
    case 'dossier_due_soon':
      if (!isInt(c.within_working_days, 1, 30)) bad('condition.within_working_days (1–30)', 'condition.within_working_days (1–30)')
      return
    case 'commune_silent':
      if (!isInt(c.silent_days, 1, 365)) bad('condition.silent_days (1–365)', 'condition.silent_days (1–365)')
      if (!isInt(c.min_previous, 1, 1_000_000)) bad('condition.min_previous (≥ 1)', 'condition.min_previous (≥ 1)')
      return
    case 'feed_stale':
      if (!isInt(c.stale_days, 1, 365)) bad('condition.stale_days (1–365)', 'condition.stale_days (1–365)')
      return
    default:
      bad(`condition.fact (one of ${FACT_KINDS.join(', ')}) or condition.event`, 'condition.fact hoặc condition.event')
  }
}

const EMAIL = /^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/
const PHONE = /^\+?[0-9]{8,15}$/

/** Checks the list of actions (1–10); throws a 400 INVALID_RULE naming the field. */
export function checkActions(actions: unknown, condition: Condition): asserts actions is Action[] {
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > 10) bad('actions (1–10 actions)', 'actions (1–10 hành động)')
  actions.forEach((a: unknown, i) => {
    const at = `actions[${i}]`
    if (!isObj(a) || !ACTION_TYPES.includes(a.type as (typeof ACTION_TYPES)[number])) bad(`${at}.type (one of ${ACTION_TYPES.join(', ')})`, `${at}.type`)
    const target = (v: unknown) => v === undefined || UNIT_TARGETS.includes(v as UnitTarget)
    switch (a.type) {
      case 'notify':
        if (!isText(a.text_vi, 1000)) bad(`${at}.text_vi (1–1000 characters)`, `${at}.text_vi`)
        if (a.subject_vi !== undefined && !isText(a.subject_vi, 200)) bad(`${at}.subject_vi`, `${at}.subject_vi`)
        if (a.channel === 'in_app') {
          if (!UNIT_TARGETS.includes(a.to as UnitTarget)) bad(`${at}.to (unit, parent_unit or province)`, `${at}.to`)
        } else if (a.channel === 'email') {
          if (!isObj(a.to) || !(typeof a.to.email === 'string' && EMAIL.test(a.to.email))) bad(`${at}.to.email`, `${at}.to.email`)
        } else if (a.channel === 'sms') {
          if (!isObj(a.to) || !(typeof a.to.phone === 'string' && PHONE.test(a.to.phone))) bad(`${at}.to.phone`, `${at}.to.phone`)
        } else bad(`${at}.channel (one of ${NOTIFY_CHANNELS.join(', ')})`, `${at}.channel`)
        return
      case 'create_task':
        if (!target(a.to)) bad(`${at}.to`, `${at}.to`)
        if (!isText(a.title_vi, 300)) bad(`${at}.title_vi (1–300 characters)`, `${at}.title_vi`)
        if (a.detail_vi !== undefined && !isText(a.detail_vi, 2000)) bad(`${at}.detail_vi`, `${at}.detail_vi`)
        if (a.due_working_days !== undefined && !isInt(a.due_working_days, 0, 60)) bad(`${at}.due_working_days (0–60)`, `${at}.due_working_days`)
        return
      case 'flag_unit':
        if (!target(a.to)) bad(`${at}.to`, `${at}.to`)
        if (!['info', 'warning', 'critical'].includes(a.level as string)) bad(`${at}.level (info, warning or critical)`, `${at}.level`)
        if (!isText(a.reason_vi, 500) || !isText(a.reason_en, 500)) bad(`${at}.reason_vi and reason_en`, `${at}.reason_vi và reason_en`)
        return
      case 'apology_letter':
        if (!('fact' in condition && condition.fact === 'dossier_due_soon') && !('event' in condition && condition.event.startsWith('dossier.'))) {
          bad(`${at}: apology_letter needs a dossier condition`, `${at}: thư xin lỗi chỉ dùng với điều kiện về hồ sơ`)
        }
        return
      case 'escalate':
        return
    }
  })
}

/** True when the fact passes every filter (fields missing from the fact compare as null). */
export function matchesFilters(fact: Fact, where: readonly Filter[] | undefined): boolean {
  for (const f of where ?? []) {
    const v = f.field === 'unit_code' ? fact.unit_code : (fact.data[f.field] ?? null)
    const w = f.value
    let ok: boolean
    switch (f.op) {
      case 'eq': ok = v === w; break
      case 'ne': ok = v !== w; break
      case 'in': ok = Array.isArray(w) && w.includes(v); break
      case 'contains': ok = typeof v === 'string' && typeof w === 'string' && v.toLowerCase().includes(w.toLowerCase()); break
      default: {
        if (v === null || w === null || Array.isArray(w) || typeof v === 'boolean' || typeof w === 'boolean') { ok = false; break }
        const [a, b] = typeof v === 'number' && typeof w === 'number' ? [v, w] : [String(v), String(w)]
        ok = f.op === 'gt' ? a > b : f.op === 'gte' ? a >= b : f.op === 'lt' ? a < b : a <= b
      }
    }
    if (!ok) return false
  }
  return true
}

/** Fills {field} placeholders from the fact (unknown fields stay as written). */
export function renderTemplate(template: string, fact: Fact): string {
  return template.replace(/\{([a-z_][a-z0-9_]*)\}/g, (whole, k: string) => {
    const v = k === 'unit_code' ? fact.unit_code : fact.data[k]
    return v === undefined || v === null ? whole : String(v)
  })
}
