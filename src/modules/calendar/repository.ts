import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { ScheduleDay } from './working-calendar.ts'

/** A row of calendar_schedule_days. */
export interface ScheduleDayRow extends ScheduleDay {
  updated_at: Date
  updated_by: string
}

// `date` is read as text: node-postgres turns a SQL date into a Date at local midnight, which
// shifts the day in any server time zone west of UTC.
const COLUMNS = sql`to_char(date, 'YYYY-MM-DD') as date, kind, note_vi, note_en, updated_at, updated_by`

/** The announced schedule, sorted by date; only one year's rows when `year` is given. */
export async function listScheduleRows(db: Db, year?: number): Promise<ScheduleDayRow[]> {
  return (
    await sql<ScheduleDayRow>`select ${COLUMNS} from calendar_schedule_days
      where (${year ?? null}::int is null or date >= make_date(${year ?? null}::int, 1, 1) and date < make_date(${year ?? null}::int + 1, 1, 1))
      order by date`.execute(db)
  ).rows
}

/** One row, locked for update when `forUpdate` (inside a transaction). */
export async function getScheduleRow(db: Db, date: string, opts: { forUpdate?: boolean } = {}): Promise<ScheduleDayRow | undefined> {
  const lock = opts.forUpdate ? sql`for update` : sql``
  return (await sql<ScheduleDayRow>`select ${COLUMNS} from calendar_schedule_days where date = ${date}::date ${lock}`.execute(db)).rows[0]
}

export async function upsertScheduleRow(db: Db, day: ScheduleDay, actor: string, now: Date): Promise<ScheduleDayRow> {
  return (
    await sql<ScheduleDayRow>`insert into calendar_schedule_days (date, kind, note_vi, note_en, updated_at, updated_by)
      values (${day.date}::date, ${day.kind}, ${day.note_vi}, ${day.note_en}, ${now.toISOString()}, ${actor})
      on conflict (date) do update set kind = excluded.kind, note_vi = excluded.note_vi, note_en = excluded.note_en,
        updated_at = excluded.updated_at, updated_by = excluded.updated_by
      returning ${COLUMNS}`.execute(db)
  ).rows[0]
}

export async function deleteScheduleRow(db: Db, date: string): Promise<ScheduleDayRow | undefined> {
  return (await sql<ScheduleDayRow>`delete from calendar_schedule_days where date = ${date}::date returning ${COLUMNS}`.execute(db)).rows[0]
}
