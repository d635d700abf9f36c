/**
 * The working calendar of a Vietnamese public office: which days are working days, and deadline
 * arithmetic in working days and working (office) hours. Pure: built from the admin schedule and
 * options, no database inside, so any module can use it in a loop.
 *
 * Time model. Instants are UTC `Date`s. Local time is UTC + a fixed offset (Asia/Ho_Chi_Minh is
 * UTC+7 with no daylight saving since 1975), so every local day is exactly 24 hours and we work in
 * "local milliseconds" (UTC ms + offset) split into a day number and a time of day. Office periods
 * are half-open [start, end) in local time; by default 07:30–11:30 and 13:30–17:00.
 *
 * A day is a working day unless, in order of precedence:
 *  1. the admin schedule lists it (`working_day` → working, `day_off` → not), which is how the
 *     government's yearly announcement (swapped days, make-up Saturdays) is entered;
 *  2. it is a weekly rest day (Saturday, Sunday by default);
 *  3. it is a statutory holiday or a compensatory day (see holidays.ts).
 */
import { DAY_MS, dayNumOf, formatWithOffset, isoFromDayNum, parseIsoDate, weekdayOf, yearOfDayNum, type IsoDate } from './civil-date.ts'
import { assertSupportedYear, resolveHolidayRules, statutoryHolidays, type Holiday, type HolidayRuleOptions, type ResolvedHolidayRules } from './holidays.ts'

/** One row of the government's announced schedule (the admin table). */
export interface ScheduleDay {
  date: IsoDate
  kind: 'day_off' | 'working_day'
  note_vi: string
  note_en: string
}

/** A local office period, 'HH:MM'–'HH:MM' (end exclusive; '24:00' allowed as an end). */
export interface OfficePeriod {
  start: string
  end: string
}

export interface WorkingCalendarOptions extends HolidayRuleOptions {
  /** Office periods of a working day, in order. Default 07:30–11:30 and 13:30–17:00. */
  officeHours?: readonly OfficePeriod[]
  /** Fixed offset of local time from UTC in minutes. Default 420 (Asia/Ho_Chi_Minh, UTC+7). */
  utcOffsetMinutes?: number
}

/** A span during which the clock stops, e.g. while a dossier waits for the citizen. */
export interface Pause {
  from: Date
  to: Date
}

export const DEFAULT_OFFICE_HOURS: readonly OfficePeriod[] = [
  { start: '07:30', end: '11:30' },
  { start: '13:30', end: '17:00' },
]
export const VIETNAM_UTC_OFFSET_MINUTES = 420

const HOUR_MS = 3_600_000
// How far nextWorkingInstant looks before concluding the schedule has no working day at all.
const MAX_SEARCH_DAYS = 3700

interface YearData {
  firstDay: number
  /** 1 = working day, by day of year. */
  working: Uint8Array
  holidays: readonly Holiday[]
}

export class WorkingCalendar {
  readonly utcOffsetMinutes: number
  readonly officeHours: readonly OfficePeriod[]
  private readonly offsetMs: number
  /** [start, end) of each office period in ms after local midnight. */
  private readonly periods: readonly (readonly [number, number])[]
  /** Office time in one working day. */
  readonly workingDayMs: number
  private readonly rules: ResolvedHolidayRules
  private readonly overrides = new Map<number, ScheduleDay>()
  private readonly years = new Map<number, YearData>()
  private lastYear: YearData | undefined

  /**
   * @param overrides the announced schedule; it wins over weekends and computed holidays. When a
   *   date appears twice, the last row wins.
   */
  constructor(overrides: readonly ScheduleDay[] = [], options: WorkingCalendarOptions = {}) {
    this.rules = resolveHolidayRules(options)
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? VIETNAM_UTC_OFFSET_MINUTES
    if (!Number.isInteger(this.utcOffsetMinutes) || Math.abs(this.utcOffsetMinutes) > 14 * 60) {
      throw new RangeError('utcOffsetMinutes must be an integer within ±14 hours')
    }
    this.offsetMs = this.utcOffsetMinutes * 60_000
    this.officeHours = (options.officeHours ?? DEFAULT_OFFICE_HOURS).map((p) => ({ ...p }))
    this.periods = parsePeriods(this.officeHours)
    this.workingDayMs = this.periods.reduce((sum, [s, e]) => sum + (e - s), 0)
    for (const o of overrides) {
      const n = parseIsoDate(o.date)
      if (n === undefined) throw new RangeError(`Invalid schedule date ${o.date}`)
      if (o.kind !== 'day_off' && o.kind !== 'working_day') throw new RangeError(`Invalid schedule kind ${String(o.kind)}`)
      this.overrides.set(n, { date: o.date, kind: o.kind, note_vi: o.note_vi, note_en: o.note_en })
    }
  }

