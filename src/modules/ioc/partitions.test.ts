import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Database } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { ensureMonthPartitions, monthPartitionedTables } from '../../platform/db/partitions.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { openTestDatabase } from '../../platform/testing/test-platform.ts'
import { MonthPartitionCover } from './backfill.ts'
import { applyFactDeltas, applyStepDeltas, type FactDelta } from './rollups.ts'

/**
 * Migration ioc/006: the day-keyed roll-up tables become month partitions on `day`, keeping the
 * rows already there, their keys and indexes; the platform job creates their months ahead; the
 * rollups.ts upserts still add to one row per key. Runs the IOC migrations up to 005 first,
 * writes rows, then 006 (through a copy of the folder without it).
 */

const IOC_DIR = fileURLToPath(new URL('./migrations', import.meta.url))
const DAY_TABLES = ['ioc_daily_coarse', 'ioc_daily_coarse_buckets', 'ioc_daily_facts', 'ioc_duration_buckets']
const MONTH_TABLES = ['ioc_monthly_facts', 'ioc_monthly_duration_buckets', 'ioc_monthly_coarse', 'ioc_monthly_coarse_buckets', 'ioc_step_facts', 'ioc_report_ratings']

let database: Database
let before006: string

const ym = (d: Date) => `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`
const addMonths = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 15, 12))
const exists = async (name: string) => (await sql<{ r: string | null }>`select to_regclass(${name})::text as r`.execute(database.db)).rows[0].r !== null

async function partitionsOf(table: string, day: string): Promise<string[]> {
  const { rows } = await sql<{ p: string }>`select distinct tableoid::regclass::text as p from ${sql.table(table)} where day = ${day}::date`.execute(database.db)
  return rows.map((r) => r.p)
}

const report = (day: string, extra: Partial<FactDelta> = {}): FactDelta => ({ day, source: 'report', unit_code: '03127', category: 'traffic', channel: 'app', commune_code: '03130', received: 1, ...extra })

before(async () => {
  database = await openTestDatabase()
  before006 = mkdtempSync(join(tmpdir(), 'ioc-mig-'))
  for (const f of readdirSync(IOC_DIR).filter((f) => f < '006')) copyFileSync(join(IOC_DIR, f), join(before006, f))
  await migrate(database, [PLATFORM_MIGRATIONS, { module: 'ioc', dir: before006 }])
  // Rows written before the migration (unpartitioned tables): two past months, a month's last day.
  await database.db.transaction().execute((tx) => applyFactDeltas(tx, [
    report('2025-03-10', { resolved: 1, bucket: 3 }),
    report('2025-03-31', { resolved: 1, bucket: 5 }),
    { day: '2025-05-01', source: 'dossier', unit_code: '03127', category: '1.001193', channel: 'online', commune_code: '', received: 2, reused: 1 },
  ]))
  await migrate(database, [PLATFORM_MIGRATIONS, { module: 'ioc', dir: IOC_DIR }])
})
after(async () => {
  await database?.close()
  if (before006) rmSync(before006, { recursive: true, force: true })
})

