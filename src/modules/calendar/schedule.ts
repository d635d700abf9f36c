/**
 * The announced schedule as a service: audited changes to the admin table, and the in-memory
 * WorkingCalendar built from it that other modules load on every deadline computation.
 */
import type { Actor } from '../../platform/audit/audit-log.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { parseIsoDate, yearOfDayNum } from './civil-date.ts'
import { MAX_YEAR, MIN_YEAR } from './holidays.ts'
import { deleteScheduleRow, getScheduleRow, listScheduleRows, upsertScheduleRow, type ScheduleDayRow } from './repository.ts'
import { WorkingCalendar, type ScheduleDay, type WorkingCalendarOptions } from './working-calendar.ts'

/**
 * How long a loaded calendar is reused. Changes made through this module invalidate it at once;
 * the age limit bounds staleness when another node (several processes on one PostgreSQL) changed
 * the table.
 */
export const CALENDAR_CACHE_MAX_AGE_MS = 60_000

interface CacheEntry {
  generation: number
  loadedAt: number
  calendar: Promise<WorkingCalendar>
}

// Keyed by the database handle (tests open several in one process), then by the options.
const cache = new WeakMap<Db, Map<string, CacheEntry>>()
// Bumped by every change: entries of an older generation are reloaded, even ones still loading.
let generation = 0

/**
 * The working calendar with the announced schedule, cached in memory. Inside a transaction it
 * reads the table through that transaction (seeing its uncommitted changes) and bypasses the cache.
 */
export async function loadWorkingCalendar(db: Db, options: WorkingCalendarOptions = {}): Promise<WorkingCalendar> {
  if (db.isTransaction) return new WorkingCalendar(await listScheduleRows(db), options)
  let perDb = cache.get(db)
  if (!perDb) cache.set(db, (perDb = new Map()))
  const key = JSON.stringify(options)
  const hit = perDb.get(key)
  if (hit && hit.generation === generation && Date.now() - hit.loadedAt < CALENDAR_CACHE_MAX_AGE_MS) return hit.calendar
  const entry: CacheEntry = {
    generation,
    loadedAt: Date.now(),
    calendar: listScheduleRows(db).then((rows) => new WorkingCalendar(rows, options)),
  }
  perDb.set(key, entry)
  // A failed load must not stay cached.
  entry.calendar.catch(() => {
    if (perDb.get(key) === entry) perDb.delete(key)
  })
  return entry.calendar
}

/** Drops every cached calendar; the next load reads the table again. */
export function invalidateWorkingCalendars(): void {
  generation++
}

/** The announced schedule, sorted by date (one year's rows when `year` is given). */
export async function listSchedule(db: Db, year?: number): Promise<ScheduleDayRow[]> {
  return listScheduleRows(db, year)
}

export interface ScheduleDayInput {
  date: string
  kind: 'day_off' | 'working_day'
  note_vi?: string
  note_en?: string
}

export interface ChangeOptions {
  /** The instant written to the row and the audit log; defaults to now. */
  now?: Date
}

const NOTE_MAX = 500

/**
 * Sets (inserts or replaces) the announced schedule of one date, in one transaction with its audit
 * entry ('calendar.schedule_day_set', data: before/after). Setting what is already there changes
 * nothing and writes no audit entry.
 */
export async function setScheduleDay(db: Db, input: ScheduleDayInput, actor: Actor, opts: ChangeOptions = {}): Promise<ScheduleDayRow> {
  const day = validateDay(input)
  const now = opts.now ?? new Date()
  const result = await inTransaction(db, async (tx) => {
    const before = await getScheduleRow(tx, day.date, { forUpdate: true })
    if (before && before.kind === day.kind && before.note_vi === day.note_vi && before.note_en === day.note_en) return { row: before, changed: false }
    const after = await upsertScheduleRow(tx, day, actor, now)
    await appendAudit(
      tx,
      { actor, action: 'calendar.schedule_day_set', entityType: 'calendar_schedule_day', entityId: day.date, data: { before: before ? auditView(before) : null, after: auditView(after) } },
      now,
    )
    return { row: after, changed: true }
  })
  if (result.changed) invalidateWorkingCalendars()
  return result.row
}

/**
 * Removes the announced schedule of one date (the computed calendar applies again), in one
 * transaction with its audit entry ('calendar.schedule_day_removed'). Returns the removed row,
 * or undefined when the date had none.
 */
export async function removeScheduleDay(db: Db, date: string, actor: Actor, opts: ChangeOptions = {}): Promise<ScheduleDayRow | undefined> {
  validateDate(date)
  const now = opts.now ?? new Date()
  const removed = await inTransaction(db, async (tx) => {
    const row = await deleteScheduleRow(tx, date)
    if (row) {
      await appendAudit(tx, { actor, action: 'calendar.schedule_day_removed', entityType: 'calendar_schedule_day', entityId: date, data: { before: auditView(row) } }, now)
    }
    return row
  })
  if (removed) invalidateWorkingCalendars()
  return removed
}

/** Refuses a date that is not a real 'YYYY-MM-DD' inside the supported years (AppError 400). */
export function validateDate(date: string): void {
  const n = parseIsoDate(date)
  if (n === undefined) throw badRequest('INVALID_DATE', 'Ngày không hợp lệ, cần dạng YYYY-MM-DD.', 'Invalid date; expected a real date as YYYY-MM-DD.', { date })
  const year = yearOfDayNum(n)
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw badRequest('DATE_OUT_OF_RANGE', `Lịch chỉ hỗ trợ các năm ${MIN_YEAR}–${MAX_YEAR}.`, `The calendar supports the years ${MIN_YEAR}–${MAX_YEAR}.`, { date })
  }
}

function validateDay(input: ScheduleDayInput): ScheduleDay {
  validateDate(input.date)
  if (input.kind !== 'day_off' && input.kind !== 'working_day') {
    throw badRequest('INVALID_KIND', "Loại ngày phải là 'day_off' hoặc 'working_day'.", "kind must be 'day_off' or 'working_day'.")
  }
  const note_vi = (input.note_vi ?? '').trim()
  const note_en = (input.note_en ?? '').trim()
  if (note_vi.length > NOTE_MAX || note_en.length > NOTE_MAX) {
    throw badRequest('NOTE_TOO_LONG', `Ghi chú tối đa ${NOTE_MAX} ký tự.`, `Notes are at most ${NOTE_MAX} characters.`)
  }
  return { date: input.date, kind: input.kind, note_vi, note_en }
}

function auditView(r: ScheduleDayRow): ScheduleDay {
  return { date: r.date, kind: r.kind, note_vi: r.note_vi, note_en: r.note_en }
}

// Callers may already be inside a transaction (Kysely cannot nest them): then join it. The cache is
// then invalidated before that transaction commits, so a concurrent load may keep the old schedule
// for up to CALENDAR_CACHE_MAX_AGE_MS; pass the plain handle when that matters.
async function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn)
}
