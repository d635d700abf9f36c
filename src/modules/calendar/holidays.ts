/**
 * Vietnamese public holidays (ngày nghỉ lễ, Tết) as Labour Code 2019 Art. 112 sets them, plus the
 * compensatory days off (nghỉ bù) when a holiday falls on a weekly rest day.
 *
 * Art. 112 gives 11 days a year:
 *  - Tết Dương lịch: 1 January;
 *  - Tết Âm lịch: 5 days. The law lets the government pick which five; the usual pattern, and our
 *    default, is the last day of the lunar year (Giao thừa, "30 Tết" or "29 Tết") + days 1–4 of
 *    the new lunar year. `tetDaysBeforeNewYear` moves the window (0 = days 1–5, 2 = 29/30 Tết + 1–3…);
 *  - Ngày Chiến thắng: 30 April; Ngày Quốc tế lao động: 1 May;
 *  - Quốc khánh: 2 September and the day before or after. Default: 1 September (the choice the
 *    government made in 2021–2025); `nationalDayExtraDay: 'after'` gives 3 September;
 *  - Giỗ Tổ Hùng Vương: 10th day of the 3rd lunar month.
 *
 * The same rules are applied to every supported year, including years before the 2019 code took
 * effect (1 January 2021), when the statutory days were fewer. Past years are for arithmetic,
 * not a legal history.
 *
 * Compensation (Labour Code Art. 111(3), Decree 145/2020 Art. 58): for each holiday falling on a
 * weekly rest day, one day off on the next working day after the holiday block (a run of
 * consecutive holidays), skipping rest days, holidays and compensation days already given.
 * E.g. 2 Sep 2023 (Saturday) → Monday 4 Sep. Two holidays on one date (Hùng Kings' day on 30 April,
 * which happens in 1917 and 1947 but not 1990–2100) are treated the same way: one extra day after.
 *
 * The government's yearly announcement (swapped days, make-up working Saturdays) is not computed:
 * it lives in the admin schedule table and wins over everything here.
 */
import Holidays from 'date-holidays'
import { dayNumOf, ddmm, isoFromDayNum, parseIsoDate, weekdayOf, type IsoDate } from './civil-date.ts'

/** Years the calendar computes. The lunar computation is reliable well beyond this range. */
export const MIN_YEAR = 1900
export const MAX_YEAR = 2200

export type HolidayKind =
  /** A statutory holiday (Art. 112). */
  | 'public_holiday'
  /** A day off in compensation for a holiday that fell on a weekly rest day. */
  | 'compensatory'
  /** An extra day off announced by the government (admin schedule). */
  | 'day_off'
  /** A working day announced by the government, e.g. a make-up Saturday (admin schedule). */
  | 'working_day'

export interface Holiday {
  date: IsoDate
  name_vi: string
  name_en: string
  kind: HolidayKind
}

export interface HolidayRuleOptions {
  /** How many of Tết's 5 days come before lunar 1/1 (0–5). Default 1: the eve + days 1–4. */
  tetDaysBeforeNewYear?: number
  /** Which day accompanies 2 September. Default 'before' (1 September). */
  nationalDayExtraDay?: 'before' | 'after'
  /** Weekly rest days, 0 = Sunday … 6 = Saturday. Default Saturday and Sunday (public offices). */
  weekendDays?: readonly number[]
}

export interface ResolvedHolidayRules {
  tetDaysBeforeNewYear: number
  nationalDayExtraDay: 'before' | 'after'
  weekendDays: readonly number[]
}

/** Fills in the defaults and refuses options that would make no sense (a week without work). */
export function resolveHolidayRules(o: HolidayRuleOptions = {}): ResolvedHolidayRules {
  const tet = o.tetDaysBeforeNewYear ?? 1
  if (!Number.isInteger(tet) || tet < 0 || tet > 5) throw new RangeError('tetDaysBeforeNewYear must be an integer 0–5')
  const extra = o.nationalDayExtraDay ?? 'before'
  if (extra !== 'before' && extra !== 'after') throw new RangeError("nationalDayExtraDay must be 'before' or 'after'")
  const weekendDays = [...new Set(o.weekendDays ?? [0, 6])].sort()
  if (weekendDays.some((d) => !Number.isInteger(d) || d < 0 || d > 6) || weekendDays.length > 6) {
    throw new RangeError('weekendDays must be distinct weekdays 0–6 leaving at least one working weekday')
  }
  return { tetDaysBeforeNewYear: tet, nationalDayExtraDay: extra, weekendDays }
}

export function assertSupportedYear(year: number): void {
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`Year ${year} is outside the supported range ${MIN_YEAR}–${MAX_YEAR}`)
  }
}

// The two lunar rules exactly as date-holidays' VN data writes them ('vietnamese' = the lunar
// calendar computed for UTC+7, which differs from the Chinese one in years like 1985, 2007, 2030).
// A private instance holding only these two rules is ~5× faster than the full VN data set, which
// also computes a dozen lunar observances we do not need; a test checks both agree.
export const TET_RULE = 'vietnamese 1-0-1'
export const HUNG_KINGS_RULE = 'vietnamese 3-0-10'

let lunarSource: Holidays | undefined
const lunarMemo = new Map<number, LunarAnchors>()

export interface LunarAnchors {
  /** Lunar 1/1 (mùng 1 Tết). */
  tetFirstDay: IsoDate
  /** Lunar 10/3 (Giỗ Tổ Hùng Vương). */
  hungKings: IsoDate
}

