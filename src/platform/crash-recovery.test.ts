import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { runKillScenario } from './testing/kill-under-load.ts'
import { createScratchDatabase } from './testing/scratch-database.ts'
import { startServerProcess } from './testing/server-process.ts'

const PG_URL = process.env.TEST_DATABASE_URL
const DBP = { lat: 21.3856, lon: 103.0167 }

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).ok
  } catch {
    return false
  }
}

describe('server lifecycle on the embedded database', { skip: PG_URL ? 'runs in the PGlite suite' : false }, () => {
  test('SIGTERM stops cleanly; SIGKILL is detected at the next start with advice; recovery opens it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-life-'))
    try {
      const first = await startServerProcess({ DATA_DIR: dataDir })
      assert.ok(await isReady(first.url), first.output())
      const sent = await fetch(`${first.url}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ category: 'traffic', description: 'trước khi dừng', ...DBP }) })
      assert.equal(sent.status, 201)
      const code = (await sent.json()).code
      first.child.kill('SIGTERM')
      assert.deepEqual(await first.exited, { code: 0, signal: null }, first.output())
      assert.match(first.output(), /stopped cleanly/)
      assert.equal(existsSync(join(dataDir, 'hoaban.lock')), false)

      const second = await startServerProcess({ DATA_DIR: dataDir })
      assert.ok(await isReady(second.url), second.output())
      assert.equal((await fetch(`${second.url}/api/reports/${code}`)).status, 200)
      second.child.kill('SIGKILL')
      await second.exited

      const third = await startServerProcess({ DATA_DIR: dataDir })
      const end = await third.exited
      assert.equal(end.code, 3, third.output())
      assert.match(third.output(), /was not closed cleanly/)
      assert.match(third.output(), /RECOVER_DATA_DIR=1/)

      const fourth = await startServerProcess({ DATA_DIR: dataDir, RECOVER_DATA_DIR: '1' })
      assert.ok(await isReady(fourth.url), fourth.output())
      assert.equal((await fetch(`${fourth.url}/api/reports/${code}`)).status, 200, 'committed data survived the crash')
      fourth.child.kill('SIGTERM')
      assert.equal((await fourth.exited).code, 0)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('SIGKILL under load on PostgreSQL', { skip: PG_URL ? false : 'needs TEST_DATABASE_URL' }, () => {
  test('every acknowledged report is there exactly once after retries with idempotency keys', async () => {
    const scratch = await createScratchDatabase(PG_URL!, `hb_kill_${process.pid}`)
    const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-kill-'))
    try {
      const r = await runKillScenario({ env: { DATABASE_URL: scratch.url, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000' }, total: 300, killAfter: 100, tag: 'kill-test' })
      assert.ok(r.ackedBeforeKill >= 100 && r.ackedBeforeKill < r.total, `killed mid-load after ${r.ackedBeforeKill} acks`)
      assert.deepEqual(r.lostAcked, [], 'no acknowledged report lost')
      assert.equal(r.changedOnRetry, 0, 'a retry of an acknowledged write returns the same report')
      assert.deepEqual(r.duplicates, [], 'no duplicates')
      assert.equal(r.missingAfterRetry, 0, 'every request is there after retries')
      assert.deepEqual(r.restartNotes, [], 'PostgreSQL restarts without help')
    } finally {
      await scratch.drop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
