import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { ProcedureVersion } from './catalogue-port.ts'
import type { DossierStatus } from './status-machine.ts'

/*
 * Dossiers and their children are distributed on province_code (docs/scaling.md, "Distribution
 * key (Citus)"). Every statement that reads or changes them by id or code also names the node's
 * province (`province`, from config.provinceCode) as a bound parameter, so Citus sends it to one
 * shard; joins between them are on province_code (colocated). Inserts take the column's default.
 */

export type PaymentStatus = 'not_required' | 'unpaid' | 'paid_online' | 'paid_at_desk'

export interface DossierRow {
  id: string
  code: string
  procedure_code: string
  procedure_version: number
  procedure: ProcedureVersion
  unit_code: string
  commune_code: string | null
  channel: 'online' | 'in_person'
  status: DossierStatus
  current_step: string
  assignee_user_id: string | null
  applicant_user_id: string | null
  applicant_name: string
  applicant_id_number: string | null
  applicant_phone: string | null
  applicant_email: string | null
  applicant_address: string | null
  form: Record<string, string>
  submitted_by: string | null
  submitted_at: Date
  received_at: Date | null
  clock_started_at: Date | null
  due_at: Date | null
  step_due_at: Date | null
  warn_at: Date | null
  warned_at: Date | null
  paused_since: Date | null
  resolved_at: Date | null
  returned_at: Date | null
  closed_at: Date | null
  timeliness: 'early' | 'on_time' | 'late' | null
  forced_late: boolean
  refusal_reason: string | null
  supplement_reason: string | null
  stop_reason: string | null
  fee_vnd: number
  fee_policy_code: string | null
  fee_policy_name_vi: string | null
  payment_status: PaymentStatus
  payment_reference: string | null
  paid_at: Date | null
  result_document_id: string | null
  result_document_symbol: string | null
  created_at: Date
  updated_at: Date
}

const COLUMNS = sql`d.id::text as id, d.code, d.procedure_code, d.procedure_version, d.procedure, d.unit_code, d.commune_code,
  d.channel, d.status, d.current_step, d.assignee_user_id, d.applicant_user_id, d.applicant_name, d.applicant_id_number,
  d.applicant_phone, d.applicant_email, d.applicant_address, d.form, d.submitted_by, d.submitted_at, d.received_at,
  d.clock_started_at, d.due_at, d.step_due_at, d.warn_at, d.warned_at, d.paused_since, d.resolved_at, d.returned_at, d.closed_at,
  d.timeliness, d.forced_late, d.refusal_reason, d.supplement_reason, d.stop_reason, d.fee_vnd::float8 as fee_vnd,
  d.fee_policy_code, d.fee_policy_name_vi, d.payment_status, d.payment_reference, d.paid_at, d.result_document_id, d.result_document_symbol, d.created_at, d.updated_at`

export async function getDossierByCode(db: Db, province: string, code: string, opts: { forUpdate?: boolean } = {}): Promise<DossierRow | undefined> {
  const lock = opts.forUpdate ? sql` for update` : sql``
  const { rows } = await sql<DossierRow>`select ${COLUMNS} from dossiers d where d.code = ${code} and d.province_code = ${province}${lock}`.execute(db)
  return rows[0]
}

export type NewDossier = Omit<DossierRow, 'id' | 'created_at' | 'updated_at' | 'received_at' | 'clock_started_at' | 'due_at' | 'step_due_at' | 'warn_at' | 'warned_at'
  | 'paused_since' | 'resolved_at' | 'returned_at' | 'closed_at' | 'timeliness' | 'forced_late' | 'refusal_reason' | 'supplement_reason'
  | 'stop_reason' | 'paid_at' | 'assignee_user_id' | 'payment_reference' | 'result_document_id' | 'result_document_symbol'>

export async function insertDossier(tx: Db, d: NewDossier): Promise<string> {
  const { rows } = await sql<{ id: string }>`insert into dossiers (code, procedure_code, procedure_version, procedure, unit_code, commune_code,
      channel, status, current_step, applicant_user_id, applicant_name, applicant_id_number, applicant_phone, applicant_email,
      applicant_address, form, submitted_by, submitted_at, fee_vnd, fee_policy_code, fee_policy_name_vi, payment_status, created_at, updated_at)
    values (${d.code}, ${d.procedure_code}, ${d.procedure_version}, ${JSON.stringify(d.procedure)}::jsonb, ${d.unit_code}, ${d.commune_code},
      ${d.channel}, ${d.status}, ${d.current_step}, ${d.applicant_user_id}, ${d.applicant_name}, ${d.applicant_id_number}, ${d.applicant_phone},
      ${d.applicant_email}, ${d.applicant_address}, ${JSON.stringify(d.form)}::jsonb, ${d.submitted_by}, ${d.submitted_at.toISOString()},
      ${d.fee_vnd}, ${d.fee_policy_code}, ${d.fee_policy_name_vi}, ${d.payment_status}, ${d.submitted_at.toISOString()}, ${d.submitted_at.toISOString()})
    returning id::text as id`.execute(tx)
  return rows[0].id
}