describe('IOC month partitions (ioc/006)', () => {
  test('the day-keyed tables are month-partitioned with a default partition; the month-keyed ones are not', async () => {
    const parted = await monthPartitionedTables(database.db)
    for (const t of DAY_TABLES) {
      assert.ok(parted.includes(t), t)
      assert.ok(await exists(`${t}_default`), `${t}_default`)
    }
    for (const t of MONTH_TABLES) assert.ok(!parted.includes(t), t)
    const { rows } = await sql<{ t: string; col: string; typ: string }>`
      select c.relname as t, a.attname as col, format_type(a.atttypid, a.atttypmod) as typ from pg_partitioned_table p
      join pg_class c on c.oid = p.partrelid join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
      where c.relname like 'ioc_%' order by 1`.execute(database.db)
    assert.deepEqual(rows, DAY_TABLES.map((t) => ({ t, col: 'day', typ: 'date' })))
  })

  test('keys, indexes and checks are kept', async () => {
    const { rows } = await sql<{ t: string; def: string }>`
      select c.relname as t, pg_get_constraintdef(k.oid) as def from pg_constraint k join pg_class c on c.oid = k.conrelid
      where c.relname = any(${DAY_TABLES}::text[]) and k.contype = 'p' order by 1`.execute(database.db)
    assert.deepEqual(rows, [
      { t: 'ioc_daily_coarse', def: 'PRIMARY KEY (level, source, day, unit_code, dim)' },
      { t: 'ioc_daily_coarse_buckets', def: 'PRIMARY KEY (level, source, day, unit_code, dim, bucket)' },
      { t: 'ioc_daily_facts', def: 'PRIMARY KEY (day, source, unit_code, category, channel, commune_code)' },
      { t: 'ioc_duration_buckets', def: 'PRIMARY KEY (day, source, unit_code, category, bucket)' },
    ])
    const idx = await sql<{ def: string }>`select pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'ioc_daily_facts_source_day'`.execute(database.db)
    assert.match(idx.rows[0]?.def ?? '', /ON ONLY public\.ioc_daily_facts USING btree \(source, day\)|ON ONLY ioc_daily_facts USING btree \(source, day\)/)
    await assert.rejects(sql`insert into ioc_daily_facts (day, source, unit_code, category, channel) values ('2025-03-02', 'bogus', 'u', 'c', 'x')`.execute(database.db), /check constraint/)
    await assert.rejects(sql`insert into ioc_daily_coarse (level, day, source, unit_code, dim) values ('bogus', '2025-03-02', 'report', 'u', '')`.execute(database.db), /check constraint/)
  })

  test('rows written before the migration are kept, each in its month partition (from the oldest row\'s month)', async () => {
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2025-03-10'), ['ioc_daily_facts_p2025_03'])
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2025-03-31'), ['ioc_daily_facts_p2025_03'])
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2025-05-01'), ['ioc_daily_facts_p2025_05'])
    assert.deepEqual(await partitionsOf('ioc_duration_buckets', '2025-03-31'), ['ioc_duration_buckets_p2025_03'])
    assert.deepEqual(await partitionsOf('ioc_daily_coarse', '2025-05-01'), ['ioc_daily_coarse_p2025_05'])
    assert.deepEqual(await partitionsOf('ioc_daily_coarse_buckets', '2025-03-10'), ['ioc_daily_coarse_buckets_p2025_03'])
    const { rows } = await sql<{ received: number; resolved: number; reused: number }>`select sum(received)::int as received, sum(resolved)::int as resolved, sum(reused)::int as reused from ioc_daily_facts`.execute(database.db)
    assert.deepEqual(rows[0], { received: 4, resolved: 2, reused: 1 })
    assert.equal((await sql<{ n: number }>`select count(*)::int as n from ioc_daily_facts_default`.execute(database.db)).rows[0].n, 0)
    // Every month from the oldest row's through the current one plus 3.
    for (let d = new Date(Date.UTC(2025, 2, 15)); d <= addMonths(new Date(), 3); d = addMonths(d, 1)) {
      for (const t of DAY_TABLES) assert.ok(await exists(`${t}_p${ym(d)}`), `${t}_p${ym(d)}`)
    }
  })

  test('the job creates the IOC months ahead; a fact of a day lands in its month partition; the upserts add to one row', async () => {
    const later = addMonths(new Date(), 12)
    const created = await ensureMonthPartitions(database.db, later)
    for (const t of DAY_TABLES) assert.equal(created[t], 4, t) // later's month and 3 ahead: none existed
    const month = addMonths(later, 3)
    const first = `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, '0')}-01`
    const lastDay = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 0)).toISOString().slice(0, 10)
    const d = report(first, { resolved: 1, bucket: 2, rating_count: 1, rating_sum: 5, satisfied: 1 })
    await database.db.transaction().execute((tx) => applyFactDeltas(tx, [d, report(lastDay)]))
    await database.db.transaction().execute((tx) => applyFactDeltas(tx, [d]))
    for (const t of DAY_TABLES) {
      assert.deepEqual(await partitionsOf(t, first), [`${t}_p${ym(month)}`], t)
      assert.deepEqual(await partitionsOf(t, lastDay), t.includes('bucket') ? [] : [`${t}_p${ym(month)}`], t)
    }
    const fine = await sql<{ n: number; received: number; resolved: number; rating_sum: number }>`
      select count(*)::int as n, sum(received)::int as received, sum(resolved)::int as resolved, sum(rating_sum)::int as rating_sum
      from ioc_daily_facts where day = ${first}::date`.execute(database.db)
    assert.deepEqual(fine.rows[0], { n: 1, received: 2, resolved: 2, rating_sum: 10 })
    const coarse = await sql<{ level: string; received: number }>`select level, received from ioc_daily_coarse where day = ${first}::date order by level`.execute(database.db)
    assert.deepEqual(coarse.rows, [{ level: 'category', received: 2 }, { level: 'commune', received: 2 }, { level: 'unit', received: 2 }])
    const buckets = await sql<{ n: number }>`select n from ioc_duration_buckets where day = ${first}::date`.execute(database.db)
    assert.deepEqual(buckets.rows, [{ n: 2 }])
    const cb = await sql<{ level: string; n: number }>`select level, n from ioc_daily_coarse_buckets where day = ${first}::date order by level`.execute(database.db)
    assert.deepEqual(cb.rows, [{ level: 'category', n: 2 }, { level: 'unit', n: 2 }])
    // The monthly level (not partitioned) is fed by the same deltas.
    const monthly = await sql<{ received: number }>`select sum(received)::int as received from ioc_monthly_facts where month = ${first}::date`.execute(database.db)
    assert.equal(monthly.rows[0].received, 3)
    await database.db.transaction().execute((tx) => applyStepDeltas(tx, [{ month: first, procedure_code: 'p', unit_code: '03127', step: 's', n: 1, seconds: 60 }]))
    await database.db.transaction().execute((tx) => applyStepDeltas(tx, [{ month: first, procedure_code: 'p', unit_code: '03127', step: 's', n: 1, seconds: 60 }]))
    assert.deepEqual((await sql<{ n: number; seconds: number }>`select n, seconds from ioc_step_facts`.execute(database.db)).rows, [{ n: 2, seconds: 120 }])
    // Beyond the created months: default, and the job skips that month rather than failing.
    const far = addMonths(later, 20)
    const farDay = `${far.getUTCFullYear()}-${String(far.getUTCMonth() + 1).padStart(2, '0')}-15`
    await database.db.transaction().execute((tx) => applyFactDeltas(tx, [report(farDay)]))
    assert.deepEqual(await partitionsOf('ioc_daily_facts', farDay), ['ioc_daily_facts_default'])
    const again = await ensureMonthPartitions(database.db, addMonths(far, -3))
    assert.equal(again.ioc_daily_facts, 3)
    assert.ok(!(await exists(`ioc_daily_facts_p${ym(far)}`)))
  })

  test('date bounds are calendar months whatever the session time zone (platform/010); timestamptz bounds stay UTC', async () => {
    const bounds = await database.db.connection().execute(async (conn) => {
      await sql`set time zone 'America/New_York'`.execute(conn)
      await sql`select month_partition_create('ioc_daily_facts', '2040-02-10'), month_partition_create('audit_log', '2040-02-10')`.execute(conn)
      await sql`set time zone 'UTC'`.execute(conn)
      const { rows } = await sql<{ t: string; b: string }>`select relname as t, pg_get_expr(relpartbound, oid) as b from pg_class where relname in ('ioc_daily_facts_p2040_02', 'audit_log_p2040_02') order by 1`.execute(conn)
      await sql`reset time zone`.execute(conn)
      return rows
    })
    assert.deepEqual(bounds, [
      { t: 'audit_log_p2040_02', b: "FOR VALUES FROM ('2040-02-01 00:00:00+00') TO ('2040-03-01 00:00:00+00')" },
      { t: 'ioc_daily_facts_p2040_02', b: "FOR VALUES FROM ('2040-02-01') TO ('2040-03-01')" },
    ])
  })

  test('a rebuild creates the months of the days it folds (MonthPartitionCover), except a month whose days sit in default', async () => {
    // A day of a month with no partition yet goes to default first (a report fact without a
    // duration: facts and coarse, not the bucket tables).
    await database.db.transaction().execute((tx) => applyFactDeltas(tx, [report('2018-03-05')]))
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2018-03-05'), ['ioc_daily_facts_default'])
    const facts = [report('2018-06-10', { resolved: 1, bucket: 1 }), report('2018-01-31'), report('2019-02-01')]
    await database.db.transaction().execute(async (tx) => {
      const cover = new MonthPartitionCover()
      await cover.cover(tx, facts)
      await cover.cover(tx, [report('2018-02-01')]) // already covered: no call
      await applyFactDeltas(tx, facts)
    })
    for (let d = new Date(Date.UTC(2018, 0, 15)); d <= new Date(Date.UTC(2025, 2, 15)); d = addMonths(d, 1)) {
      for (const t of DAY_TABLES) assert.equal(await exists(`${t}_p${ym(d)}`), !(ym(d) === '2018_03' && !t.endsWith('buckets')), `${t}_p${ym(d)}`)
    }
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2018-01-31'), ['ioc_daily_facts_p2018_01'])
    assert.deepEqual(await partitionsOf('ioc_daily_coarse', '2018-06-10'), ['ioc_daily_coarse_p2018_06'])
    assert.deepEqual(await partitionsOf('ioc_duration_buckets', '2018-06-10'), ['ioc_duration_buckets_p2018_06'])
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2019-02-01'), ['ioc_daily_facts_p2019_02'])
    assert.deepEqual(await partitionsOf('ioc_daily_facts', '2018-03-05'), ['ioc_daily_facts_default'])
  })
})
