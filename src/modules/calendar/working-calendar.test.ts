import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { WorkingCalendar, type ScheduleDay } from './working-calendar.ts'

const cal = new WorkingCalendar()
/** A local Vietnamese time, e.g. at('2026-04-29 09:00'). */
const at = (local: string) => new Date(`${local.replace(' ', 'T')}:00+07:00`)
const local = (d: Date) => cal.formatLocal(d).slice(0, 16).replace('T', ' ')
const H = 3_600_000

test('weekends, holidays and compensatory days are not working days', () => {
  assert.equal(cal.isWorkingDay('2026-04-29'), true) // Wednesday
  assert.equal(cal.isWorkingDay('2026-05-02'), false) // Saturday
  assert.equal(cal.isWorkingDay('2026-05-03'), false) // Sunday
  assert.equal(cal.isWorkingDay('2026-04-30'), false)
  assert.equal(cal.isWorkingDay('2026-05-01'), false)
  assert.equal(cal.isWorkingDay('2026-04-27'), false) // compensation for Hùng Kings (Sunday 26)
  assert.equal(cal.isWorkingDay('2026-02-16'), false) // Tết eve
  assert.equal(cal.isWorkingDay('2023-09-04'), false) // compensation for 2/9/2023 (Saturday)
  assert.throws(() => cal.isWorkingDay('2026-02-30'), RangeError)
  assert.throws(() => cal.isWorkingDay('26-02-01'), RangeError)
})

test('the announced schedule wins: make-up Saturday works, an announced day off does not', () => {
  const overrides: ScheduleDay[] = [
    { date: '2025-02-08', kind: 'working_day', note_vi: 'Làm bù cho ngày 27/01', note_en: 'Make-up day for 27 January' },
    { date: '2025-01-27', kind: 'day_off', note_vi: 'Nghỉ Tết (hoán đổi)', note_en: 'Tết (swapped)' },
    { date: '2026-09-01', kind: 'working_day', note_vi: '', note_en: '' },
  ]
  const c = new WorkingCalendar(overrides)
  assert.equal(cal.isWorkingDay('2025-02-08'), false)
  assert.equal(c.isWorkingDay('2025-02-08'), true)
  assert.equal(cal.isWorkingDay('2025-01-27'), true)
  assert.equal(c.isWorkingDay('2025-01-27'), false)
  assert.equal(c.isWorkingDay('2026-09-01'), true, 'even over a statutory holiday')

  const y25 = c.holidays(2025)
  assert.deepEqual(y25.find((h) => h.date === '2025-02-08'), { date: '2025-02-08', kind: 'working_day', name_vi: 'Làm bù cho ngày 27/01', name_en: 'Make-up day for 27 January' })
  assert.equal(y25.find((h) => h.date === '2025-01-27')!.kind, 'day_off')
  assert.deepEqual(y25.map((h) => h.date), [...y25.map((h) => h.date)].sort())
  const sep1 = c.holidays(2026).filter((h) => h.date === '2026-09-01')
  assert.deepEqual(sep1.map((h) => [h.kind, h.name_en]), [['working_day', 'Announced working day']])
  // Deadlines follow: Friday 7 Feb 2025 09:00 + 1 working day = the make-up Saturday.
  assert.equal(local(c.addWorkingDays(at('2025-02-07 09:00'), 1)), '2025-02-08 09:00')
  assert.equal(local(cal.addWorkingDays(at('2025-02-07 09:00'), 1)), '2025-02-10 09:00')
})

test('nextWorkingInstant', () => {
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 09:00'))), '2026-04-29 09:00')
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 07:30'))), '2026-04-29 07:30')
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 06:00'))), '2026-04-29 07:30')
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 11:30'))), '2026-04-29 13:30')
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 12:15'))), '2026-04-29 13:30')
  assert.equal(local(cal.nextWorkingInstant(at('2026-04-29 17:00'))), '2026-05-04 07:30') // over 30/4, 1/5 and the weekend
  assert.equal(local(cal.nextWorkingInstant(at('2026-02-13 17:30'))), '2026-02-23 07:30') // Friday before Tết 2026
})

