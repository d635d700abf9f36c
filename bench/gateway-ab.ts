// Interleaved A/B of the gateway's CPU per call: two trees' gateways (`bench/gateway.ts serve` of
// each) run at once against the same echo provider; short load windows alternate A, B, A, B… so
// a drifting machine load hits both alike (the machine is shared: a 5 s pair run back to back
// can see the load double between its halves). Per window: calls, CPU µs per call (user+system
// of the gateway process over the window, asked over IPC).
//   npx tsx bench/gateway-ab.ts <treeA> <treeB>      (log on PGlite; add BENCH_DATABASE_URL for PostgreSQL)
//   GATEWAY_AB_ROUNDS=8 GATEWAY_AB_SECONDS=2 …
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import autocannon from 'autocannon'
import { cpuOverIpc as cpu, ECHO_PROVIDER, firstLine, lineWith } from './lib/processes.ts'

const [treeA, treeB] = process.argv.slice(2).map((p) => resolve(p))
if (!treeA || !treeB) throw new Error('usage: gateway-ab.ts <treeA> <treeB>')
const rounds = Number(process.env.GATEWAY_AB_ROUNDS ?? 8)
const seconds = Number(process.env.GATEWAY_AB_SECONDS ?? 2)
const provider = spawn(process.execPath, ['-e', ECHO_PROVIDER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
const providerUrl = `http://127.0.0.1:${(await firstLine(provider)).port}`
const dirs: string[] = []
const start = (tree: string) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-gw-ab-'))
  dirs.push(dataDir)
  return spawn(process.execPath, ['--import', 'tsx', join(tree, 'bench/gateway.ts'), 'serve'], { cwd: tree, env: { ...process.env, DATA_DIR: dataDir, PROVIDER_URL: providerUrl, AGENCY_URL: '', EXCHANGE_NODE: 'ab', EXCHANGE_RATE_LIMIT_PER_SYSTEM: '1000000000' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
}
const gws = [start(treeA), start(treeB)]
const info = [await firstLine(gws[0]), await firstLine(gws[1])]
const load0 = loadavg()
const window = async (i: number, s: number) => {
  const c0 = await cpu(gws[i])
  const r = await autocannon({ url: `${info[i].url}/gw/SYT/patients/records/42`, headers: { 'x-exchange-key': info[i].key }, duration: s, connections: 10 })
  const c1 = await cpu(gws[i])
  if (r.non2xx || r.errors) throw new Error(`non-2xx ${r.non2xx} errors ${r.errors}`)
  return { calls: r.requests.total, rps: r.requests.average, cpuUs: (c1 - c0) / r.requests.total }
}
await window(0, 2)
await window(1, 2)
const per: { calls: number; rps: number; cpuUs: number }[][] = [[], []]
for (let k = 0; k < rounds; k++) {
  // alternate which goes first, so neither always follows the other
  for (const i of k % 2 === 0 ? [0, 1] : [1, 0]) per[i].push(await window(i, seconds))
}
const logs: unknown[] = []
for (const g of gws) {
  const line = lineWith(g, '"logged"')
  g.kill('SIGTERM')
  logs.push(await line)
}
provider.kill('SIGTERM')
for (const d of dirs) rmSync(d, { recursive: true, force: true })
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const out = [0, 1].map((i) => ({
  tree: i === 0 ? treeA : treeB,
  cpuUsPerCallMedian: med(per[i].map((w) => w.cpuUs)),
  cpuUsPerCallPooled: sum(per[i].map((w) => w.cpuUs * w.calls)) / sum(per[i].map((w) => w.calls)),
  rpsMedian: med(per[i].map((w) => w.rps)),
  windows: per[i].map((w) => Math.round(w.cpuUs)),
  log: logs[i],
}))
console.log(JSON.stringify({ db: info[0].db, rounds, seconds, loadStart: load0, loadEnd: loadavg(), out }, null, 2))
console.log(`B/A CPU per call: median ${(out[1].cpuUsPerCallMedian / out[0].cpuUsPerCallMedian).toFixed(3)}, pooled ${(out[1].cpuUsPerCallPooled / out[0].cpuUsPerCallPooled).toFixed(3)}; windows where B < A: ${per[0].filter((w, k) => per[1][k].cpuUs < w.cpuUs).length}/${rounds}`)
