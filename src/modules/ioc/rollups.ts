import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { DomainEvent } from '../../platform/events/outbox.ts'

/**
 * Incremental roll-ups (số liệu tổng hợp) fed by outbox events. Each handler first records the
 * event id; an event delivered twice is folded once. The folding itself is pure (event →
 * deltas), so the backfill and the bench use the very same functions.
 */

export type Source = 'report' | 'dossier'

export interface FactDelta {
  day: string
  source: Source
  unit_code: string
  category: string
  channel: string
  commune_code: string
  received?: number
  resolved?: number
  early?: number
  on_time?: number
  late?: number
  rating_count?: number
  rating_sum?: number
  satisfied?: number
  fee_required?: number
  paid_online?: number
  digitised?: number
  /** Dossiers received that reused an item of the citizen's data store (766 indicator 4.3). */
  reused?: number
  /** Resolve-duration bucket of one resolved item (see DURATION_EDGES_HOURS). */
  bucket?: number
}

export interface StepDelta { month: string; procedure_code: string; unit_code: string; step: string; n: number; seconds: number }

export interface OpenItem {
  source: Source
  code: string
  unit_code: string
  category: string
  channel: string
  commune_code: string
  received_at: Date
  due_at: Date | null
  last_step: string | null
  last_at: Date | null
}

const COUNTERS = ['received', 'resolved', 'early', 'on_time', 'late', 'rating_count', 'rating_sum', 'satisfied', 'fee_required', 'paid_online', 'digitised', 'reused'] as const
type Counter = (typeof COUNTERS)[number]

/** Upper edges of the resolve-duration buckets, in hours; the last bucket is open-ended. */
export const DURATION_EDGES_HOURS = [1, 2, 4, 8, 16, 24, 48, 96, 192, 384, 768, 1536] as const

export function durationBucket(hours: number): number {
  const i = DURATION_EDGES_HOURS.findIndex((e) => hours < e)
  return i === -1 ? DURATION_EDGES_HOURS.length : i
}

/** Median (hours) from bucket counts, interpolating inside the median's bucket. */
export function medianFromBuckets(counts: Map<number, number> | number[]): number | null {
  const arr: number[] = Array.isArray(counts) ? counts : Array.from({ length: DURATION_EDGES_HOURS.length + 1 }, (_, i) => counts.get(i) ?? 0)
  const total = arr.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const half = total / 2
  let cum = 0
  for (let i = 0; i < arr.length; i++) {
    const n = arr[i] ?? 0
    if (cum + n >= half && n > 0) {
      const lo = i === 0 ? 0 : DURATION_EDGES_HOURS[i - 1]!
      const hi = DURATION_EDGES_HOURS[i] ?? lo * 2
      return lo + ((half - cum) / n) * (hi - lo)
    }
    cum += n
  }
  return null
}