test('addWorkingDays: same time of day on the N-th working day; closed office moves to the next opening', () => {
  assert.equal(local(cal.addWorkingDays(at('2026-06-01 09:00'), 3)), '2026-06-04 09:00') // Monday → Thursday
  assert.equal(local(cal.addWorkingDays(at('2026-04-29 09:00'), 1)), '2026-05-04 09:00')
  assert.equal(local(cal.addWorkingDays(at('2026-06-05 18:00'), 3)), '2026-06-11 07:30') // Friday evening → Mon 07:30 + 3
  assert.equal(local(cal.addWorkingDays(at('2026-06-05 12:00'), 1)), '2026-06-08 13:30') // lunch break → 13:30
  assert.equal(local(cal.addWorkingDays(at('2026-06-06 10:00'), 0)), '2026-06-08 07:30') // Saturday, 0 days
  assert.equal(local(cal.addWorkingDays(at('2026-02-13 10:00'), 1)), '2026-02-23 10:00') // over Tết
  assert.throws(() => cal.addWorkingDays(at('2026-06-01 09:00'), 1.5), RangeError)
  assert.throws(() => cal.addWorkingDays(at('2026-06-01 09:00'), -1), RangeError)
})

test('addWorkingHours counts office time only', () => {
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 16:00'), 1)), '2026-06-01 17:00') // ends exactly at closing
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 16:00'), 2)), '2026-06-02 08:30')
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 11:00'), 1)), '2026-06-01 14:00')
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 07:30'), 7.5)), '2026-06-01 17:00') // one full day
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 07:30'), 15)), '2026-06-02 17:00')
  assert.equal(local(cal.addWorkingHours(at('2026-06-01 07:30'), 15.25)), '2026-06-03 07:45')
  assert.equal(local(cal.addWorkingHours(at('2026-04-29 16:00'), 2)), '2026-05-04 08:30')
  assert.equal(local(cal.addWorkingHours(at('2026-06-06 10:00'), 0.5)), '2026-06-08 08:00') // Saturday
  const sat = at('2026-06-06 10:00')
  assert.equal(cal.addWorkingHours(sat, 0).getTime(), sat.getTime(), '0 hours: unchanged')
  assert.throws(() => cal.addWorkingHours(sat, -1), RangeError)
  assert.throws(() => cal.addWorkingHours(sat, Number.NaN), RangeError)
})

test('workingMillisBetween with pauses', () => {
  const a = at('2026-06-01 07:30')
  const b = at('2026-06-05 17:00') // Monday to Friday: 5 × 7.5 h
  assert.equal(cal.workingMillisBetween(a, b), 37.5 * H)
  assert.equal(cal.workingMillisBetween(b, a), 0)
  assert.equal(cal.workingMillisBetween(at('2026-06-01 10:00'), at('2026-06-01 14:00')), 2 * H) // 10–11:30, 13:30–14
  // The dossier waited for the citizen from Tuesday 10:00 to Wednesday 10:00 (7.5 office hours).
  const pause = { from: at('2026-06-02 10:00'), to: at('2026-06-03 10:00') }
  assert.equal(cal.workingMillisBetween(a, b, [pause]), 30 * H)
  // Overlapping and out-of-range pauses count once / not at all.
  const overlapping = { from: at('2026-06-02 16:00'), to: at('2026-06-03 11:00') }
  const before = { from: at('2026-05-01 00:00'), to: at('2026-05-02 00:00') }
  const backwards = { from: at('2026-06-04 10:00'), to: at('2026-06-04 09:00') }
  assert.equal(cal.workingMillisBetween(a, b, [overlapping, pause, before, backwards]), 29 * H)
  // A pause covering everything.
  assert.equal(cal.workingMillisBetween(a, b, [{ from: at('2026-01-01 00:00'), to: at('2027-01-01 00:00') }]), 0)
  // Over the 30/4–1/5 holidays and the weekend: Wed 29/4 16:00 → Mon 4/5 08:30 is 2 office hours.
  assert.equal(cal.workingMillisBetween(at('2026-04-29 16:00'), at('2026-05-04 08:30')), 2 * H)
})

