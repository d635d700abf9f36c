import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import { openDatabase, type Database } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { AppError } from '../../platform/http/errors.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { calendarModule } from './index.ts'
import { listSchedule, loadWorkingCalendar, removeScheduleDay, setScheduleDay } from './schedule.ts'

// One in-memory database for the file: creating PGlite with PostGIS takes seconds.
let database: Database
before(async () => {
  database = await openDatabase({ dataDir: 'memory://' })
  await migrate(database, [PLATFORM_MIGRATIONS, { module: 'calendar', dir: calendarModule.migrations! }])
})
after(async () => {
  await database?.close()
})

const auditRows = async (date: string) =>
  (await sql<{ action: string; actor: string; data: any }>`select action, actor, data from audit_log where entity_type = 'calendar_schedule_day' and entity_id = ${date} order by id`.execute(database.db)).rows

test('set, change and remove a schedule day: each change audited in its transaction, the cache follows', async () => {
  const db = database.db
  const c0 = await loadWorkingCalendar(db)
  assert.equal(c0.isWorkingDay('2025-02-08'), false)
  assert.equal(await loadWorkingCalendar(db), c0, 'cached')

  const row = await setScheduleDay(db, { date: '2025-02-08', kind: 'working_day', note_vi: ' Làm bù ', note_en: 'Make-up day' }, 'user:admin-1', { now: new Date('2025-01-02T03:00:00Z') })
  assert.deepEqual({ ...row, updated_at: new Date(row.updated_at).toISOString() }, {
    date: '2025-02-08', kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up day', updated_at: '2025-01-02T03:00:00.000Z', updated_by: 'user:admin-1',
  })
  const c1 = await loadWorkingCalendar(db)
  assert.notEqual(c1, c0, 'invalidated')
  assert.equal(c1.isWorkingDay('2025-02-08'), true)

  // The same content again is no change: no audit entry, cache kept.
  await setScheduleDay(db, { date: '2025-02-08', kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up day' }, 'user:admin-2')
  assert.equal(await loadWorkingCalendar(db), c1)

  await setScheduleDay(db, { date: '2025-02-08', kind: 'day_off' }, 'user:admin-2')
  assert.equal((await loadWorkingCalendar(db)).isWorkingDay('2025-02-08'), false)

  const removed = await removeScheduleDay(db, '2025-02-08', 'user:admin-3')
  assert.equal(removed?.kind, 'day_off')
  assert.equal(await removeScheduleDay(db, '2025-02-08', 'user:admin-3'), undefined)

  const audit = await auditRows('2025-02-08')
  assert.deepEqual(audit.map((a) => [a.action, a.actor]), [
    ['calendar.schedule_day_set', 'user:admin-1'],
    ['calendar.schedule_day_set', 'user:admin-2'],
    ['calendar.schedule_day_removed', 'user:admin-3'],
  ])
  assert.equal(audit[0].data.before, null)
  assert.equal(audit[0].data.after.kind, 'working_day')
  assert.equal(audit[1].data.before.kind, 'working_day')
  assert.equal(audit[1].data.after.kind, 'day_off')
  assert.equal(audit[2].data.before.kind, 'day_off')
  assert.equal((await verifyAuditChain(db)).ok, true)
})

test('a failed transaction leaves neither the row nor its audit entry', async () => {
  const db = database.db
  await assert.rejects(
    db.transaction().execute(async (tx) => {
      await setScheduleDay(tx, { date: '2026-01-02', kind: 'day_off', note_vi: 'Nghỉ thêm', note_en: 'Extra day off' }, 'user:admin-1')
      // Inside the transaction the calendar sees the uncommitted row.
      assert.equal((await loadWorkingCalendar(tx)).isWorkingDay('2026-01-02'), false)
      throw new Error('rollback')
    }),
    /rollback/,
  )
  assert.equal((await listSchedule(db, 2026)).length, 0)
  assert.equal((await auditRows('2026-01-02')).length, 0)
  assert.equal((await loadWorkingCalendar(db)).isWorkingDay('2026-01-02'), true)
})

test('listSchedule filters by year and sorts', async () => {
  const db = database.db
  await setScheduleDay(db, { date: '2027-12-31', kind: 'day_off' }, 'system')
  await setScheduleDay(db, { date: '2027-01-02', kind: 'working_day' }, 'system')
  await setScheduleDay(db, { date: '2028-01-01', kind: 'day_off' }, 'system')
  assert.deepEqual((await listSchedule(db, 2027)).map((r) => r.date), ['2027-01-02', '2027-12-31'])
  assert.ok((await listSchedule(db)).length >= 3)
})

test('bad input is refused with an AppError', async () => {
  const db = database.db
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e) => (e instanceof AppError ? e.code : String(e)))
  assert.equal(await code(setScheduleDay(db, { date: '2026-02-30', kind: 'day_off' }, 'system')), 'INVALID_DATE')
  assert.equal(await code(setScheduleDay(db, { date: '2500-01-01', kind: 'day_off' }, 'system')), 'DATE_OUT_OF_RANGE')
  assert.equal(await code(setScheduleDay(db, { date: '2026-03-02', kind: 'holiday' as never }, 'system')), 'INVALID_KIND')
  assert.equal(await code(setScheduleDay(db, { date: '2026-03-02', kind: 'day_off', note_vi: 'x'.repeat(501) }, 'system')), 'NOTE_TOO_LONG')
  assert.equal(await code(removeScheduleDay(db, 'tomorrow', 'system')), 'INVALID_DATE')
})
