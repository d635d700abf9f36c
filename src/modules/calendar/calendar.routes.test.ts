/**
 * HTTP tests of the calendar routes. The whole platform (startTestPlatform) cannot boot yet while
 * other modules are under construction, so this builds the smallest app that behaves the same:
 * Fastify with the platform's AJV options and error handler, an in-memory PGlite migrated with the
 * platform and calendar migrations, and a principal taken from a test header.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import pino from 'pino'
import type { Principal, Role } from '../../platform/auth/principal.ts'
import { openDatabase, type Database } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { installErrorHandling } from '../../platform/http/error-handler.ts'
import type { AppContext } from '../../platform/module.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { calendarModule } from './index.ts'

const NOW = new Date('2026-03-10T02:00:00Z')
let database: Database
let app: FastifyInstance

before(async () => {
  database = await openDatabase({ dataDir: 'memory://' })
  await migrate(database, [PLATFORM_MIGRATIONS, { module: 'calendar', dir: calendarModule.migrations! }])
  // The routes use only db and clock from the context.
  const ctx = { db: database.db, dbKind: database.kind, clock: () => NOW, log: pino({ level: 'silent' }) } as unknown as AppContext
  app = Fastify({ ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: true } } })
  installErrorHandling(app)
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (req) => {
    req.principal = principalFrom(req.headers['x-test-principal'])
  })
  await app.register(async (scope) => calendarModule.routes!(scope, ctx))
  await app.ready()
})

after(async () => {
  await app?.close()
  await database?.close()
})

/** 'role:<role>' → a signed-in user with that role; 'client' → an API client; nothing → anonymous. */
function principalFrom(header: string | string[] | undefined): Principal | null {
  if (typeof header !== 'string') return null
  if (header === 'client') return { kind: 'client', clientId: 'c-1', name: 'Test client', unitCode: null, scopes: ['*'] }
  const role = header.replace(/^role:/, '') as Role
  return { kind: 'user', userId: `u-${role}`, role, unitCode: null, displayName: `Test ${role}`, sessionId: 's-1' }
}

const as = (who?: string) => (who ? { 'x-test-principal': who } : {})

test('GET /api/calendar/holidays', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/calendar/holidays?year=2026' })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.year, 2026)
  assert.deepEqual(
    body.holidays.filter((h: any) => h.date.startsWith('2026-02')).map((h: any) => h.date),
    ['2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20'],
  )
  assert.deepEqual(body.holidays.find((h: any) => h.date === '2026-04-26'), {
    date: '2026-04-26', name_vi: 'Giỗ Tổ Hùng Vương (10/3 âm lịch)', name_en: 'Hùng Kings’ Commemoration Day', kind: 'public_holiday',
  })
  for (const url of ['/api/calendar/holidays', '/api/calendar/holidays?year=abc', '/api/calendar/holidays?year=1800']) {
    const bad = await app.inject({ method: 'GET', url })
    assert.equal(bad.statusCode, 400, url)
    assert.equal(bad.json().error.code, 'VALIDATION_FAILED')
  }
})

test('GET /api/calendar/add with days or hours', async () => {
  const from = encodeURIComponent('2026-04-29T16:00:00+07:00')
  const days = await app.inject({ method: 'GET', url: `/api/calendar/add?from=${from}&days=1` })
  assert.equal(days.statusCode, 200)
  assert.deepEqual(days.json(), { from: '2026-04-29T09:00:00.000Z', days: 1, result: '2026-05-04T09:00:00.000Z', result_local: '2026-05-04T16:00:00.000+07:00' })
  const hours = await app.inject({ method: 'GET', url: `/api/calendar/add?from=${from}&hours=2` })
  assert.equal(hours.statusCode, 200)
  assert.deepEqual(hours.json(), { from: '2026-04-29T09:00:00.000Z', hours: 2, result: '2026-05-04T01:30:00.000Z', result_local: '2026-05-04T08:30:00.000+07:00' })
  const utc = await app.inject({ method: 'GET', url: `/api/calendar/add?from=2026-06-01T02:00:00Z&hours=0.5` })
  assert.equal(utc.json().result_local, '2026-06-01T09:30:00.000+07:00')
})

test('GET /api/calendar/add refuses bad input with 400', async () => {
  const cases: [string, string][] = [
    ['from=2026-06-01T09:00:00&days=1', 'INVALID_INSTANT'], // no offset: refused, not guessed
    ['from=2026-02-30T09:00:00Z&days=1', 'INVALID_INSTANT'],
    ['from=yesterday&days=1', 'INVALID_INSTANT'],
    ['from=2026-06-01T09:00:00Z', 'DAYS_OR_HOURS'],
    ['from=2026-06-01T09:00:00Z&days=1&hours=1', 'DAYS_OR_HOURS'],
    ['from=2026-06-01T09:00:00Z&days=3651', 'VALIDATION_FAILED'],
    ['from=2026-06-01T09:00:00Z&days=-1', 'VALIDATION_FAILED'],
    ['from=2026-06-01T09:00:00Z&days=1.5', 'VALIDATION_FAILED'],
    ['from=2026-06-01T09:00:00Z&hours=87601', 'VALIDATION_FAILED'],
    ['from=2195-06-01T09:00:00Z&hours=87600', 'OUT_OF_RANGE'],
    ['from=1700-06-01T09:00:00Z&days=1', 'OUT_OF_RANGE'],
  ]
  for (const [query, code] of cases) {
    const res = await app.inject({ method: 'GET', url: `/api/calendar/add?${query.replace('+', '%2B')}` })
    assert.equal(res.statusCode, 400, query)
    assert.equal(res.json().error.code, code, query)
    assert.ok(res.json().error.message_vi && res.json().error.message_en)
  }
})

