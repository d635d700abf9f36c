import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { indicators766, load766Config, reportIndicators, type Period, type ReportGroup } from './indicators.ts'
import { loadIocConfig } from './config.ts'
import { rebuildRollups } from './backfill.ts'
import {
  applyFactDeltas, dossierOpenItem, foldDossierReceived, foldDossierResolved, foldDossierReturned, foldRating, foldReportCreated, foldReportFinished,
  medianFromBuckets, vnDay, type FactDelta,
} from './rollups.ts'

/**
 * The coarse roll-up levels (migration 005) give the same answers as the raw items they were
 * folded from, and the migration's backfill (from the fine tables) gives the same rows as
 * incremental feeding. Data: a seeded generator over four months, items folded by the handlers'
 * pure fold functions and written through applyFactDeltas in batches of random size (as events
 * arrive), including changed ratings.
 */

let platform: Platform
const NOW = new Date('2026-10-15T03:00:00Z')
before(async () => { platform = await startTestPlatform({ clock: () => NOW }) })
after(async () => { await platform?.close() })

function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

const UNITS = ['03127', '03130', '03133', '03158']
const COMMUNES = ['03127', '03130', '03162', '']
const CATS = ['traffic', 'water', 'environment']
const PROCS = ['1.001193', '1.002001', '2.000123']
const RCH = ['app', 'web', 'hotline']
const DCH = ['online', 'in_person']

/** Every delta of n reports and n dossiers received between 2026-06-20 and 2026-10-10 (UTC). */
function generate(seed: number, n: number): FactDelta[] {
  const r = rng(seed)
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  const start = Date.parse('2026-06-20T00:00:00Z')
  const span = Date.parse('2026-10-10T00:00:00Z') - start
  const out: FactDelta[] = []
  for (let i = 0; i < n; i++) {
    const at = new Date(start + r() * span)
    const c = foldReportCreated({ code: `T-${i}`, unit_code: pick(UNITS), commune_code: pick(COMMUNES) || null, category: pick(CATS), channel: pick(RCH), received_at: at.toISOString(), due_at: new Date(at.getTime() + 3 * 86_400_000).toISOString() }, at)
    out.push(...c.facts)
    if (r() < 0.8) {
      const fin = new Date(at.getTime() + r() * 6 * 86_400_000)
      out.push(...foldReportFinished(c.open, fin, r() < 0.1 ? 'rejected' : 'resolved'))
      if (r() < 0.5) {
        const key = { ...c.open, day: vnDay(fin) }
        const first = 1 + Math.floor(r() * 5)
        out.push(...foldRating(key, null, first))
        if (r() < 0.3) out.push(...foldRating(key, first, 1 + Math.floor(r() * 5)))
      }
    }
    const sub = new Date(start + r() * span)
    const fact = { procedure_code: pick(PROCS), unit_code: pick(UNITS), commune_code: pick(COMMUNES) || null, channel: pick(DCH), received_at: sub, submitted_at: sub, due_at: new Date(sub.getTime() + 5 * 86_400_000), resolved_at: null, timeliness: null, fee_vnd: r() < 0.5 ? 0 : 30_000, payment_status: r() < 0.5 ? 'paid_online' : 'unpaid', digitised_result: r() < 0.7, reused_components: r() < 0.3 ? 2 : 0 }
    const item = dossierOpenItem(`D-${i}`, fact, 'reception', sub)
    out.push(...foldDossierReceived(item, sub, fact))
    if (r() < 0.85) {
      const res = new Date(sub.getTime() + r() * 9 * 86_400_000)
      out.push(...foldDossierResolved(item, res, null))
      if (r() < 0.9) out.push(...foldDossierReturned(item, new Date(res.getTime() + 3600_000), fact))
    }
  }
  return out
}

const inPeriod = (d: FactDelta, p: Period) => d.day >= p.from && d.day <= p.to
const n = (x: number | undefined) => x ?? 0

