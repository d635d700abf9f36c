// Intake bench: autocannon POST /api/reports (routed, audited, committed on PostgreSQL) against a
// bare Fastify hello-world started in the same run. Goal: ≥ 15% of the baseline's request rate
// with p99 < 50 ms.   npx tsx bench/intake.ts [seconds]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { createScratchDatabase } from '../src/platform/testing/scratch-database.ts'
import { freePort, startServerProcess } from '../src/platform/testing/server-process.ts'

interface Result {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

async function cannon(url: string, body: object, seconds: number, connections: number): Promise<Result> {
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), duration: seconds, connections })
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx }
}

export async function runIntakeBench(opts: { seconds?: number; connections?: number; databaseUrl?: string } = {}) {
  const seconds = opts.seconds ?? 10
  const connections = opts.connections ?? 10
  const base = opts.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const scratch = await createScratchDatabase(base, `hb_bench_intake_${process.pid}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-bench-'))
  const helloPort = await freePort()
  const hello = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./hello-world.ts', import.meta.url))], { env: { ...process.env, PORT: String(helloPort) }, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((r) => hello.stdout!.once('data', r))
  const server = await startServerProcess({ DATABASE_URL: scratch.url, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000000', LOG_LEVEL: 'warn', RUN_JOBS: 'false' })
  try {
    const body = { category: 'traffic', description: 'Bench: ổ gà trên đường', lat: 21.3856, lon: 103.0167, channel: 'app' }
    // Warm-up, then measure each in turn (they share the 2 cores, so never at once).
    await cannon(`http://127.0.0.1:${helloPort}/hello`, {}, 2, connections)
    await cannon(`${server.url}/api/reports`, body, 2, connections)
    const baseline = await cannon(`http://127.0.0.1:${helloPort}/hello`, {}, seconds, connections)
    const intake = await cannon(`${server.url}/api/reports`, body, seconds, connections)
    return { seconds, connections, baseline, intake, ratio: intake.rps / baseline.rps }
  } finally {
    hello.kill('SIGTERM')
    server.child.kill('SIGTERM')
    await server.exited
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runIntakeBench({ seconds: Number(process.argv[2] ?? 10) })
  console.log(JSON.stringify(r, null, 2))
}