  /** Whether the office works on this local date ('YYYY-MM-DD'). */
  isWorkingDay(isoDate: IsoDate): boolean {
    const n = parseIsoDate(isoDate)
    if (n === undefined) throw new RangeError(`Invalid date ${isoDate}; expected YYYY-MM-DD`)
    return this.isWorkingDayNum(n)
  }

  /**
   * The year's days off and announced working days, sorted by date: statutory holidays,
   * compensatory days, and the admin schedule (which replaces a computed entry on the same date).
   */
  holidays(year: number): Holiday[] {
    return this.yearData(year).holidays.map((h) => ({ ...h }))
  }

  /** Whether the instant is inside an office period [start, end) of a working day. */
  isWorkingInstant(d: Date): boolean {
    const { n, tod } = this.split(d)
    return this.isWorkingDayNum(n) && this.periods.some(([s, e]) => tod >= s && tod < e)
  }

  /** `d` itself when it is a working instant, otherwise the start of the next office period. */
  nextWorkingInstant(d: Date): Date {
    let { n, tod } = this.split(d)
    for (let i = 0; i < MAX_SEARCH_DAYS; i++, n++, tod = 0) {
      if (!this.isWorkingDayNum(n)) continue
      for (const [s, e] of this.periods) if (tod < e) return this.instant(n, Math.max(s, tod))
    }
    throw new RangeError('No working day within ten years of the given instant')
  }

  /**
   * The deadline `days` working days after `from`.
   *
   * Semantics: `from` is first moved to the next working instant (unchanged when the office is
   * open; otherwise the start of the next office period, e.g. Friday 18:00 → Monday 07:30). The
   * result is that same local time of day on the `days`-th working day after. So a dossier received
   * Monday 09:00 with a 3-working-day limit is due Thursday 09:00, and one received Friday 18:00 is
   * due Thursday 07:30. With `days` = 0 the result is the moved start. The result is always a
   * working instant, and adding a then b working days equals adding a + b.
   */
  addWorkingDays(from: Date, days: number): Date {
    if (!Number.isInteger(days) || days < 0) throw new RangeError('days must be a non-negative integer')
    const start = this.split(this.nextWorkingInstant(from))
    const tod = start.tod
    let n = start.n
    for (let left = days; left > 0; ) {
      n++
      if (this.isWorkingDayNum(n)) left--
    }
    return this.instant(n, tod)
  }

  /**
   * The earliest instant by which `hours` of office time have elapsed since `from` (fractional hours
   * allowed, rounded to the millisecond). Time outside office periods and on days off does not count.
   * With hours > 0 the result lies in (start, end] of an office period of a working day — it can be
   * exactly 11:30 or 17:00, the end of the period in which the time runs out. With hours = 0 the
   * result is `from` unchanged.
   */
  addWorkingHours(from: Date, hours: number): Date {
    if (!Number.isFinite(hours) || hours < 0) throw new RangeError('hours must be a non-negative number')
    let left = Math.round(hours * HOUR_MS)
    if (left === 0) return new Date(assertInstant(from).getTime())
    let { n, tod } = this.split(from)
    for (;; n++, tod = 0) {
      if (!this.isWorkingDayNum(n)) continue
      // Whole working day ahead: step over it without looking at its periods.
      if (tod === 0 && left > this.workingDayMs) {
        left -= this.workingDayMs
        continue
      }
      for (const [s, e] of this.periods) {
        const begin = Math.max(s, tod)
        if (begin >= e) continue
        if (left <= e - begin) return this.instant(n, begin + left)
        left -= e - begin
      }
    }
  }

  /**
   * Office time in milliseconds between `a` and `b`, not counting the pauses (which may overlap each
   * other and stick out of [a, b]). 0 when b ≤ a. For any `from`,
   * workingMillisBetween(from, addWorkingHours(from, h)) is h hours.
   */
  workingMillisBetween(a: Date, b: Date, pauses: readonly Pause[] = []): number {
    let lo = assertInstant(a).getTime()
    const hi = assertInstant(b).getTime()
    if (hi <= lo) return 0
    const cuts = pauses
      .map((p) => [assertInstant(p.from).getTime(), assertInstant(p.to).getTime()] as const)
      .filter(([f, t]) => t > f && t > lo && f < hi)
      .sort((x, y) => x[0] - y[0])
    let total = 0
    for (const [f, t] of cuts) {
      if (f > lo) total += this.workingMsIn(lo, f)
      lo = Math.max(lo, t)
      if (lo >= hi) return total
    }
    return total + this.workingMsIn(lo, hi)
  }