/** The 766 variables per unit and for the province, straight from the deltas. */
function expected766(deltas: FactDelta[], p: Period, unit?: string) {
  const keys = ['received', 'online_received', 'resolved', 'early', 'on_time', 'late', 'fee_required', 'paid_online', 'digitised', 'reused', 'rating_count', 'satisfied'] as const
  const units = new Map<string, Record<string, number>>()
  const province: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]))
  for (const d of deltas) {
    if (!inPeriod(d, p) || (unit && d.unit_code !== unit)) continue
    const v = units.get(d.unit_code) ?? Object.fromEntries(keys.map((k) => [k, 0]))
    const add: Record<string, number> = d.source === 'dossier'
      ? { received: n(d.received), online_received: d.channel === 'online' ? n(d.received) : 0, resolved: n(d.resolved), early: n(d.early), on_time: n(d.on_time), late: n(d.late), fee_required: n(d.fee_required), paid_online: n(d.paid_online), digitised: n(d.digitised), reused: n(d.reused) }
      : { rating_count: n(d.rating_count), satisfied: n(d.satisfied) }
    for (const [k, x] of Object.entries(add)) { v[k]! += x; province[k]! += x }
    units.set(d.unit_code, v)
  }
  return { units, province }
}

/** The report indicators per group key, straight from the deltas (open items: none here). */
function expectedReports(deltas: FactDelta[], p: Period, group: ReportGroup, unit?: string) {
  const rows = new Map<string, { received: number; resolved: number; early: number; on_time: number; late: number; rating_count: number; rating_sum: number; satisfied: number; hist: Map<number, number> }>()
  for (const d of deltas) {
    if (d.source !== 'report' || !inPeriod(d, p) || (unit && d.unit_code !== unit)) continue
    const key = group === 'unit' ? d.unit_code : group === 'category' ? d.category : d.commune_code
    const r = rows.get(key) ?? { received: 0, resolved: 0, early: 0, on_time: 0, late: 0, rating_count: 0, rating_sum: 0, satisfied: 0, hist: new Map() }
    for (const k of ['received', 'resolved', 'early', 'on_time', 'late', 'rating_count', 'rating_sum', 'satisfied'] as const) r[k] += n(d[k])
    if (d.bucket !== undefined && group !== 'commune') r.hist.set(d.bucket, (r.hist.get(d.bucket) ?? 0) + 1)
    rows.set(key, r)
  }
  return new Map([...rows].map(([k, r]) => [k, { received: r.received, resolved: r.resolved, early: r.early, on_time: r.on_time, late: r.late, rating_count: r.rating_count, average_rating: r.rating_count ? r.rating_sum / r.rating_count : null, satisfaction: r.rating_count ? r.satisfied / r.rating_count : null, median_hours_to_resolve: medianFromBuckets(r.hist) }]))
}

const ROLLUP_TABLES = ['ioc_daily_facts', 'ioc_duration_buckets', 'ioc_monthly_facts', 'ioc_monthly_duration_buckets', 'ioc_daily_coarse', 'ioc_monthly_coarse', 'ioc_daily_coarse_buckets', 'ioc_monthly_coarse_buckets', 'ioc_open_items']
const COARSE_TABLES = ['ioc_daily_coarse', 'ioc_monthly_coarse', 'ioc_daily_coarse_buckets', 'ioc_monthly_coarse_buckets']

async function feed(seed: number, deltas: FactDelta[]) {
  const db = platform.ctx.db
  for (const t of ROLLUP_TABLES) await sql`delete from ${sql.table(t)}`.execute(db)
  const r = rng(seed + 1)
  for (let i = 0; i < deltas.length;) {
    const size = 1 + Math.floor(r() * 40)
    const part = deltas.slice(i, i + size)
    await db.transaction().execute((tx) => applyFactDeltas(tx, part))
    i += size
  }
}

async function snapshot(table: string) {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(platform.ctx.db)
  return rows.map((x) => JSON.stringify(Object.entries(x).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]))).sort()
}