export async function updateDossier(tx: Db, province: string, id: string, changes: Partial<Record<keyof DossierRow, unknown>>): Promise<void> {
  const sets = Object.entries(changes).map(([k, v]) => sql`${sql.ref(k)} = ${v instanceof Date ? v.toISOString() : v}`)
  if (sets.length === 0) return
  await sql`update dossiers set ${sql.join(sets, sql`, `)} where id = ${id}::bigint and province_code = ${province}`.execute(tx)
}

/** Who may see a dossier: the few columns the visibility check needs (no procedure, form, dates). */
export type DossierAccess = Pick<DossierRow, 'id' | 'code' | 'unit_code' | 'applicant_user_id'>

/** The access columns only: the check made before a workflow action, which then reads the full row under its lock. */
export async function getDossierAccess(db: Db, province: string, code: string): Promise<DossierAccess | undefined> {
  const { rows } = await sql<DossierAccess>`select d.id::text as id, d.code, d.unit_code, d.applicant_user_id from dossiers d
    where d.code = ${code} and d.province_code = ${province}`.execute(db)
  return rows[0]
}

/**
 * Updates the dossier `locked` (read `for update` in this transaction, so nothing else changed it)
 * and answers with it as it now is: the row read with the changes applied, instead of a second
 * wide row sent back by `returning` (45 columns with the procedure snapshot, parsed again).
 */
export async function updateLockedDossier(tx: Db, province: string, locked: DossierRow, changes: Partial<Record<keyof DossierRow, unknown>>): Promise<DossierRow> {
  const entries = Object.entries(changes)
  if (entries.length) {
    const sets = entries.map(([k, v]) => sql`${sql.ref(k)} = ${v instanceof Date ? v.toISOString() : v}`)
    const r = await sql`update dossiers set ${sql.join(sets, sql`, `)} where id = ${locked.id}::bigint and province_code = ${province}`.execute(tx)
    // Locked by this transaction, so it is there; PGlite's driver does not report the count.
    if (r.numAffectedRows !== undefined && Number(r.numAffectedRows) !== 1) throw new Error(`dossier ${locked.code} was not updated`)
  }
  const after = { ...locked } as Record<string, unknown>
  for (const [k, v] of entries) after[k] = v === undefined ? null : v
  return after as unknown as DossierRow
}

/** A multi-row insert of files, as a statement to fold into a data-modifying WITH. */
export function insertFilesStatement(dossierId: string, files: (Omit<FileRow, 'uploaded_at' | 'id'> & { reused_from?: string })[], at: Date, by: string | null): RawBuilder<unknown> {
  const values = files.map((f) => sql`(${dossierId}::bigint, ${f.component_key}, ${f.round}, ${f.original_name}, ${f.stored_name}, ${f.mime}, ${f.bytes}, ${f.sha256}, ${at.toISOString()}, ${by}::uuid, ${f.reused_from ?? null})`)
  return sql`insert into dossier_files (dossier_id, component_key, round, original_name, stored_name, mime, bytes, sha256, uploaded_at, uploaded_by, reused_from)
    values ${sql.join(values, sql`, `)}`
}

export interface FileRow {
  id: string
  component_key: string
  round: number
  original_name: string
  stored_name: string
  mime: string
  bytes: number
  sha256: string
  uploaded_at: Date
  reused_from?: string | null
}

export async function insertFile(tx: Db, dossierId: string, f: Omit<FileRow, 'uploaded_at' | 'id'>, at: Date, by: string | null): Promise<void> {
  await sql`insert into dossier_files (dossier_id, component_key, round, original_name, stored_name, mime, bytes, sha256, uploaded_at, uploaded_by)
    values (${dossierId}::bigint, ${f.component_key}, ${f.round}, ${f.original_name}, ${f.stored_name}, ${f.mime}, ${f.bytes}, ${f.sha256}, ${at.toISOString()}, ${by})`.execute(tx)
}

export async function listFiles(db: Db, province: string, dossierId: string): Promise<FileRow[]> {
  const { rows } = await sql<FileRow>`select id::text as id, component_key, round, original_name, stored_name, mime, bytes, sha256, uploaded_at, reused_from
    from dossier_files where dossier_id = ${dossierId}::bigint and province_code = ${province} order by id`.execute(db)
  return rows
}

export interface SlipRow {
  seq: number
  action: string
  step: string
  from_status: number | null
  to_status: number
  from_unit: string | null
  from_user: string | null
  to_unit: string | null
  to_user: string | null
  at: Date
  due_at: Date | null
  note: string | null
}