/** The calendar day in Asia/Ho_Chi_Minh (UTC+7, no DST). */
export function vnDay(at: Date): string {
  return new Date(at.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
}
export function vnMonth(at: Date): string {
  return `${vnDay(at).slice(0, 7)}-01`
}

/** Early: finished on an earlier day than due; late: after the due instant; else on time. */
export function judgeTimeliness(finishedAt: Date, dueAt: Date | null): 'early' | 'on_time' | 'late' | null {
  if (!dueAt) return null
  if (finishedAt > dueAt) return 'late'
  return vnDay(finishedAt) < vnDay(dueAt) ? 'early' : 'on_time'
}

const REPORT_OPEN = ['received', 'assigned', 'in_progress']

// ---------------------------------------------------------------- pure folding

export interface ReportCreatedPayload { code: string; unit_code: string; commune_code?: string | null; category: string; channel: string; received_at?: string; due_at?: string | null }
export interface ReportChangedPayload { code: string; from: string; to: string; unit_code: string; action: string; category?: string; channel?: string; commune_code?: string | null; received_at?: string; due_at?: string | null; at?: string }

export function foldReportCreated(p: ReportCreatedPayload, eventAt: Date): { facts: FactDelta[]; open: OpenItem } {
  const receivedAt = p.received_at ? new Date(p.received_at) : eventAt
  const open: OpenItem = {
    source: 'report', code: p.code, unit_code: p.unit_code, category: p.category, channel: p.channel, commune_code: p.commune_code ?? '',
    received_at: receivedAt, due_at: p.due_at ? new Date(p.due_at) : null, last_step: 'received', last_at: receivedAt,
  }
  return { facts: [{ day: vnDay(receivedAt), source: 'report', unit_code: p.unit_code, category: p.category, channel: p.channel, commune_code: open.commune_code, received: 1 }], open }
}

/** A report leaving the open states: resolved (fixed or answered), rejected or closed unresolved. */
export function foldReportFinished(item: Pick<OpenItem, 'unit_code' | 'category' | 'channel' | 'commune_code' | 'received_at' | 'due_at'>, finishedAt: Date, to: string): FactDelta[] {
  if (to === 'rejected') return []
  const t = judgeTimeliness(finishedAt, item.due_at)
  const hours = Math.max(0, (finishedAt.getTime() - item.received_at.getTime()) / 3600_000)
  return [{
    day: vnDay(finishedAt), source: 'report', unit_code: item.unit_code, category: item.category, channel: item.channel, commune_code: item.commune_code,
    resolved: 1, early: t === 'early' ? 1 : 0, on_time: t === 'on_time' ? 1 : 0, late: t === 'late' ? 1 : 0, bucket: durationBucket(hours),
  }]
}

export interface DossierFactLike {
  procedure_code: string; unit_code: string; commune_code: string | null; channel: string; received_at: Date | null; submitted_at: Date
  due_at: Date | null; resolved_at: Date | null; timeliness: 'early' | 'on_time' | 'late' | null; fee_vnd: number; payment_status: string; digitised_result: boolean
  /** Components attached from the applicant's data store instead of uploaded (optional for older readers). */
  reused_components?: number
}

export function dossierOpenItem(code: string, f: DossierFactLike, step: string | null, at: Date): OpenItem {
  return {
    source: 'dossier', code, unit_code: f.unit_code, category: f.procedure_code, channel: f.channel, commune_code: f.commune_code ?? '',
    received_at: f.received_at ?? f.submitted_at, due_at: f.due_at, last_step: step, last_at: at,
  }
}

function dossierKey(item: Pick<OpenItem, 'unit_code' | 'category' | 'channel' | 'commune_code'>, at: Date): Omit<FactDelta, 'received'> {
  return { day: vnDay(at), source: 'dossier', unit_code: item.unit_code, category: item.category, channel: item.channel, commune_code: item.commune_code }
}

export function foldDossierReceived(item: OpenItem, at: Date, f?: Pick<DossierFactLike, 'reused_components'>): FactDelta[] {
  return [{ ...dossierKey(item, at), received: 1, ...((f?.reused_components ?? 0) > 0 ? { reused: 1 } : {}) }]
}

export function foldDossierResolved(item: OpenItem, at: Date, timeliness: 'early' | 'on_time' | 'late' | null): FactDelta[] {
  const t = timeliness ?? judgeTimeliness(at, item.due_at)
  const hours = Math.max(0, (at.getTime() - item.received_at.getTime()) / 3600_000)
  return [{ ...dossierKey(item, at), resolved: 1, early: t === 'early' ? 1 : 0, on_time: t === 'on_time' ? 1 : 0, late: t === 'late' ? 1 : 0, bucket: durationBucket(hours) }]
}

/** At return of the result: was a fee due, was it paid online, is the result digital. */
export function foldDossierReturned(item: OpenItem, at: Date, f: Pick<DossierFactLike, 'fee_vnd' | 'payment_status' | 'digitised_result'>): FactDelta[] {
  return [{ ...dossierKey(item, at), fee_required: f.fee_vnd > 0 ? 1 : 0, paid_online: f.payment_status === 'paid_online' ? 1 : 0, digitised: f.digitised_result ? 1 : 0 }]
}

/** Time spent in the step the dossier was in, attributed to the month it ended. */
export function foldStep(item: OpenItem, at: Date): StepDelta[] {
  if (!item.last_step || !item.last_at) return []
  const seconds = Math.max(0, (at.getTime() - item.last_at.getTime()) / 1000)
  return [{ month: vnMonth(at), procedure_code: item.category, unit_code: item.unit_code, step: item.last_step, n: 1, seconds }]
}

// ---------------------------------------------------------------- repository

const CHUNK = 500
/** Rows per bulk upsert (arrays passed as parameters and expanded by unnest). */
const BULK = 20_000

type Bucket = { day: string; source: Source; unit_code: string; category: string; bucket: number; n: number }

/** Fine daily facts and buckets summed per key; deltas are added as they come (see add). */
export class FactAccumulator {
  readonly facts = new Map<string, FactDelta>()
  readonly buckets = new Map<string, Bucket>()
  add(deltas: FactDelta[]): this {
    for (const d of deltas) {
      const k = `${d.day}|${d.source}|${d.unit_code}|${d.category}|${d.channel}|${d.commune_code}`
      let cur = this.facts.get(k)
      if (!cur) { cur = { day: d.day, source: d.source, unit_code: d.unit_code, category: d.category, channel: d.channel, commune_code: d.commune_code }; this.facts.set(k, cur) }
      for (const c of COUNTERS) if (d[c]) cur[c] = (cur[c] ?? 0) + d[c]!
      if (d.bucket !== undefined) {
        const bk = `${d.day}|${d.source}|${d.unit_code}|${d.category}|${d.bucket}`
        let b = this.buckets.get(bk)
        if (!b) { b = { day: d.day, source: d.source, unit_code: d.unit_code, category: d.category, bucket: d.bucket, n: 0 }; this.buckets.set(bk, b) }
        b.n += 1
      }
    }
    return this
  }
  /**
   * Upserts every level (fine daily, fine monthly, coarse daily, coarse monthly) in `tx`, in key
   * order (day first): concurrent writers lock rows in the same order, and rows of one day sit
   * together on disk as they do when days are fed as they pass.
   */
  async apply(tx: Db): Promise<void> {
    const sorted = <T>(m: Map<string, T>) => [...m.keys()].sort().map((k) => m.get(k)!)
    await applyMergedFacts(tx, sorted(this.facts), sorted(this.buckets))
  }
}

/** Sums deltas with the same key (one upsert row per key). */
export function mergeFactDeltas(deltas: FactDelta[]): { facts: FactDelta[]; buckets: Bucket[] } {
  const acc = new FactAccumulator().add(deltas)
  return { facts: [...acc.facts.values()], buckets: [...acc.buckets.values()] }
}

export function mergeStepDeltas(deltas: StepDelta[]): StepDelta[] {
  const m = new Map<string, StepDelta>()
  for (const d of deltas) {
    const k = `${d.month}|${d.procedure_code}|${d.unit_code}|${d.step}`
    const cur = m.get(k)
    if (cur) { cur.n += d.n; cur.seconds += d.seconds } else m.set(k, { ...d })
  }
  return [...m.values()]
}

// ---------------------------------------------------------------- coarse levels

export type CoarseLevel = 'channel' | 'unit' | 'category' | 'commune'
export type CoarseBucketLevel = 'unit' | 'category'
type Counters = Partial<Record<Counter, number>>
export type CoarseFact = Counters & { level: CoarseLevel; period: string; source: Source; unit_code: string; dim: string }
export interface CoarseBucket { level: CoarseBucketLevel; period: string; source: Source; unit_code: string; dim: string; bucket: number; n: number }

/**
 * The coarse keys of one fine row (see migration 005): 'channel' for dossiers (the 766 dossier
 * indicators), 'unit', 'category' and 'commune' for reports (766 ratings, report indicators).
 */
export function coarseKeys(f: Pick<FactDelta, 'source' | 'unit_code' | 'category' | 'channel' | 'commune_code'>): [CoarseLevel, string][] {
  return f.source === 'report' ? [['unit', ''], ['category', f.category], ['commune', f.commune_code]] : [['channel', f.channel]]
}
/** Duration buckets: per unit (dim '') and per category over every unit (unit_code ''), reports only. */
export function coarseBucketKeys(b: Pick<Bucket, 'source' | 'unit_code' | 'category'>): [CoarseBucketLevel, string, string][] {
  return b.source === 'report' ? [['unit', b.unit_code, ''], ['category', '', b.category]] : []
}

/** Fine rows (of one period grain) summed into the coarse levels of the same grain. */
export function coarseRows(facts: (Counters & { period: string; source: Source; unit_code: string; category: string; channel: string; commune_code: string })[], buckets: { period: string; source: Source; unit_code: string; category: string; bucket: number; n: number }[]): { facts: CoarseFact[]; buckets: CoarseBucket[] } {
  const cf = new Map<string, CoarseFact>()
  for (const f of facts) {
    for (const [level, dim] of coarseKeys(f)) {
      const k = `${level}|${f.period}|${f.source}|${f.unit_code}|${dim}`
      let cur = cf.get(k)
      if (!cur) { cur = { level, period: f.period, source: f.source, unit_code: f.unit_code, dim }; cf.set(k, cur) }
      for (const c of COUNTERS) if (f[c]) cur[c] = (cur[c] ?? 0) + f[c]!
    }
  }
  const cb = new Map<string, CoarseBucket>()
  for (const b of buckets) {
    for (const [level, unit, dim] of coarseBucketKeys(b)) {
      const k = `${level}|${b.period}|${b.source}|${unit}|${dim}|${b.bucket}`
      let cur = cb.get(k)
      if (!cur) { cur = { level, period: b.period, source: b.source, unit_code: unit, dim, bucket: b.bucket, n: 0 }; cb.set(k, cur) }
      cur.n += b.n
    }
  }
  return { facts: [...cf.values()], buckets: [...cb.values()] }
}

// ---------------------------------------------------------------- repository

/** A JSON array of row arrays, in `cols` order (compact: no repeated keys). */
const rowsJson = (rows: any[], gets: ((r: any) => unknown)[]) => JSON.stringify(rows.map((r) => gets.map((g) => g(r))))
/** `select cols from json(rows)`: one bulk parameter, read the same way by PostgreSQL and PGlite. */
const fromRows = (json: string, cols: { name: string; type: string }[]) =>
  sql`select ${sql.join(cols.map((c, i) => sql`(r ->> ${sql.lit(i)})::${sql.raw(c.type)}`))} from json_array_elements(${json}::json) as r`

/**
 * One bulk upsert per BULK rows (the rows travel as one JSON parameter). province_code is not
 * among the columns written: it takes its default, the connection's province, and ends every
 * key (ioc/007), so it ends the conflict target too.
 */
async function upsertCounters(tx: Db, table: string, keyCols: { name: string; type: string; get: (r: any) => unknown }[], rows: Counters[]): Promise<void> {
  const cols = [...keyCols, ...COUNTERS.map((c) => ({ name: c, type: 'int', get: (r: Counters) => r[c] ?? 0 }))]
  for (let i = 0; i < rows.length; i += BULK) {
    const json = rowsJson(rows.slice(i, i + BULK), cols.map((c) => c.get))
    await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c.name)))})
      ${fromRows(json, cols)}
      on conflict (${sql.join(keyCols.map((k) => sql.ref(k.name)))}, province_code) do update set
      ${sql.join(COUNTERS.map((c) => sql`${sql.ref(c)} = ${sql.table(table)}.${sql.ref(c)} + excluded.${sql.ref(c)}`))}`.execute(tx)
  }
}

async function upsertBuckets(tx: Db, table: string, keyCols: { name: string; type: string; get: (r: any) => unknown }[], rows: { n: number }[]): Promise<void> {
  const cols = [...keyCols, { name: 'n', type: 'int', get: (r: { n: number }) => r.n }]
  for (let i = 0; i < rows.length; i += BULK) {
    const json = rowsJson(rows.slice(i, i + BULK), cols.map((c) => c.get))
    await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c.name)))})
      ${fromRows(json, cols)}
      on conflict (${sql.join(keyCols.map((k) => sql.ref(k.name)))}, province_code) do update set n = ${sql.table(table)}.n + excluded.n`.execute(tx)
  }
}

