import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Database, Db } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { ensureMonthPartitions, monthPartitionedTables } from '../../platform/db/partitions.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { openTestDatabase } from '../../platform/testing/test-platform.ts'
import { MonthPartitionCover } from './backfill.ts'
import { applyFactDeltas, applyRating, applyStepDeltas, upsertOpenItem, type FactDelta } from './rollups.ts'

/**
 * Migration ioc/006: the day-keyed roll-up tables become month partitions on `day`, keeping the
 * rows already there, their keys and indexes; the platform job creates their months ahead; the
 * rollups.ts upserts still add to one row per key. Runs the IOC migrations up to 005 first,
 * writes rows, then 006 and the later ones (through a copy of the folder without them).
 * Migration ioc/007: province_code ends every key of the IOC fact tables (distribution key).
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
  // The rows applyFactDeltas wrote then (today's upserts name province_code, ioc/007, which
  // these tables do not have yet) for: two reports (resolved, buckets 3 and 5) and a dossier row.
  const db = database.db
  await sql`insert into ioc_daily_facts (day, source, unit_code, category, channel, commune_code, received, resolved, reused) values
    ('2025-03-10', 'report', '03127', 'traffic', 'app', '03130', 1, 1, 0), ('2025-03-31', 'report', '03127', 'traffic', 'app', '03130', 1, 1, 0),
    ('2025-05-01', 'dossier', '03127', '1.001193', 'online', '', 2, 0, 1)`.execute(db)
  await sql`insert into ioc_duration_buckets (day, source, unit_code, category, bucket, n) values
    ('2025-03-10', 'report', '03127', 'traffic', 3, 1), ('2025-03-31', 'report', '03127', 'traffic', 5, 1)`.execute(db)
  await sql`insert into ioc_daily_coarse (level, source, day, unit_code, dim, received, resolved, reused) values
    ('unit', 'report', '2025-03-10', '03127', '', 1, 1, 0), ('category', 'report', '2025-03-10', '03127', 'traffic', 1, 1, 0), ('commune', 'report', '2025-03-10', '03127', '03130', 1, 1, 0),
    ('unit', 'report', '2025-03-31', '03127', '', 1, 1, 0), ('category', 'report', '2025-03-31', '03127', 'traffic', 1, 1, 0), ('commune', 'report', '2025-03-31', '03127', '03130', 1, 1, 0),
    ('channel', 'dossier', '2025-05-01', '03127', 'online', 2, 0, 1)`.execute(db)
  await sql`insert into ioc_daily_coarse_buckets (level, source, day, unit_code, dim, bucket, n) values
    ('unit', 'report', '2025-03-10', '03127', '', 3, 1), ('category', 'report', '2025-03-10', '', 'traffic', 3, 1),
    ('unit', 'report', '2025-03-31', '03127', '', 5, 1), ('category', 'report', '2025-03-31', '', 'traffic', 5, 1)`.execute(db)
  await sql`insert into ioc_open_items (source, code, unit_code, category, channel, received_at) values ('report', 'PA-OLD', '03127', 'traffic', 'app', '2025-03-10T03:00:00Z')`.execute(db)
  await sql`insert into ioc_report_ratings (code, day, unit_code, category, channel, commune_code, rating) values ('PA-OLD', '2025-03-31', '03127', 'traffic', 'app', '03130', 4)`.execute(db)
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
      // province_code last: ioc/007.
      { t: 'ioc_daily_coarse', def: 'PRIMARY KEY (level, source, day, unit_code, dim, province_code)' },
      { t: 'ioc_daily_coarse_buckets', def: 'PRIMARY KEY (level, source, day, unit_code, dim, bucket, province_code)' },
      { t: 'ioc_daily_facts', def: 'PRIMARY KEY (day, source, unit_code, category, channel, commune_code, province_code)' },
      { t: 'ioc_duration_buckets', def: 'PRIMARY KEY (day, source, unit_code, category, bucket, province_code)' },
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

describe('IOC distribution key (ioc/007)', () => {
  const FACT_TABLES = [...DAY_TABLES, ...MONTH_TABLES, 'ioc_open_items']

  test('every key of the IOC fact tables ends with province_code, on the month partitions too; the rows written before have the node\'s province', async () => {
    const { rows } = await sql<{ t: string; cols: string[] }>`
      select c.relname as t, (select array_agg(a.attname::text order by u.i) from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n) as cols
      from pg_constraint k join pg_class c on c.oid = k.conrelid
      where k.contype in ('p', 'u') and (c.relname = any(${FACT_TABLES}::text[]) or c.relname in ('ioc_daily_facts_p2025_03', 'ioc_daily_coarse_buckets_default'))`.execute(database.db)
    assert.equal(rows.length, FACT_TABLES.length + 2)
    for (const r of rows) assert.equal(r.cols.at(-1), 'province_code', `${r.t} (${r.cols.join(', ')})`)
    for (const t of FACT_TABLES) {
      const got = (await sql<{ p: string; n: number }>`select province_code as p, count(*)::int as n from ${sql.table(t)} group by 1`.execute(database.db)).rows
      assert.ok(got.every((g) => g.p === database.provinceCode), `${t}: ${JSON.stringify(got)}`)
    }
    assert.deepEqual((await sql`select province_code from ioc_report_ratings where code = 'PA-OLD'`.execute(database.db)).rows, [{ province_code: database.provinceCode }])
    await assert.rejects(sql`insert into ioc_open_items (source, code, unit_code, category, channel, received_at, province_code) values ('report', 'X', 'u', 'c', 'x', now(), 'x1')`.execute(database.db), /check constraint/)
  })

  test('two provinces on one database: the same key is two rows, each upsert and read by code stays in its province', async () => {
    const asProvince = (p: string, fn: (tx: Db) => Promise<void>) => database.db.transaction().execute(async (tx) => {
      await sql`select set_config('hoaban.province_code', ${p}, true)`.execute(tx)
      await fn(tx)
    })
    const count = async (p: string) => (await sql<{ received: number; rating_count: number }>`select sum(received)::int as received, sum(rating_count)::int as rating_count
      from ioc_daily_facts where day = '2025-03-10' and province_code = ${p}`.execute(database.db)).rows[0]
    const own = await count(database.provinceCode)
    const step = { month: '2025-03-01', procedure_code: 'p7', unit_code: '03127', step: 's', n: 1, seconds: 60 }
    const open = { source: 'report' as const, code: 'PA-OLD', unit_code: '03127', category: 'traffic', channel: 'app', commune_code: '03130', received_at: new Date('2025-03-10T03:00:00Z'), due_at: null, last_step: 'received', last_at: null }
    const rating = { code: 'PA-OLD', unit_code: '03127', category: 'traffic', channel: 'app', commune_code: '03130', received_at: new Date('2025-03-10T03:00:00Z'), resolved_at: new Date('2025-03-10T05:00:00Z'), rating: 4 }
    for (let i = 0; i < 2; i++) {
      await asProvince('12', async (tx) => {
        await applyFactDeltas(tx, [report('2025-03-10')])
        await applyStepDeltas(tx, [step])
        await upsertOpenItem(tx, open)
        // The province-11 row of PA-OLD (rating 4) is not this province's: a first rating here.
        assert.equal(await applyRating(tx, rating), i === 0)
      })
    }
    await asProvince(database.provinceCode, async (tx) => {
      await applyStepDeltas(tx, [step])
      assert.equal(await applyRating(tx, rating), false) // unchanged in its own province
    })
    assert.deepEqual(await count('12'), { received: 2, rating_count: 1 })
    assert.deepEqual(await count(database.provinceCode), own)
    const steps = (await sql<{ p: string; n: number }>`select province_code as p, n from ioc_step_facts where procedure_code = 'p7' order by 1`.execute(database.db)).rows
    assert.deepEqual(steps, [{ p: database.provinceCode, n: 1 }, { p: '12', n: 2 }].sort((a, b) => a.p.localeCompare(b.p)))
    const items = (await sql<{ p: string; last_step: string | null }>`select province_code as p, last_step from ioc_open_items where code = 'PA-OLD' order by 1`.execute(database.db)).rows
    assert.deepEqual(items, [{ p: database.provinceCode, last_step: null }, { p: '12', last_step: 'received' }].sort((a, b) => a.p.localeCompare(b.p)))
    const coarse = (await sql<{ p: string; received: number }>`select province_code as p, received from ioc_daily_coarse where level = 'unit' and day = '2025-03-10' order by 1`.execute(database.db)).rows
    assert.deepEqual(coarse.find((r) => r.p === '12'), { p: '12', received: 2 })
    await sql`delete from ioc_open_items where province_code = '12'`.execute(database.db)
  })
})
