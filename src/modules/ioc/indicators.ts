import { readFileSync } from 'node:fs'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { searchProcedures } from '../services/index.ts'
import { medianFromBuckets } from './rollups.ts'

/** Live indicators read from the roll-ups (never from the owning modules' big tables). */

export const VARIABLES_766 = ['catalogue_total', 'catalogue_published', 'catalogue_fully_online', 'received', 'online_received', 'resolved', 'early', 'on_time', 'late', 'fee_required', 'paid_online', 'digitised', 'reused', 'rating_count', 'satisfied'] as const
export type Variable766 = (typeof VARIABLES_766)[number]

export interface Indicator766Def { key: string; name_vi: string; name_en: string; weight: number; formula: string; note?: string; numerator: Variable766[]; denominator: Variable766[] }

/** Parses "a + b / c" as (a + b) / c over known variables; throws on anything else. */
export function parseFormula(formula: string): { numerator: Variable766[]; denominator: Variable766[] } {
  const parts = formula.split('/')
  if (parts.length !== 2) throw new Error(`Formula must be "terms / terms": ${formula}`)
  const terms = (s: string) => s.split('+').map((t) => t.trim()).map((t) => {
    if (!(VARIABLES_766 as readonly string[]).includes(t)) throw new Error(`Unknown variable "${t}" in formula ${formula}`)
    return t as Variable766
  })
  return { numerator: terms(parts[0]!), denominator: terms(parts[1]!) }
}

export function load766Config(file: string): { basis: string; indicators: Indicator766Def[] } {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { basis: string; indicators: Omit<Indicator766Def, 'numerator' | 'denominator'>[] }
  return { basis: raw.basis, indicators: raw.indicators.map((i) => ({ ...i, ...parseFormula(i.formula) })) }
}

export interface Score766 { key: string; name_vi: string; name_en: string; weight: number; value: number | null; points: number | null; numerator: number; denominator: number }

/** Each indicator's ratio and points; the total rescales the weights of indicators with data to 100. */
export function score766(defs: Indicator766Def[], vars: Record<Variable766, number>): { indicators: Score766[]; total: number | null } {
  const indicators = defs.map((d) => {
    const num = d.numerator.reduce((a, v) => a + vars[v], 0)
    const den = d.denominator.reduce((a, v) => a + vars[v], 0)
    const value = den > 0 ? Math.min(1, num / den) : null
    return { key: d.key, name_vi: d.name_vi, name_en: d.name_en, weight: d.weight, value, points: value === null ? null : value * d.weight, numerator: num, denominator: den }
  })
  const withData = indicators.filter((i) => i.points !== null)
  const w = withData.reduce((a, i) => a + i.weight, 0)
  const total = w > 0 ? (withData.reduce((a, i) => a + i.points!, 0) / w) * 100 : null
  return { indicators, total }
}

export interface Period { from: string; to: string }

/**
 * A period [from, to] (inclusive days) cut into the whole months it contains, read from the
 * monthly level, and the partial edge days before and after them, read from the daily level.
 * All bounds are half-open [start, end) as 'YYYY-MM-DD'.
 */
export interface PeriodSplit { months: { start: string; end: string } | null; days: { start: string; end: string }[] }

