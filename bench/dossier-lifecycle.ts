// Dossier lifecycle bench: N concurrent workers each loop submit (citizen, multipart with the two
// required PDFs, Idempotency-Key) → receive → process → resolve → return (officer of the commune)
// through the HTTP API of the real server process on a scratch PostgreSQL database, counting
// completed lifecycles per second and each step's latency. Then, for fall-off, synthetic dossiers
// are loaded with bench/dossier-generator.ts and the rate is measured again at each preload size.
//   npx tsx bench/dossier-lifecycle.ts [seconds] [preload list, e.g. 0,100000,1000000] [concurrency] [units]
// (units: how many communes the workers spread over, one officer each; default 1)
// BENCH_SERVERS=N starts N server processes on the same database, workers spread over them.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { createScratchDatabase } from '../src/platform/testing/scratch-database.ts'
import { openDatabase, type Db } from '../src/platform/db/database.ts'
import { createTestUser, type TestUser } from '../src/modules/identity/test-factories.ts'
import { startServerProcess } from '../src/platform/testing/server-process.ts'
import { generateDossiers } from './dossier-generator.ts'
import { postgresPids, procCpuUs } from './lib/processes.ts'

/** Birth registration: commune level, no fee, fully online; needs to_khai and giay_chung_sinh. */
const PROCEDURE = '1.001193'
const STEPS = ['submit', 'receive', 'process', 'resolve', 'return'] as const
type Step = (typeof STEPS)[number]

