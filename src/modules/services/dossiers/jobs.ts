import { sql } from 'kysely'
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { Db } from '../../../platform/db/database.ts'
import { publishEvent } from '../../../platform/events/outbox.ts'
import { loadWorkingCalendar } from '../../calendar/index.ts'

/** Working days between the old due date and the new date proposed in an apology letter. */
export const APOLOGY_EXTRA_WORKING_DAYS = 2

/**
 * One working day before the due instant of a dossier whose clock runs (received or processing,
 * not paused): warn the unit once (`dossier.deadline_warning`) and, as the dossier is at risk of
 * being late, draft the apology and new-date letter for the leader to approve — at most one per
 * dossier (unique row). Each dossier is handled in its own transaction, under its row lock.
 */
export async function runDeadlineWarnings(db: Db, province: string, now: Date, limit = 200): Promise<number> {
  const cal = await loadWorkingCalendar(db)
  const { rows } = await sql<{ id: string }>`select id::text as id from dossiers
    where province_code = ${province} and status in (2, 4) and paused_since is null and warned_at is null and warn_at <= ${now.toISOString()}
    order by warn_at limit ${limit}`.execute(db)
  let n = 0
  for (const { id } of rows) {
    await db.transaction().execute(async (tx) => {
      const { rows: locked } = await sql<{ code: string; unit_code: string; due_at: Date }>`select code, unit_code, due_at from dossiers
        where id = ${id}::bigint and province_code = ${province} and status in (2, 4) and paused_since is null and warned_at is null and warn_at <= ${now.toISOString()}
        for update skip locked`.execute(tx)
      const d = locked[0]
      if (!d) return
      await sql`update dossiers set warned_at = ${now.toISOString()} where id = ${id}::bigint and province_code = ${province}`.execute(tx)
      await publishEvent(tx, 'dossier.deadline_warning', { code: d.code, unit_code: d.unit_code, due_at: d.due_at.toISOString() })
      const base = d.due_at.getTime() > now.getTime() ? d.due_at : now
      const proposed = cal.addWorkingDays(base, APOLOGY_EXTRA_WORKING_DAYS)
      const { rows: drafted } = await sql`insert into dossier_letters (dossier_id, kind, proposed_due, created_at)
        values (${id}::bigint, 'apology', ${proposed.toISOString()}, ${now.toISOString()})
        on conflict (dossier_id, kind, province_code) do nothing returning id`.execute(tx)
      if (drafted.length) await publishEvent(tx, 'dossier.apology_drafted', { code: d.code, unit_code: d.unit_code, proposed_due: proposed.toISOString() })
      await appendAudit(tx, { actor: 'system', action: 'dossier.deadline_warning', entityType: 'dossier', entityId: d.code, data: { due_at: d.due_at.toISOString(), apology_drafted: drafted.length > 0 } }, now)
      n++
    })
  }
  return n
}
