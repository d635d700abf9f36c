// PostgreSQL restarted under load, on a private cluster this test starts itself (initdb + pg_ctl
// as the postgres user on another port), so the shared server is never touched. While the
// database is down, requests get 503 with Retry-After (never 500, the process never dies); after
// it comes back the server recovers by itself and retried writes land exactly once.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, startServerProcess } from '../../src/platform/testing/server-process.ts'

const DBP = { lat: 21.3856, lon: 103.0167 }
const PG_BIN = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((b) => existsSync(`${b}/pg_ctl`)) : undefined

function asPostgres(cmd: string, args: string[]) {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stdout}${r.stderr}`)
  return r.stdout
}

async function pgReady(bin: string, port: number, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (spawnSync(`${bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port), '-q']).status === 0) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('private PostgreSQL did not come up')
}

test('postgres-restart: 503 + Retry-After while the database is down, never 500; recovers by itself; no write lost or doubled', async (t) => {
  assert.equal(process.getuid?.(), 0, 'this scenario starts its own PostgreSQL cluster as the postgres user and needs root (run it in CI as root)')
  assert.ok(PG_BIN, 'PostgreSQL server binaries (pg_ctl, initdb) not found under /usr/lib/postgresql')
  const root = mkdtempSync(join(tmpdir(), 'hoaban-res-pg-'))
  const pgData = join(root, 'pgdata')
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim())
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim())
  chownSync(root, uid, gid)
  const port = await freePort()
  const pgOpts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`
  asPostgres(`${PG_BIN}/initdb`, ['-D', pgData, '-U', 'postgres', '-A', 'trust', '--no-sync'])
  asPostgres(`${PG_BIN}/pg_ctl`, ['-D', pgData, '-o', pgOpts, '-l', join(root, 'pg.log'), '-w', 'start'])
  const dataDir = join(root, 'app')
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined
  try {
    await pgReady(PG_BIN, port)
    server = await startServerProcess({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '1000000' })
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200, server.output())

    const statuses = new Map<number, number>()
    const bad: string[] = []
    const acked = new Map<string, string>()
    const keys: { key: string; description: string }[] = []
    let stop = false
    let n = 0
    const started = Date.now()
    const worker = async () => {
      while (!stop) {
        const item = { key: randomUUID(), description: `res-pg-restart ${n++}` }
        keys.push(item)
        try {
          const res = await fetch(`${server!.url}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': item.key }, body: JSON.stringify({ category: 'traffic', description: item.description, ...DBP }) })
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          const body = await res.json()
          if (res.status === 201) acked.set(item.key, body.code)
          else if (res.status >= 500 && (res.status !== 503 || !res.headers.get('retry-after'))) bad.push(`${res.status} ${JSON.stringify(body)}`)
        } catch (err) {
          bad.push(`request failed: ${(err as Error).message}`)
        }
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    const load = Promise.all(Array.from({ length: 6 }, worker))
    await new Promise((r) => setTimeout(r, 1500))
    const ackedBeforeStop = acked.size
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', pgData, '-m', 'immediate', '-w', 'stop'])
    await new Promise((r) => setTimeout(r, 2000))
    const during503 = statuses.get(503) ?? 0
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', pgData, '-o', pgOpts, '-l', join(root, 'pg.log'), '-w', 'start'])
    await pgReady(PG_BIN, port)
    // The server recovers by itself: within 20 s, writes succeed again.
    const upAt = Date.now()
    const ackedAtRestart = acked.size
    while (acked.size < ackedAtRestart + 20 && Date.now() - upAt < 20_000) await new Promise((r) => setTimeout(r, 100))
    const recoveryMs = Date.now() - upAt
    stop = true
    await load
    assert.ok(acked.size >= ackedAtRestart + 20, `writes succeed again after the restart (${acked.size - ackedAtRestart} in ${recoveryMs} ms) ${server.output().slice(-2000)}`)
    assert.equal(server.child.exitCode, null, `the server process is still running: ${server.output().slice(-2000)}`)
    assert.deepEqual(bad, [], 'no 500, every 5xx is a 503 with Retry-After, no dropped connection')
    assert.ok(during503 > 0, `requests while the database was down got 503 (${JSON.stringify([...statuses])})`)

    // Retry every unacknowledged request with its key; then each description is there exactly once.
    for (const k of keys.filter((k) => !acked.has(k.key))) {
      const res: Response = await fetch(`${server.url}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': k.key }, body: JSON.stringify({ category: 'traffic', description: k.description, ...DBP }) })
      const text = await res.text()
      assert.equal(res.status, 201, text)
      acked.set(k.key, JSON.parse(text).code)
    }
    const seen = new Map<string, number>()
    let cursor: string | null = null
    do {
      const feed: Response = await fetch(`${server.url}/api/reports?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
      const page = (await feed.json()) as { items: { description: string }[]; next_cursor: string | null }
      for (const it of page.items) if (it.description.startsWith('res-pg-restart ')) seen.set(it.description, (seen.get(it.description) ?? 0) + 1)
      cursor = page.next_cursor
    } while (cursor)
    const dups = [...seen.values()].filter((c) => c > 1).length
    console.log(`# postgres-restart: requests ${keys.length}, acked before stop ${ackedBeforeStop}, statuses ${JSON.stringify(Object.fromEntries(statuses))}, recovery ${recoveryMs} ms after PostgreSQL was up, stored ${seen.size}, duplicates ${dups}, ${Date.now() - started} ms`)
    assert.equal(seen.size, keys.length, 'every request is stored after retries')
    assert.equal(dups, 0, 'no duplicates')
    t.diagnostic(`statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  } finally {
    if (server) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', pgData, '-m', 'immediate', 'stop'])
    rmSync(root, { recursive: true, force: true })
  }
})
