// The migrated schema obeys Citus's rules for the placement listed in distribution.ts (the same
// list `npm run citus:script` prints from). Reads the catalogue of a fully migrated database, on
// PGlite and on PostgreSQL (TEST_DATABASE_URL). Citus itself is not run here (docs/scaling.md).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { checkProvinceCode, openDatabase, type Database } from './database.ts'
import { citusScript, DISTRIBUTED, DISTRIBUTION_COLUMN, LOCAL, placements, REFERENCE, type Placement } from './distribution.ts'
import { migrate } from './migrate.ts'
import { PLATFORM_MIGRATIONS } from '../runtime.ts'
import { openTestDatabase } from '../testing/test-platform.ts'

let database: Database

interface Key {
  table: string
  name: string
  kind: 'p' | 'u' | 'f' | 'i'
  columns: string[]
  refTable?: string
  refColumns?: string[]
}

let tables: string[]
let keys: Key[]
let columns: Map<string, { notnull: boolean; def: string | null }>

before(async () => {
  const { allModules } = await import('../../modules/index.ts')
  database = await openTestDatabase()
  await migrate(database, [PLATFORM_MIGRATIONS, ...allModules.filter((m) => m.migrations).map((m) => ({ module: m.name, dir: m.migrations! }))])
  const db = database.db
  // Tables of the schema: plain and partitioned parents (partitions follow their parent),
  // not those an extension owns (PostGIS's spatial_ref_sys).
  tables = (await sql<{ name: string }>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    order by 1`.execute(db)).rows.map((r) => r.name)
  keys = (await sql<Key>`
    select t.relname as table, k.conname as name, k.contype as kind,
      (select array_agg(a.attname::text order by u.i) from unnest(k.conkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n) as columns,
      r.relname as "refTable",
      (select array_agg(a.attname::text order by u.i) from unnest(k.confkey) with ordinality u(n, i) join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n) as "refColumns"
    from pg_constraint k join pg_class t on t.oid = k.conrelid join pg_namespace n on n.oid = t.relnamespace
    left join pg_class r on r.oid = k.confrelid
    where n.nspname = current_schema() and k.contype in ('p', 'u', 'f') and not t.relispartition and k.conparentid = 0
    union all
    select t.relname, x.relname, 'i',
      (select array_agg(a.attname::text order by u.i) from unnest(i.indkey::int2[]) with ordinality u(n, i) join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.n),
      null, null
    from pg_index i join pg_class t on t.oid = i.indrelid join pg_class x on x.oid = i.indexrelid join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = current_schema() and i.indisunique and not t.relispartition
      and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
      and not exists (select 1 from pg_inherits h where h.inhrelid = i.indexrelid)`.execute(db)).rows.map((k) => ({ ...k, kind: k.kind as Key['kind'] }))
  columns = new Map(
    (await sql<{ table: string; notnull: boolean; def: string | null }>`
      select c.table_name as table, c.is_nullable = 'NO' as notnull, c.column_default as def
      from information_schema.columns c where c.table_schema = current_schema() and c.column_name = ${DISTRIBUTION_COLUMN}`.execute(db)).rows.map((r) => [r.table, r]),
  )
})
after(async () => {
  await database?.close()
})

const placement = () => placements()

test('every table of the schema is classified (distributed, reference or local), and every classified table exists', () => {
  const p = placement()
  assert.deepEqual(tables.filter((t) => !p.has(t)), [], 'tables without a class: add them to src/platform/db/distribution.ts')
  assert.deepEqual([...p.keys()].filter((t) => !tables.includes(t)), [], 'classified tables that do not exist')
})

test('every distributed table has province_code not null, defaulting to the connection setting', () => {
  for (const { table } of DISTRIBUTED) {
    const c = columns.get(table)
    assert.ok(c, `${table} has no ${DISTRIBUTION_COLUMN}`)
    assert.equal(c.notnull, true, `${table}.${DISTRIBUTION_COLUMN} is nullable`)
    assert.match(c.def ?? '', /current_setting\('hoaban\.province_code'::text\)/, `${table}.${DISTRIBUTION_COLUMN} default`)
  }
  assert.ok(DISTRIBUTED.length >= 1)
})

test('every primary key, unique constraint and unique index of a distributed table includes province_code', () => {
  const dist = new Set(DISTRIBUTED.map((t) => t.table))
  const bad = keys.filter((k) => dist.has(k.table) && k.kind !== 'f' && !k.columns.includes(DISTRIBUTION_COLUMN)).map((k) => `${k.table}.${k.name} (${k.columns.join(', ')})`)
  assert.deepEqual(bad, [])
  for (const t of dist) assert.ok(keys.some((k) => k.table === t && k.kind === 'p'), `${t} has no primary key`)
})

test('foreign keys: between distributed tables on province_code at the same place; none from a reference table to a non-reference one, nor from a local table to a distributed one', () => {
  const p = placement()
  const bad: string[] = []
  const fks = keys.filter((k) => k.kind === 'f')
  assert.ok(fks.length > 10)
  for (const k of fks) {
    const from = p.get(k.table) as Placement
    const to = p.get(k.refTable!) as Placement
    const name = `${k.table}.${k.name} (${k.columns.join(', ')}) -> ${k.refTable} (${k.refColumns!.join(', ')}) [${from} -> ${to}]`
    if (from === 'distributed' && to === 'distributed') {
      const i = k.columns.indexOf(DISTRIBUTION_COLUMN)
      if (i < 0 || k.refColumns![i] !== DISTRIBUTION_COLUMN) bad.push(`${name}: not colocated on ${DISTRIBUTION_COLUMN}`)
    } else if (from === 'distributed' && to === 'local') bad.push(`${name}: a distributed table cannot reference a coordinator-local one`)
    else if (from === 'reference' && to !== 'reference') bad.push(`${name}: a reference table may only reference reference tables`)
    else if (from === 'local' && to === 'distributed') bad.push(`${name}: a local table cannot reference a distributed one`)
  }
  assert.deepEqual(bad, [])
})

test('the manifest lists referenced tables before the tables referencing them (the order the Citus script creates them)', () => {
  for (const list of [DISTRIBUTED, REFERENCE]) {
    const order = list.map((t) => t.table)
    for (const k of keys.filter((k) => k.kind === 'f' && order.includes(k.table) && order.includes(k.refTable!) && k.table !== k.refTable)) {
      assert.ok(order.indexOf(k.refTable!) < order.indexOf(k.table), `${k.refTable} must come before ${k.table}`)
    }
  }
})

test('the Citus script creates every reference and distributed table once, colocated on province_code, and leaves the local ones', () => {
  const script = citusScript()
  for (const { table } of REFERENCE) assert.equal(script.split(`create_reference_table('${table}')`).length, 2, table)
  const [first, ...rest] = DISTRIBUTED
  assert.ok(script.includes(`select create_distributed_table('${first.table}', 'province_code');`))
  for (const { table } of rest) assert.ok(script.includes(`select create_distributed_table('${table}', 'province_code', colocate_with => '${first.table}');`), table)
  for (const { table } of LOCAL) assert.ok(!script.includes(`('${table}'`), table)
  const lines = script.split('\n')
  const lastRef = Math.max(...REFERENCE.map((t) => lines.findIndex((l) => l.includes(`('${t.table}')`))))
  assert.ok(lastRef < lines.findIndex((l) => l.includes('create_distributed_table')), 'reference tables first')
})

test('the province comes from the connection: the setting, the database default for ad-hoc clients, and the rows written', async () => {
  const db = database.db
  assert.equal((await sql<{ p: string }>`select current_setting('hoaban.province_code') as p`.execute(db)).rows[0].p, database.provinceCode)
  // migrate made it the database's default, for clients that do not set it (psql).
  const { rows } = await sql<{ c: string[] }>`select s.setconfig as c from pg_db_role_setting s
    where s.setrole = 0 and s.setdatabase = (select oid from pg_database where datname = current_database())`.execute(db)
  assert.ok(rows[0]?.c.includes(`hoaban.province_code=${database.provinceCode}`), JSON.stringify(rows))
  assert.throws(() => checkProvinceCode("11'; drop table reports; --"), /PROVINCE_CODE/)
  assert.throws(() => checkProvinceCode(''), /PROVINCE_CODE/)
  const url = process.env.TEST_DATABASE_URL
  if (!url) return // PGlite is one connection in one process: the rest needs a second connection.
  const u = new URL(url)
  u.pathname = `/${(await sql<{ d: string }>`select current_database() as d`.execute(db)).rows[0].d}`
  // A plain client, as psql would connect: gets the database default.
  const plain = new pg.Client({ connectionString: u.toString() })
  await plain.connect()
  try {
    assert.equal((await plain.query(`select current_setting('hoaban.province_code') as p`)).rows[0].p, database.provinceCode)
  } finally {
    await plain.end()
  }
  // Another installation's node on the same database writes its own province's rows.
  const other = await openDatabase({ databaseUrl: u.toString(), dataDir: '', provinceCode: '12', poolSize: 1 })
  try {
    assert.equal(other.provinceCode, '12')
    // The same agency and day in two provinces: two counters (the key includes province_code).
    await sql`insert into dossier_counters (agency_code, day, last) values ('test.agency', '20990101', 7)`.execute(other.db)
    await sql`insert into dossier_counters (agency_code, day, last) values ('test.agency', '20990101', 3)`.execute(db)
    const got = (await sql<{ province_code: string; last: number }>`select province_code, last from dossier_counters where day = '20990101' order by province_code`.execute(db)).rows
    assert.deepEqual(got, [{ province_code: database.provinceCode, last: 3 }, { province_code: '12', last: 7 }])
  } finally {
    await other.close()
  }
})
