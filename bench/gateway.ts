// Gateway bench (issue 7): the same local provider called directly and through /gw/… with the
// signed message log on, measured one after the other in the same run. Goals: ≤ 1 ms added at
// p50 and ≥ 70% of the direct request rate.
//   npx tsx bench/gateway.ts                      quick: 5 s per measurement, embedded PGlite
//   GATEWAY_BENCH_SECONDS=20 npx tsx bench/gateway.ts            full size
//   GATEWAY_BENCH_CONNECTIONS=N …   N connections for the rate windows (default 10)
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test … the log on PostgreSQL
// Two provider scenarios, reported side by side, each measured direct vs through /gw/ (and
// through a bare node:http proxy, the floor of any Node proxy) with the same load:
//  - echo: a node:http server answering 180 bytes of constant JSON (~20 µs CPU a call);
//  - agency: an agency registry as on the LGSP, a node:http service answering a citizen record
//    by id (random among 100 000 rows) from PostgreSQL through a `pg` pool (~1.4 KB JSON). Needs
//    a PostgreSQL server: AGENCY_DATABASE_URL, else BENCH_DATABASE_URL; skipped without one.
//    Its CPU per call counts the service process AND its PostgreSQL backends (/proc/<pid>/stat).
// Processes: the providers, the bare proxies, the platform (gateway) and this one (the load).
// Throughput: autocannon, 10 connections. Latency: sequential requests timed with
// performance.now() (autocannon's histogram is in whole milliseconds, too coarse for 1 ms).
// GATEWAY_BENCH_PIN=1 places the processes as on the LGSP, where the gateway is its own machine:
// core 0 holds the callers' load generator (this process), the providers and the agency's
// PostgreSQL backends; core 1 holds the gateway (and the bare proxies) with its log's PostgreSQL
// backends. The direct calls run on core 0 alone, the proxied ones on core 0 plus the gateway's
// core, so the ratio says whether the gateway, given its own core, holds the provider back.
// Without it every process floats over the same 2 cores (the gateway's CPU is taken from the
// provider and the load generator: a CPU split, not the gateway's capacity).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Pool } from 'undici'
import { cpuOverIpc as cpu, ECHO_PROVIDER, firstLine, lineWith, pinToCores, postgresPids, procCpuUs, spawnJs } from './lib/processes.ts'


// The floor for any proxy in Node: a bare node:http reverse proxy (keep-alive agent, no checks,
// no log) that reads each request and response and writes them again. Measured in the same run.
const BARE_PROXY = `
const http = require('node:http')
const [host, port] = [process.env.UPSTREAM_HOST, Number(process.env.UPSTREAM_PORT)]
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
const s = http.createServer((req, res) => {
  const up = http.request({ host, port, path: req.url, method: req.method, headers: { accept: req.headers.accept ?? '*/*' }, agent }, (r) => {
    const chunks = []
    r.on('data', (c) => chunks.push(c))
    r.on('end', () => { const b = Buffer.concat(chunks); res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'] ?? 'application/octet-stream', 'content-length': b.length }); res.end(b) })
  })
  up.on('error', () => { res.statusCode = 502; res.end() })
  req.pipe(up)
})
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })))
process.on('SIGTERM', () => process.exit(0))
process.on('message', () => process.send(process.cpuUsage()))
`

/** Rows in the agency's table (citizens of the registry the agency service answers from). */
const AGENCY_ROWS = Number(process.env.AGENCY_ROWS ?? 100_000)

