// IOC dashboard bench: p95 of the indicator endpoints with roll-ups representing N field reports
// and N dossiers, as a ratio to a trivial endpoint (GET /api/calendar/holidays) in the same run.
//
// The roll-ups are generated through the same code the event handlers use: every synthetic
// report / dossier is turned into its events' deltas by the pure fold functions of
// src/modules/ioc/rollups.ts (foldReportCreated, foldReportFinished, foldDossierReceived,
// foldDossierResolved, foldDossierReturned, foldStep), merged per key by mergeFactDeltas and
// written by the handlers' own upserts (FactAccumulator.apply, which applyFactDeltas uses, and
// applyStepDeltas). For a fast load the deltas of all items are summed in memory first (the same
// per-key sums the handlers' upserts make, event by event) and written in one transaction as
// bulk upserts. Only the per-event claim (ioc_processed_events) is skipped, since no outbox rows
// exist. 2% of reports and 1% of dossiers stay open (ioc_open_items), half of them past due; 30%
// of resolved reports are rated (foldRating); 20% of dossiers reuse a stored item.
//
//   npx tsx bench/ioc-dashboard.ts                 # N = 100,000 (quick), PGlite
//   IOC_BENCH_N=1000000 npx tsx bench/ioc-dashboard.ts
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test IOC_BENCH_N=1000000 npx tsx bench/ioc-dashboard.ts
import { startTestPlatform } from '../src/platform/testing/test-platform.ts'
import {
  FactAccumulator, applyStepDeltas, dossierOpenItem, foldRating, mergeStepDeltas, vnDay, foldDossierReceived, foldDossierResolved, foldDossierReturned, foldReportCreated, foldReportFinished,
  foldStep, upsertOpenItem, type FactDelta, type OpenItem, type StepDelta,
} from '../src/modules/ioc/rollups.ts'
import { clearAnswerCaches } from '../src/modules/ioc/answer-cache.ts'

const N = Number(process.env.IOC_BENCH_N ?? 100_000)
const REQUESTS = Number(process.env.IOC_BENCH_REQUESTS ?? 200)
const NOW = new Date('2026-11-28T03:00:00Z')
const DAYS = 730
const COMMUNES = Array.from({ length: 45 }, (_, i) => String(3127 + i * 3).padStart(5, '0'))
const CATS = ['traffic', 'environment', 'urban_order', 'electricity', 'water', 'security', 'land', 'health', 'education', 'other']
const CHANNELS = ['app', 'web', 'open311', 'sms', 'hotline']
const PROCS = Array.from({ length: 60 }, (_, i) => `1.00${1000 + i}`)
const STEPS = ['reception', 'handle', 'review', 'sign', 'issue', 'result']

let seed = 42
const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32)
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!

