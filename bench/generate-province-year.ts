// Province-year data generator (issue 10 §3). Loads a year of synthetic activity into a database
// that the platform has migrated and seeded with reference data (it runs the migrations and
// reference seeds itself):
//   reports      bulk INSERT … SELECT producing the rows intake writes (code PA-<year>-<NNNNNN> from the
//                year's report_number_<year> sequence, routed to a commune of geo_units at a point
//                inside its current boundary, category from report_categories, due dates), moved
//                through the workflow by status: report_history rows (created, assigned, in_progress,
//                resolved, closed) like the workflow writes, and one audit row per state change.
//   dossiers     bench/dossier-generator.ts (bulk SQL, dossiers with snapshot, file row, control
//                slips, pauses, counters), then one audit row per control slip.
//   documents    bulk INSERT of registered incoming documents with gapless register numbers per
//                agency/direction/year and the counters moved on, one audit row each.
//   audit rows   appended through the database's own audit_append() (platform/002), one call per row,
//                so the hash chain is the one the app would have written and audit:verify checks it.
// Rows are spread over the 365 days before today (UTC), so they land in the month partitions,
// which are created for those months first.
//
// 1× sizes (per province, scale 1) and why: see docs/scaling.md "Generator". --provinces N
// multiplies every count (one database holds what N provinces would, all under the one province
// of PROVINCE_CODE: the rows take province_code from the connection), --scale F multiplies again.
//
//   npx tsx bench/generate-province-year.ts --database URL [--provinces 1] [--scale 1] [--no-audit]
import { sql } from 'kysely'
import { openDatabase, type Db } from '../src/platform/db/database.ts'
import { monthPartitionedTables } from '../src/platform/db/partitions.ts'
import { createPlatform } from '../src/platform/runtime.ts'
import { testConfig } from '../src/platform/testing/test-platform.ts'
import { generateDossiers } from './dossier-generator.ts'

/** Rows per province at scale 1 (see docs/scaling.md for how they were chosen). */
export const ONE_X = { reports: 10_000, dossiers: 16_000, documents: 2_000 }

export interface GenerateYearOptions {
  provinces?: number
  scale?: number
  audit?: boolean
  log?: (msg: string) => void
}

export interface GenerateYearResult {
  reports: number
  reportHistory: number
  dossiers: number
  controlSlips: number
  documents: number
  auditRows: number
  ms: Record<string, number>
}

async function count(db: Db, table: string): Promise<number> {
  return (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0].n
}

/** Migrates and seeds reference data the way the server does at start (no demo data). */
export async function prepareDatabase(databaseUrl: string): Promise<void> {
  const { allModules, principalResolver } = await import('../src/modules/index.ts')
  const database = await openDatabase({ databaseUrl, dataDir: '' })
  const platform = await createPlatform({ config: testConfig({ databaseUrl }), modules: allModules, principalResolver, database })
  await platform.close()
}

