import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { WorkingCalendar } from '../../calendar/index.ts'
import { applicableDuration, clockStart, computeDue, dueWithPauses, extendForPause, judgeTimeliness, warningAt } from './deadline.ts'
import { allowedPairs, DOSSIER_ACTIONS, nextStatus, TRANSITIONS, type DossierStatus } from './status-machine.ts'
import { formatDossierCode, vietnamDay } from './numbering.ts'
import { crc16, vietQrPayload } from './vietqr.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
const cal = new WorkingCalendar()
const wd = (amount: number) => ({ amount, unit: 'working_days' as const })

describe('clock start', () => {
  test('receipt at 15:30 on a Friday starts Monday 07:30', () => {
    assert.deepEqual(clockStart(cal, vn('2026-03-06T15:30:00')), vn('2026-03-09T07:30:00'))
  })
  test('receipt at exactly 15:00 counts from the next working day; 14:59 counts at once', () => {
    assert.deepEqual(clockStart(cal, vn('2026-03-04T15:00:00')), vn('2026-03-05T07:30:00'))
    assert.deepEqual(clockStart(cal, vn('2026-03-04T14:59:00')), vn('2026-03-04T14:59:00'))
  })
  test('receipt on a weekend or at lunch moves to the next office period', () => {
    assert.deepEqual(clockStart(cal, vn('2026-03-07T10:00:00')), vn('2026-03-09T07:30:00'))
    assert.deepEqual(clockStart(cal, vn('2026-03-04T12:00:00')), vn('2026-03-04T13:30:00'))
  })
  test('receipt after 15:00 on the eve of Tết starts after Tết', () => {
    // Tết 2026: 16 Feb (giao thừa) – 20 Feb (mùng 4) are days off; 17 Feb is mùng 1.
    assert.deepEqual(clockStart(cal, vn('2026-02-13T16:00:00')), vn('2026-02-23T07:30:00'))
  })
})

describe('due dates', () => {
  test('three working days over Tết 2026', () => {
    const start = clockStart(cal, vn('2026-02-12T09:00:00'))
    assert.deepEqual(computeDue(cal, start, wd(3)), vn('2026-02-24T09:00:00'))
  })
  test('a make-up Saturday in the schedule counts as a working day', () => {
    const withSaturday = new WorkingCalendar([{ date: '2026-03-07', kind: 'working_day', note_vi: 'Làm bù', note_en: 'Make-up day' }])
    assert.deepEqual(computeDue(withSaturday, vn('2026-03-06T09:00:00'), wd(1)), vn('2026-03-07T09:00:00'))
    assert.deepEqual(computeDue(cal, vn('2026-03-06T09:00:00'), wd(1)), vn('2026-03-09T09:00:00'))
    // And a day off announced in the schedule is skipped.
    const withDayOff = new WorkingCalendar([{ date: '2026-03-09', kind: 'day_off', note_vi: 'Nghỉ', note_en: 'Off' }])
    assert.deepEqual(computeDue(withDayOff, vn('2026-03-06T09:00:00'), wd(1)), vn('2026-03-10T09:00:00'))
  })
  test('working hours and calendar days', () => {
    assert.deepEqual(computeDue(cal, vn('2026-03-06T16:00:00'), { amount: 4, unit: 'working_hours' }), vn('2026-03-09T10:30:00'))
    // 10 calendar days from Wed 4 Mar lands on Sat 14 Mar: moves to Monday's first office period.
    assert.deepEqual(computeDue(cal, vn('2026-03-04T09:00:00'), { amount: 10, unit: 'calendar_days' }), vn('2026-03-16T07:30:00'))
  })
  test('the priority duration applies when the procedure grants priority', () => {
    const p = { duration: { online: wd(5), in_person: wd(7) }, priority: false, priority_duration: wd(1) }
    assert.deepEqual(applicableDuration(p, 'online'), wd(5))
    assert.deepEqual(applicableDuration(p, 'in_person'), wd(7))
    assert.deepEqual(applicableDuration({ ...p, priority: true }, 'in_person'), wd(1))
  })
})

