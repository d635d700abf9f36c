// Scale bench (issue 10 §3): the hot paths at 1× and 10× generated province-year data on PostgreSQL.
// For each size: a scratch database, migrated and filled by bench/generate-province-year.ts, one
// server process on it (src/main.ts via startServerProcess, jobs off), then rounds of one request
// per path, one at a time, each path's latency taken in the same round as the baseline request
// (GET /healthz on the same server: routing, auth hooks, JSON, no database), so every figure is a
// ratio to a baseline measured seconds apart on the same busy machine. The audit append is timed
// in this process as `select audit_append(…)` in its own transaction against `select 1`.
// Growth = ratio at 10× / ratio at 1×.
//   npx tsx bench/scale.ts [sizes, default 1,10] [rounds, default 60] [provinces, default 1]
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { openDatabase, type Db } from '../src/platform/db/database.ts'
import { createScratchDatabase } from '../src/platform/testing/scratch-database.ts'
import { startServerProcess } from '../src/platform/testing/server-process.ts'
import { createTestUser } from '../src/modules/identity/test-factories.ts'
import { generateProvinceYear, prepareDatabase, ONE_X } from './generate-province-year.ts'

const PROCEDURE = '1.001193' // birth registration: commune level, online, no fee; to_khai + giay_chung_sinh
const PDF = Buffer.from('%PDF-1.4\n% bench\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

interface Reply { status: number; body: string; ms: number }

function send(agent: Agent, url: URL, method: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t = performance.now()
    const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }
    const req = httpRequest({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: h }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

function multipart(fields: Record<string, string>, files: { field: string; name: string; data: Buffer }[]) {
  const boundary = `----hoabanscale${Math.random().toString(16).slice(2)}`
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: application/pdf\r\n\r\n`), f.data, Buffer.from('\r\n'))
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN
}

export const PATHS = ['report.submit', 'report.queue', 'report.list', 'report.map', 'dossier.submit', 'dossier.receive', 'document.register', 'audit.append'] as const
type PathName = (typeof PATHS)[number]

export interface SizeResult {
  size: number
  rows: Awaited<ReturnType<typeof generateProvinceYear>>
  generateSeconds: number
  baselineMs: number
  sqlBaselineMs: number
  paths: Record<PathName, { medianMs: number; ratio: number; n: number }>
  errors: string[]
}

async function runSize(base: string, size: number, rounds: number, provinces: number): Promise<SizeResult> {
  const scratch = await createScratchDatabase(base, `hb_bench_scale_${process.pid}_${String(size).replace('.', '_')}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-scale-'))
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined
  const database = await (async () => { await prepareDatabase(scratch.url); return openDatabase({ databaseUrl: scratch.url, dataDir: '', poolSize: 2 }) })()
  const db: Db = database.db
  try {
    const t0 = performance.now()
    const rows = await generateProvinceYear(db, { provinces, scale: size, log: (m) => console.error(`[${size}×] ${m}`) })
    const generateSeconds = (performance.now() - t0) / 1000
    await sql`analyze`.execute(db)
    server = await startServerProcess({ DATABASE_URL: scratch.url, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000000', LOG_LEVEL: 'warn', RUN_JOBS: 'false' })
    const url = new URL(server.url)
    const { rows: [unit] } = await sql<{ code: string }>`select code from org_units where kind = 'commune' order by code limit 1`.execute(db)
    const { rows: [agency] } = await sql<{ code: string }>`select agency_code as code from documents group by 1 order by count(*) desc limit 1`.execute(db)
    const officer = await createTestUser(db, 'officer', unit.code)
    const clerk = await createTestUser(db, 'officer', agency.code)
    const citizen = await createTestUser(db, 'citizen')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const at = (p: string) => new URL(p, url)
    const errors: string[] = []
    const lat: Record<PathName, number[]> = Object.fromEntries(PATHS.map((p) => [p, []])) as unknown as Record<PathName, number[]>
    const baseline: number[] = []
    const sqlBaseline: number[] = []
    const check = (name: string, r: Reply, ok: number) => {
      if (r.status !== ok && errors.length < 10) errors.push(`${name} ${r.status} ${r.body.slice(0, 200)}`)
      return r
    }
    const idem = () => `scale-${process.pid}-${Math.random().toString(36).slice(2)}`
    const json = (u: { headers: Record<string, string> } | null) => ({ ...(u?.headers ?? {}), 'content-type': 'application/json', 'idempotency-key': idem() })
    // Anything still printed by a warm-up is not counted.
    for (let round = -5; round < rounds; round++) {
      const keep = round >= 0
      const note = (p: PathName, r: Reply) => { if (keep) lat[p].push(r.ms) }
      const b = await send(agent, at('/healthz'), 'GET', {})
      if (keep) baseline.push(b.ms)
      note('report.submit', check('report.submit', await send(agent, at('/api/reports'), 'POST', json(null),
        JSON.stringify({ category: 'traffic', description: `Bench quy mô ${round}: ổ gà`, lat: 21.3856, lon: 103.0167, channel: 'app' })), 201))
      note('report.queue', check('report.queue', await send(agent, at('/api/reports/queue'), 'GET', officer.headers), 200))
      note('report.list', check('report.list', await send(agent, at('/api/reports?limit=20'), 'GET', {}), 200))
      note('report.map', check('report.map', await send(agent, at('/api/reports.geojson?limit=200'), 'GET', {}), 200))
      const mp = multipart({ procedure_code: PROCEDURE, commune_code: unit.code, applicant_name: `Lò Thị Quy Mô ${round}`, applicant_phone: '0912345678' },
        [{ field: 'to_khai', name: 'to-khai.pdf', data: PDF }, { field: 'giay_chung_sinh', name: 'giay-chung-sinh.pdf', data: PDF }])
      const sub = check('dossier.submit', await send(agent, at('/api/dossiers'), 'POST', { ...citizen.headers, 'content-type': mp.contentType, 'idempotency-key': idem() }, mp.body), 201)
      note('dossier.submit', sub)
      const code = sub.status === 201 ? (JSON.parse(sub.body) as { code: string }).code : null
      if (code) note('dossier.receive', check('dossier.receive', await send(agent, at(`/api/dossiers/${code}/receive`), 'POST', json(officer), '{}'), 200))
      note('document.register', check('document.register', await send(agent, at('/api/documents/incoming'), 'POST', json(clerk),
        JSON.stringify({ doc_type: 'CV', symbol: `${round}/SXD-QLXD`, issuer: 'Sở Xây dựng tỉnh Điện Biên', issued_at: '2026-06-10', summary: `Bench quy mô ${round}` })), 201))
      let t = performance.now()
      await db.transaction().execute((tx) => sql`select 1`.execute(tx))
      if (keep) sqlBaseline.push(performance.now() - t)
      t = performance.now()
      await db.transaction().execute((tx) => sql`select audit_append(now(), 'system', 'bench.scale', 'bench', ${String(round)}, '{}'::jsonb)`.execute(tx))
      if (keep) lat['audit.append'].push(performance.now() - t)
    }
    agent.destroy()
    const bm = median(baseline)
    const sm = median(sqlBaseline)
    const paths = Object.fromEntries(PATHS.map((p) => {
      const m = median(lat[p])
      return [p, { medianMs: m, ratio: m / (p === 'audit.append' ? sm : bm), n: lat[p].length }]
    })) as SizeResult['paths']
    return { size, rows, generateSeconds, baselineMs: bm, sqlBaselineMs: sm, paths, errors }
  } finally {
    if (server) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    await database.close()
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export function markdown(results: SizeResult[]): string {
  const lines: string[] = []
  lines.push(`| size | reports | report_history | dossiers | control slips | documents | audit rows added | generate s | baseline ms (HTTP / SQL) |`, '|---|---|---|---|---|---|---|---|---|')
  for (const r of results) lines.push(`| ${r.size}× | ${r.rows.reports.toLocaleString('en')} | ${r.rows.reportHistory.toLocaleString('en')} | ${r.rows.dossiers.toLocaleString('en')} | ${r.rows.controlSlips.toLocaleString('en')} | ${r.rows.documents.toLocaleString('en')} | ${r.rows.auditRows.toLocaleString('en')} | ${r.generateSeconds.toFixed(0)} | ${r.baselineMs.toFixed(2)} / ${r.sqlBaselineMs.toFixed(2)} |`)
  lines.push('')
  const head = ['path', ...results.map((r) => `${r.size}× median ms (ratio to baseline)`), ...(results.length >= 2 ? [`growth ${results[0].size}×→${results[results.length - 1].size}× (ratio of ratios)`] : [])]
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`)
  for (const p of PATHS) {
    const cells = results.map((r) => `${r.paths[p].medianMs.toFixed(2)} (${r.paths[p].ratio.toFixed(1)}×)`)
    const growth = results.length >= 2 ? [(results[results.length - 1].paths[p].ratio / results[0].paths[p].ratio).toFixed(2)] : []
    lines.push(`| ${p} | ${cells.join(' | ')} | ${growth.join(' | ')}`)
  }
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.argv[2] ?? '1,10').split(',').map(Number)
  const rounds = Number(process.argv[3] ?? 60)
  const provinces = Number(process.argv[4] ?? 1)
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  console.error(`1× per province = ${JSON.stringify(ONE_X)}; provinces ${provinces}; sizes ${sizes.join(', ')}; rounds ${rounds}`)
  const results: SizeResult[] = []
  for (const s of sizes) {
    const r = await runSize(base, s, rounds, provinces)
    console.error(markdown([r]))
    if (r.errors.length) console.error(`[${s}×] errors:\n  ${r.errors.join('\n  ')}`)
    results.push(r)
  }
  console.log(JSON.stringify(results, null, 2))
  console.log(markdown(results))
}