const k = (name: string, type: string, get: (r: any) => unknown) => ({ name, type, get })
const FINE_KEYS = [k('source', 'text', (r) => r.source), k('unit_code', 'text', (r) => r.unit_code), k('category', 'text', (r) => r.category), k('channel', 'text', (r) => r.channel), k('commune_code', 'text', (r) => r.commune_code)]
const FINE_BUCKET_KEYS = [k('source', 'text', (r) => r.source), k('unit_code', 'text', (r) => r.unit_code), k('category', 'text', (r) => r.category), k('bucket', 'smallint', (r) => r.bucket)]
const COARSE_KEYS = [k('level', 'text', (r) => r.level), k('source', 'text', (r) => r.source), k('unit_code', 'text', (r) => r.unit_code), k('dim', 'text', (r) => r.dim)]
const COARSE_BUCKET_KEYS = [...COARSE_KEYS, k('bucket', 'smallint', (r) => r.bucket)]
const dayKey = k('day', 'date', (r) => r.period ?? r.day)
const monthKey = k('month', 'date', (r) => r.period ?? r.month)

/** Adds deltas to every roll-up level (fine and coarse, daily and monthly), in `tx`. */
export async function applyFactDeltas(tx: Db, deltas: FactDelta[]): Promise<void> {
  if (deltas.length) await new FactAccumulator().add(deltas).apply(tx)
}

