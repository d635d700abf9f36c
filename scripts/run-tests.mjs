#!/usr/bin/env node
// Runs the test suites with node's built-in runner.
//   unit: every src/**/*.test.ts on embedded PGlite (needs only Node).
//   pg:   the same files on PostgreSQL (TEST_DATABASE_URL, default the local `test` database); fails if unreachable.
//   resilience: test/resilience/*.test.ts (kills, restarts, full disks); fails if PostgreSQL is unreachable.
//   e2e:  browser tests (test/e2e/*.e2e.ts) in Chromium; fails if Chromium is missing.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const mode = process.argv[2] ?? 'unit'
const extra = process.argv.slice(3)

function find(dir, suffix, out = []) {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) find(p, suffix, out)
    else if (p.endsWith(suffix)) out.push(p)
  }
  return out
}

const env = { ...process.env, NODE_ENV: 'test' }
let files
if (mode === 'unit') {
  delete env.TEST_DATABASE_URL
  files = find('src', '.test.ts')
} else if (mode === 'pg') {
  env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test'
  const check = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import pg from 'pg'
    const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL, connectionTimeoutMillis: 5000 })
    try { await c.connect(); const r = await c.query("select count(*)::int n from pg_available_extensions where name = 'postgis'"); await c.end(); if (!r.rows[0].n) { console.error('PostGIS is not installed on this PostgreSQL (apt-get install postgresql-15-postgis-3)'); process.exit(2) } }
    catch (e) { console.error('PostgreSQL is not reachable at TEST_DATABASE_URL:', e.message); process.exit(2) }`], { env, stdio: 'inherit' })
  if (check.status !== 0) process.exit(check.status ?? 2)
  files = find('src', '.test.ts')
} else if (mode === 'resilience') {
  // Kill/restart/disk-full scenarios (test/resilience/*.test.ts). They need PostgreSQL: fail, never skip.
  env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test'
  const check = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import pg from 'pg'
    const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL, connectionTimeoutMillis: 5000 })
    try { await c.connect(); await c.end() } catch (e) { console.error('PostgreSQL is not reachable at TEST_DATABASE_URL:', e.message); process.exit(2) }`], { env, stdio: 'inherit' })
  if (check.status !== 0) process.exit(check.status ?? 2)
  files = find('test/resilience', '.test.ts')
} else if (mode === 'e2e') {
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    console.error('Chromium not found at /usr/bin/chromium (apt-get install -y chromium); the e2e suite cannot run.')
    process.exit(2)
  }
  files = find('test/e2e', '.e2e.ts')
} else if (mode === 'fuzz') {
  // Fuzzing over the OpenAPI routes on embedded PGlite; FUZZ_REQUESTS sets the number of requests.
  delete env.TEST_DATABASE_URL
  files = find('test/fuzz', '.test.ts')
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
if (extra.length) files = files.filter((f) => extra.some((x) => f.includes(x)))
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
// A long fuzzing run (FUZZ_REQUESTS=100000 takes ~15–30 min) gets 30 ms a request, at least 10 min.
const timeout = mode === 'fuzz' ? Math.max(600_000, Number(env.FUZZ_REQUESTS ?? 0) * 30) : 600_000
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${timeout}`, ...files], { env, stdio: 'inherit' })
process.exit(r.status ?? 1)
