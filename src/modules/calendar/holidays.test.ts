import assert from 'node:assert/strict'
import { test } from 'node:test'
import Holidays from 'date-holidays'
import { parseIsoDate, weekdayOf } from './civil-date.ts'
import { lunarAnchors, resolveHolidayRules, statutoryHolidays, type Holiday } from './holidays.ts'

const dates = (hs: Holiday[], kind?: Holiday['kind']) => hs.filter((h) => !kind || h.kind === kind).map((h) => h.date)
const isWeekend = (iso: string) => [0, 6].includes(weekdayOf(parseIsoDate(iso)!))

test('lunar new year (mùng 1 Tết) and Hùng Kings day', () => {
  assert.equal(lunarAnchors(2024).tetFirstDay, '2024-02-10')
  assert.equal(lunarAnchors(2025).tetFirstDay, '2025-01-29')
  assert.equal(lunarAnchors(2026).tetFirstDay, '2026-02-17')
  assert.equal(lunarAnchors(2027).tetFirstDay, '2027-02-06')
  assert.equal(lunarAnchors(2026).hungKings, '2026-04-26')
  assert.equal(lunarAnchors(2025).hungKings, '2025-04-07')
  assert.equal(lunarAnchors(2024).hungKings, '2024-04-18')
})

test('the Vietnamese lunar calendar (UTC+7), not the Chinese one: 1985 and 2007 differ', () => {
  assert.equal(lunarAnchors(1985).tetFirstDay, '1985-01-21') // China: 20 February
  assert.equal(lunarAnchors(2007).tetFirstDay, '2007-02-17') // China: 18 February
})

test('our two-rule lunar source agrees with date-holidays’ full VN data', () => {
  const vn = new Holidays('VN')
  for (const year of [1990, 2001, 2007, 2019, 2024, 2025, 2026, 2027, 2033, 2050, 2076, 2100]) {
    const all = vn.getHolidays(year)
    const first = all.find((h) => h.rule === 'vietnamese 1-0-1')!.date.slice(0, 10)
    const eve = all.find((h) => h.rule.startsWith('1 day before vietnamese 1-0-1'))!.date.slice(0, 10)
    const hung = all.find((h) => h.rule === 'vietnamese 3-0-10')!.date.slice(0, 10)
    assert.equal(lunarAnchors(year).tetFirstDay, first, `Tết ${year}`)
    assert.equal(lunarAnchors(year).hungKings, hung, `Hùng Kings ${year}`)
    assert.equal(parseIsoDate(eve), parseIsoDate(first)! - 1, `Tết eve ${year}`)
  }
})

test('2026: the statutory days and one compensation (Hùng Kings on Sunday)', () => {
  const hs = statutoryHolidays(2026)
  assert.deepEqual(dates(hs, 'public_holiday'), [
    '2026-01-01',
    '2026-02-16', // Giao thừa (eve, 29 Tết)
    '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', // mùng 1–4
    '2026-04-26', // Hùng Kings, a Sunday
    '2026-04-30', // Thursday
    '2026-05-01', // Friday: no compensation, Sat/Sun are ordinary rest days
    '2026-09-01', '2026-09-02',
  ])
  assert.deepEqual(dates(hs, 'compensatory'), ['2026-04-27'])
  const eve = hs.find((h) => h.date === '2026-02-16')!
  assert.match(eve.name_vi, /Giao thừa/)
  assert.match(hs.find((h) => h.date === '2026-04-27')!.name_vi, /^Nghỉ bù Giỗ Tổ Hùng Vương/)
})

test('2023: 2 September on Saturday is compensated on Monday 4 September', () => {
  const hs = statutoryHolidays(2023)
  assert.ok(dates(hs, 'public_holiday').includes('2023-09-01'))
  assert.ok(dates(hs, 'public_holiday').includes('2023-09-02'))
  assert.ok(dates(hs, 'compensatory').includes('2023-09-04'))
  // Hùng Kings Sat 29/4 + 30/4 Sun + 1/5 Mon: one block, two compensations after it.
  assert.ok(dates(hs, 'compensatory').includes('2023-05-02'))
  assert.ok(dates(hs, 'compensatory').includes('2023-05-03'))
  // 1 January was a Sunday: Monday 2 January.
  assert.ok(dates(hs, 'compensatory').includes('2023-01-02'))
})

