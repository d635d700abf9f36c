// The console's "working time left" (web/src/worktime.ts, in the browser) agrees with the
// server's working calendar, fed the same holidays and announced schedule as /api/calendar/holidays.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { WorkingCalendar } from '../modules/calendar/index.ts'
import { officeCalendar } from '../../web/src/worktime.ts'

const schedule = [
  { date: '2026-05-02', kind: 'working_day' as const, note_vi: 'Làm bù', note_en: 'Make-up day' },
  { date: '2026-09-01', kind: 'day_off' as const, note_vi: 'Nghỉ bù', note_en: 'Day off' },
]
const server = new WorkingCalendar(schedule)
const browser = officeCalendar([2025, 2026, 2027].flatMap((y) => server.holidays(y)))

test('office time between two instants: browser and server agree (holidays, make-up days, weekends, lunch)', () => {
  const lo = Date.parse('2025-01-01T00:00:00Z')
  const hi = Date.parse('2027-12-31T00:00:00Z')
  fc.assert(fc.property(fc.integer({ min: lo, max: hi }), fc.integer({ min: 0, max: 40 * 86_400_000 }), (a, span) => {
    const b = Math.min(hi, a + span)
    const ms = server.workingMillisBetween(new Date(a), new Date(b))
    assert.equal(browser.between(a, b), ms)
    assert.equal(browser.between(b, a), 0 - ms)
  }), { numRuns: 400 })
})

test('known cases: Tết 2026 is off, the announced make-up Saturday counts, a weekday is 7.5 h', () => {
  const h = (from: string, to: string) => browser.between(Date.parse(from), Date.parse(to)) / 3_600_000
  assert.equal(h('2026-06-01T00:00:00+07:00', '2026-06-02T00:00:00+07:00'), 7.5)
  assert.equal(h('2026-05-02T00:00:00+07:00', '2026-05-03T00:00:00+07:00'), 7.5)
  assert.equal(h('2026-05-09T00:00:00+07:00', '2026-05-10T00:00:00+07:00'), 0)
  assert.equal(h('2026-02-17T00:00:00+07:00', '2026-02-18T00:00:00+07:00'), 0)
  assert.equal(h('2026-06-01T11:00:00+07:00', '2026-06-01T14:00:00+07:00'), 1)
})
