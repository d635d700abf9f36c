import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import { appendAudit, verifyAuditChain } from './audit/audit-log.ts'
import type { Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { EventBus, publishEvent } from './events/outbox.ts'
import { enqueueJob, JobRunner } from './jobs/job-runner.ts'
import { requestFingerprint, runIdempotent } from './http/idempotency.ts'
import { AppError } from './http/errors.ts'
import { PLATFORM_MIGRATIONS } from './runtime.ts'
import { openTestDatabase } from './testing/test-platform.ts'

let database: Database

before(async () => {
  database = await openTestDatabase()
  await migrate(database, [PLATFORM_MIGRATIONS])
})
after(async () => {
  await database?.close()
})

describe('migrations', () => {
  test('applying again is a no-op', async () => {
    assert.deepEqual(await migrate(database, [PLATFORM_MIGRATIONS]), [])
  })
})

describe('audit log', () => {
  test('a chain of appended rows verifies', async () => {
    await database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 5; i++) await appendAudit(tx, { actor: 'system', action: 'test.appended', entityType: 'test', entityId: String(i), data: { i, nested: { b: 1, a: [1, 2] } } })
    })
    const r = await verifyAuditChain(database.db)
    assert.equal(r.ok, true)
    assert.ok(r.rows >= 5)
  })

  test('concurrent appends from separate transactions keep one chain', async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => database.db.transaction().execute((tx) => appendAudit(tx, { actor: 'system', action: 'test.concurrent', entityType: 'test', entityId: `c${i}` }))),
    )
    const r = await verifyAuditChain(database.db)
    assert.deepEqual({ ok: r.ok, rows: r.rows }, { ok: true, rows: 15 })
    assert.deepEqual(r.provinces, [{ province: '11', ok: true, rows: 15 }])
  })

  test('the table refuses updates and deletes', async () => {
    await assert.rejects(sql`update audit_log set actor = 'mallory'`.execute(database.db), /append-only/)
    await assert.rejects(sql`delete from audit_log`.execute(database.db), /append-only/)
  })

  test('verification names the first altered row', async () => {
    const id = (await sql<{ id: string }>`select id::text as id from audit_log order by id limit 1 offset 2`.execute(database.db)).rows[0].id
    // Tamper the way an attacker with table access would: bypass the trigger.
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(database.db)
    await sql`update audit_log set data = '{"i": 99}'::jsonb where id = ${id}::bigint`.execute(database.db)
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(database.db)
    const r = await verifyAuditChain(database.db)
    assert.equal(r.ok, false)
    assert.equal(r.firstBroken?.id, id)
    assert.match(r.firstBroken!.reason, /altered/)
  })
})