export async function insertSlip(tx: Db, province: string, dossierId: string, s: Omit<SlipRow, 'seq'>): Promise<void> {
  await sql`insert into dossier_control_slips (dossier_id, seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note)
    values (${dossierId}::bigint, (select coalesce(max(seq), 0) + 1 from dossier_control_slips where dossier_id = ${dossierId}::bigint and province_code = ${province}),
      ${s.action}, ${s.step}, ${s.from_status}, ${s.to_status}, ${s.from_unit}, ${s.from_user}, ${s.to_unit}, ${s.to_user},
      ${s.at.toISOString()}, ${s.due_at?.toISOString() ?? null}, ${s.note})`.execute(tx)
}

export async function listSlips(db: Db, province: string, dossierId: string): Promise<SlipRow[]> {
  const { rows } = await sql<SlipRow>`select seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note
    from dossier_control_slips where dossier_id = ${dossierId}::bigint and province_code = ${province} order by seq`.execute(db)
  return rows
}

export interface PauseRow {
  id: string
  kind: 'supplement' | 'fee'
  unit_code: string
  reason: string | null
  from_at: Date
  to_at: Date | null
  counted_late: boolean
}

export async function listPauses(db: Db, province: string, dossierId: string): Promise<PauseRow[]> {
  const { rows } = await sql<PauseRow>`select id::text as id, kind, unit_code, reason, from_at, to_at, counted_late
    from dossier_pauses where dossier_id = ${dossierId}::bigint and province_code = ${province} order by id`.execute(db)
  return rows
}

export async function openPause(tx: Db, dossierId: string, p: { kind: 'supplement' | 'fee'; unit_code: string; reason: string | null; by: string | null; at: Date; counted_late: boolean }): Promise<void> {
  await sql`insert into dossier_pauses (dossier_id, kind, unit_code, reason, requested_by, from_at, counted_late)
    values (${dossierId}::bigint, ${p.kind}, ${p.unit_code}, ${p.reason}, ${p.by}, ${p.at.toISOString()}, ${p.counted_late})`.execute(tx)
}

/** Closes the open pause, returning it (undefined when none was open). */
export async function closePause(tx: Db, province: string, dossierId: string, at: Date): Promise<PauseRow | undefined> {
  const { rows } = await sql<PauseRow>`update dossier_pauses set to_at = ${at.toISOString()}
    where dossier_id = ${dossierId}::bigint and province_code = ${province} and to_at is null
    returning id::text as id, kind, unit_code, reason, from_at, to_at, counted_late`.execute(tx)
  return rows[0]
}

export interface LetterRow {
  kind: 'apology'
  proposed_due: Date
  status: 'pending' | 'approved'
  created_at: Date
  approved_by: string | null
  approved_at: Date | null
}

export async function getLetter(db: Db, province: string, dossierId: string): Promise<LetterRow | undefined> {
  const { rows } = await sql<LetterRow>`select kind, proposed_due, status, created_at, approved_by, approved_at
    from dossier_letters where dossier_id = ${dossierId}::bigint and province_code = ${province} and kind = 'apology'`.execute(db)
  return rows[0]
}

export interface DeadlineChangeRow { old_due: Date | null; new_due: Date; reason: string; approver_user_id: string; changed_by: string; at: Date }

export async function listDeadlineChanges(db: Db, province: string, dossierId: string): Promise<DeadlineChangeRow[]> {
  const { rows } = await sql<DeadlineChangeRow>`select old_due, new_due, reason, approver_user_id, changed_by, at
    from dossier_deadline_changes where dossier_id = ${dossierId}::bigint and province_code = ${province} order by id`.execute(db)
  return rows
}

export interface ListFilter {
  applicantUserId?: string
  unitCode?: string
  statuses?: number[]
  step?: string
  limit: number
  offset: number
}

/** Own dossiers newest first; a unit's queue by urgency (earliest due first, undated last). */
export async function listDossiers(db: Db, province: string, f: ListFilter): Promise<DossierRow[]> {
  const where = [sql`d.province_code = ${province}`]
  if (f.applicantUserId) where.push(sql`d.applicant_user_id = ${f.applicantUserId}::uuid`)
  if (f.unitCode) where.push(sql`d.unit_code = ${f.unitCode}`)
  if (f.statuses?.length) where.push(sql`d.status in (${sql.join(f.statuses)})`)
  if (f.step) where.push(sql`d.current_step = ${f.step}`)
  const order = f.applicantUserId ? sql`d.submitted_at desc, d.id desc` : sql`d.due_at asc nulls last, d.submitted_at asc, d.id asc`
  const { rows } = await sql<DossierRow>`select ${COLUMNS} from dossiers d where ${sql.join(where, sql` and `)}
    order by ${order} limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows
}

export async function getBankAccount(db: Db, unitCode: string): Promise<{ bank_bin: string; account_no: string; account_name: string } | undefined> {
  const { rows } = await sql<{ bank_bin: string; account_no: string; account_name: string }>`select bank_bin, account_no, account_name
    from dossier_bank_accounts where unit_code = ${unitCode}`.execute(db)
  return rows[0]
}