test('options: office hours and offset', () => {
  const c = new WorkingCalendar([], { officeHours: [{ start: '08:00', end: '12:00' }, { start: '13:00', end: '17:00' }] })
  assert.equal(c.workingDayMs, 8 * H)
  assert.equal(local(c.addWorkingHours(at('2026-06-01 11:00'), 2)), '2026-06-01 14:00')
  assert.equal(local(c.nextWorkingInstant(at('2026-06-01 07:45'))), '2026-06-01 08:00')
  const utc = new WorkingCalendar([], { utcOffsetMinutes: 0 })
  assert.equal(utc.nextWorkingInstant(new Date('2026-06-01T06:00:00Z')).toISOString(), '2026-06-01T07:30:00.000Z')
  assert.equal(cal.formatLocal(new Date('2026-06-01T00:00:00Z')), '2026-06-01T07:00:00.000+07:00')
  assert.throws(() => new WorkingCalendar([], { officeHours: [] }), RangeError)
  assert.throws(() => new WorkingCalendar([], { officeHours: [{ start: '13:00', end: '12:00' }] }), RangeError)
  assert.throws(() => new WorkingCalendar([], { officeHours: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '17:00' }] }), RangeError)
  assert.throws(() => new WorkingCalendar([], { officeHours: [{ start: '8:00', end: '12:00' }] }), RangeError)
  assert.throws(() => new WorkingCalendar([{ date: '2026-13-01', kind: 'day_off', note_vi: '', note_en: '' }]), RangeError)
})

test('fast: 87 600 office hours (≈ 46 years) and 3 650 working days', () => {
  const c = new WorkingCalendar()
  const from = at('2026-01-05 09:00')
  c.addWorkingHours(from, 87_600) // first call computes ~46 years of lunar dates
  const t0 = performance.now()
  const end = c.addWorkingHours(from, 87_600)
  const days = c.addWorkingDays(from, 3650)
  const ms = c.workingMillisBetween(from, end)
  const elapsed = performance.now() - t0
  assert.equal(ms, 87_600 * H)
  assert.ok(days < end)
  assert.ok(elapsed < 200, `took ${elapsed} ms`)
})

test('years beyond the supported range are refused', () => {
  assert.throws(() => cal.addWorkingHours(at('2200-12-01 09:00'), 2000), RangeError)
  assert.throws(() => cal.nextWorkingInstant(new Date('1850-01-01T00:00:00Z')), RangeError)
  assert.throws(() => cal.nextWorkingInstant(new Date(Number.NaN)), RangeError)
})

// --- Laws, checked with fast-check -------------------------------------------------------

const MIN = Date.UTC(2023, 0, 1)
const MAX = Date.UTC(2028, 11, 31)
// Boundaries are where off-by-one mistakes live: mix arbitrary instants with instants on
// period edges (07:30, 11:30, 13:30, 17:00, midnight, ±1 ms).
const EDGES_MIN = [0, 450, 690, 810, 1020, 1439]
const instant = fc.oneof(
  fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms)),
  fc
    .tuple(fc.integer({ min: 0, max: Math.floor((MAX - MIN) / 86_400_000) }), fc.constantFrom(...EDGES_MIN), fc.constantFrom(-1, 0, 1))
    .map(([day, min, jitter]) => new Date(MIN - 7 * H + day * 86_400_000 + min * 60_000 + jitter)),
)
const workDays = fc.integer({ min: 0, max: 400 })
// Hours in whole minutes, so sums are exact in milliseconds.
const workHours = fc.integer({ min: 0, max: 2_000 * 60 }).map((m) => m / 60)
const overrides = fc
  .uniqueArray(
    fc.record({
      day: fc.integer({ min: 0, max: 6 * 366 }),
      kind: fc.constantFrom('day_off' as const, 'working_day' as const),
    }),
    { selector: (o) => o.day, maxLength: 30 },
  )
  .map((os) => os.map(({ day, kind }) => ({ date: new Date(MIN + day * 86_400_000).toISOString().slice(0, 10), kind, note_vi: '', note_en: '' })))
const calendars = fc.oneof(fc.constant(cal), overrides.map((os) => new WorkingCalendar(os)))

/** The local office period index containing the instant as an end point (start, end]. */
function inOfficeHoursClosed(c: WorkingCalendar, d: Date): boolean {
  if (!c.isWorkingDay(c.localDate(d))) return false
  const hm = c.formatLocal(d).slice(11, 23)
  return (hm > '07:30:00.000' && hm <= '11:30:00.000') || (hm > '13:30:00.000' && hm <= '17:00:00.000')
}