const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
const nextMonthStart = (d: string) => { const [y, m] = d.split('-').map(Number) as [number, number]; return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01` }

export function splitPeriod(p: Period): PeriodSplit {
  const end = addDays(p.to, 1)
  const firstFull = p.from.endsWith('-01') ? p.from : nextMonthStart(p.from)
  const lastFullEnd = `${end.slice(0, 7)}-01`
  if (firstFull >= lastFullEnd) return { months: null, days: p.from < end ? [{ start: p.from, end }] : [] }
  const days = [{ start: p.from, end: firstFull }, { start: lastFullEnd, end }].filter((r) => r.start < r.end)
  return { months: { start: firstFull, end: lastFullEnd }, days }
}

/** The daily and monthly tables of one roll-up level. */
export const LEVELS = {
  facts: ['ioc_daily_facts', 'ioc_monthly_facts'],
  buckets: ['ioc_duration_buckets', 'ioc_monthly_duration_buckets'],
  coarse: ['ioc_daily_coarse', 'ioc_monthly_coarse'],
  coarseBuckets: ['ioc_daily_coarse_buckets', 'ioc_monthly_coarse_buckets'],
} as const
export type LevelName = keyof typeof LEVELS

/**
 * The rows of a roll-up over a period: whole months from the monthly table, edge days from the
 * daily one. `where` (e.g. a level, source or unit filter) applies to both; the result has `cols`.
 */
export function periodRows(kind: LevelName, p: Period, cols: readonly string[], where: RawBuilder<unknown>) {
  const split = splitPeriod(p)
  const [daily, monthly] = LEVELS[kind]
  const list = sql.join(cols.map((c) => sql.ref(c)))
  const parts: RawBuilder<unknown>[] = []
  if (split.months) parts.push(sql`select ${list} from ${sql.table(monthly)} where month >= ${split.months.start}::date and month < ${split.months.end}::date ${where}`)
  for (const d of split.days) parts.push(sql`select ${list} from ${sql.table(daily)} where day >= ${d.start}::date and day < ${d.end}::date ${where}`)
  if (parts.length === 0) parts.push(sql`select ${list} from ${sql.table(daily)} where false`)
  return sql`(${sql.join(parts, sql` union all `)})`
}

const COUNTER_COLS = ['received', 'resolved', 'early', 'on_time', 'late', 'rating_count', 'rating_sum', 'satisfied', 'fee_required', 'paid_online', 'digitised', 'reused'] as const
const COARSE_COLS = ['source', 'unit_code', 'dim', ...COUNTER_COLS] as const
const BUCKET_COLS = ['source', 'unit_code', 'category', 'bucket', 'n'] as const
const COARSE_BUCKET_COLS = ['source', 'unit_code', 'dim', 'bucket', 'n'] as const

async function catalogueVars(db: Db, at: Date) {
  const all = await searchProcedures(db, { limit: 500, offset: 0, at })
  const online = await searchProcedures(db, { limit: 1, offset: 0, fully_online: true, at })
  const published = all.items.filter((p) => p.duration?.online?.amount > 0 || p.duration?.in_person?.amount > 0).length
  return { catalogue_total: all.total, catalogue_published: Math.round(published * (all.total / Math.max(1, all.items.length))), catalogue_fully_online: online.total }
}

/** Decision 766 indicators for the province and each unit over [from, to]. */
export async function indicators766(db: Db, defs: Indicator766Def[], period: Period, now: Date, unitCode?: string) {
  const unitFilter = unitCode ? sql`and unit_code = ${unitCode}` : sql``
  const { rows } = await sql<{ source: string; unit_code: string; received: number; online_received: number; resolved: number; early: number; on_time: number; late: number; fee_required: number; paid_online: number; digitised: number; reused: number; rating_count: number; satisfied: number }>`
    select source, unit_code, sum(received)::int as received, sum(case when dim = 'online' then received else 0 end)::int as online_received,
      sum(resolved)::int as resolved, sum(early)::int as early, sum(on_time)::int as on_time, sum(late)::int as late,
      sum(fee_required)::int as fee_required, sum(paid_online)::int as paid_online, sum(digitised)::int as digitised, sum(reused)::int as reused,
      sum(rating_count)::int as rating_count, sum(satisfied)::int as satisfied
    from ${periodRows('coarse', period, COARSE_COLS, sql`and ((level = 'channel' and source = 'dossier') or (level = 'unit' and source = 'report')) ${unitFilter}`)} f
    group by source, unit_code`.execute(db)
  const cat = await catalogueVars(db, now)
  const zero = (): Record<Variable766, number> => ({ ...cat, received: 0, online_received: 0, resolved: 0, early: 0, on_time: 0, late: 0, fee_required: 0, paid_online: 0, digitised: 0, reused: 0, rating_count: 0, satisfied: 0 })
  const byUnit = new Map<string, Record<Variable766, number>>()
  const province = zero()
  for (const r of rows) {
    const v = byUnit.get(r.unit_code) ?? zero()
    const keys: Variable766[] = r.source === 'dossier'
      ? ['received', 'online_received', 'resolved', 'early', 'on_time', 'late', 'fee_required', 'paid_online', 'digitised', 'reused']
      : ['rating_count', 'satisfied']
    for (const k of keys) { v[k] += Number(r[k as keyof typeof r]); province[k] += Number(r[k as keyof typeof r]) }
    byUnit.set(r.unit_code, v)
  }
  const units = [...byUnit.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, vars]) => ({ unit_code: code, ...score766(defs, vars), variables: vars }))
  return { period, province: unitCode ? null : { ...score766(defs, province), variables: province }, units }
}

export type ReportGroup = 'unit' | 'category' | 'commune'

/** Field-report indicators by unit, category or commune over [from, to], with live open / overdue. */
export async function reportIndicators(db: Db, period: Period, now: Date, group: ReportGroup, unitCode?: string) {
  // Coarse levels (migration 005): facts per unit, unit × category or unit × commune; duration buckets
  // per unit, or per category over every unit (with a unit filter: the unit × category table).
  const unitFilter = unitCode ? sql`and unit_code = ${unitCode}` : sql``
  const factKey = sql.ref(group === 'unit' ? 'unit_code' : 'dim')
  const factLevel = group
  const bucketRows = group === 'commune'
    ? null
    : group === 'unit'
      ? sql`select unit_code as key, bucket, sum(n)::int as n from ${periodRows('coarseBuckets', period, COARSE_BUCKET_COLS, sql`and level = 'unit' and source = 'report' ${unitFilter}`)} b group by 1, 2`
      : unitCode
        ? sql`select category as key, bucket, sum(n)::int as n from ${periodRows('buckets', period, BUCKET_COLS, sql`and source = 'report' ${unitFilter}`)} b group by 1, 2`
        : sql`select dim as key, bucket, sum(n)::int as n from ${periodRows('coarseBuckets', period, COARSE_BUCKET_COLS, sql`and level = 'category' and source = 'report' and unit_code = ''`)} b group by 1, 2`
  const openCol = sql.ref(group === 'unit' ? 'unit_code' : group === 'category' ? 'category' : 'commune_code')
  const [facts, open, buckets] = await Promise.all([
    sql<{ key: string; received: number; resolved: number; early: number; on_time: number; late: number; rating_count: number; rating_sum: number; satisfied: number }>`
      select ${factKey} as key, sum(received)::int as received, sum(resolved)::int as resolved, sum(early)::int as early, sum(on_time)::int as on_time,
        sum(late)::int as late, sum(rating_count)::int as rating_count, sum(rating_sum)::int as rating_sum, sum(satisfied)::int as satisfied
      from ${periodRows('coarse', period, COARSE_COLS, sql`and level = ${factLevel} and source = 'report' ${unitFilter}`)} f
      group by 1`.execute(db),
    sql<{ key: string; open: number; overdue: number }>`
      select ${openCol} as key, count(*)::int as open, count(*) filter (where due_at < ${now.toISOString()})::int as overdue
      from ioc_open_items where source = 'report' ${unitFilter} group by 1`.execute(db),
    bucketRows ? bucketRows.$castTo<{ key: string; bucket: number; n: number }>().execute(db) : Promise.resolve({ rows: [] as { key: string; bucket: number; n: number }[] }),
  ])
  const rows = new Map<string, { key: string; received: number; resolved: number; early: number; on_time: number; late: number; rating_count: number; rating_sum: number; satisfied: number; open: number; overdue: number; hist: Map<number, number> }>()
  const get = (k: string) => {
    let r = rows.get(k)
    if (!r) { r = { key: k, received: 0, resolved: 0, early: 0, on_time: 0, late: 0, rating_count: 0, rating_sum: 0, satisfied: 0, open: 0, overdue: 0, hist: new Map() }; rows.set(k, r) }
    return r
  }
  for (const f of facts.rows) Object.assign(get(f.key), f)
  for (const o of open.rows) Object.assign(get(o.key), { open: o.open, overdue: o.overdue })
  const total = get('__total__')
  for (const b of buckets.rows) {
    const r = get(b.key)
    r.hist.set(b.bucket, (r.hist.get(b.bucket) ?? 0) + b.n)
    total.hist.set(b.bucket, (total.hist.get(b.bucket) ?? 0) + b.n)
  }
  for (const r of rows.values()) {
    if (r === total) continue
    for (const k of ['received', 'resolved', 'early', 'on_time', 'late', 'rating_count', 'rating_sum', 'satisfied', 'open', 'overdue'] as const) total[k] += r[k]
  }
  const present = (r: typeof total) => ({
    key: r.key, received: r.received, resolved: r.resolved, early: r.early, on_time: r.on_time, late: r.late, open: r.open, overdue: r.overdue,
    on_time_rate: r.resolved ? (r.early + r.on_time) / r.resolved : null,
    overdue_rate: r.resolved + r.open ? (r.late + r.overdue) / (r.resolved + r.open) : null,
    rating_count: r.rating_count, average_rating: r.rating_count ? r.rating_sum / r.rating_count : null, satisfaction: r.rating_count ? r.satisfied / r.rating_count : null,
    median_hours_to_resolve: medianFromBuckets(r.hist),
  })
  rows.delete('__total__')
  return { period, group, total: present(total), items: [...rows.values()].sort((a, b) => b.received - a.received || a.key.localeCompare(b.key)).map(present) }
}
