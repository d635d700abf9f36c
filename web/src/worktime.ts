/**
 * Office time between two instants, in the browser, for the officers' queue: Vietnam time (UTC+7),
 * office periods 07:30–11:30 and 13:30–17:00, Monday to Friday, minus the public holidays and the
 * announced days off of /api/calendar/holidays, plus its announced make-up working days. The server's
 * own working calendar stays the reference for deadlines; this only shows "time left".
 */
import { api } from './api.ts'

const DAY = 86_400_000
const OFFSET = 7 * 3_600_000
const PERIODS: [number, number][] = [[7.5 * 3_600_000, 11.5 * 3_600_000], [13.5 * 3_600_000, 17 * 3_600_000]]

export interface OfficeCalendar {
  /** Office milliseconds from `from` to `to`; negative when `to` is before `from`. */
  between(from: number, to: number): number
}

interface Holiday { date: string; kind: 'public_holiday' | 'compensatory' | 'day_off' | 'working_day' }

/** Builds the calendar from holiday lists (pure, for tests and for the loader below). */
export function officeCalendar(holidays: Holiday[]): OfficeCalendar {
  const off = new Set(holidays.filter((x) => x.kind !== 'working_day').map((x) => x.date))
  const extra = new Set(holidays.filter((x) => x.kind === 'working_day').map((x) => x.date))
  const working = (localDayStart: number): boolean => {
    const d = new Date(localDayStart)
    const key = d.toISOString().slice(0, 10)
    if (extra.has(key)) return true
    const wd = d.getUTCDay()
    return wd !== 0 && wd !== 6 && !off.has(key)
  }
  const forward = (a: number, b: number): number => {
    let total = 0
    // Local (UTC+7) wall time as if it were UTC, so each day is [k·DAY, (k+1)·DAY).
    const la = a + OFFSET
    const lb = b + OFFSET
    const last = Math.min(lb, la + 800 * DAY)
    for (let day = Math.floor(la / DAY) * DAY; day < last; day += DAY) {
      if (!working(day)) continue
      for (const [s, e] of PERIODS) total += Math.max(0, Math.min(last, day + e) - Math.max(la, day + s))
    }
    return total
  }
  return { between: (from, to) => (to >= from ? forward(from, to) : 0 - forward(to, from)) }
}

let cached: Promise<OfficeCalendar> | undefined
/** The calendar for last year to next year, loaded once per page. */
export function loadOfficeCalendar(): Promise<OfficeCalendar> {
  cached ??= (async () => {
    const y = new Date(Date.now() + OFFSET).getUTCFullYear()
    const lists = await Promise.all([y - 1, y, y + 1].map((yr) => api<{ holidays: Holiday[] }>(`/api/calendar/holidays?year=${yr}`).then((r) => r.holidays).catch(() => [] as Holiday[])))
    return officeCalendar(lists.flat())
  })()
  return cached
}
