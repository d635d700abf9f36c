// Gateway bench (issue 7): the same local provider called directly and through /gw/… with the
// signed message log on, measured one after the other in the same run. Goals: ≤ 1 ms added at
// p50 and ≥ 70% of the direct request rate.
//   npx tsx bench/gateway.ts                      quick: 5 s per measurement, embedded PGlite
//   GATEWAY_BENCH_SECONDS=20 npx tsx bench/gateway.ts            full size
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test … the log on PostgreSQL
// Three processes: the provider (node:http), the platform (gateway) and this one (the load).
// Throughput: autocannon, 10 connections. Latency: sequential requests timed with
// performance.now() (autocannon's histogram is in whole milliseconds, too coarse for 1 ms).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Pool } from 'undici'

const PROVIDER = `
const http = require('node:http')
const body = JSON.stringify({ id: 42, name: 'Nguyễn Văn A', unit: '11.SYT', items: Array.from({ length: 5 }, (_, i) => ({ i, ok: true })) })
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(body) }) })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })))
process.on('SIGTERM', () => process.exit(0))
process.on('message', () => process.send(process.cpuUsage()))
`

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
    return caller.apiKey
  })
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  process.on('message', () => process.send!(process.cpuUsage()))
  const port = (platform.app.server.address() as { port: number }).port
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, key: apiKey, db: scratch ? 'postgres' : 'pglite' }))
  process.once('SIGTERM', async () => {
    await platform.app.close()
    await exchangeRuntime(platform.ctx).log.flush()
    const rows = []
    for await (const r of readLogRows(db)) rows.push(r)
    const v = verifyMessageLog(rows, exchangeRuntime(platform.ctx).key.publicKey)
    console.log(JSON.stringify({ logged: rows.length, verified: v.ok, firstBad: v.firstBad }))
    await platform.close()
    await database.close()
    await scratch?.drop()
    process.exit(0)
  })
}

function firstLine(child: ChildProcess): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const on = (d: Buffer) => {
      buf += d
      const i = buf.indexOf('\n')
      if (i >= 0) {
        child.stdout!.off('data', on)
        resolve(JSON.parse(buf.slice(0, i)))
      }
    }
    child.stdout!.on('data', on)
    child.once('exit', (c) => reject(new Error(`exited ${c}`)))
  })
}

/** user+system CPU µs of a child process, asked over IPC. */
function cpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { user: number; system: number }).user + (m as { user: number; system: number }).system))
    child.send('cpu')
  })
}

async function throughput(url: string, headers: Record<string, string>, seconds: number, connections: number) {
  const r = await autocannon({ url, headers, duration: seconds, connections })
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx, total: r.requests.total }
}

async function latency(origin: string, path: string, headers: Record<string, string>, n: number) {
  const pool = new Pool(origin, { connections: 1 })
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await pool.request({ path, method: 'GET', headers })
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
    t.push(performance.now() - t0)
  }
  await pool.close()
  t.sort((a, b) => a - b)
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))]
  return { n, p50: q(0.5), p95: q(0.95), p99: q(0.99) }
}