export async function generateProvinceYear(db: Db, opts: GenerateYearOptions = {}): Promise<GenerateYearResult> {
  const f = (opts.provinces ?? 1) * (opts.scale ?? 1)
  const log = opts.log ?? (() => {})
  const nReports = Math.round(ONE_X.reports * f)
  const nDossiers = Math.round(ONE_X.dossiers * f)
  const nDocuments = Math.round(ONE_X.documents * f)
  const audit = opts.audit ?? true
  const ms: Record<string, number> = {}
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now()
    const r = await fn()
    ms[name] = Math.round(performance.now() - t)
    log(`${name}: ${ms[name]} ms`)
    return r
  }
  const auditBefore = await count(db, 'audit_log')
  const historyBefore = await count(db, 'report_history')
  const slipsBefore = await count(db, 'dossier_control_slips')

  // Month partitions for the year back (the job only creates months ahead of now).
  await timed('partitions', async () => {
    for (const t of await monthPartitionedTables(db)) await sql`select ensure_month_partitions(${t}, now() - interval '13 months', now(), 3)`.execute(db)
  })

  await timed('reports', () => db.connection().execute(async (c) => {
    await sql`set synchronous_commit = off`.execute(c)
    for (const y of (await sql<{ y: number }>`select distinct extract(year from d)::int as y from generate_series(now() - interval '366 days', now(), interval '1 day') d`.execute(c)).rows) {
      await sql.raw(`create sequence if not exists report_number_${y.y}`).execute(c)
    }
    await sql`drop table if exists pg_temp.gen_communes`.execute(c)
    await sql`create temp table gen_communes as
      select (row_number() over (order by u.code) - 1)::int as n, u.code, v.valid_from::text as version, st_pointonsurface(v.geom) as pt
      from geo_units u join geo_boundary_versions v on v.unit_code = u.code and v.valid_to is null
      where u.level = 'commune'`.execute(c)
    await sql`drop table if exists pg_temp.gen_categories`.execute(c)
    await sql`create temp table gen_categories as
      select (row_number() over (order by code) - 1)::int as n, code, handling, department_code from report_categories where active`.execute(c)
    const { rows: [k] } = await sql<{ u: number; c: number }>`select (select count(*)::int from gen_communes) as u, (select count(*)::int from gen_categories) as c`.execute(c)
    if (!k.u || !k.c) throw new Error('no communes with boundaries or no report categories (reference data not seeded?)')
    const batch = 50_000
    for (let off = 0; off < nReports; off += batch) {
      const n = Math.min(batch, nReports - off)
      await sql`insert into reports (code, category_code, description, channel, location, location_source, address_text, commune_code,
          locate_status, near_border, distance_to_border_m, boundary_version, unit_code, status, outcome, public_answer, anonymous,
          reporter_name, created_at, updated_at, state_entered_at, state_due_at, due_at, resolved_at, closed_at)
        select 'PA-' || extract(year from s.at)::int || '-' || lpad(nextval(('report_number_' || extract(year from s.at)::int)::regclass)::text, 6, '0'),
          cat.code, 'Phản ánh tổng hợp số ' || s.i || ': ổ gà, rác thải, đèn đường', (array['app','web','open311','sms','hotline'])[1 + s.i % 5],
          st_translate(com.pt, ((s.i::bigint * 7919) % 100 - 50) * 1e-6, ((s.i::bigint * 104729) % 100 - 50) * 1e-6), 'gps', null, com.code,
          'inside', false, null, com.version,
          case when cat.handling = 'department' then cat.department_code else com.code end,
          s.status, case when s.status = 'closed' then 'fixed' end, case when s.status in ('resolved', 'closed') then 'Đã xử lý xong.' end,
          s.i % 3 = 0, case when s.i % 3 = 0 then null else 'Người dân ' || s.i end,
          s.at, s.at + interval '3 days', s.at + interval '2 days', s.at + interval '5 days', s.at + interval '15 days',
          case when s.status in ('resolved', 'closed') then s.at + interval '2 days' end,
          case when s.status = 'closed' then s.at + interval '3 days' end
        from (select i, date_trunc('second', now() - interval '1 day' - (((i * 2654435761::bigint) % 31536000) || ' seconds')::interval) as at,
                case when i % 100 < 80 then 'closed' when i % 100 < 86 then 'resolved' when i % 100 < 92 then 'in_progress'
                     when i % 100 < 96 then 'assigned' else 'received' end as status
              from generate_series(${off}::int, ${off + n - 1}::int) i) s
        join gen_communes com on com.n = s.i % ${k.u}::int
        join gen_categories cat on cat.n = (s.i / 7) % ${k.c}::int
        order by s.at`.execute(c)
      log(`reports ${off + n}/${nReports}`)
    }
  }))

  // History rows for the generated reports (code like 'PA-%' and description marker), one per step reached.
  await timed('report_history', () => sql`insert into report_history (report_id, at, actor, action, from_status, to_status, from_unit, to_unit, note)
    select r.id, r.created_at + (st.k || ' hours')::interval, case when st.k = 0 then 'anonymous' else 'system' end,
      case st.k when 0 then 'created' else 'status_changed' end,
      case st.k when 0 then null when 1 then 'received' when 2 then 'assigned' when 3 then 'in_progress' else 'resolved' end,
      st.to_status, case when st.k = 1 then r.unit_code end, r.unit_code, null
    from reports r
    join lateral (values (0, 'received'), (1, 'assigned'), (2, 'in_progress'), (3, 'resolved'), (4, 'closed')) st(k, to_status)
      on st.k <= case r.status when 'received' then 0 when 'assigned' then 1 when 'in_progress' then 2 when 'resolved' then 3 else 4 end
    where r.description like 'Phản ánh tổng hợp số %' and not exists (select 1 from report_history h where h.report_id = r.id)`.execute(db))

  await timed('dossiers', () => generateDossiers(db, nDossiers, { days: 365, onProgress: (d, t) => log(`dossiers ${d}/${t}`) }))

  await timed('documents', () => db.connection().execute(async (c) => {
    await sql`set synchronous_commit = off`.execute(c)
    await sql`drop table if exists pg_temp.gen_agencies`.execute(c)
    await sql`create temp table gen_agencies as select (row_number() over (order by code) - 1)::int as n, code from org_units where kind in ('department', 'province')`.execute(c)
    const a = (await sql<{ n: number }>`select count(*)::int as n from gen_agencies`.execute(c)).rows[0].n
    if (!a) throw new Error('no agencies in org_units')
    await sql`with s as (
        select i, ag.code as agency, date_trunc('second', now() - interval '1 day' - (((i * 2654435761::bigint) % 31536000) || ' seconds')::interval) as at
        from generate_series(1, ${nDocuments}::int) i join gen_agencies ag on ag.n = i % ${a}::int),
      numbered as (
        select s.*, extract(year from s.at at time zone 'Asia/Ho_Chi_Minh')::int as y,
          coalesce((select last from document_register_counters k where k.agency_code = s.agency and k.direction = 'incoming'
            and k.year = extract(year from s.at at time zone 'Asia/Ho_Chi_Minh')::int), 0)
          + row_number() over (partition by s.agency, extract(year from s.at at time zone 'Asia/Ho_Chi_Minh')::int order by s.at, s.i) as number
        from s),
      ins as (
        insert into documents (agency_code, direction, register_year, number, symbol, doc_type, issuer, signer, issued_at, registered_at,
          summary, recipients, search_text, created_by, created_at, updated_at)
        select agency, 'incoming', y, number, number || '/UBND-VP', 'cong_van', 'UBND tỉnh', 'Nguyễn Văn A', at - interval '1 day', at,
          'Công văn tổng hợp số ' || i || ' về việc triển khai chuyển đổi số', '{}', 'cong van tong hop so ' || i, 'system', at, at
        from numbered returning agency_code, register_year, number)
      insert into document_register_counters (agency_code, direction, year, last)
        select agency_code, 'incoming', register_year, max(number) from ins group by 1, 3
      on conflict (agency_code, direction, year, province_code) do update set last = greatest(document_register_counters.last, excluded.last)`.execute(c)
  }))

  if (audit) {
    // One audit row per state change, in time order, through audit_append (one chain, as the app writes it).
    await timed('audit', () => db.connection().execute(async (c) => {
      await sql`set synchronous_commit = off`.execute(c)
      await sql`select count(audit_append(e.at, e.actor, e.action, e.entity_type, e.entity_id, e.data)) from (
          select h.at, h.actor, case h.action when 'created' then 'report.created' else 'report.status_changed' end as action,
            'report' as entity_type, r.code as entity_id, jsonb_build_object('from', h.from_status, 'to', h.to_status) as data
          from report_history h join reports r on r.id = h.report_id
          where r.description like 'Phản ánh tổng hợp số %' and h.at < now() - interval '1 second' * 0
          union all
          select s.at, 'system', 'dossier.' || s.action, 'dossier', d.code, jsonb_build_object('from', s.from_status, 'to', s.to_status, 'step', s.step)
          from dossier_control_slips s join dossiers d on d.id = s.dossier_id where s.id > ${slipsBefore}::bigint
          union all
          select registered_at, created_by, 'document.registered', 'document', id::text, jsonb_build_object('number', number, 'agency', agency_code)
          from documents where summary like 'Công văn tổng hợp số %' and created_by = 'system'
        ) e
        where not exists (select 1 from audit_log a where a.entity_id = e.entity_id and a.action = e.action and a.at = e.at)
        `.execute(c)
    }))
  }
  void historyBefore
  return {
    reports: await count(db, 'reports'),
    reportHistory: await count(db, 'report_history'),
    dossiers: await count(db, 'dossiers'),
    controlSlips: await count(db, 'dossier_control_slips'),
    documents: await count(db, 'documents'),
    auditRows: (await count(db, 'audit_log')) - auditBefore,
    ms,
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = arg('database') ?? process.env.DATABASE_URL
  if (!url || !url.startsWith('postgres')) throw new Error('--database postgres://… is required (bulk generation runs on PostgreSQL)')
  const t0 = performance.now()
  await prepareDatabase(url)
  const database = await openDatabase({ databaseUrl: url, dataDir: '' })
  try {
    const r = await generateProvinceYear(database.db, { provinces: Number(arg('provinces') ?? 1), scale: Number(arg('scale') ?? 1), audit: !process.argv.includes('--no-audit'), log: (m) => console.error(m) })
    console.log(JSON.stringify({ ...r, totalMs: Math.round(performance.now() - t0) }, null, 2))
  } finally {
    await database.close()
  }
}
