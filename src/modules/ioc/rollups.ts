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

/** Sums deltas with the same key (one upsert row per key). */
export function mergeFactDeltas(deltas: FactDelta[]): { facts: FactDelta[]; buckets: { day: string; source: Source; unit_code: string; category: string; bucket: number; n: number }[] } {
  const facts = new Map<string, FactDelta>()
  const buckets = new Map<string, { day: string; source: Source; unit_code: string; category: string; bucket: number; n: number }>()
  for (const d of deltas) {
    const k = `${d.day}|${d.source}|${d.unit_code}|${d.category}|${d.channel}|${d.commune_code}`
    const cur = facts.get(k) ?? { day: d.day, source: d.source, unit_code: d.unit_code, category: d.category, channel: d.channel, commune_code: d.commune_code }
    for (const c of COUNTERS) if (d[c]) cur[c] = (cur[c] ?? 0) + d[c]!
    facts.set(k, cur)
    if (d.bucket !== undefined) {
      const bk = `${d.day}|${d.source}|${d.unit_code}|${d.category}|${d.bucket}`
      const b = buckets.get(bk) ?? { day: d.day, source: d.source, unit_code: d.unit_code, category: d.category, bucket: d.bucket, n: 0 }
      b.n += 1
      buckets.set(bk, b)
    }
  }
  return { facts: [...facts.values()], buckets: [...buckets.values()] }
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

// ---------------------------------------------------------------- repository

const CHUNK = 500

/** Adds deltas to the daily facts and duration buckets (one upsert per key and chunk). */
export async function applyFactDeltas(tx: Db, deltas: FactDelta[]): Promise<void> {
  const { facts, buckets } = mergeFactDeltas(deltas)
  for (let i = 0; i < facts.length; i += CHUNK) {
    const rows = facts.slice(i, i + CHUNK).map((f) => sql`(${f.day}::date, ${f.source}, ${f.unit_code}, ${f.category}, ${f.channel}, ${f.commune_code}, ${sql.join(COUNTERS.map((c) => sql`${f[c] ?? 0}::int`))})`)
    await sql`insert into ioc_daily_facts (day, source, unit_code, category, channel, commune_code, ${sql.join(COUNTERS.map((c) => sql.ref(c)))})
      values ${sql.join(rows)}
      on conflict (day, source, unit_code, category, channel, commune_code) do update set
      ${sql.join(COUNTERS.map((c) => sql`${sql.ref(c)} = ioc_daily_facts.${sql.ref(c)} + excluded.${sql.ref(c)}`))}`.execute(tx)
  }
  for (let i = 0; i < buckets.length; i += CHUNK) {
    const rows = buckets.slice(i, i + CHUNK).map((b) => sql`(${b.day}::date, ${b.source}, ${b.unit_code}, ${b.category}, ${b.bucket}::smallint, ${b.n}::int)`)
    await sql`insert into ioc_duration_buckets (day, source, unit_code, category, bucket, n) values ${sql.join(rows)}
      on conflict (day, source, unit_code, category, bucket) do update set n = ioc_duration_buckets.n + excluded.n`.execute(tx)
  }
  // The monthly level, from the same deltas in the same transaction.
  const monthly = monthlyFactRows(facts, buckets)
  for (let i = 0; i < monthly.facts.length; i += CHUNK) {
    const rows = monthly.facts.slice(i, i + CHUNK).map((f) => sql`(${f.month}::date, ${f.source}, ${f.unit_code}, ${f.category}, ${f.channel}, ${f.commune_code}, ${sql.join(COUNTERS.map((c) => sql`${f[c] ?? 0}::int`))})`)
    await sql`insert into ioc_monthly_facts (month, source, unit_code, category, channel, commune_code, ${sql.join(COUNTERS.map((c) => sql.ref(c)))})
      values ${sql.join(rows)}
      on conflict (month, source, unit_code, category, channel, commune_code) do update set
      ${sql.join(COUNTERS.map((c) => sql`${sql.ref(c)} = ioc_monthly_facts.${sql.ref(c)} + excluded.${sql.ref(c)}`))}`.execute(tx)
  }
  for (let i = 0; i < monthly.buckets.length; i += CHUNK) {
    const rows = monthly.buckets.slice(i, i + CHUNK).map((b) => sql`(${b.month}::date, ${b.source}, ${b.unit_code}, ${b.category}, ${b.bucket}::smallint, ${b.n}::int)`)
    await sql`insert into ioc_monthly_duration_buckets (month, source, unit_code, category, bucket, n) values ${sql.join(rows)}
      on conflict (month, source, unit_code, category, bucket) do update set n = ioc_monthly_duration_buckets.n + excluded.n`.execute(tx)
  }
}

type MonthlyFact = Omit<FactDelta, 'day' | 'bucket'> & { month: string }
interface MonthlyBucket { month: string; source: Source; unit_code: string; category: string; bucket: number; n: number }

/** Daily rows summed per month (the first day of the day's month), one row per monthly key. */
export function monthlyFactRows(
  facts: FactDelta[], buckets: { day: string; source: Source; unit_code: string; category: string; bucket: number; n: number }[],
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
      on conflict (month, procedure_code, unit_code, step) do update set n = ioc_step_facts.n + excluded.n, seconds = ioc_step_facts.seconds + excluded.seconds`.execute(tx)
  }
}

export async function upsertOpenItem(tx: Db, o: OpenItem): Promise<void> {
  await sql`insert into ioc_open_items (source, code, unit_code, category, channel, commune_code, received_at, due_at, last_step, last_at)
    values (${o.source}, ${o.code}, ${o.unit_code}, ${o.category}, ${o.channel}, ${o.commune_code}, ${o.received_at.toISOString()}, ${o.due_at?.toISOString() ?? null}, ${o.last_step}, ${o.last_at?.toISOString() ?? null})
    on conflict (source, code) do update set unit_code = excluded.unit_code, category = excluded.category, channel = excluded.channel,
      commune_code = excluded.commune_code, received_at = excluded.received_at, due_at = excluded.due_at, last_step = excluded.last_step, last_at = excluded.last_at`.execute(tx)
}

async function getOpenItem(tx: Db, source: Source, code: string): Promise<OpenItem | undefined> {
  const { rows } = await sql<OpenItem>`select * from ioc_open_items where source = ${source} and code = ${code}`.execute(tx)
  return rows[0]
}

async function deleteOpenItem(tx: Db, source: Source, code: string): Promise<void> {
  await sql`delete from ioc_open_items where source = ${source} and code = ${code}`.execute(tx)
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

/** Folds a report rating in (replacing an earlier rating of the same report). */
export async function applyRating(tx: Db, r: { code: string; unit_code: string; category: string; channel: string; commune_code: string | null; received_at: Date; resolved_at: Date | null; rating: number }): Promise<boolean> {
  const { rows } = await sql<{ rating: number; day: string; unit_code: string; category: string; channel: string; commune_code: string }>`
    select rating, to_char(day, 'YYYY-MM-DD') as day, unit_code, category, channel, commune_code from ioc_report_ratings where code = ${r.code}`.execute(tx)
  const old = rows[0]
  if (old && old.rating === r.rating) return false
  const key = old ?? { day: vnDay(r.resolved_at ?? r.received_at), unit_code: r.unit_code, category: r.category, channel: r.channel, commune_code: r.commune_code ?? '' }
  await applyFactDeltas(tx, [{
    day: key.day, source: 'report', unit_code: key.unit_code, category: key.category, channel: key.channel, commune_code: key.commune_code,
    rating_count: old ? 0 : 1, rating_sum: r.rating - (old?.rating ?? 0), satisfied: (r.rating >= 4 ? 1 : 0) - (old && old.rating >= 4 ? 1 : 0),
  }])
  await sql`insert into ioc_report_ratings (code, day, unit_code, category, channel, commune_code, rating)
    values (${r.code}, ${key.day}::date, ${key.unit_code}, ${key.category}, ${key.channel}, ${key.commune_code}, ${r.rating})
    on conflict (code) do update set rating = excluded.rating`.execute(tx)
  return true
}