describe('audit log: one chain per province', () => {
  // A database of its own: the tampering test above leaves the shared one broken on purpose.
  let db2: Database
  before(async () => {
    db2 = await openTestDatabase()
    await migrate(db2, [PLATFORM_MIGRATIONS])
  })
  after(async () => {
    await db2?.close()
  })
  const appendAs = (province: string | undefined, i: number) =>
    db2.db.transaction().execute(async (tx) => {
      if (province) await sql`select set_config('hoaban.province_code', ${province}, true)`.execute(tx)
      return appendAudit(tx, { actor: 'system', action: 'test.province', entityType: 'test', entityId: `${province ?? 'default'}-${i}` })
    })

  test('rows of two provinces interleaved, some concurrent: each chain verifies on its own', async () => {
    for (let i = 0; i < 6; i++) await appendAs(i % 2 ? '12' : undefined, i)
    await Promise.all(Array.from({ length: 8 }, (_, i) => appendAs(i % 2 ? '12' : '11', 100 + i)))
    const rows = (await sql<{ province_code: string; id: string; prev_hash: string; hash: string }>`
      select a.province_code, a.id::text as id, a.prev_hash, a.hash from audit_log a order by a.id`.execute(db2.db)).rows
    assert.deepEqual([...new Set(rows.slice(0, 6).map((r) => r.province_code))], ['11', '12'])
    // Each province's first row starts from the genesis, and its next row follows its own predecessor.
    for (const p of ['11', '12']) {
      const mine = rows.filter((r) => r.province_code === p)
      assert.equal(mine.length, 7)
      assert.equal(mine[0].prev_hash, '0'.repeat(64))
      for (let i = 1; i < mine.length; i++) assert.equal(mine[i].prev_hash, mine[i - 1].hash)
    }
    const r = await verifyAuditChain(db2.db)
    assert.equal(r.ok, true)
    assert.equal(r.rows, 14)
    assert.deepEqual(r.provinces, [{ province: '11', ok: true, rows: 7 }, { province: '12', ok: true, rows: 7 }])
  })

  test('tampering in one province is found there, the other chain still verifies', async () => {
    const id = (await sql<{ id: string }>`select a.id::text as id from audit_log a where a.province_code = '12' order by a.id limit 1 offset 3`.execute(db2.db)).rows[0].id
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db2.db)
    await sql`update audit_log set actor = 'mallory' where id = ${id}::bigint`.execute(db2.db)
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db2.db)
    const r = await verifyAuditChain(db2.db)
    assert.equal(r.ok, false)
    assert.deepEqual(r.firstBroken, { id, reason: 'hash does not match the row content (the row was altered)', province: '12' })
    assert.deepEqual(r.provinces[0], { province: '11', ok: true, rows: 7 })
    assert.equal(r.provinces[1].ok, false)
    assert.equal(r.provinces[1].rows, 4)
  })

  test('a row moved to another province breaks both chains', async () => {
    for (let i = 0; i < 4; i++) await appendAs(i % 2 ? '14' : '13', 200 + i)
    const id = (await sql<{ id: string }>`select a.id::text as id from audit_log a where a.province_code = '13' order by a.id limit 1`.execute(db2.db)).rows[0].id
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db2.db)
    await sql`update audit_log set province_code = '14' where id = ${id}::bigint`.execute(db2.db)
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db2.db)
    const r = await verifyAuditChain(db2.db)
    const by = Object.fromEntries(r.provinces.map((p) => [p.province, p]))
    assert.equal(by['11'].ok, true)
    assert.equal(by['13'].ok, false)
    assert.equal(by['14'].ok, false)
    assert.match(by['13'].firstBroken!.reason, /prev_hash/)
  })

  test('a connection whose setting is not a province code cannot write a row', async () => {
    await assert.rejects(
      db2.db.transaction().execute(async (tx) => {
        await sql`select set_config('hoaban.province_code', '', true)`.execute(tx)
        await appendAudit(tx, { actor: 'system', action: 'test.none', entityType: 'test', entityId: 'x' })
      }),
      /audit_log_province_code_check/,
    )
    assert.equal((await sql<{ n: number }>`select count(*)::int as n from audit_log where entity_id = 'x'`.execute(db2.db)).rows[0].n, 0)
  })
})

describe('idempotency', () => {
  const scope = 'test|anonymous'
  test('same key and same request: one write, the same answer', async () => {
    await sql`create table if not exists idem_things (id serial primary key, v text)`.execute(database.db)
    const work = async (tx: typeof database.db) => {
      const { rows } = await sql<{ id: number }>`insert into idem_things (v) values ('x') returning id`.execute(tx)
      return { statusCode: 201, body: { id: rows[0].id } }
    }
    const fp = requestFingerprint({ v: 'x' })
    const [a, b] = await Promise.all([runIdempotent(database.db, { scope, key: 'k1', fingerprint: fp }, work), runIdempotent(database.db, { scope, key: 'k1', fingerprint: fp }, work)])
    assert.deepEqual(a.body, b.body)
    assert.equal([a.replayed, b.replayed].filter(Boolean).length, 1)
    const n = (await sql<{ n: number }>`select count(*)::int as n from idem_things`.execute(database.db)).rows[0].n
    assert.equal(n, 1)
  })

  test('same key with a different request is a 409', async () => {
    const work = async () => ({ statusCode: 200, body: {} })
    await runIdempotent(database.db, { scope, key: 'k2', fingerprint: requestFingerprint({ a: 1 }) }, work)
    await assert.rejects(runIdempotent(database.db, { scope, key: 'k2', fingerprint: requestFingerprint({ a: 2 }) }, work), (e: AppError) => e.statusCode === 409 && e.code === 'IDEMPOTENCY_KEY_REUSED')
  })

  test('a failed write leaves no key behind, so the retry runs', async () => {
    const fp = requestFingerprint({ f: 1 })
    await assert.rejects(runIdempotent(database.db, { scope, key: 'k3', fingerprint: fp }, async () => { throw new Error('boom') }))
    const r = await runIdempotent(database.db, { scope, key: 'k3', fingerprint: fp }, async () => ({ statusCode: 201, body: { ok: true } }))
    assert.equal(r.replayed, false)
  })
})