test('GET /api/calendar/working-time', async () => {
  const from = encodeURIComponent('2026-04-29T16:00:00+07:00')
  const to = encodeURIComponent('2026-05-04T08:30:00+07:00')
  const res = await app.inject({ method: 'GET', url: `/api/calendar/working-time?from=${from}&to=${to}` })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { from: '2026-04-29T09:00:00.000Z', to: '2026-05-04T01:30:00.000Z', working_ms: 7_200_000, working_hours: 2 })
  const backwards = await app.inject({ method: 'GET', url: `/api/calendar/working-time?from=${to}&to=${from}` })
  assert.equal(backwards.statusCode, 400)
  assert.equal(backwards.json().error.code, 'INVALID_RANGE')
  const bad = await app.inject({ method: 'GET', url: `/api/calendar/working-time?from=nope&to=${to}` })
  assert.equal(bad.json().error.code, 'INVALID_INSTANT')
})

test('PUT/DELETE schedule: anonymous 401, client/citizen/officer/unit admin 403, nothing written', async () => {
  const callers: [string | undefined, number][] = [[undefined, 401], ['client', 403], ['role:citizen', 403], ['role:officer', 403], ['role:unit_admin', 403]]
  for (const [who, status] of callers) {
    const put = await app.inject({ method: 'PUT', url: '/api/calendar/schedule/2026-05-02', headers: as(who), payload: { kind: 'working_day' } })
    assert.equal(put.statusCode, status, `PUT as ${who}`)
    // Refused before the body is looked at.
    const junk = await app.inject({ method: 'PUT', url: '/api/calendar/schedule/2026-05-02', headers: as(who), payload: { kind: 'nonsense' } })
    assert.equal(junk.statusCode, status, `PUT junk as ${who}`)
    const del = await app.inject({ method: 'DELETE', url: '/api/calendar/schedule/2026-05-02', headers: as(who) })
    assert.equal(del.statusCode, status, `DELETE as ${who}`)
    assert.equal(del.json().error.code, status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN')
  }
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from calendar_schedule_days`.execute(database.db)
  assert.equal(rows[0].n, 0)
})

test('province admin sets and removes a make-up Saturday; audited; the calendar follows at once', async () => {
  const admin = as('role:province_admin')
  const before = await app.inject({ method: 'GET', url: '/api/calendar/add?from=2026-05-01T02:00:00Z&days=0' })
  assert.equal(before.json().result_local, '2026-05-04T07:30:00.000+07:00')

  const put = await app.inject({
    method: 'PUT', url: '/api/calendar/schedule/2026-05-02', headers: admin,
    payload: { kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up working day', extra: 'dropped' },
  })
  assert.equal(put.statusCode, 200)
  assert.deepEqual(put.json(), {
    date: '2026-05-02', kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up working day', updated_at: NOW.toISOString(), updated_by: 'user:u-province_admin',
  })

  const after = await app.inject({ method: 'GET', url: '/api/calendar/add?from=2026-05-01T02:00:00Z&days=0' })
  assert.equal(after.json().result_local, '2026-05-02T07:30:00.000+07:00')
  const schedule = await app.inject({ method: 'GET', url: '/api/calendar/schedule?year=2026' })
  assert.deepEqual(schedule.json(), { year: 2026, days: [{ date: '2026-05-02', kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up working day' }] })
  const dflt = await app.inject({ method: 'GET', url: '/api/calendar/schedule' })
  assert.equal(dflt.json().year, 2026, 'defaults to the current year (the clock)')
  const holidays = await app.inject({ method: 'GET', url: '/api/calendar/holidays?year=2026' })
  assert.equal(holidays.json().holidays.find((h: any) => h.date === '2026-05-02').kind, 'working_day')

  const del = await app.inject({ method: 'DELETE', url: '/api/calendar/schedule/2026-05-02', headers: admin })
  assert.equal(del.statusCode, 204)
  const again = await app.inject({ method: 'DELETE', url: '/api/calendar/schedule/2026-05-02', headers: admin })
  assert.equal(again.statusCode, 404)
  const restored = await app.inject({ method: 'GET', url: '/api/calendar/add?from=2026-05-01T02:00:00Z&days=0' })
  assert.equal(restored.json().result_local, '2026-05-04T07:30:00.000+07:00')

  const audit = (
    await sql<{ actor: string; action: string; data: any }>`select actor, action, data from audit_log
      where entity_type = 'calendar_schedule_day' and entity_id = '2026-05-02' order by id`.execute(database.db)
  ).rows
  assert.deepEqual(audit.map((a) => [a.action, a.actor]), [
    ['calendar.schedule_day_set', 'user:u-province_admin'],
    ['calendar.schedule_day_removed', 'user:u-province_admin'],
  ])
  assert.equal(audit[0].data.after.note_en, 'Make-up working day')
})

test('province admin: bad dates and bodies are 400', async () => {
  const admin = as('role:province_admin')
  const badDate = await app.inject({ method: 'PUT', url: '/api/calendar/schedule/2026-02-30', headers: admin, payload: { kind: 'day_off' } })
  assert.equal(badDate.statusCode, 400)
  assert.equal(badDate.json().error.code, 'INVALID_DATE')
  const badKind = await app.inject({ method: 'PUT', url: '/api/calendar/schedule/2026-02-27', headers: admin, payload: { kind: 'holiday' } })
  assert.equal(badKind.statusCode, 400)
  assert.equal(badKind.json().error.code, 'VALIDATION_FAILED')
  const delBad = await app.inject({ method: 'DELETE', url: '/api/calendar/schedule/not-a-date', headers: admin })
  assert.equal(delBad.statusCode, 400)
  assert.equal(delBad.json().error.code, 'INVALID_DATE')
})
