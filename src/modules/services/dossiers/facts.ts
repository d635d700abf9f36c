/**
 * Read-only facts about dossiers for other modules (the IOC rules engine), "as of" an instant so
 * the same question can be asked of the past (backtests) and of now, from stored timestamps.
 */
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'

export interface DossierDueCandidate {
  code: string
  unit_code: string
  procedure_code: string
  due_at: Date
  applicant_user_id: string | null
}

/**
 * Dossiers that were being handled at `asOf` (received, not yet resolved nor closed by then) and
 * are due in (asOf, dueBefore]: those that will miss their deadline unless resolved in time.
 */
export async function dossiersDueWithinAsOf(db: Db, asOf: Date, dueBefore: Date, limit = 5000): Promise<DossierDueCandidate[]> {
  const t = asOf.toISOString()
  const { rows } = await sql<DossierDueCandidate>`select code, unit_code, procedure_code, due_at, applicant_user_id::text as applicant_user_id from dossiers
    where due_at > ${t} and due_at <= ${dueBefore.toISOString()} and received_at <= ${t}
      and (resolved_at is null or resolved_at > ${t}) and (closed_at is null or closed_at > ${t})
    order by due_at, code limit ${limit}`.execute(db)
  return rows
}