export async function runGatewayBench(opts: { seconds?: number; connections?: number } = {}) {
  const seconds = opts.seconds ?? 5
  const connections = opts.connections ?? 10
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-bench-gw-'))
  const provider = spawn(process.execPath, ['-e', PROVIDER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  const { port } = await firstLine(provider)
  const providerUrl = `http://127.0.0.1:${port}`
  const bare = spawn(process.execPath, ['-e', BARE_PROXY], { env: { ...process.env, UPSTREAM_HOST: '127.0.0.1', UPSTREAM_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  const bareUrl = `http://127.0.0.1:${(await firstLine(bare)).port}`
  const gateway = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', fileURLToPath(import.meta.url), 'serve'], {
    env: { ...process.env, DATA_DIR: dataDir, PROVIDER_URL: providerUrl, EXCHANGE_NODE: 'bench' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  try {
    const gw = await firstLine(gateway)
    const key = { 'x-exchange-key': gw.key }
    const direct = `${providerUrl}/records/42`
    const proxied = `${gw.url}/gw/SYT/patients/records/42`
    const n = seconds * 400
    // Warm-up both, then measure each in turn (2 cores shared: never at once).
    await throughput(direct, {}, 2, connections)
    await throughput(proxied, key, 2, connections)
    const latDirect = await latency(providerUrl, '/records/42', {}, n)
    const latGateway = await latency(gw.url, '/gw/SYT/patients/records/42', key, n)
    const p0 = await cpu(provider)
    const tDirect = await throughput(direct, {}, seconds, connections)
    const p1 = await cpu(provider)
    const g0 = await cpu(gateway)
    const tGateway = await throughput(proxied, key, seconds, connections)
    const g1 = await cpu(gateway)
    const p2 = await cpu(provider)
    // CPU µs per request: the provider's own cost (direct run) and the gateway process's (proxied run).
    const cpuUs = { provider: (p1 - p0) / tDirect.total, gateway: (g1 - g0) / tGateway.total, providerWhenProxied: (p2 - p1) / tGateway.total }
    // The floor: a bare node:http proxy to the same provider, no checks and no log.
    await throughput(`${bareUrl}/records/42`, {}, 2, connections)
    const b0 = await cpu(bare)
    const tBare = await throughput(`${bareUrl}/records/42`, {}, seconds, connections)
    const b1 = await cpu(bare)
    const cpuBare = (b1 - b0) / tBare.total
    // Context: the platform's cheapest route (GET /healthz, no database) in the same process.
    const tFloor = await throughput(`${gw.url}/healthz`, {}, seconds, connections)
    const exitLine = new Promise<Record<string, unknown>>((resolve) => {
      let buf = ''
      gateway.stdout!.on('data', (d) => {
        buf += d
        const line = buf.split('\n').find((l) => l.includes('"logged"'))
        if (line) resolve(JSON.parse(line))
      })
    })
    const exited = new Promise((r) => gateway.once('exit', r))
    gateway.kill('SIGTERM')
    const log = await exitLine
    await exited
    return {
      db: gw.db, seconds, connections,
      latency: { direct: latDirect, gateway: latGateway, added_p50_ms: latGateway.p50 - latDirect.p50, added_p99_ms: latGateway.p99 - latDirect.p99 },
      throughput: { direct: tDirect, gateway: tGateway, bareProxy: tBare, platformHealthz: tFloor, ratio: tGateway.rps / tDirect.rps, bareRatio: tBare.rps / tDirect.rps, ratioToHealthz: tGateway.rps / tFloor.rps },
      cpu_us_per_request: { ...cpuUs, bareProxy: cpuBare },
      log,
    }
  } finally {
    provider.kill('SIGTERM')
    bare.kill('SIGTERM')
    if (gateway.exitCode === null) gateway.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'serve') {
  await serve()
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runGatewayBench({ seconds: Number(process.env.GATEWAY_BENCH_SECONDS ?? 5) })
  const f = (x: number) => x.toFixed(3)
  console.log(JSON.stringify(r, null, 2))
  console.log([
    '| path | req/s (10 conn.) | p50 ms (1 conn.) | p95 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    `| direct to provider | ${r.throughput.direct.rps.toFixed(0)} | ${f(r.latency.direct.p50)} | ${f(r.latency.direct.p95)} | ${f(r.latency.direct.p99)} |`,
    `| through /gw/ (signed log) | ${r.throughput.gateway.rps.toFixed(0)} | ${f(r.latency.gateway.p50)} | ${f(r.latency.gateway.p95)} | ${f(r.latency.gateway.p99)} |`,
    `| bare node:http proxy, no checks, no log (floor) | ${r.throughput.bareProxy.rps.toFixed(0)} | | | |`,
    `| platform GET /healthz (context) | ${r.throughput.platformHealthz.rps.toFixed(0)} | | | |`,
    '',
    `Added at p50: ${f(r.latency.added_p50_ms)} ms (goal ≤ 1 ms). Rate: ${(r.throughput.ratio * 100).toFixed(1)}% of direct (goal ≥ 70%), ${(r.throughput.ratioToHealthz * 100).toFixed(1)}% of the platform's /healthz. Log: ${r.log.logged} records, chain and signatures ${r.log.verified ? 'verified' : 'BROKEN'}.${r.log.firstBad ? ` First bad: ${JSON.stringify(r.log.firstBad)}` : ''}`,
    `Bare proxy: ${(r.throughput.bareRatio * 100).toFixed(1)}% of direct. Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    `CPU per request: gateway process ${r.cpu_us_per_request.gateway.toFixed(0)} µs, bare proxy ${r.cpu_us_per_request.bareProxy.toFixed(0)} µs, provider ${r.cpu_us_per_request.provider.toFixed(0)} µs.`,
  ].join('\n'))
}