/** The Gregorian dates of lunar new year and Hùng Kings' day in a year (memoised). */
export function lunarAnchors(year: number): LunarAnchors {
  assertSupportedYear(year)
  const hit = lunarMemo.get(year)
  if (hit) return hit
  if (!lunarSource) {
    lunarSource = new Holidays({ VN: { names: { en: 'Vietnam lunar anchors' }, days: {} } } as never, 'VN')
    lunarSource.setHoliday(TET_RULE, { name: { en: 'Tet' }, type: 'public' } as never)
    lunarSource.setHoliday(HUNG_KINGS_RULE, { name: { en: 'Hung Kings' }, type: 'public' } as never)
  }
  const found = lunarSource.getHolidays(year)
  const dateOf = (rule: string): IsoDate => {
    const h = found.find((x) => x.rule === rule)
    if (!h) throw new Error(`date-holidays returned no ${rule} for ${year}`)
    return h.date.slice(0, 10)
  }
  const anchors = { tetFirstDay: dateOf(TET_RULE), hungKings: dateOf(HUNG_KINGS_RULE) }
  lunarMemo.set(year, anchors)
  return anchors
}

const TET_DAY_NAMES_VI = ['mùng 1', 'mùng 2', 'mùng 3', 'mùng 4', 'mùng 5']

/**
 * The statutory holidays and compensatory days of a year, sorted by date. Pure and cheap once the
 * lunar anchors of the year are known; callers memoise per year.
 */
export function statutoryHolidays(year: number, rules: ResolvedHolidayRules = resolveHolidayRules()): Holiday[] {
  const { tetFirstDay, hungKings } = lunarAnchors(year)
  // Every statutory day, even two on one date: Hùng Kings' day can fall on 30 April (1917, 1947).
  const entries: { n: number; name_vi: string; name_en: string }[] = []
  const add = (n: number, name_vi: string, name_en: string) => entries.push({ n, name_vi, name_en })

  add(dayNumOf(year, 1, 1), 'Tết Dương lịch', "New Year's Day")

  const tet1 = parseIsoDate(tetFirstDay)!
  for (let i = -rules.tetDaysBeforeNewYear; i < 5 - rules.tetDaysBeforeNewYear; i++) {
    if (i === -1) add(tet1 + i, 'Tết Nguyên đán (Giao thừa)', 'Lunar New Year (Tết) – New Year’s Eve')
    else if (i < -1) add(tet1 + i, `Tết Nguyên đán (trước Giao thừa ${-i - 1} ngày)`, `Lunar New Year (Tết) – ${-i - 1} day(s) before New Year’s Eve`)
    else add(tet1 + i, `Tết Nguyên đán (${TET_DAY_NAMES_VI[i]})`, `Lunar New Year (Tết) – day ${i + 1}`)
  }

  add(parseIsoDate(hungKings)!, 'Giỗ Tổ Hùng Vương (10/3 âm lịch)', 'Hùng Kings’ Commemoration Day')
  add(dayNumOf(year, 4, 30), 'Ngày Chiến thắng (30/4)', 'Reunification Day (30 April)')
  add(dayNumOf(year, 5, 1), 'Ngày Quốc tế Lao động (1/5)', 'International Labour Day (1 May)')
  const nationalDay = dayNumOf(year, 9, 2)
  add(nationalDay, 'Quốc khánh (2/9)', 'National Day (2 September)')
  if (rules.nationalDayExtraDay === 'before') add(nationalDay - 1, 'Quốc khánh (nghỉ ngày 1/9)', 'National Day holiday (1 September)')
  else add(nationalDay + 1, 'Quốc khánh (nghỉ ngày 3/9)', 'National Day holiday (3 September)')

  const isRestDay = (n: number) => rules.weekendDays.includes(weekdayOf(n))
  entries.sort((a, b) => a.n - b.n)
  const result: Holiday[] = []
  const taken = new Set<number>()
  // A holiday owes a compensation day when it falls on a rest day, or on a day another holiday
  // already took (the law grants each holiday; we apply the rest-day rule to collisions too).
  const owed: boolean[] = entries.map((e) => {
    const same = result.find((h) => h.date === isoFromDayNum(e.n))
    if (same) {
      same.name_vi += `; ${e.name_vi}`
      same.name_en += `; ${e.name_en}`
      return true
    }
    result.push({ date: isoFromDayNum(e.n), name_vi: e.name_vi, name_en: e.name_en, kind: 'public_holiday' })
    taken.add(e.n)
    return isRestDay(e.n)
  })
  for (let i = 0; i < entries.length; ) {
    // A block is a run of holidays on consecutive days; its compensation days come after its last day.
    let j = i
    while (j + 1 < entries.length && entries[j + 1].n <= entries[j].n + 1) j++
    let cursor = entries[j].n + 1
    for (let k = i; k <= j; k++) {
      if (!owed[k]) continue
      while (isRestDay(cursor) || taken.has(cursor)) cursor++
      const e = entries[k]
      result.push({
        date: isoFromDayNum(cursor),
        name_vi: `Nghỉ bù ${e.name_vi} (${ddmm(e.n)})`,
        name_en: `Compensatory day off for ${e.name_en} (${ddmm(e.n)})`,
        kind: 'compensatory',
      })
      taken.add(cursor)
      cursor++
    }
    i = j + 1
  }
  return result.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
}