describe('jobs and events', () => {
  test('a queued job runs once, and a failing job is retried later', async () => {
    const runner = new JobRunner(database.db)
    let ran = 0
    let failed = 0
    runner.register('test.ok', async () => { ran++ })
    runner.register('test.fail', async () => { failed++; throw new Error('nope') })
    await enqueueJob(database.db, 'test.ok', {}, { dedupeKey: 'once' })
    await enqueueJob(database.db, 'test.ok', {}, { dedupeKey: 'once' })
    await enqueueJob(database.db, 'test.fail', {})
    await runner.tick()
    assert.equal(ran, 1)
    assert.equal(failed, 1)
    const row = (await sql<{ status: string; attempts: number }>`select status, attempts from jobs where name = 'test.fail'`.execute(database.db)).rows[0]
    assert.deepEqual(row, { status: 'queued', attempts: 1 })
  })

  test('two runners never run the same job twice', async () => {
    const a = new JobRunner(database.db)
    const b = new JobRunner(database.db)
    const seen: number[] = []
    for (const r of [a, b]) r.register('test.count', async ({ payload }) => { seen.push(payload.n as number) })
    for (let i = 0; i < 20; i++) await enqueueJob(database.db, 'test.count', { n: i })
    await Promise.all([a.tick(), b.tick()])
    assert.equal(seen.length, 20)
    assert.equal(new Set(seen).size, 20)
  })

  test('a job whose worker died is taken again after its lease', async () => {
    await enqueueJob(database.db, 'test.lease', {})
    await sql`update jobs set status = 'running', locked_by = 'dead', locked_until = now() - interval '1 minute' where name = 'test.lease'`.execute(database.db)
    const r = new JobRunner(database.db)
    let ran = false
    r.register('test.lease', async () => { ran = true })
    await r.tick()
    assert.equal(ran, true)
  })

  test('a due schedule is queued by exactly one of two nodes', async () => {
    const a = new JobRunner(database.db)
    const b = new JobRunner(database.db)
    let runs = 0
    for (const r of [a, b]) r.schedule({ name: 'test.cron', cron: '*/5 * * * *' }, async () => { runs++ })
    await a.installSchedules(new Date('2026-01-01T00:00:00Z'))
    const when = new Date('2026-01-01T00:06:00Z')
    await Promise.all([a.tick(when), b.tick(when)])
    assert.equal(runs, 1)
  })

  test('events written in a rolled-back transaction are never delivered', async () => {
    const bus = new EventBus()
    const got: string[] = []
    bus.subscribe('test.happened', async (_tx, e) => { got.push(e.payload.v as string) })
    await database.db.transaction().execute((tx) => publishEvent(tx, 'test.happened', { v: 'kept' }))
    await assert.rejects(database.db.transaction().execute(async (tx) => { await publishEvent(tx, 'test.happened', { v: 'lost' }); throw new Error('rollback') }))
    await bus.dispatchPending(database.db)
    assert.deepEqual(got, ['kept'])
    assert.equal(await bus.dispatchPending(database.db), 0)
  })
})
