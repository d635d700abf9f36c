// npm run bench [-- path/to/vietnam-communes-2025.geojson.gz]
// Runs every benchmark and prints markdown for docs/benchmarks.md. Each figure is a ratio
// against a baseline measured in the same run (PostGIS round trip; bare Fastify hello-world).
// PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
import os from 'node:os'
import { runIntakeBench } from './intake.ts'
import { runPgliteKill } from './kill-pglite.ts'
import { runLocateBench } from './locate.ts'

const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const out: string[] = [`Machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}`, '']

const locate = await runLocateBench({ nationwidePath: process.argv[2], databaseUrl, log: (l) => console.error(l) })
out.push('## (a) Locate a point', '', locate.markdown, '')

const intake = await runIntakeBench({ seconds: 15, connections: 10, databaseUrl })
out.push(
  '## (b) Intake: POST /api/reports on PostgreSQL vs a bare Fastify hello-world',
  '',
  '| server | req/s | p50 ms | p99 ms | errors | non-2xx |',
  '|---|---:|---:|---:|---:|---:|',
  `| hello-world (baseline) | ${intake.baseline.rps.toFixed(0)} | ${intake.baseline.p50} | ${intake.baseline.p99} | ${intake.baseline.errors} | ${intake.baseline.non2xx} |`,
  `| POST /api/reports | ${intake.intake.rps.toFixed(0)} | ${intake.intake.p50} | ${intake.intake.p99} | ${intake.intake.errors} | ${intake.intake.non2xx} |`,
  '',
  `Ratio: ${(intake.ratio * 100).toFixed(2)}% of the baseline's rate (${intake.connections} connections, ${intake.seconds} s each, measured one after the other).`,
  '',
)

const kill = await runPgliteKill()
out.push('## (c) SIGKILL under load on embedded PGlite', '', '```json', JSON.stringify(kill, null, 2), '```')
console.log(out.join('\n'))