test('law: nextWorkingInstant is a working instant, not earlier, idempotent', () => {
  fc.assert(
    fc.property(calendars, instant, (c, d) => {
      const n = c.nextWorkingInstant(d)
      assert.ok(n >= d)
      assert.ok(c.isWorkingInstant(n))
      assert.equal(c.nextWorkingInstant(n).getTime(), n.getTime())
      assert.equal(c.workingMillisBetween(d, n), 0)
    }),
  )
})

test('law: addWorkingDays is monotonic in the amount and in from', () => {
  fc.assert(
    fc.property(calendars, instant, instant, workDays, workDays, (c, x, y, a, b) => {
      const [f1, f2] = x <= y ? [x, y] : [y, x]
      const [d1, d2] = a <= b ? [a, b] : [b, a]
      assert.ok(c.addWorkingDays(f1, d1) <= c.addWorkingDays(f1, d2))
      if (d1 < d2) assert.ok(c.addWorkingDays(f1, d1) < c.addWorkingDays(f1, d2))
      assert.ok(c.addWorkingDays(f1, d1) <= c.addWorkingDays(f2, d1))
    }),
  )
})

test('law: addWorkingDays lands on a working day inside office hours; a then b = a + b', () => {
  fc.assert(
    fc.property(calendars, instant, workDays, workDays, (c, f, a, b) => {
      const r = c.addWorkingDays(f, a)
      assert.ok(c.isWorkingDay(c.localDate(r)))
      assert.ok(c.isWorkingInstant(r))
      assert.equal(c.addWorkingDays(r, b).getTime(), c.addWorkingDays(f, a + b).getTime())
    }),
  )
})

test('law: addWorkingHours is monotonic in the amount and in from', () => {
  fc.assert(
    fc.property(calendars, instant, instant, workHours, workHours, (c, x, y, a, b) => {
      const [f1, f2] = x <= y ? [x, y] : [y, x]
      const [h1, h2] = a <= b ? [a, b] : [b, a]
      assert.ok(c.addWorkingHours(f1, h1) <= c.addWorkingHours(f1, h2))
      assert.ok(c.addWorkingHours(f1, h1) <= c.addWorkingHours(f2, h1))
    }),
  )
})

test('law: addWorkingHours (h > 0) ends inside office hours of a working day; a then b = a + b', () => {
  fc.assert(
    fc.property(calendars, instant, workHours, workHours, (c, f, a, b) => {
      const r = c.addWorkingHours(f, a)
      if (a > 0) assert.ok(inOfficeHoursClosed(c, r), `${c.formatLocal(r)} is outside office hours`)
      assert.equal(c.addWorkingHours(r, b).getTime(), c.addWorkingHours(f, a + b).getTime())
    }),
  )
})

test('law: workingMillisBetween(from, addWorkingHours(from, h)) = h hours', () => {
  fc.assert(
    fc.property(calendars, instant, workHours, (c, f, h) => {
      assert.equal(c.workingMillisBetween(f, c.addWorkingHours(f, h)), Math.round(h * H))
      const w = c.nextWorkingInstant(f)
      assert.equal(c.workingMillisBetween(w, c.addWorkingHours(w, h)), Math.round(h * H))
    }),
  )
})

test('law: workingMillisBetween is additive, and a pause removes exactly its own working time', () => {
  fc.assert(
    fc.property(calendars, instant, instant, instant, instant, instant, (c, ...xs) => {
      const [a, m, b] = xs.slice(0, 3).sort((p, q) => p.getTime() - q.getTime())
      assert.equal(c.workingMillisBetween(a, b), c.workingMillisBetween(a, m) + c.workingMillisBetween(m, b))
      const [p1, p2] = xs.slice(3).sort((p, q) => p.getTime() - q.getTime())
      const lo = p1 < a ? a : p1
      const hi = p2 > b ? b : p2
      const removed = hi > lo ? c.workingMillisBetween(lo, hi) : 0
      assert.equal(c.workingMillisBetween(a, b, [{ from: p1, to: p2 }]), c.workingMillisBetween(a, b) - removed)
    }),
  )
})

test('law: the announced schedule decides its own dates', () => {
  fc.assert(
    fc.property(overrides, (os) => {
      const c = new WorkingCalendar(os)
      for (const o of os) assert.equal(c.isWorkingDay(o.date), o.kind === 'working_day')
    }),
  )
})