const PERIODS: Period[] = [
  { from: '2026-07-01', to: '2026-09-30' }, // whole months
  { from: '2026-06-25', to: '2026-10-03' }, // whole months + edge days on both sides
  { from: '2026-08-05', to: '2026-08-20' }, // inside one month
  { from: '2026-07-31', to: '2026-08-01' }, // two edge days, no whole month
]

describe('coarse roll-up levels', () => {
  for (const seed of [11, 29]) {
    test(`answers equal the raw items' (seed ${seed})`, async () => {
      const deltas = generate(seed, 400)
      await feed(seed, deltas)
      const db = platform.ctx.db
      const defs = load766Config(loadIocConfig({}).indicators766File).indicators
      for (const p of PERIODS) {
        for (const unit of [undefined, '03130']) {
          const got = await indicators766(db, defs, p, NOW, unit)
          const want = expected766(deltas, p, unit)
          assert.deepEqual(got.units.map((u) => u.unit_code), [...want.units.keys()].sort(), `${p.from}..${p.to} ${unit}`)
          for (const u of got.units) {
            for (const [k, x] of Object.entries(want.units.get(u.unit_code)!)) assert.equal((u.variables as Record<string, number>)[k], x, `${p.from}..${p.to} ${unit} ${u.unit_code} ${k}`)
          }
          if (!unit) { const pv = got.province!.variables as Record<string, number>; for (const [k, x] of Object.entries(want.province)) assert.equal(pv[k], x, `${p.from}..${p.to} province ${k}`) }
          for (const group of ['unit', 'category', 'commune'] as const) {
            const rep = await reportIndicators(db, p, NOW, group, unit)
            const exp = expectedReports(deltas, p, group, unit)
            assert.deepEqual(rep.items.map((i) => i.key).sort(), [...exp.keys()].sort(), `${p.from}..${p.to} ${group} ${unit}`)
            for (const item of rep.items) {
              const e = exp.get(item.key)!
              for (const [k, x] of Object.entries(e)) assert.equal(item[k as keyof typeof item], x, `${p.from}..${p.to} ${group} ${unit} ${item.key} ${k}`)
            }
            const all = [...exp.values()]
            assert.equal(rep.total.received, all.reduce((a, r) => a + r.received, 0))
          }
        }
      }
      assert.ok(deltas.some((d) => d.reused), 'the data exercises reuse')
    })
  }

  test('the migration backfill (from the fine tables) gives the rows incremental feeding gives', async () => {
    const deltas = generate(47, 300)
    await feed(47, deltas)
    const incremental = await Promise.all(COARSE_TABLES.map(snapshot))
    assert.ok(incremental.every((rows) => rows.length > 0))
    const migration = readFileSync(new URL('./migrations/005_ioc_coarse.sql', import.meta.url), 'utf8')
    const backfill = migration.slice(migration.indexOf('-- backfill'))
    const db = platform.ctx.db
    await db.transaction().execute(async (tx) => {
      for (const t of COARSE_TABLES) await sql`delete from ${sql.table(t)}`.execute(tx)
      for (const stmt of backfill.split(';').map((s) => s.trim()).filter((s) => s.replace(/--.*$/gm, '').trim())) await sql.raw(stmt).execute(tx)
    })
    const backfilled = await Promise.all(COARSE_TABLES.map(snapshot))
    for (let i = 0; i < COARSE_TABLES.length; i++) assert.deepEqual(backfilled[i], incremental[i], COARSE_TABLES[i])
  })

  test('a rebuild from the owning modules empties the coarse levels with the fine ones (nothing counted twice)', async () => {
    await feed(5, generate(5, 50))
    for (const t of COARSE_TABLES) assert.ok((await snapshot(t)).length > 0, t)
    // This platform holds no reports or dossiers: the rebuild leaves every level empty.
    await rebuildRollups(platform.ctx.db)
    for (const t of [...COARSE_TABLES, 'ioc_daily_facts', 'ioc_monthly_facts']) assert.deepEqual(await snapshot(t), [], t)
  })
})