const PDF = Buffer.from('%PDF-1.4\n% bench\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

interface Reply { status: number; body: string }

function send(agent: Agent, url: URL, headers: Record<string, string>, body: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

function multipart(fields: Record<string, string>, files: { field: string; name: string; data: Buffer }[]) {
  const boundary = `----hoabanbench${Math.random().toString(16).slice(2)}`
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: application/pdf\r\n\r\n`), f.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const idle = f[3] + f[4]
  return (f.reduce((a, b) => a + b, 0) - idle) / 100
}


/**
 * CPU used by all postgres processes over a window: samples every 250 ms and sums, per pid, the
 * last value seen minus the first (0 for a process born during the window), so short-lived
 * processes (autovacuum workers) neither vanish nor subtract.
 */
function postgresCpuMeter(database?: string) {
  const first = new Map<number, number>()
  const last = new Map<number, number>()
  const sample = (initial: boolean) => {
    for (const pid of postgresPids(database)) {
      const c = procCpuUs(pid) / 1e6
      if (!first.has(pid)) first.set(pid, initial ? c : 0)
      last.set(pid, c)
    }
  }
  sample(true)
  const timer = setInterval(() => sample(false), 250)
  return {
    stop(): number {
      clearInterval(timer)
      sample(false)
      let t = 0
      for (const [pid, c] of last) t += Math.max(0, c - (first.get(pid) ?? 0))
      return t
    },
  }
}

export interface PhaseResult {
  preload: number
  loadSeconds: number
  lifecyclesPerSecond: number
  lifecycles: number
  errors: number
  steps: Record<Step, { p50: number; p99: number; n: number }>
  /** postgres: every postgres process of the cluster; postgresDb: only the bench database's backends. */
  cpu: { server: number; postgres: number; postgresDb: number; bench: number; machine: number }
  dossiers: number
  slips: number
  /** Database commits (transactions, incl. single statements) per HTTP request, from pg_stat_database. */
  commitsPerRequest: number
}

interface Actors { citizens: TestUser[]; officers: Map<string, TestUser>; units: string[] }

/** Transactions committed in the current database so far (every statement outside a transaction counts one). */
async function commitsSoFar(db: Db): Promise<number> {
  await sql`select pg_stat_force_next_flush()`.execute(db).catch(() => {})
  const { rows } = await sql<{ n: string }>`select xact_commit::text as n from pg_stat_database where datname = current_database()`.execute(db)
  return Number(rows[0]?.n ?? 0)
}

async function measure(serverUrls: string[], serverPids: number[], actors: Actors, seconds: number, concurrency: number, record: boolean, database?: string) {
  const bases = serverUrls.map((u) => new URL(u))
  const serversCpu = () => serverPids.reduce((sum, pid) => sum + procCpuUs(pid) / 1e6, 0)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency * 2 })
  const lat: Record<Step, number[]> = { submit: [], receive: [], process: [], resolve: [], return: [] }
  let lifecycles = 0
  let errors = 0
  const firstErrors: string[] = []
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  const cpu0 = { server: serversCpu(), bench: process.cpuUsage(), machine: machineBusy() }
  const pgMeter = postgresCpuMeter()
  const pgDbMeter = postgresCpuMeter(database)
  const worker = async (w: number) => {
    const citizen = actors.citizens[w % actors.citizens.length]
    const unit = actors.units[w % actors.units.length]
    const officer = actors.officers.get(unit)!
    // With several server processes (BENCH_SERVERS), worker w talks to server w mod N, as behind a load balancer.
    const base = bases[w % bases.length]
    let n = 0
    while (performance.now() < end) {
      n++
      const { body, contentType } = multipart(
        { procedure_code: PROCEDURE, commune_code: unit, applicant_name: `Lò Thị Bench ${w}-${n}`, applicant_phone: '0912345678' },
        [{ field: 'to_khai', name: 'to-khai.pdf', data: PDF }, { field: 'giay_chung_sinh', name: 'giay-chung-sinh.pdf', data: PDF }],
      )
      let s = performance.now()
      const r = await send(agent, new URL('/api/dossiers', base), { ...citizen.headers, 'content-type': contentType, 'idempotency-key': `bench-${process.pid}-${w}-${n}-${Math.random().toString(36).slice(2)}` }, body)
      let e = performance.now()
      if (r.status !== 201) {
        errors++
        if (firstErrors.length < 5) firstErrors.push(`submit ${r.status} ${r.body.slice(0, 300)}`)
        continue
      }
      if (e <= end) lat.submit.push(e - s)
      const code = (JSON.parse(r.body) as { code: string }).code
      let ok = true
      for (const step of STEPS.slice(1)) {
        s = performance.now()
        const a = await send(agent, new URL(`/api/dossiers/${code}/${step}`, base), { ...officer.headers, 'content-type': 'application/json' }, '{}')
        e = performance.now()
        if (a.status !== 200) {
          errors++
          if (firstErrors.length < 5) firstErrors.push(`${step} ${a.status} ${a.body.slice(0, 300)}`)
          ok = false
          break
        }
        if (e <= end) lat[step].push(e - s)
      }
      if (ok && e <= end) lifecycles++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  const elapsed = (Math.min(performance.now(), end) - t0) / 1000
  const b = process.cpuUsage(cpu0.bench)
  const cpu = {
    server: (serversCpu() - cpu0.server) / elapsed,
    postgres: pgMeter.stop() / elapsed,
    postgresDb: pgDbMeter.stop() / elapsed,
    bench: (b.user + b.system) / 1e6 / elapsed,
    machine: (machineBusy() - cpu0.machine) / elapsed,
  }
  agent.destroy()
  if (record && firstErrors.length) console.error(`errors (first ${firstErrors.length}):\n  ${firstErrors.join('\n  ')}`)
  const steps = Object.fromEntries(STEPS.map((k) => [k, { p50: pct(lat[k], 50), p99: pct(lat[k], 99), n: lat[k].length }])) as PhaseResult['steps']
  const requests = STEPS.reduce((n, k) => n + lat[k].length, 0)
  return { lifecycles, lifecyclesPerSecond: lifecycles / seconds, errors, steps, cpu, requests }
}

/** CPU time (ms, node + postgres) spent per completed lifecycle: the figure that holds on a busy machine. */
export const cpuPerLifecycle = (r: PhaseResult) => ((r.cpu.server + r.cpu.postgres) * 1000) / r.lifecyclesPerSecond
/** The same with only the bench database's backends counted for PostgreSQL (steadier on a shared machine). */
export const cpuPerLifecycleOwn = (r: PhaseResult) => ((r.cpu.server + r.cpu.postgresDb) * 1000) / r.lifecyclesPerSecond
const msPer = (cores: number, r: PhaseResult) => ((cores * 1000) / r.lifecyclesPerSecond).toFixed(1)
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const pctCpu = (x: number) => `${Math.round(x * 100)}%`

export function markdownTable(results: PhaseResult[], concurrency: number, seconds: number): string {
  const head = ['preload (synthetic dossiers)', 'load time', 'lifecycles/s', ...STEPS.map((s) => `${s} p50 / p99 ms`), 'errors', 'CPU node / postgres / bench / whole machine', 'dossiers after', 'control slips after', 'commits / request', 'CPU ms / lifecycle (node + postgres)']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of results) {
    lines.push(`| ${r.preload.toLocaleString('en')} | ${r.loadSeconds ? `${r.loadSeconds.toFixed(0)} s` : '–'} | **${r.lifecyclesPerSecond.toFixed(1)}** | ${STEPS.map((s) => `${f1(r.steps[s].p50)} / ${f1(r.steps[s].p99)}`).join(' | ')} | ${r.errors} | ${pctCpu(r.cpu.server)} / ${pctCpu(r.cpu.postgres)} / ${pctCpu(r.cpu.bench)} / ${pctCpu(r.cpu.machine)} | ${r.dossiers.toLocaleString('en')} | ${r.slips.toLocaleString('en')} | ${r.commitsPerRequest.toFixed(1)} | ${cpuPerLifecycle(r).toFixed(1)} |`)
  }
  lines.push('', `${concurrency} workers, ${seconds} s per measurement; one lifecycle = 5 HTTP requests (submit multipart with 2 PDFs, then receive, process, resolve, return). CPU in cores (100% = one core, 200% = this whole machine) over the measurement window.`)
  return lines.join('\n')
}

export async function runDossierLifecycleBench(opts: { databaseUrl?: string; seconds?: number; concurrency?: number; preload?: number[]; units?: number } = {}) {
  const seconds = opts.seconds ?? 20
  const concurrency = opts.concurrency ?? 8
  const preload = [...(opts.preload ?? [0])].sort((a, b) => a - b)
  const baseUrl = opts.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const scratch = await createScratchDatabase(baseUrl, `hb_bench_dossier_${process.pid}`)
  const databaseUrl = scratch.url
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-bench-'))
  const nServers = Math.max(1, Number(process.env.BENCH_SERVERS ?? 1))
  const env = {
    DATABASE_URL: databaseUrl, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_CLIENT: '100000000',
    LOG_LEVEL: 'warn', RUN_JOBS: 'false', SEED_DEMO: 'false',
  }
  // The first server migrates and seeds; the others start on the ready database.
  const servers = [await startServerProcess(env)]
  for (let i = 1; i < nServers; i++) servers.push(await startServerProcess(env))
  const server = servers[0]
  const database = await openDatabase({ databaseUrl, dataDir, poolSize: 2 })
  const db = database.db
  try {
    for (const x of servers) if (x.child.exitCode !== null) throw new Error(`server did not start:\n${x.output()}`)
    // The handling unit(s): communes; one officer per unit, one citizen per worker.
    const nUnits = Math.max(1, opts.units ?? 1)
    const { rows: units } = await sql<{ code: string }>`select code from org_units where kind = 'commune' order by code limit ${nUnits}`.execute(db)
    if (!units.length) throw new Error('no commune org units: reference data missing')
    const actors: Actors = { citizens: [], officers: new Map(), units: units.map((x) => x.code) }
    for (const x of units) actors.officers.set(x.code, await createTestUser(db, 'officer', x.code))
    for (let i = 0; i < concurrency; i++) actors.citizens.push(await createTestUser(db, 'citizen'))
    const serverUrls = servers.map((x) => x.url)
    const serverPids = servers.map((x) => x.child.pid!)

    const results: PhaseResult[] = []
    let loaded = 0
    let nextIndex = 0
    for (const target of preload) {
      let loadSeconds = 0
      if (target > loaded) {
        const t = performance.now()
        const g = await generateDossiers(db, target - loaded, { startIndex: nextIndex, onProgress: (d, tot, ms) => console.error(`  generated ${d.toLocaleString('en')}/${tot.toLocaleString('en')} (${(ms / 1000).toFixed(1)} s)`) })
        nextIndex = g.nextIndex
        loaded = target
        // What autovacuum would have done by the time a database grew this large.
        await sql`vacuum analyze dossiers, dossier_control_slips, dossier_files, dossier_pauses, dossier_counters`.execute(db)
        await sql`checkpoint`.execute(db)
        loadSeconds = (performance.now() - t) / 1000
        // Let the bulk load's aftermath (kernel writeback, autovacuum) settle: wait (≤ 90 s) for a quiet second.
        for (let i = 0; i < 90; i++) {
          const b0 = machineBusy()
          await new Promise((r) => setTimeout(r, 1000))
          if (machineBusy() - b0 < 0.15) break
        }
        console.error(`preloaded ${target.toLocaleString('en')} synthetic dossiers in ${loadSeconds.toFixed(1)} s (incl. vacuum analyze)`)
      }
      await measure(serverUrls, serverPids, actors, 3, concurrency, false) // warm-up
      await new Promise((r) => setTimeout(r, 1200)) // let the server's statistics of the warm-up reach pg_stat_database
      const c0 = await commitsSoFar(db)
      const m = await measure(serverUrls, serverPids, actors, seconds, concurrency, true, new URL(databaseUrl).pathname.slice(1))
      await new Promise((r) => setTimeout(r, 1200))
      const commits = (await commitsSoFar(db)) - c0 - 2
      const { rows: [c] } = await sql<{ d: number; s: number }>`select (select count(*)::int from dossiers) as d, (select count(*)::int from dossier_control_slips) as s`.execute(db)
      const r: PhaseResult = { preload: target, loadSeconds, ...m, dossiers: c.d, slips: c.s, commitsPerRequest: m.requests ? commits / m.requests : NaN }
      results.push(r)
      console.error(`preload ${target}: ${r.lifecyclesPerSecond.toFixed(1)} lifecycles/s, ${r.commitsPerRequest.toFixed(1)} commits/request, ${cpuPerLifecycle(r).toFixed(1)} CPU ms/lifecycle (own: node ${msPer(r.cpu.server, r)} + db backends ${msPer(r.cpu.postgresDb, r)} = ${cpuPerLifecycleOwn(r).toFixed(1)}), errors ${r.errors}, cpu node ${pctCpu(r.cpu.server)} postgres ${pctCpu(r.cpu.postgres)} bench ${pctCpu(r.cpu.bench)} machine ${pctCpu(r.cpu.machine)}`)
    }
    const table = markdownTable(results, concurrency, seconds)
    return { seconds, concurrency, results, table }
  } finally {
    await database.close()
    for (const x of servers) x.child.kill('SIGTERM')
    await Promise.all(servers.map((x) => x.exited))
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.argv[2] ?? 20)
  const preload = (process.argv[3] ?? '0').split(',').map((s) => Number(s.replace(/_/g, '')))
  const concurrency = Number(process.argv[4] ?? 8)
  const units = Number(process.argv[5] ?? 1)
  const r = await runDossierLifecycleBench({ seconds, preload, concurrency, units })
  console.log(r.table)
}
