import type { WorkingCalendar } from '../calendar/index.ts'
import type { Category } from './categories.ts'
import type { ReportStatus } from './repository.ts'

/** Due time of a state: the category's working hours for it, counted on the working calendar. */
export function stateDueAt(cal: WorkingCalendar, category: Category, state: ReportStatus, from: Date): Date | null {
  const hours = (category.deadlines as Record<string, number | undefined>)[state]
  return hours === undefined ? null : cal.addWorkingHours(from, hours)
}

/** Overall due time from intake: all open states' allowances in sequence. */
export function overallDueAt(cal: WorkingCalendar, category: Category, from: Date): Date {
  const d = category.deadlines
  return cal.addWorkingHours(from, d.received + d.assigned + d.in_progress)
}