describe('pauses', () => {
  const start = vn('2026-03-02T09:00:00')
  test('a two-working-day wait for a supplement moves the due date by two working days', () => {
    assert.deepEqual(computeDue(cal, start, wd(5)), vn('2026-03-09T09:00:00'))
    const due = dueWithPauses(cal, start, wd(5), [{ from: vn('2026-03-03T09:00:00'), to: vn('2026-03-05T09:00:00') }])
    assert.deepEqual(due, vn('2026-03-11T09:00:00'))
  })
  test('a wait over a weekend counts only its office time', () => {
    const due = dueWithPauses(cal, start, wd(5), [{ from: vn('2026-03-06T16:00:00'), to: vn('2026-03-09T08:30:00') }])
    // Friday 16:00–17:00 and Monday 07:30–08:30: two office hours.
    assert.deepEqual(due, vn('2026-03-09T11:00:00'))
  })
  test('a pause begun after the due instant does not help; calendar-day durations pause in calendar time', () => {
    const due = computeDue(cal, start, wd(5))
    assert.deepEqual(extendForPause(cal, 'working_days', start, due, { from: vn('2026-03-10T09:00:00'), to: vn('2026-03-12T09:00:00') }), due)
    const calDue = vn('2026-03-12T09:00:00')
    assert.deepEqual(extendForPause(cal, 'calendar_days', start, calDue, { from: vn('2026-03-03T09:00:00'), to: vn('2026-03-04T09:00:00') }), vn('2026-03-13T09:00:00'))
  })
  test('property: due ≥ start, and adding a pause never makes the due date earlier', () => {
    const base = vn('2026-01-01T00:00:00').getTime()
    const instant = fc.integer({ min: 0, max: 400 * 86_400_000 }).map((ms) => new Date(base + ms))
    const duration = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((n) => ({ amount: n, unit: 'working_days' as const })),
      fc.integer({ min: 0, max: 200 }).map((n) => ({ amount: n / 2, unit: 'working_hours' as const })),
      fc.integer({ min: 0, max: 40 }).map((n) => ({ amount: n, unit: 'calendar_days' as const })),
    )
    const pause = fc.tuple(instant, fc.integer({ min: 1, max: 20 * 86_400_000 })).map(([from, len]) => ({ from, to: new Date(from.getTime() + len) }))
    fc.assert(fc.property(instant, duration, fc.array(pause, { maxLength: 4 }), pause, (received, d, pauses, extra) => {
      const start = clockStart(cal, received)
      assert.ok(start.getTime() >= received.getTime())
      const plain = computeDue(cal, start, d)
      assert.ok(plain.getTime() >= start.getTime())
      const paused = dueWithPauses(cal, start, d, pauses)
      assert.ok(paused.getTime() >= plain.getTime())
      const more = extendForPause(cal, d.unit, start, paused, extra)
      assert.ok(more.getTime() >= paused.getTime())
    }), { numRuns: 300 })
  })
})

describe('judgement and warning', () => {
  const due = vn('2026-02-24T09:00:00')
  test('early / on time / late are judged against the due instant', () => {
    assert.equal(judgeTimeliness(cal, vn('2026-02-23T16:00:00'), due), 'early')
    assert.equal(judgeTimeliness(cal, vn('2026-02-24T08:00:00'), due), 'on_time')
    assert.equal(judgeTimeliness(cal, due, due), 'on_time')
    assert.equal(judgeTimeliness(cal, vn('2026-02-24T09:01:00'), due), 'late')
    assert.equal(judgeTimeliness(cal, vn('2026-02-23T16:00:00'), due, true), 'late')
  })
  test('the warning comes one working day before, skipping Tết', () => {
    assert.deepEqual(warningAt(cal, due), vn('2026-02-23T09:00:00'))
    assert.deepEqual(warningAt(cal, vn('2026-02-23T09:00:00')), vn('2026-02-13T09:00:00'))
  })
})

describe('status machine', () => {
  test('every action has its rule and the ten statuses are reachable', () => {
    const reached = new Set<number>([1])
    for (const { action, from } of allowedPairs()) {
      reached.add(nextStatus(action, from, true)!)
      reached.add(nextStatus(action, from, false)!)
    }
    assert.deepEqual([...reached].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    for (const a of DOSSIER_ACTIONS) assert.ok(TRANSITIONS[a])
  })
  test('terminal statuses allow nothing; resolution only from processing; return only after resolution', () => {
    for (const s of [3, 7, 8, 10] as DossierStatus[]) for (const a of DOSSIER_ACTIONS) assert.equal(nextStatus(a, s, true), undefined, `${a} from ${s}`)
    assert.equal(nextStatus('resolve', 2, true), undefined)
    assert.equal(nextStatus('return', 4, true), undefined)
    assert.equal(nextStatus('supplement', 5, false), 1)
    assert.equal(nextStatus('supplement', 5, true), 4)
    assert.equal(nextStatus('pay', 6, true), 4)
  })
})

describe('codes and payment', () => {
  test('dossier code: agency, Vietnam date, four digits', () => {
    assert.equal(vietnamDay(new Date('2026-03-05T17:30:00Z')), '260306')
    assert.equal(formatDossierCode('11.SXD', '260306', 7), '11.SXD-260306-0007')
    assert.equal(formatDossierCode('03127', '260306', 12345), '03127-260306-12345')
  })
  test('VietQR payload carries the account, amount, purpose and a valid CRC', () => {
    assert.equal(crc16('123456789'), '29B1')
    const q = vietQrPayload({ bankBin: '970415', accountNo: '113366668888', amountVnd: 50000, purpose: '03127-260306-0001' })
    assert.ok(q.startsWith('000201010212'))
    assert.ok(q.includes('0010A000000727'))
    assert.ok(q.includes('5405500005303704') || (q.includes('540550000') && q.includes('5303704')))
    assert.equal(q.slice(-4), crc16(q.slice(0, -4)))
  })
})