async function applyMergedFacts(tx: Db, facts: FactDelta[], buckets: Bucket[]): Promise<void> {
  await upsertCounters(tx, 'ioc_daily_facts', [k('day', 'date', (r) => r.day), ...FINE_KEYS], facts)
  await upsertBuckets(tx, 'ioc_duration_buckets', [k('day', 'date', (r) => r.day), ...FINE_BUCKET_KEYS], buckets)
  // The monthly level, from the same deltas in the same transaction.
  const monthly = monthlyFactRows(facts, buckets)
  await upsertCounters(tx, 'ioc_monthly_facts', [k('month', 'date', (r) => r.month), ...FINE_KEYS], monthly.facts)
  await upsertBuckets(tx, 'ioc_monthly_duration_buckets', [k('month', 'date', (r) => r.month), ...FINE_BUCKET_KEYS], monthly.buckets)
  // The coarse levels (migration 005), daily and monthly, from the same rows.
  const daily = coarseRows(facts.map((f) => ({ ...f, period: f.day })), buckets.map((b) => ({ ...b, period: b.day })))
  await upsertCounters(tx, 'ioc_daily_coarse', [dayKey, ...COARSE_KEYS], daily.facts)
  await upsertBuckets(tx, 'ioc_daily_coarse_buckets', [dayKey, ...COARSE_BUCKET_KEYS], daily.buckets)
  const months = coarseRows(monthly.facts.map((f) => ({ ...f, period: f.month })), monthly.buckets.map((b) => ({ ...b, period: b.month })))
  await upsertCounters(tx, 'ioc_monthly_coarse', [monthKey, ...COARSE_KEYS], months.facts)
  await upsertBuckets(tx, 'ioc_monthly_coarse_buckets', [monthKey, ...COARSE_BUCKET_KEYS], months.buckets)
}

