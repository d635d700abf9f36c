// Synthetic dossier generator for the lifecycle bench: inserts K dossiers straight into PostgreSQL
// with generate_series-based INSERT … SELECT, in batches, plus the minimum related rows (one
// submitted file, the control slips, open pauses for paused dossiers, the per-agency-day counters).
//
// Dossiers are spread over every commune (org_units kind 'commune'), every commune-level procedure
// in force (each row carries the procedure snapshot, as live dossiers do), the ten statuses (mostly
// returned, a few percent still open) and the D days BEFORE today (Vietnam time), so codes
// `{unit}-{yyMMdd}-{NNNN}` never collide with today's live codes and the counters stay consistent.
// Not generated: audit_log rows (hash-chained; cannot be inserted behind the live chain), outbox
// events and result documents.
//
//   npx tsx bench/dossier-generator.ts <databaseUrl> <count> [startIndex]
import { sql } from 'kysely'
import type { Db } from '../src/platform/db/database.ts'

export interface GenerateOptions {
  /** Index of the first synthetic dossier: pass the previous call's nextIndex to add more. */
  startIndex?: number
  /** Rows per INSERT statement. */
  batchSize?: number
  /** Days back from yesterday to spread over. */
  days?: number
  onProgress?: (done: number, total: number, ms: number) => void
}

export interface GenerateResult {
  inserted: number
  nextIndex: number
  ms: number
}