/** Creates and fills the agency's table (one statement, then analyze). */
async function seedAgency(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(`create table agency_citizen (
    id bigint primary key, national_id text not null unique, full_name text not null, birth_date date not null, gender text not null,
    ethnicity text not null, religion text not null, nationality text not null, hometown jsonb not null, permanent_address jsonb not null,
    current_address jsonb not null, household_id text not null, relation_to_head text not null, father_name text, mother_name text,
    spouse_name text, id_card jsonb not null, phone text, occupation text, education text, marital_status text not null, updated_at timestamptz not null)`)
  await c.query(`insert into agency_citizen
    select g, lpad((1090000000 + g)::text, 12, '0'), 'Nguyễn Thị Minh ' || g, date '1950-01-01' + (g % 25000), case when g % 2 = 0 then 'Nam' else 'Nữ' end,
      'Kinh', 'Không', 'Việt Nam',
      jsonb_build_object('province_code', '11', 'province', 'Tỉnh Điện Biên', 'district_code', '11' || lpad((g % 10)::text, 3, '0'), 'district', 'Huyện Mường Ảng', 'ward_code', lpad((g % 130)::text, 5, '0'), 'ward', 'Xã Ẳng Nưa'),
      jsonb_build_object('province_code', '11', 'province', 'Tỉnh Điện Biên', 'district', 'Thành phố Điện Biên Phủ', 'ward', 'Phường Mường Thanh', 'street', 'Số ' || (g % 400) || ' đường Võ Nguyên Giáp', 'village', 'Tổ dân phố ' || (g % 30)),
      jsonb_build_object('province_code', '11', 'province', 'Tỉnh Điện Biên', 'district', 'Thành phố Điện Biên Phủ', 'ward', 'Phường Him Lam', 'street', 'Số ' || (g % 250) || ' đường Hoàng Văn Thái', 'village', 'Tổ dân phố ' || (g % 25)),
      'HK' || lpad((g / 4)::text, 10, '0'), case when g % 4 = 0 then 'Chủ hộ' else 'Con' end, 'Nguyễn Văn Bình ' || (g / 4), 'Lò Thị Hoa ' || (g / 4),
      case when g % 3 = 0 then 'Trần Văn Nam ' || g end,
      jsonb_build_object('number', lpad((1090000000 + g)::text, 12, '0'), 'issued_on', (date '2021-01-01' + (g % 1000))::text, 'issued_by', 'Cục Cảnh sát quản lý hành chính về trật tự xã hội', 'expires_on', (date '2046-01-01' + (g % 1000))::text),
      '09' || lpad((g % 100000000)::text, 8, '0'), 'Giáo viên trung học cơ sở', 'Đại học sư phạm', case when g % 3 = 0 then 'Đã kết hôn' else 'Chưa kết hôn' end,
      timestamptz '2026-01-01' + make_interval(secs => g)
    from generate_series(1, ${AGENCY_ROWS}) g`)
  await c.query('analyze agency_citizen')
  await c.end()
}

/** The agency service: GET /citizens/{id} → the citizen's record as JSON, read through a `pg` pool. */
async function agency(): Promise<void> {
  const { default: pg } = await import('pg')
  const { createServer } = await import('node:http')
  const size = Number(process.env.AGENCY_POOL ?? 8)
  const pool = new pg.Pool({ connectionString: process.env.AGENCY_DATABASE_URL, max: size, idleTimeoutMillis: 0 })
  // All clients held at once to learn their backends' pids: their CPU is the agency's too.
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()))
  const pids: number[] = []
  for (const c of clients) pids.push(Number((await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid))
  for (const c of clients) c.release()
  const backendCpuUs = () => pids.reduce((sum, pid) => sum + procCpuUs(pid), 0)
  const text = 'select * from agency_citizen where id = $1'
  const server = createServer((req, res) => {
    req.resume()
    const m = /^\/citizens\/(\d{1,9})$/.exec(req.url ?? '')
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"error":"NOT_FOUND"}')
      return
    }
    pool.query({ name: 'citizen-by-id', text, values: [Number(m[1])] }).then((r) => {
      const body = r.rows[0] ? JSON.stringify(r.rows[0]) : '{"error":"NOT_FOUND"}'
      res.writeHead(r.rows[0] ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }, () => {
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end('{"error":"DATABASE_UNAVAILABLE"}')
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })))
  process.on('SIGTERM', () => void pool.end().finally(() => process.exit(0)))
  // CPU of the service process plus its database backends
  process.on('message', () => {
    const u = process.cpuUsage()
    process.send!({ user: u.user + backendCpuUs(), system: u.system })
  })
}