type MonthlyFact = Omit<FactDelta, 'day' | 'bucket'> & { month: string }
interface MonthlyBucket { month: string; source: Source; unit_code: string; category: string; bucket: number; n: number }

/** Daily rows summed per month (the first day of the day's month), one row per monthly key. */
export function monthlyFactRows(
  facts: FactDelta[], buckets: Bucket[],
): { facts: MonthlyFact[]; buckets: MonthlyBucket[] } {
  const mf = new Map<string, MonthlyFact>()
  for (const f of facts) {
    const month = `${f.day.slice(0, 7)}-01`
    const k = `${month}|${f.source}|${f.unit_code}|${f.category}|${f.channel}|${f.commune_code}`
    const cur = mf.get(k) ?? { month, source: f.source, unit_code: f.unit_code, category: f.category, channel: f.channel, commune_code: f.commune_code }
    for (const c of COUNTERS) if (f[c]) cur[c] = (cur[c] ?? 0) + f[c]!
    mf.set(k, cur)
  }
  const mb = new Map<string, MonthlyBucket>()
  for (const b of buckets) {
    const month = `${b.day.slice(0, 7)}-01`
    const k = `${month}|${b.source}|${b.unit_code}|${b.category}|${b.bucket}`
    const cur = mb.get(k) ?? { month, source: b.source, unit_code: b.unit_code, category: b.category, bucket: b.bucket, n: 0 }
    cur.n += b.n
    mb.set(k, cur)
  }
  return { facts: [...mf.values()], buckets: [...mb.values()] }
}