  /** The instant as local ISO 8601 with the calendar's offset, e.g. '2026-04-29T16:00:00.000+07:00'. */
  formatLocal(d: Date): string {
    return formatWithOffset(assertInstant(d), this.utcOffsetMinutes)
  }

  /** The local date ('YYYY-MM-DD') of an instant. */
  localDate(d: Date): IsoDate {
    return isoFromDayNum(this.split(d).n)
  }

  // --- internals ---

  /** Office ms in [x, y) (UTC ms, x < y), stepping over whole days. */
  private workingMsIn(x: number, y: number): number {
    const lx = x + this.offsetMs
    const ly = y + this.offsetMs
    const first = Math.floor(lx / DAY_MS)
    const last = Math.floor(ly / DAY_MS)
    let total = 0
    for (let n = first; n <= last; n++) {
      if (!this.isWorkingDayNum(n)) continue
      const from = n === first ? lx - n * DAY_MS : 0
      const to = n === last ? ly - n * DAY_MS : DAY_MS
      if (from === 0 && to === DAY_MS) {
        total += this.workingDayMs
        continue
      }
      for (const [s, e] of this.periods) total += Math.max(0, Math.min(e, to) - Math.max(s, from))
    }
    return total
  }

  private split(d: Date): { n: number; tod: number } {
    const local = assertInstant(d).getTime() + this.offsetMs
    const n = Math.floor(local / DAY_MS)
    return { n, tod: local - n * DAY_MS }
  }

  private instant(n: number, tod: number): Date {
    return new Date(n * DAY_MS + tod - this.offsetMs)
  }

  private isWorkingDayNum(n: number): boolean {
    // Day-stepping loops stay in one year for months: skip the year lookup while they do.
    let y = this.lastYear
    if (!y || n < y.firstDay || n >= y.firstDay + y.working.length) y = this.lastYear = this.yearData(yearOfDayNum(n))
    return y.working[n - y.firstDay] === 1
  }

  /** Working-day flags and the holiday list of a year, computed once per calendar. */
  private yearData(year: number): YearData {
    const hit = this.years.get(year)
    if (hit) return hit
    assertSupportedYear(year)
    const firstDay = dayNumOf(year, 1, 1)
    const length = dayNumOf(year + 1, 1, 1) - firstDay
    const working = new Uint8Array(length)
    const byDate = new Map<IsoDate, Holiday>()
    const off = new Set<number>()
    for (const h of statutoryHolidays(year, this.rules)) {
      byDate.set(h.date, h)
      off.add(parseIsoDate(h.date)!)
    }
    for (let i = 0; i < length; i++) {
      const n = firstDay + i
      const o = this.overrides.get(n)
      if (o) {
        working[i] = o.kind === 'working_day' ? 1 : 0
        byDate.set(o.date, {
          date: o.date,
          kind: o.kind,
          name_vi: o.note_vi || (o.kind === 'day_off' ? 'Ngày nghỉ theo thông báo' : 'Ngày làm việc theo thông báo'),
          name_en: o.note_en || (o.kind === 'day_off' ? 'Announced day off' : 'Announced working day'),
        })
      } else {
        working[i] = this.rules.weekendDays.includes(weekdayOf(n)) || off.has(n) ? 0 : 1
      }
    }
    const holidays = Object.freeze([...byDate.values()].sort((p, q) => (p.date < q.date ? -1 : p.date > q.date ? 1 : 0)).map((h) => Object.freeze(h)))
    const data = { firstDay, working, holidays }
    this.years.set(year, data)
    return data
  }
}

function assertInstant(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError('Invalid instant')
  return d
}

const HH_MM = /^(\d{2}):(\d{2})$/

function parsePeriods(periods: readonly OfficePeriod[]): [number, number][] {
  if (periods.length === 0) throw new RangeError('officeHours needs at least one period')
  const toMs = (s: string): number => {
    const m = HH_MM.exec(s)
    const h = m ? Number(m[1]) : NaN
    const min = m ? Number(m[2]) : NaN
    if (!m || min > 59 || h > 24 || (h === 24 && min !== 0)) throw new RangeError(`Invalid office time ${s}; expected HH:MM`)
    return (h * 60 + min) * 60_000
  }
  const out = periods.map((p) => [toMs(p.start), toMs(p.end)] as [number, number])
  out.forEach(([s, e], i) => {
    if (e <= s) throw new RangeError(`Office period ${periods[i].start}–${periods[i].end} ends before it starts`)
    if (i > 0 && s < out[i - 1][1]) throw new RangeError('Office periods must be in order and must not overlap')
  })
  return out
}