/** Inserts `count` synthetic dossiers; returns the index to continue from. */
export async function generateDossiers(db: Db, count: number, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const start = opts.startIndex ?? 0
  const batch = opts.batchSize ?? 100_000
  const days = opts.days ?? 730
  const t0 = performance.now()
  if (count <= 0) return { inserted: 0, nextIndex: start, ms: 0 }
  return db.connection().execute(async (c) => {
    // Bulk load: no need to wait for the WAL flush of each batch (session-only setting).
    await sql`set synchronous_commit = off`.execute(c)
    await sql`drop table if exists pg_temp.bench_units`.execute(c)
    await sql`drop table if exists pg_temp.bench_procs`.execute(c)
    await sql`create temp table bench_units as select (row_number() over (order by code) - 1)::int as n, code from org_units where kind = 'commune'`.execute(c)
    await sql`create temp table bench_procs as
      select (row_number() over (order by v.procedure_code) - 1)::int as n, v.procedure_code as code, v.version, v.fee_vnd,
        (to_jsonb(v) - 'search_text') || jsonb_build_object('field', p.field, 'level', p.level) as snap,
        coalesce((select c->>'key' from jsonb_array_elements(v.components) c where (c->>'required')::boolean limit 1), 'to_khai') as comp
      from procedure_versions v join procedures p on p.code = v.procedure_code
      where p.level = 'commune' and v.handling_unit = 'commune' and p.active and v.valid_to is null`.execute(c)
    const { rows: [k] } = await sql<{ u: number; p: number }>`select (select count(*)::int from bench_units) as u, (select count(*)::int from bench_procs) as p`.execute(c)
    if (!k.u || !k.p) throw new Error('generateDossiers: no communes or commune-level procedures (is the reference data seeded?)')
    const U = sql.raw(String(k.u))
    const P = sql.raw(String(k.p))
    const D = sql.raw(String(Math.trunc(days)))
    const { rows: [m] } = await sql<{ id: string }>`select coalesce(max(id), 0)::text as id from dossiers`.execute(c)
    const firstId = m.id
    for (let off = 0; off < count; off += batch) {
      const lo = start + off
      const hi = start + Math.min(count, off + batch) - 1
      await sql`
        with g as (
          select i, (i % 100)::int as r,
            u.code as unit, 1 + ((i / ${U}) % ${D})::int as back, 1 + (i / (${U} * ${D}))::bigint as seq,
            pr.code as pcode, pr.version, pr.snap, pr.fee_vnd,
            case when i % 3 = 0 then 'in_person' else 'online' end as channel
          from generate_series(${lo}::bigint, ${hi}::bigint) i
          join bench_units u on u.n = (i % ${U})
          join bench_procs pr on pr.n = ((i / 7) % ${P})
        ), s as (
          select g.*,
            case when r < 80 then 10 when r < 85 then 9 when r < 88 then 3 when r = 88 then 7 when r = 89 then 8
                 when r < 93 then 4 when r < 95 then 2 when r < 97 then 1 when r = 97 then 5 when r = 98 then 6 else 10 end::smallint as status,
            ((current_timestamp at time zone 'Asia/Ho_Chi_Minh')::date - back) as day
          from g
        ), t as (
          select s.*, ((day + time '07:30') + ((i * 7919) % 34200) * interval '1 second') at time zone 'Asia/Ho_Chi_Minh' as sub
          from s
        ), v as (
          select t.*, case when status in (1, 3) then null else sub + interval '2 hours' end as rec from t
        )
        insert into dossiers (code, procedure_code, procedure_version, procedure, unit_code, commune_code, channel, status, current_step,
          applicant_user_id, applicant_name, applicant_phone, form, submitted_by, submitted_at, received_at, clock_started_at, due_at, step_due_at,
          warn_at, warned_at, paused_since, resolved_at, returned_at, closed_at, timeliness, refusal_reason, supplement_reason, stop_reason,
          fee_vnd, payment_status, payment_reference, paid_at, created_at, updated_at)
        select unit || '-' || to_char(day, 'YYMMDD') || '-' || case when seq < 10000 then lpad(seq::text, 4, '0') else seq::text end,
          pcode, version, snap, unit, unit, channel, status,
          case when status in (1, 3) then 'reception' when status in (9, 10) then 'result' else 'handle' end,
          case when channel = 'online' then md5('applicant-' || (i % 300000))::uuid end,
          'Người nộp ' || i, '09' || lpad((i % 100000000)::text, 8, '0'), '{}'::jsonb,
          case when channel = 'online' then md5('applicant-' || (i % 300000))::uuid end,
          sub, rec, rec, rec + interval '3 days', case when status in (2, 4, 5, 6) then rec + interval '2 days' end,
          rec + interval '2 days', case when rec is not null then rec + interval '2 days' end,
          case when status in (5, 6) then rec + interval '1 day' end,
          case when status in (9, 10) then rec + interval '2 days' end,
          case when status = 10 then rec + interval '2 days 1 hour' end,
          case when status = 10 then rec + interval '2 days 1 hour' when status in (3, 7, 8) then sub + interval '3 hours' end,
          case when status in (9, 10) then (case when i % 10 = 0 then 'on_time' else 'early' end) end,
          case when status = 3 then 'Hồ sơ không đủ thành phần' end,
          case when status = 5 then 'Thiếu chữ ký trên tờ khai' end,
          case when status = 8 then 'Dừng theo đề nghị' end,
          fee_vnd, case when fee_vnd = 0 then 'not_required' when status in (9, 10) then 'paid_online' else 'unpaid' end,
          case when fee_vnd > 0 and status in (9, 10) then 'GEN-' || i end,
          case when fee_vnd > 0 and status in (9, 10) then rec + interval '1 hour' end,
          sub, coalesce(case when status = 10 then rec + interval '2 days 1 hour' end, rec, sub)
        from v`.execute(c)
      opts.onProgress?.(Math.min(count, off + batch), count, performance.now() - t0)
    }
    // Related rows for the new dossiers (id > firstId): the submitted file, the control slips
    // (submission, and the last hand-off for every dossier past status 1), open pauses.
    await sql`insert into dossier_files (dossier_id, component_key, round, original_name, stored_name, mime, bytes, sha256, uploaded_at, uploaded_by)
      select d.id, coalesce((select c->>'key' from jsonb_array_elements(d.procedure->'components') c where (c->>'required')::boolean limit 1), 'to_khai'),
        0, 'to-khai.pdf', 'dossiers/' || md5(d.code) || '.pdf', 'application/pdf', 1024, md5(d.code) || md5(d.code), d.submitted_at, d.submitted_by
      from dossiers d where d.id > ${firstId}::bigint`.execute(c)
    await sql`insert into dossier_control_slips (dossier_id, seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note)
      select d.id, 1, 'submit'::text, 'reception'::text, null::smallint, 1::smallint, null::text, d.submitted_by, d.unit_code, null::uuid, d.submitted_at, null::timestamptz, d.channel
      from dossiers d where d.id > ${firstId}::bigint
      union all
      select d.id, 2, (array['receive','refuse','process','request_supplement','request_fee','withdraw','stop','resolve','return'])[d.status - 1],
        d.current_step, (case when d.status in (2, 3) then 1 when d.status = 10 then 9 else 2 end)::smallint, d.status, d.unit_code, null::uuid, d.unit_code, null::uuid,
        d.updated_at, d.step_due_at, null::text
      from dossiers d where d.id > ${firstId}::bigint and d.status <> 1`.execute(c)
    await sql`insert into dossier_pauses (dossier_id, kind, unit_code, reason, requested_by, from_at, to_at, counted_late)
      select d.id, case when d.status = 5 then 'supplement' else 'fee' end, d.unit_code, d.supplement_reason, null, d.paused_since, null, false
      from dossiers d where d.id > ${firstId}::bigint and d.status in (5, 6)`.execute(c)
    // Keep the gapless numbering consistent: each agency-day counter at least its highest number.
    await sql`insert into dossier_counters (agency_code, day, last)
      select d.unit_code, split_part(substring(d.code from length(d.unit_code) + 2), '-', 1), max(split_part(substring(d.code from length(d.unit_code) + 2), '-', 2)::int)
      from dossiers d where d.id > ${firstId}::bigint group by 1, 2
      on conflict (agency_code, day, province_code) do update set last = greatest(dossier_counters.last, excluded.last)`.execute(c)
    await sql`reset synchronous_commit`.execute(c)
    return { inserted: count, nextIndex: start + count, ms: performance.now() - t0 }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { openDatabase } = await import('../src/platform/db/database.ts')
  const [url, n, from] = process.argv.slice(2)
  if (!url || !n) {
    console.error('usage: npx tsx bench/dossier-generator.ts <databaseUrl> <count> [startIndex]')
    process.exit(2)
  }
  const database = await openDatabase({ databaseUrl: url, dataDir: '' })
  try {
    const r = await generateDossiers(database.db, Number(n), { startIndex: Number(from ?? 0), onProgress: (d, t, ms) => console.error(`${d}/${t} in ${(ms / 1000).toFixed(1)} s`) })
    console.log(JSON.stringify(r))
  } finally {
    await database.close()
  }
}
