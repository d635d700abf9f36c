import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from './audit/audit-log.ts'
import type { Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { DEFAULT_OUTBOX_RETENTION_DAYS, OUTBOX_RETENTION_JOB, outboxRetentionDays, pruneDeliveredEvents, scheduleOutboxRetention } from './events/outbox-retention.ts'
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

const DAY = 86_400_000

/** Inserts events of `topic` created `daysAgo` days before `now`, delivered or not; answers their ids. */
async function events(topic: string, n: number, daysAgo: number, delivered: boolean, now: Date): Promise<string[]> {
  const at = new Date(now.getTime() - daysAgo * DAY).toISOString()
  const { rows } = await sql<{ id: string }>`insert into outbox_events (topic, payload, created_at, dispatched_at)
    select ${topic}, '{}'::jsonb, ${at}::timestamptz, ${delivered ? at : null}::timestamptz from generate_series(1, ${n}) returning id::text as id`.execute(database.db)
  return rows.map((r) => r.id)
}

async function left(topic: string): Promise<number> {
  return (await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = ${topic}`.execute(database.db)).rows[0].n
}

test('delivered events older than the retention are deleted in batches, each batch audited; pending and recent ones are kept', async () => {
  const now = new Date()
  const topic = 'test.retention'
  await events(topic, 25, 500, true, now) // old, delivered: deleted
  const pendingOld = await events(topic, 3, 500, false, now) // old but never delivered: kept
  await events(topic, 4, 10, true, now) // recent, delivered: kept
  const auditBefore = (await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'outbox.pruned'`.execute(database.db)).rows[0].n
  const deleted = await pruneDeliveredEvents(database.db, new Date(now.getTime() - 400 * DAY), now, { batch: 10 })
  assert.equal(deleted, 25)
  assert.equal(await left(topic), 7)
  const kept = (await sql<{ id: string }>`select id::text as id from outbox_events where topic = ${topic} and dispatched_at is null order by id`.execute(database.db)).rows.map((r) => r.id)
  assert.deepEqual(kept, pendingOld)
  const audits = (await sql<{ data: { deleted: number } }>`select data from audit_log where action = 'outbox.pruned' order by id`.execute(database.db)).rows.slice(auditBefore)
  assert.deepEqual(audits.map((a) => a.data.deleted), [10, 10, 5], 'one audit entry per batch, with its count')
  assert.ok((await verifyAuditChain(database.db)).ok)
  // Nothing more to delete: a second run deletes nothing and writes no audit entry.
  assert.equal(await pruneDeliveredEvents(database.db, new Date(now.getTime() - 400 * DAY), now, { batch: 10 }), 0)
  assert.equal((await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'outbox.pruned'`.execute(database.db)).rows[0].n, auditBefore + 3)
})

test('the retention is read from OUTBOX_RETENTION_DAYS, never under a month (rule backtests read last month)', () => {
  assert.equal(outboxRetentionDays({}), DEFAULT_OUTBOX_RETENTION_DAYS)
  assert.equal(outboxRetentionDays({ OUTBOX_RETENTION_DAYS: '90' }), 90)
  assert.equal(outboxRetentionDays({ OUTBOX_RETENTION_DAYS: '3' }), 31)
  assert.equal(outboxRetentionDays({ OUTBOX_RETENTION_DAYS: 'soon' }), DEFAULT_OUTBOX_RETENTION_DAYS)
})

test('the daily job runs through the job runner and deletes what is past the retention', async () => {
  const now = new Date()
  const topic = 'test.retention.job'
  await events(topic, 6, 100, true, now)
  await events(topic, 2, 5, true, now)
  const jobs = new JobRunner(database.db)
  let pruned = 0
  scheduleOutboxRetention(jobs, 60, (n) => (pruned += n))
  await jobs.installSchedules(new Date(now.getTime() - 2 * DAY))
  await jobs.tick(now)
  const { rows } = await sql<{ status: string }>`select status from jobs where name = ${OUTBOX_RETENTION_JOB}`.execute(database.db)
  assert.deepEqual(rows.map((r) => r.status), ['done'])
  assert.ok(pruned >= 6)
  assert.equal(await left(topic), 2)
})