test('2022 (30/4 Saturday, 1/5 Sunday) and 2024 (1/9 Sunday): compensation after the block', () => {
  const y22 = dates(statutoryHolidays(2022), 'compensatory')
  assert.ok(y22.includes('2022-05-02') && y22.includes('2022-05-03'))
  assert.ok(y22.includes('2022-01-03'), '1 January 2022 was a Saturday')
  // 1 Sep 2024 (Sunday) is followed by 2 Sep (Monday, a holiday): the day off is Tuesday 3 Sep.
  assert.deepEqual(dates(statutoryHolidays(2024), 'compensatory').filter((d) => d.startsWith('2024-09')), ['2024-09-03'])
})

test('Tết on a weekend: 2024 eve Friday, mùng 1–2 on Saturday/Sunday → Wednesday and Thursday off', () => {
  const hs = statutoryHolidays(2024)
  assert.deepEqual(dates(hs).filter((d) => d.startsWith('2024-02')), ['2024-02-09', '2024-02-10', '2024-02-11', '2024-02-12', '2024-02-13', '2024-02-14', '2024-02-15'])
  assert.deepEqual(dates(hs, 'compensatory').filter((d) => d.startsWith('2024-02')), ['2024-02-14', '2024-02-15'])
})

test('every year 1990–2100: 11 statutory days, one compensation per weekend holiday, never on a rest day or holiday', () => {
  for (let year = 1990; year <= 2100; year++) {
    const hs = statutoryHolidays(year)
    const pub = dates(hs, 'public_holiday')
    const comp = dates(hs, 'compensatory')
    assert.equal(pub.length, 11, `${year}`)
    assert.equal(comp.length, pub.filter(isWeekend).length, `${year}`)
    assert.equal(new Set(dates(hs)).size, hs.length, `${year}: one entry per date`)
    for (const c of comp) {
      assert.ok(!isWeekend(c), `${year}: ${c} is a rest day`)
      assert.ok(c.startsWith(String(year)), `${year}: ${c} stays in the year`)
    }
    assert.deepEqual(dates(hs), [...dates(hs)].sort(), `${year}: sorted`)
  }
})

test('options: Tết window and the day next to National Day', () => {
  const y = statutoryHolidays(2026, resolveHolidayRules({ tetDaysBeforeNewYear: 0, nationalDayExtraDay: 'after' }))
  assert.deepEqual(dates(y, 'public_holiday').filter((d) => d.startsWith('2026-02')), ['2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21'])
  assert.ok(dates(y).includes('2026-09-03'))
  assert.ok(!dates(y).includes('2026-09-01'))
  // 21 Feb 2026 (mùng 5) is a Saturday: compensated on Monday 23.
  assert.ok(dates(y, 'compensatory').includes('2026-02-23'))
  const two = statutoryHolidays(2026, resolveHolidayRules({ tetDaysBeforeNewYear: 2 }))
  assert.deepEqual(dates(two, 'public_holiday').filter((d) => d.startsWith('2026-02')), ['2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19'])
  assert.throws(() => resolveHolidayRules({ tetDaysBeforeNewYear: 6 }), RangeError)
  assert.throws(() => resolveHolidayRules({ weekendDays: [0, 1, 2, 3, 4, 5, 6] }), RangeError)
})

test('Hùng Kings day on 30 April (1947) counts as two holidays: an extra day off after the block', () => {
  const hs = statutoryHolidays(1947)
  const apr30 = hs.find((h) => h.date === '1947-04-30')!
  assert.match(apr30.name_vi, /Hùng Vương.*Chiến thắng/)
  assert.equal(dates(hs, 'public_holiday').length, 10)
  // 30/4/1947 Wednesday, 1/5 Thursday: the owed day is Friday 2 May.
  assert.ok(dates(hs, 'compensatory').includes('1947-05-02'))
})

test('years outside 1900–2200 are refused', () => {
  assert.throws(() => statutoryHolidays(1899), RangeError)
  assert.throws(() => lunarAnchors(2201), RangeError)
})
