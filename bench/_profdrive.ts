// Profile only the /gw/ phase: start provider + gateway (serve mode of bench/gateway.ts), load /gw/ for N s.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
const wt = process.argv[2]
const PROVIDER = `
const http = require('node:http')
const body = JSON.stringify({ id: 42, name: 'Nguyễn Văn A', unit: '11.SYT', items: Array.from({ length: 5 }, (_, i) => ({ i, ok: true })) })
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(body) }) })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })))
process.on('SIGTERM', () => process.exit(0))
`
const line = (c: any) => new Promise<any>((r) => { let b = ''; c.stdout.on('data', (d: Buffer) => { b += d; const i = b.indexOf('\n'); if (i >= 0) r(JSON.parse(b.slice(0, i))) }) })
const prov = spawn(process.execPath, ['-e', PROVIDER], { stdio: ['ignore', 'pipe', 'inherit'] })
const { port } = await line(prov)
const gw = spawn(process.execPath, ['--import', 'tsx', join(wt, 'bench/gateway.ts'), 'serve'], { cwd: wt, env: { ...process.env, DATA_DIR: mkdtempSync(join(tmpdir(), 'gwp-')), PROVIDER_URL: `http://127.0.0.1:${port}`, EXCHANGE_NODE: 'prof' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
const g = await line(gw)
const url = `${g.url}/gw/SYT/patients/records/42`
await autocannon({ url, headers: { 'x-exchange-key': g.key }, duration: 2, connections: 10 })
// start profiling now via inspector? simpler: signal via IPC not available; use SIGUSR? -> we just measure CPU
const cpu = () => new Promise<number>((r) => { gw.once('message', (m: any) => r(m.user + m.system)); gw.send('x') })
const c0 = await cpu()
const res = await autocannon({ url, headers: { 'x-exchange-key': g.key }, duration: Number(process.env.SECS ?? 5), connections: 10 })
const c1 = await cpu()
console.log(JSON.stringify({ rps: res.requests.average, total: res.requests.total, gwCpuUsPerCall: ((c1 - c0) / res.requests.total).toFixed(1), non2xx: res.non2xx }))
gw.kill('SIGTERM'); await new Promise((r) => gw.once('exit', r)); prov.kill('SIGTERM')
