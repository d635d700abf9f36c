/**
 * The calendar module: the Vietnamese working-day calendar (public holidays, compensatory days,
 * the government's announced schedule, office hours) and deadline arithmetic on it.
 */
import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { calendarRoutes } from './routes.ts'

export const calendarModule: Module = {
  name: 'calendar',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  routes: calendarRoutes,
}

export { WorkingCalendar, DEFAULT_OFFICE_HOURS, VIETNAM_UTC_OFFSET_MINUTES } from './working-calendar.ts'
export type { OfficePeriod, Pause, ScheduleDay, WorkingCalendarOptions } from './working-calendar.ts'
export { statutoryHolidays, lunarAnchors, MIN_YEAR, MAX_YEAR } from './holidays.ts'
export type { Holiday, HolidayKind, HolidayRuleOptions, LunarAnchors } from './holidays.ts'
export { loadWorkingCalendar, invalidateWorkingCalendars, listSchedule, setScheduleDay, removeScheduleDay, CALENDAR_CACHE_MAX_AGE_MS } from './schedule.ts'
export type { ScheduleDayInput, ChangeOptions } from './schedule.ts'
export type { ScheduleDayRow } from './repository.ts'
export { parseIsoInstant, formatWithOffset } from './civil-date.ts'