/** The gateway process: platform + registry seeded through the module's functions; prints its URL and a key. */
async function serve(): Promise<void> {
  const { loadConfig } = await import('../src/platform/config.ts')
  const { openDatabase } = await import('../src/platform/db/database.ts')
  const { createPlatform } = await import('../src/platform/runtime.ts')
  const { createScratchDatabase } = await import('../src/platform/testing/scratch-database.ts')
  const { geoModule } = await import('../src/modules/geo/index.ts')
  const { identityModule, principalResolver } = await import('../src/modules/identity/index.ts')
  const { calendarModule } = await import('../src/modules/calendar/index.ts')
  const { exchangeModule, exchangeRuntime, readLogRows, verifyMessageLog } = await import('../src/modules/exchange/index.ts')
  const { complianceModule } = await import('../src/modules/compliance/index.ts')
  const reg = await import('../src/modules/exchange/registry.ts')
  const dataDir = process.env.DATA_DIR!
  const scratch = process.env.BENCH_DATABASE_URL ? await createScratchDatabase(process.env.BENCH_DATABASE_URL, `hb_bench_gateway_${process.pid}`) : undefined
  const database = await openDatabase({ databaseUrl: scratch?.url, dataDir })
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000000', LOG_LEVEL: 'warn', RUN_JOBS: 'false', SEED_DEMO: 'false', NODE_ENV: 'production' })
  const platform = await createPlatform({ config, database, modules: [geoModule, identityModule, calendarModule, exchangeModule, complianceModule], principalResolver })
  const db = platform.ctx.db
  const now = new Date()
  const apiKey = await db.transaction().execute(async (tx) => {
    await reg.createMember(tx, { code: 'SYT', name: 'Sở Y tế', unit_code: '11.SYT' }, 'system', now)
    await reg.createMember(tx, { code: 'SXD', name: 'Sở Xây dựng', unit_code: '11.SXD' }, 'system', now)
    const his = await reg.createSystem(tx, { member_code: 'SYT', code: 'his', name: 'HIS' }, 'system', now)
    const caller = await reg.createSystem(tx, { member_code: 'SXD', code: 'permits', name: 'Permits' }, 'system', now)
    const svc = await reg.createService(tx, { system_id: his.system.id, code: 'patients', name: 'Patients', base_url: process.env.PROVIDER_URL! }, 'system', now)
    await reg.grantRight(tx, { service_id: svc.id, system_id: caller.system.id, valid_from: new Date(now.getTime() - 60_000), valid_until: null }, 'system', now)
    if (process.env.AGENCY_URL) {
      await reg.createMember(tx, { code: 'CA', name: 'Công an tỉnh', unit_code: '11.CA' }, 'system', now)
      const registry = await reg.createSystem(tx, { member_code: 'CA', code: 'dancu', name: 'Cơ sở dữ liệu dân cư (tỉnh)' }, 'system', now)
      const citizens = await reg.createService(tx, { system_id: registry.system.id, code: 'citizens', name: 'Citizens', base_url: process.env.AGENCY_URL }, 'system', now)
      await reg.grantRight(tx, { service_id: citizens.id, system_id: caller.system.id, valid_from: new Date(now.getTime() - 60_000), valid_until: null }, 'system', now)
    }
    return caller.apiKey
  })
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  process.on('message', () => process.send!(process.cpuUsage()))
  const port = (platform.app.server.address() as { port: number }).port
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, key: apiKey, db: scratch ? 'postgres' : 'pglite', database: scratch ? `hb_bench_gateway_${process.pid}` : '' }))
  process.once('SIGTERM', async () => {
    await platform.app.close()
    await exchangeRuntime(platform.ctx).log.flush()
    const rows = []
    for await (const r of readLogRows(db)) rows.push(r)
    const v = verifyMessageLog(rows, exchangeRuntime(platform.ctx).key.publicKey)
    // records per signature: how many calls one Ed25519 signature covered on average
    console.log(JSON.stringify({ logged: rows.length, signatures: rows.filter((r) => r.signature).length, verified: v.ok, firstBad: v.firstBad }))
    await platform.close()
    await database.close()
    await scratch?.drop()
    process.exit(0)
  })
}