export async function applyStepDeltas(tx: Db, deltas: StepDelta[]): Promise<void> {
  const merged = mergeStepDeltas(deltas)
  for (let i = 0; i < merged.length; i += CHUNK) {
    const rows = merged.slice(i, i + CHUNK).map((s) => sql`(${s.month}::date, ${s.procedure_code}, ${s.unit_code}, ${s.step}, ${s.n}::int, ${s.seconds}::float8)`)
    await sql`insert into ioc_step_facts (month, procedure_code, unit_code, step, n, seconds) values ${sql.join(rows)}
      on conflict (month, procedure_code, unit_code, step, province_code) do update set n = ioc_step_facts.n + excluded.n, seconds = ioc_step_facts.seconds + excluded.seconds`.execute(tx)
  }
}

export async function upsertOpenItem(tx: Db, o: OpenItem): Promise<void> {
  await sql`insert into ioc_open_items (source, code, unit_code, category, channel, commune_code, received_at, due_at, last_step, last_at)
    values (${o.source}, ${o.code}, ${o.unit_code}, ${o.category}, ${o.channel}, ${o.commune_code}, ${o.received_at.toISOString()}, ${o.due_at?.toISOString() ?? null}, ${o.last_step}, ${o.last_at?.toISOString() ?? null})
    on conflict (source, code, province_code) do update set unit_code = excluded.unit_code, category = excluded.category, channel = excluded.channel,
      commune_code = excluded.commune_code, received_at = excluded.received_at, due_at = excluded.due_at, last_step = excluded.last_step, last_at = excluded.last_at`.execute(tx)
}

// The key of ioc_open_items and ioc_report_ratings ends with province_code (ioc/007): the reads
// and deletes by code name the node's province, the setting every connection carries and the
// column's default, so on a database shared by several provinces' nodes each sees only its own.
const OWN_PROVINCE = sql`current_setting('hoaban.province_code')`

async function getOpenItem(tx: Db, source: Source, code: string): Promise<OpenItem | undefined> {
  const { rows } = await sql<OpenItem>`select source, code, unit_code, category, channel, commune_code, received_at, due_at, last_step, last_at
    from ioc_open_items where source = ${source} and code = ${code} and province_code = ${OWN_PROVINCE}`.execute(tx)
  return rows[0]
}

async function deleteOpenItem(tx: Db, source: Source, code: string): Promise<void> {
  await sql`delete from ioc_open_items where source = ${source} and code = ${code} and province_code = ${OWN_PROVINCE}`.execute(tx)
}

/** Records the event as folded; false when it already was (a second delivery). */
export async function claimEvent(tx: Db, eventId: string): Promise<boolean> {
  const { rows } = await sql`insert into ioc_processed_events (event_id) values (${eventId}::bigint) on conflict do nothing returning event_id`.execute(tx)
  return rows.length > 0
}

// ---------------------------------------------------------------- handlers

export async function onReportCreated(tx: Db, ev: DomainEvent): Promise<void> {
  if (!(await claimEvent(tx, ev.id))) return
  const { facts, open } = foldReportCreated(ev.payload as unknown as ReportCreatedPayload, ev.createdAt)
  await applyFactDeltas(tx, facts)
  await upsertOpenItem(tx, open)
}

export async function onReportStatusChanged(tx: Db, ev: DomainEvent): Promise<void> {
  if (!(await claimEvent(tx, ev.id))) return
  const p = ev.payload as unknown as ReportChangedPayload
  const at = p.at ? new Date(p.at) : ev.createdAt
  const known = await getOpenItem(tx, 'report', p.code)
  const item: OpenItem = known ?? {
    source: 'report', code: p.code, unit_code: p.unit_code, category: p.category ?? 'unknown', channel: p.channel ?? 'unknown', commune_code: p.commune_code ?? '',
    received_at: p.received_at ? new Date(p.received_at) : at, due_at: p.due_at ? new Date(p.due_at) : null, last_step: p.from, last_at: at,
  }
  const wasOpen = REPORT_OPEN.includes(p.from)
  const isOpen = REPORT_OPEN.includes(p.to)
  if (wasOpen && !isOpen) {
    await applyFactDeltas(tx, foldReportFinished(item, at, p.to))
    await deleteOpenItem(tx, 'report', p.code)
  } else if (isOpen) {
    await upsertOpenItem(tx, { ...item, unit_code: p.unit_code, due_at: p.due_at ? new Date(p.due_at) : item.due_at, last_step: p.to, last_at: at })
  }
}

