/**
 * Deadline rules of a dossier (pure, over a WorkingCalendar):
 *  - the clock starts at valid receipt; a dossier received at or after 15:00 local time (or on a
 *    day off) counts from the start of the next working day;
 *  - due = start + the procedure's duration (working days, working hours or calendar days; the
 *    priority duration when the procedure grants priority);
 *  - waits for a supplement or for fees pause the clock: each pause that began before the due
 *    instant pushes it back by the pause's length (working time, or calendar time for
 *    calendar-day durations);
 *  - early / on time / late is judged when the dossier is resolved (status 9).
 */
import type { Pause, WorkingCalendar } from '../../calendar/index.ts'

export type DurationUnit = 'working_days' | 'working_hours' | 'calendar_days'
export interface Duration {
  amount: number
  unit: DurationUnit
}

/** Local hour from which a receipt counts from the next working day. */
export const LATE_RECEIPT_HOUR = 15
const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

function localMs(cal: WorkingCalendar, d: Date): number {
  return d.getTime() + cal.utcOffsetMinutes * 60_000
}

/** The instant of local midnight starting the local day after `d`. */
function nextLocalMidnight(cal: WorkingCalendar, d: Date): Date {
  const local = localMs(cal, d)
  const midnight = Math.floor(local / DAY_MS) * DAY_MS + DAY_MS
  return new Date(midnight - cal.utcOffsetMinutes * 60_000)
}

/** When the handling clock starts for a dossier received at `receivedAt`. */
export function clockStart(cal: WorkingCalendar, receivedAt: Date): Date {
  const tod = ((localMs(cal, receivedAt) % DAY_MS) + DAY_MS) % DAY_MS
  if (tod >= LATE_RECEIPT_HOUR * HOUR_MS) return cal.nextWorkingInstant(nextLocalMidnight(cal, receivedAt))
  return cal.nextWorkingInstant(receivedAt)
}

/** The duration that applies: the priority duration when the procedure grants one. */
export function applicableDuration(p: { duration: { online: Duration; in_person: Duration }; priority: boolean; priority_duration: Duration | null }, channel: 'online' | 'in_person'): Duration {
  if (p.priority && p.priority_duration) return p.priority_duration
  return p.duration[channel]
}

/** Due instant for a clock started at `start` (already a working instant, see clockStart). */
export function computeDue(cal: WorkingCalendar, start: Date, d: Duration): Date {
  if (!(d.amount >= 0)) throw new RangeError('duration must be non-negative')
  switch (d.unit) {
    case 'working_days':
      return cal.addWorkingDays(start, Math.ceil(d.amount))
    case 'working_hours':
      return cal.addWorkingHours(start, d.amount)
    case 'calendar_days': {
      // A calendar-day deadline falling on a day off moves to the next working instant.
      const raw = new Date(start.getTime() + Math.ceil(d.amount) * DAY_MS)
      return cal.nextWorkingInstant(raw)
    }
  }
}

/**
 * The due instant after a pause ended: a pause that began before `due` pushes it back by the
 * pause's length after the clock start (never earlier; a pause begun when already late does not help).
 */
export function extendForPause(cal: WorkingCalendar, unit: DurationUnit, start: Date, due: Date, pause: Pause): Date {
  if (pause.from.getTime() >= due.getTime()) return due
  const from = new Date(Math.max(pause.from.getTime(), start.getTime()))
  if (pause.to.getTime() <= from.getTime()) return due
  if (unit === 'calendar_days') return new Date(due.getTime() + (pause.to.getTime() - from.getTime()))
  const ms = cal.workingMillisBetween(from, pause.to)
  return ms > 0 ? cal.addWorkingHours(due, ms / HOUR_MS) : due
}

/** The due instant after a series of closed pauses (in the order they ended). */
export function dueWithPauses(cal: WorkingCalendar, start: Date, d: Duration, pauses: readonly Pause[]): Date {
  let due = computeDue(cal, start, d)
  for (const p of [...pauses].sort((a, b) => a.to.getTime() - b.to.getTime())) due = extendForPause(cal, d.unit, start, due, p)
  return due
}

export type Timeliness = 'early' | 'on_time' | 'late'

/**
 * Judged at resolution (status 9): late after the due instant (or when a rule forces it, e.g. a
 * second supplement request by one unit); early when resolved on a local day before the due day;
 * otherwise on time.
 */
export function judgeTimeliness(cal: WorkingCalendar, resolvedAt: Date, due: Date, forcedLate = false): Timeliness {
  if (forcedLate || resolvedAt.getTime() > due.getTime()) return 'late'
  return cal.localDate(resolvedAt) < cal.localDate(due) ? 'early' : 'on_time'
}

/** The warning instant: the same local time one working day before `due` (or `due` itself if none is found). */
export function warningAt(cal: WorkingCalendar, due: Date): Date {
  let t = due.getTime() - DAY_MS
  for (let i = 0; i < 60; i++, t -= DAY_MS) {
    if (cal.isWorkingDay(cal.localDate(new Date(t)))) return new Date(t)
  }
  return due
}

/**
 * Due instant of a processing step: the clock start plus the step's cumulative share of the
 * dossier's office time (steps share the total; the last step ends at the dossier's due instant).
 */
export function stepDueAt(cal: WorkingCalendar, start: Date, due: Date, cumulativeShare: number): Date {
  const share = Math.min(1, Math.max(0, cumulativeShare))
  if (share >= 1) return due
  const total = cal.workingMillisBetween(start, due)
  return total > 0 ? cal.addWorkingHours(start, (total * share) / HOUR_MS) : due
}