/** A path per request: a fixed one, or a new one drawn for every request (autocannon's setupRequest). */
type PathFn = string | (() => string)

async function throughput(origin: string, path: PathFn, headers: Record<string, string>, seconds: number, connections: number) {
  const requests = typeof path === 'string' ? undefined : [{ setupRequest: (r: Record<string, unknown>) => ({ ...r, path: path() }) }]
  const r = await autocannon({ url: `${origin}${typeof path === 'string' ? path : path()}`, headers, duration: seconds, connections, requests } as autocannon.Options)
  // A rate that counts refusals (429, 5xx) or failed connections is not a rate of served calls.
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${origin}: ${r.non2xx} non-2xx answers and ${r.errors} errors in a measurement window: the figures would be wrong`)
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx, total: r.requests.total }
}

async function latency(origin: string, path: PathFn, headers: Record<string, string>, n: number) {
  const pool = new Pool(origin, { connections: 1 })
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const p = typeof path === 'string' ? path : path()
    const t0 = performance.now()
    const res = await pool.request({ path: p, method: 'GET', headers })
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode} for ${origin}${p}`)
    t.push(performance.now() - t0)
  }
  await pool.close()
  t.sort((a, b) => a - b)
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]
  return { n, p50: q(0.5), p95: q(0.95), p99: q(0.99) }
}


/**
 * One provider scenario: the provider called directly, through /gw/ and through the bare proxy,
 * one after the other with the same load (2 cores shared: never at once).
 */
async function scenario(s: { provider: ChildProcess; providerOrigin: string; bare: ChildProcess; bareOrigin: string; gateway: ChildProcess; gwOrigin: string; gwPrefix: string; path: (draw: boolean) => PathFn; key: Record<string, string>; seconds: number; rounds: number; connections: number; gatewayDbCpu: () => Map<number, number>; place: () => void }) {
  const { seconds, connections } = s
  const n = seconds * 400
  const direct = s.path(true)
  const via = (prefix: string): PathFn => (typeof direct === 'string' ? `${prefix}${direct}` : () => `${prefix}${direct()}`)
  const proxied = via(s.gwPrefix)
  // Warm-up both, then measure each in turn.
  await throughput(s.providerOrigin, direct, {}, 2, connections)
  await throughput(s.gwOrigin, proxied, s.key, 2, connections)
  const latDirect = await latency(s.providerOrigin, direct, {}, n)
  const latGateway = await latency(s.gwOrigin, proxied, s.key, n)
  const latBare = await latency(s.bareOrigin, direct, {}, n)
  // pools have opened their connections by now: (re)place their database backends on their cores
  s.place()
  await throughput(s.bareOrigin, direct, {}, 2, connections)
  // Rounds of direct → /gw/ → bare proxy, each `seconds`, closed by one more direct window: the
  // direct rate on this shared VM drifts by ±10–15% from one window to the next, so the ratio of
  // a round is its /gw/ (and bare) rate over the mean of the direct windows on either side of it
  // (a drift over the round cancels), reported as the median and the worst round.
  const directs: Rate[] = []
  const windows: { gateway: Rate; bare: Rate }[] = []
  const cpuUs = { provider: 0, gateway: 0, gatewayDb: 0, providerWhenProxied: 0, bare: 0 }
  const directWindow = async () => {
    s.place()
    const p0 = await cpu(s.provider)
    directs.push(await throughput(s.providerOrigin, direct, {}, seconds, connections))
    cpuUs.provider += (await cpu(s.provider)) - p0
  }
  for (let i = 0; i < s.rounds; i++) {
    await directWindow()
    const g0 = await cpu(s.gateway)
    s.place()
    const d0 = s.gatewayDbCpu()
    const p1 = await cpu(s.provider)
    const tGateway = await throughput(s.gwOrigin, proxied, s.key, seconds, connections)
    const d1 = s.gatewayDbCpu()
    const g1 = await cpu(s.gateway)
    const p2 = await cpu(s.provider)
    // The floor: a bare node:http proxy to the same provider, no checks and no log.
    const b0 = await cpu(s.bare)
    const tBare = await throughput(s.bareOrigin, direct, {}, seconds, connections)
    const b1 = await cpu(s.bare)
    windows.push({ gateway: tGateway, bare: tBare })
    cpuUs.gateway += g1 - g0
    for (const [pid, us] of d1) cpuUs.gatewayDb += us - (d0.get(pid) ?? 0)
    cpuUs.providerWhenProxied += p2 - p1
    cpuUs.bare += b1 - b0
  }
  await directWindow()
  const rounds = windows.map((w, i) => {
    const d = (directs[i].rps + directs[i + 1].rps) / 2
    return { direct: directs[i], directAfter: directs[i + 1], gateway: w.gateway, bare: w.bare, ratio: w.gateway.rps / d, bareRatio: w.bare.rps / d }
  })
  const totalDirect = directs.reduce((n, r) => n + r.total, 0)
  const total = (k: 'gateway' | 'bare') => windows.reduce((n, w) => n + w[k].total, 0)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const ratios = rounds.map((r) => r.ratio)
  return {
    latency: { direct: latDirect, gateway: latGateway, bareProxy: latBare, added_p50_ms: latGateway.p50 - latDirect.p50, added_p99_ms: latGateway.p99 - latDirect.p99, bare_added_p50_ms: latBare.p50 - latDirect.p50 },
    rounds,
    throughput: {
      direct: median(directs.map((r) => r.rps)), gateway: median(rounds.map((r) => r.gateway.rps)), bareProxy: median(rounds.map((r) => r.bare.rps)),
      ratio: median(ratios), worstRatio: Math.min(...ratios), bareRatio: median(rounds.map((r) => r.bareRatio)),
    },
    // CPU µs per request over all rounds: the provider's own (direct windows), the gateway
    // process's, its log database's backends (PostgreSQL only; in process with PGlite), the
    // provider's when proxied, and the bare proxy's.
    cpu_us_per_request: { provider: cpuUs.provider / totalDirect, gateway: cpuUs.gateway / total('gateway'), gatewayDb: cpuUs.gatewayDb / total('gateway'), providerWhenProxied: cpuUs.providerWhenProxied / total('gateway'), bareProxy: cpuUs.bare / total('bare') },
  }
}

