import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import { appendAudit, verifyAuditChain } from './audit/audit-log.ts'
import type { Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { ensureMonthPartitions, MONTH_PARTITIONS_JOB, monthPartitionedTables, scheduleMonthPartitions } from './db/partitions.ts'
import { JobRunner } from './jobs/job-runner.ts'
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

const month = (d: Date) => `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`
const addMonths = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 15, 12))

async function partitionOf(at: Date): Promise<string> {
  const { rows } = await sql<{ p: string }>`select tableoid::regclass::text as p from audit_log where at = ${at.toISOString()}::timestamptz`.execute(database.db)
  assert.equal(rows.length, 1)
  return rows[0].p
}

describe('month partitions', () => {
  test('audit_log is partitioned by month, with a default partition and the current month plus 3 ahead', async () => {
    assert.ok((await monthPartitionedTables(database.db)).includes('audit_log'))
    const now = new Date()
    for (let i = 0; i <= 3; i++) {
      const name = `audit_log_p${month(addMonths(now, i))}`
      assert.ok((await sql<{ r: string | null }>`select to_regclass(${name})::text as r`.execute(database.db)).rows[0].r, name)
    }
  })

  test('after the scheduled job ran, rows of a future month land in their partition, not in default; running it again is a no-op', async () => {
    // A clock 10 months on: the months it creates did not exist before.
    const later = addMonths(new Date(), 10)
    const runner = new JobRunner(database.db)
    scheduleMonthPartitions(runner)
    await runner.installSchedules(new Date(later.getTime() - 2 * 86400_000))
    await runner.tick(later)
    const { rows } = await sql<{ status: string }>`select status from jobs where name = ${MONTH_PARTITIONS_JOB}`.execute(database.db)
    assert.deepEqual(rows.map((r) => r.status), ['done'])
    const at = addMonths(later, 2)
    await database.db.transaction().execute((tx) => appendAudit(tx, { actor: 'system', action: 'test.future', entityType: 'test', entityId: 'f' }, at))
    assert.equal(await partitionOf(at), `audit_log_p${month(at)}`)
    assert.deepEqual(await ensureMonthPartitions(database.db, later), Object.fromEntries((await monthPartitionedTables(database.db)).map((t) => [t, 0])))
    assert.deepEqual(await verifyAuditChain(database.db), { ok: true, rows: 1, provinces: [{ province: '11', ok: true, rows: 1 }] })
  })

  test('a month beyond the created ones goes to default; the job then skips that month instead of failing', async () => {
    const far = addMonths(new Date(), 30)
    await database.db.transaction().execute((tx) => appendAudit(tx, { actor: 'system', action: 'test.far', entityType: 'test', entityId: 'x' }, far))
    assert.equal(await partitionOf(far), 'audit_log_default')
    const created = await ensureMonthPartitions(database.db, addMonths(far, -3))
    assert.equal(created.audit_log, 3) // the three months before `far`; far's month holds default rows
    assert.equal((await sql<{ r: string | null }>`select to_regclass(${`audit_log_p${month(far)}`})::text as r`.execute(database.db)).rows[0].r, null)
    assert.equal(await partitionOf(far), 'audit_log_default')
    assert.deepEqual(await verifyAuditChain(database.db), { ok: true, rows: 2, provinces: [{ province: '11', ok: true, rows: 2 }] })
  })

  test('two nodes creating the same months at once both succeed and create each partition once', async () => {
    const when = addMonths(new Date(), 50)
    const [a, b] = await Promise.all([ensureMonthPartitions(database.db, when), ensureMonthPartitions(database.db, when)])
    assert.equal(a.audit_log + b.audit_log, 4)
    for (let i = 0; i <= 3; i++) {
      const name = `audit_log_p${month(addMonths(when, i))}`
      assert.ok((await sql<{ r: string | null }>`select to_regclass(${name})::text as r`.execute(database.db)).rows[0].r, name)
    }
  })

  test('the append-only trigger holds on every partition', async () => {
    await assert.rejects(sql`update audit_log set actor = 'mallory'`.execute(database.db), /append-only/)
    await assert.rejects(sql`delete from audit_log_default`.execute(database.db), /append-only/)
  })
})