const platform = await startTestPlatform({ clock: () => NOW })
const db = platform.ctx.db
const t0 = performance.now()
const BATCH = 20_000
const open: OpenItem[] = []
// Let, not const: released after the load, so the measured requests do not run next to a heap of
// several GB (major GC pauses would be timed as request latency).
let acc: FactAccumulator | null = new FactAccumulator()
let allSteps: StepDelta[] = []
for (let off = 0; off < N; off += BATCH) {
  const facts: FactDelta[] = []
  const steps: StepDelta[] = []
  for (let i = off; i < Math.min(N, off + BATCH); i++) {
    // A report.
    const c = pick(COMMUNES)
    const at = new Date(NOW.getTime() - rnd() * DAYS * 86_400_000)
    const due = new Date(at.getTime() + 3 * 86_400_000)
    const r = foldReportCreated({ code: `B-${i}`, unit_code: c, commune_code: c, category: pick(CATS), channel: pick(CHANNELS), received_at: at.toISOString(), due_at: due.toISOString() }, at)
    facts.push(...r.facts)
    if (rnd() < 0.02) open.push({ ...r.open, due_at: rnd() < 0.5 ? new Date(NOW.getTime() - 86_400_000) : new Date(NOW.getTime() + 86_400_000) })
    else {
      const fin = new Date(at.getTime() + rnd() * 5 * 86_400_000)
      facts.push(...foldReportFinished(r.open, fin, 'resolved'))
      if (rnd() < 0.3) facts.push(...foldRating({ ...r.open, day: vnDay(fin) }, null, 1 + Math.floor(rnd() * 5)))
    }
    // A dossier.
    const u = pick(COMMUNES)
    const sub = new Date(NOW.getTime() - rnd() * DAYS * 86_400_000)
    const dfact = { procedure_code: pick(PROCS), unit_code: u, commune_code: u, channel: rnd() < 0.7 ? 'online' : 'in_person', received_at: sub, submitted_at: sub, due_at: new Date(sub.getTime() + 7 * 86_400_000), resolved_at: null, timeliness: null, fee_vnd: rnd() < 0.5 ? 0 : 50_000, payment_status: rnd() < 0.6 ? 'paid_online' : 'paid_at_desk', digitised_result: rnd() < 0.8 }
    let item = dossierOpenItem(`HS-${i}`, dfact, 'reception', sub)
    facts.push(...foldDossierReceived(item, sub, { reused_components: rnd() < 0.2 ? 1 : 0 }))
    let t = sub.getTime()
    for (const s of STEPS.slice(1)) {
      t += rnd() * 2 * 86_400_000
      steps.push(...foldStep(item, new Date(t)))
      item = { ...item, last_step: s, last_at: new Date(t) }
    }
    if (rnd() < 0.01) { open.push(item); continue }
    facts.push(...foldDossierResolved(item, new Date(t), null))
    facts.push(...foldDossierReturned(item, new Date(t + 3600_000), dfact))
  }
  acc!.add(facts)
  allSteps = mergeStepDeltas(allSteps.concat(steps))
}
const foldMs = performance.now() - t0
await db.transaction().execute(async (tx) => {
  await acc!.apply(tx)
  await applyStepDeltas(tx, allSteps)
})
acc = null
allSteps = []
;(globalThis as { gc?: () => void }).gc?.() // with NODE_OPTIONS=--expose-gc: collect it now, before any timing
for (let i = 0; i < open.length; i += 1000) await db.transaction().execute(async (tx) => { for (const o of open.slice(i, i + 1000)) await upsertOpenItem(tx, o) })
await (await import('kysely')).sql`vacuum analyze`.execute(db)
const loadMs = performance.now() - t0
const { sql } = await import('kysely')
const TABLES = ['ioc_daily_facts', 'ioc_monthly_facts', 'ioc_duration_buckets', 'ioc_monthly_duration_buckets', 'ioc_daily_coarse', 'ioc_monthly_coarse', 'ioc_daily_coarse_buckets', 'ioc_monthly_coarse_buckets', 'ioc_step_facts', 'ioc_open_items']
const counts: string[] = []
for (const t of TABLES) {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t)}`.execute(db)
  counts.push(`${t} ${rows[0]!.n}`)
}
const byLevel = await sql<{ t: string; level: string; n: number }>`select 'daily' as t, level, count(*)::int as n from ioc_daily_coarse group by 1, 2 union all select 'monthly', level, count(*)::int from ioc_monthly_coarse group by 1, 2 order by 1, 2`.execute(db)

async function p95(url: string, cold = false): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await platform.app.inject({ method: 'GET', url }) // warm-up
  const ts: number[] = []
  for (let i = 0; i < REQUESTS; i++) {
    if (cold) clearAnswerCaches()
    const s = performance.now()
    const res = await platform.app.inject({ method: 'GET', url })
    ts.push(performance.now() - s)
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
  }
  ts.sort((a, b) => a - b)
  return { p50: ts[Math.floor(ts.length * 0.5)]!, p95: ts[Math.floor(ts.length * 0.95)]! }
}

const base = await p95('/api/calendar/holidays?year=2026')
const endpoints = [
  '/api/ioc/indicators/766',
  '/api/ioc/indicators/766?from=2025-11-28&to=2026-11-28',
  '/api/ioc/indicators/reports',
  '/api/ioc/indicators/reports?from=2025-11-28&to=2026-11-28&group=category',
  '/api/ioc/indicators/reports?from=2025-11-28&to=2026-11-28&group=commune',
  '/api/ioc/indicators/dx',
]
console.log(`db=${process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'} N=${N} reports + ${N} dossiers; load ${(loadMs / 1000).toFixed(1)} s (folding in memory ${(foldMs / 1000).toFixed(1)} s)`)
console.log(`roll-up rows: ${counts.join(', ')}`)
console.log(`coarse rows by level: ${byLevel.rows.map((r) => `${r.t} ${r.level} ${r.n}`).join(', ')}`)
// "uncached": the per-process answer cache is emptied before every request (every request
// queries the roll-ups); "cached": the same requests with the cache on (IOC_INDICATOR_CACHE_MS).
console.log(`| endpoint | uncached p50 ms | uncached p95 ms | uncached p95 / baseline | cached p50 ms | cached p95 ms |`)
console.log(`|---|---:|---:|---:|---:|---:|`)
console.log(`| baseline GET /api/calendar/holidays | ${base.p50.toFixed(1)} | ${base.p95.toFixed(1)} | 1.0 | | |`)
for (const e of endpoints) {
  const r = await p95(e, true)
  const c = await p95(e)
  console.log(`| GET ${e} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${(r.p95 / base.p95).toFixed(1)} | ${c.p50.toFixed(1)} | ${c.p95.toFixed(1)} |`)
}

// Where the time of the default (last 30 days) report indicators by unit goes: each of its three
// queries alone, run one after the other (the endpoint runs them at once), and the whole
// function without HTTP.
const { parsePeriod } = await import('../src/modules/ioc/routes.ts')
const { periodRows, reportIndicators } = await import('../src/modules/ioc/indicators.ts')
const period = parsePeriod({}, NOW)
async function timeIt(f: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await f()
  const ts: number[] = []
  for (let i = 0; i < REQUESTS; i++) { const s = performance.now(); await f(); ts.push(performance.now() - s) }
  ts.sort((a, b) => a - b)
  return `${ts[Math.floor(ts.length * 0.5)]!.toFixed(1)} | ${ts[Math.floor(ts.length * 0.95)]!.toFixed(1)}`
}
console.log(`\nreports by unit, ${period.from}..${period.to}, parts (ms):\n| part | p50 | p95 |\n|---|---:|---:|`)
console.log(`| facts (coarse 'unit' level) | ${await timeIt(() => sql`select unit_code, sum(received), sum(resolved), sum(early), sum(on_time), sum(late), sum(rating_count), sum(rating_sum), sum(satisfied) from ${periodRows('coarse', period, ['unit_code', 'received', 'resolved', 'early', 'on_time', 'late', 'rating_count', 'rating_sum', 'satisfied'], sql`and level = 'unit' and source = 'report'`)} f group by 1`.execute(db))} |`)
console.log(`| open / overdue (ioc_open_items) | ${await timeIt(() => sql`select unit_code, count(*), count(*) filter (where due_at < ${NOW.toISOString()}) from ioc_open_items where source = 'report' group by 1`.execute(db))} |`)
console.log(`| duration buckets (coarse 'unit' level) | ${await timeIt(() => sql`select unit_code, bucket, sum(n) from ${periodRows('coarseBuckets', period, ['unit_code', 'bucket', 'n'], sql`and level = 'unit' and source = 'report'`)} b group by 1, 2`.execute(db))} |`)
console.log(`| reportIndicators() (all three, no HTTP) | ${await timeIt(() => reportIndicators(db, period, NOW, 'unit'))} |`)
await platform.close()