type Rate = Awaited<ReturnType<typeof throughput>>

export async function runGatewayBench(opts: { seconds?: number; rounds?: number; connections?: number; pin?: boolean } = {}) {
  const seconds = opts.seconds ?? 5
  const rounds = opts.rounds ?? 3
  const connections = opts.connections ?? 10
  const pin = opts.pin ?? false
  // Callers and providers on core 0, the gateway on core 1 (see the header); children inherit.
  const SERVICE_SIDE = '0'
  const GATEWAY_SIDE = '1'
  if (pin) pinToCores(process.pid, SERVICE_SIDE)
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-bench-gw-'))
  const children: ChildProcess[] = []
  const agencyServer = process.env.AGENCY_DATABASE_URL ?? process.env.BENCH_DATABASE_URL
  const { createScratchDatabase } = await import('../src/platform/testing/scratch-database.ts')
  const agencyDbName = `hb_bench_agency_${process.pid}`
  const agencyDb = agencyServer ? await createScratchDatabase(agencyServer, agencyDbName) : undefined
  let gateway: ChildProcess | undefined
  try {
    const provider = spawnJs(ECHO_PROVIDER)
    children.push(provider)
    const { port } = await firstLine(provider)
    const providerUrl = `http://127.0.0.1:${port}`
    const bare = spawnJs(BARE_PROXY, { UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: String(port) })
    if (pin) pinToCores(bare.pid!, GATEWAY_SIDE)
    children.push(bare)
    const bareUrl = `http://127.0.0.1:${(await firstLine(bare)).port}`
    let agencyProc: { proc: ChildProcess; url: string; bare: ChildProcess; bareUrl: string } | undefined
    if (agencyDb) {
      const t0 = performance.now()
      await seedAgency(agencyDb.url)
      console.error(`agency table: ${AGENCY_ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'agency'], { env: { ...process.env, AGENCY_DATABASE_URL: agencyDb.url }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
      children.push(proc)
      const aport = (await firstLine(proc)).port
      const abare = spawnJs(BARE_PROXY, { UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: String(aport) })
      if (pin) pinToCores(abare.pid!, GATEWAY_SIDE)
      children.push(abare)
      agencyProc = { proc, url: `http://127.0.0.1:${aport}`, bare: abare, bareUrl: `http://127.0.0.1:${(await firstLine(abare)).port}` }
    }
    gateway = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', fileURLToPath(import.meta.url), 'serve'], {
      env: { ...process.env, DATA_DIR: dataDir, PROVIDER_URL: providerUrl, AGENCY_URL: agencyProc?.url ?? '', EXCHANGE_NODE: 'bench', EXCHANGE_RATE_LIMIT_PER_SYSTEM: '1000000000' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    if (pin) pinToCores(gateway.pid!, GATEWAY_SIDE)
    const gw = await firstLine(gateway)
    const key = { 'x-exchange-key': gw.key }
    // The log database's backends (PostgreSQL): metered as the gateway's, placed on its core.
    // The pool closes connections idle for 10 s and opens new ones (new backends, forked unpinned):
    // CPU is read per backend pid (a backend that exited within a window is not counted), and the
    // backends are placed again before each window.
    const gatewayDbCpu = () => new Map(gw.database ? postgresPids(gw.database).map((p) => [p, procCpuUs(p)]) : [])
    const place = () => {
      if (!pin) return
      if (gw.database) for (const p of postgresPids(gw.database)) pinToCores(p, GATEWAY_SIDE)
      if (agencyDb) for (const p of postgresPids(agencyDbName)) pinToCores(p, SERVICE_SIDE)
    }
    const common = { gateway, gwOrigin: gw.url, key, seconds, rounds, connections, gatewayDbCpu, place }
    const echo = await scenario({ ...common, provider, providerOrigin: providerUrl, bare, bareOrigin: bareUrl, gwPrefix: '/gw/SYT/patients', path: () => '/records/42' })
    const agencyResult = agencyProc
      ? await scenario({
        ...common, provider: agencyProc.proc, providerOrigin: agencyProc.url, bare: agencyProc.bare, bareOrigin: agencyProc.bareUrl, gwPrefix: '/gw/CA/citizens',
        path: () => () => `/citizens/${1 + Math.floor(Math.random() * AGENCY_ROWS)}`,
      })
      : undefined
    const agencyAnswerBytes = agencyProc ? (await (await fetch(`${agencyProc.url}/citizens/4242`)).arrayBuffer()).byteLength : undefined
    // Context: the platform's cheapest route (GET /healthz, no database) in the same process.
    const tFloor = await throughput(gw.url, '/healthz', {}, seconds, connections)
    const exitLine = lineWith(gateway, '"logged"')
    const exited = new Promise((r) => gateway!.once('exit', r))
    gateway.kill('SIGTERM')
    const log = await exitLine
    await exited
    return { db: gw.db, pinned: pin, seconds, rounds, connections, echo, agency: agencyResult, agencyRows: agencyProc ? AGENCY_ROWS : 0, agencyAnswerBytes, platformHealthz: tFloor, log }
  } finally {
    for (const c of children) c.kill('SIGTERM')
    if (gateway && gateway.exitCode === null) gateway.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    await agencyDb?.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'serve') {
  await serve()
} else if (process.argv[2] === 'agency') {
  await agency()
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const before = loadavg()
  const r = await runGatewayBench({ seconds: Number(process.env.GATEWAY_BENCH_SECONDS ?? 5), rounds: Number(process.env.GATEWAY_BENCH_ROUNDS ?? 3), connections: Number(process.env.GATEWAY_BENCH_CONNECTIONS ?? 10), pin: process.env.GATEWAY_BENCH_PIN === '1' })
  const f = (x: number) => x.toFixed(3)
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`
  console.log(JSON.stringify(r, null, 2))
  const lines = [
    `Log on ${r.db}, ${r.rounds} rounds of direct → /gw/ → bare proxy and a closing direct window, ${r.seconds} s per rate window (a round's ratio: its rate over the mean of the direct windows on either side; rates: medians over the windows), ${r.connections} connections, ${r.pinned ? 'pinned: load generator, providers and agency backends on core 0, gateway, bare proxies and log backends on core 1' : 'not pinned: every process on the same 2 cores'}. Load average at the start: ${before.map((x) => x.toFixed(2)).join(' ')}; at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    `| scenario | path | req/s (${r.connections} conn.) | ratio to direct | p50 ms (1 conn.) | p95 ms | p99 ms | CPU µs/call |`,
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const [name, sc] of [['echo (180 B constant)', r.echo], [`agency (PostgreSQL lookup, ${r.agencyRows} rows, ${r.agencyAnswerBytes ?? 0} B)`, r.agency]] as const) {
    if (!sc) {
      lines.push(`| agency | skipped: no PostgreSQL (set AGENCY_DATABASE_URL or BENCH_DATABASE_URL) | | | | | | |`)
      continue
    }
    const t = sc.throughput
    const c = sc.cpu_us_per_request
    lines.push(`| ${name} | direct to provider | ${t.direct.toFixed(0)} | 100% | ${f(sc.latency.direct.p50)} | ${f(sc.latency.direct.p95)} | ${f(sc.latency.direct.p99)} | provider ${c.provider.toFixed(0)} |`)
    lines.push(`| ${name} | through /gw/ (signed log) | ${t.gateway.toFixed(0)} | ${pct(t.ratio)} (worst round ${pct(t.worstRatio)}) | ${f(sc.latency.gateway.p50)} | ${f(sc.latency.gateway.p95)} | ${f(sc.latency.gateway.p99)} | gateway ${c.gateway.toFixed(0)} + log db ${c.gatewayDb.toFixed(0)} |`)
    lines.push(`| ${name} | bare node:http proxy, no checks, no log (floor) | ${t.bareProxy.toFixed(0)} | ${pct(t.bareRatio)} | ${f(sc.latency.bareProxy.p50)} | ${f(sc.latency.bareProxy.p95)} | ${f(sc.latency.bareProxy.p99)} | bare proxy ${c.bareProxy.toFixed(0)} |`)
  }
  lines.push(`| context | platform GET /healthz | ${r.platformHealthz.rps.toFixed(0)} | | | | | |`, '')
  for (const [name, sc] of [['echo', r.echo], ['agency', r.agency]] as const) {
    if (!sc) continue
    const t = sc.throughput
    lines.push(`${name}: added at p50 ${f(sc.latency.added_p50_ms)} ms (goal ≤ 1 ms; bare proxy ${f(sc.latency.bare_added_p50_ms)} ms); rate ${pct(t.ratio)} of direct, median of ${sc.rounds.length} rounds (goal ≥ 70%; rounds ${sc.rounds.map((x) => pct(x.ratio)).join(', ')}), bare proxy ${pct(t.bareRatio)}; no refusal, error or non-2xx in any window (any is fatal).`)
    // What the goal asks of the gateway's process, next to what that process does with no upstream
    // call and no log at all: below 1×, no proxy in it could reach 70% of this provider's rate.
    const needed = 0.7 * t.direct
    lines.push(`${name}: 70% of the direct rate is ${needed.toFixed(0)} req/s; the gateway's process answers its own GET /healthz (no provider, no log) at ${r.platformHealthz.rps.toFixed(0)} req/s (${(r.platformHealthz.rps / needed).toFixed(2)}× that), the bare proxy forwards ${t.bareProxy.toFixed(0)} req/s (${(t.bareProxy / needed).toFixed(2)}×).`)
  }
  lines.push(`Log: ${r.log.logged} records under ${r.log.signatures} signatures (${(Number(r.log.logged) / Number(r.log.signatures)).toFixed(1)} records a signature), chain and signatures ${r.log.verified ? 'verified' : 'BROKEN'}.${r.log.firstBad ? ` First bad: ${JSON.stringify(r.log.firstBad)}` : ''}`)
  console.log(lines.join('\n'))
}