export interface DossierFactReader { (db: Db, code: string): Promise<DossierFactLike | undefined> }

const DOSSIER_FINAL = [3, 7, 8, 10]

export function dossierStatusHandler(readFact: DossierFactReader) {
  return async (tx: Db, ev: DomainEvent): Promise<void> => {
    if (!(await claimEvent(tx, ev.id))) return
    const p = ev.payload as { code: string; from: number | null; to: number; unit_code: string | null; step: string; at?: string }
    const at = p.at ? new Date(p.at) : ev.createdAt
    let item = await getOpenItem(tx, 'dossier', p.code)
    const needsFact = !item || p.to === 2 || p.to === 9 || p.to === 10
    const fact = needsFact ? await readFact(tx, p.code) : undefined
    if (!item) {
      if (!fact) return
      item = dossierOpenItem(p.code, fact, null, at)
    }
    const facts: FactDelta[] = []
    const steps = foldStep(item, at)
    if (p.to === 2) {
      item = { ...item, received_at: fact?.received_at ?? at, due_at: fact?.due_at ?? item.due_at }
      facts.push(...foldDossierReceived(item, at, fact))
    }
    if (p.to === 9) facts.push(...foldDossierResolved(item, at, fact?.timeliness ?? null))
    if (p.to === 10 && fact) facts.push(...foldDossierReturned(item, at, fact))
    if (facts.length) await applyFactDeltas(tx, facts)
    if (steps.length) await applyStepDeltas(tx, steps)
    if (DOSSIER_FINAL.includes(p.to)) await deleteOpenItem(tx, 'dossier', p.code)
    else await upsertOpenItem(tx, { ...item, unit_code: p.unit_code ?? item.unit_code, last_step: p.step, last_at: at })
  }
}

/** A rating given (old null) or changed, counted on the report's key and resolve day. */
export function foldRating(key: { day: string; unit_code: string; category: string; channel: string; commune_code: string }, old: number | null, rating: number): FactDelta[] {
  return [{
    day: key.day, source: 'report', unit_code: key.unit_code, category: key.category, channel: key.channel, commune_code: key.commune_code,
    rating_count: old === null ? 1 : 0, rating_sum: rating - (old ?? 0), satisfied: (rating >= 4 ? 1 : 0) - (old !== null && old >= 4 ? 1 : 0),
  }]
}

/** Folds a report rating in (replacing an earlier rating of the same report). */
export async function applyRating(tx: Db, r: { code: string; unit_code: string; category: string; channel: string; commune_code: string | null; received_at: Date; resolved_at: Date | null; rating: number }): Promise<boolean> {
  const { rows } = await sql<{ rating: number; day: string; unit_code: string; category: string; channel: string; commune_code: string }>`
    select rating, to_char(day, 'YYYY-MM-DD') as day, unit_code, category, channel, commune_code from ioc_report_ratings where code = ${r.code} and province_code = ${OWN_PROVINCE}`.execute(tx)
  const old = rows[0]
  if (old && old.rating === r.rating) return false
  const key = old ?? { day: vnDay(r.resolved_at ?? r.received_at), unit_code: r.unit_code, category: r.category, channel: r.channel, commune_code: r.commune_code ?? '' }
  await applyFactDeltas(tx, foldRating(key, old?.rating ?? null, r.rating))
  await sql`insert into ioc_report_ratings (code, day, unit_code, category, channel, commune_code, rating)
    values (${r.code}, ${key.day}::date, ${key.unit_code}, ${key.category}, ${key.channel}, ${key.commune_code}, ${r.rating})
    on conflict (code, province_code) do update set rating = excluded.rating`.execute(tx)
  return true
}
