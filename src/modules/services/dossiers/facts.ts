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

// ---- Facts for the IOC roll-ups and monthly analysis ----

/** Read-only facts about dossiers for other modules (IOC roll-ups): no applicant data. */
export interface DossierFact {
  code: string
  procedure_code: string
  unit_code: string
  commune_code: string | null
  channel: string
  status: number
  received_at: Date | null
  submitted_at: Date
  due_at: Date | null
  resolved_at: Date | null
  timeliness: 'early' | 'on_time' | 'late' | null
  fee_vnd: number
  payment_status: string
  digitised_result: boolean
  /** Components attached from the applicant's data store (kho dữ liệu) instead of uploaded. */
  reused_components: number
}

const COLUMNS = sql`code, procedure_code, unit_code, commune_code, channel, status, received_at, submitted_at, due_at, resolved_at,
  timeliness, fee_vnd::float8 as fee_vnd, payment_status, (result_document_id is not null) as digitised_result,
  (select count(*)::int from dossier_files f where f.dossier_id = dossiers.id and f.province_code = dossiers.province_code and f.reused_from is not null) as reused_components`

/** One dossier's facts, in the node's province (`province`: routed to one shard on Citus). */
export async function getDossierFact(db: Db, province: string, code: string): Promise<DossierFact | undefined> {
  const { rows } = await sql<DossierFact>`select ${COLUMNS} from dossiers where code = ${code} and province_code = ${province}`.execute(db)
  return rows[0]
}

/**
 * Dossiers in code order after a cursor, for rebuilding roll-ups (backfill). Every province's:
 * the IOC roll-ups are not per province yet (distribution.ts, `later`), so these reads go to
 * every shard on Citus (their joins stay colocated).
 */
export async function listDossierFacts(db: Db, opts: { afterCode?: string; limit: number }): Promise<DossierFact[]> {
  const { rows } = await sql<DossierFact>`select ${COLUMNS} from dossiers where code > ${opts.afterCode ?? ''} order by code limit ${opts.limit}`.execute(db)
  return rows
}

/** The control-slip steps of some dossiers in order (step, status reached, when). */
export async function listDossierStepTimes(db: Db, codes: string[]): Promise<{ code: string; step: string; to_status: number; at: Date }[]> {
  if (codes.length === 0) return []
  const { rows } = await sql<{ code: string; step: string; to_status: number; at: Date }>`
    select d.code, s.step, s.to_status, s.at from dossier_control_slips s join dossiers d on d.id = s.dossier_id and d.province_code = s.province_code
    where d.code = any(${codes}::text[]) order by d.code, s.seq`.execute(db)
  return rows
}
