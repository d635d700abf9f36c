import type { WorkingCalendar } from '../../calendar/index.ts'
import type { DeadlineChangeRow, DossierRow, FileRow, LetterRow, PauseRow, SlipRow } from './repository.ts'
import { FINAL_STATUSES, STATUS_NAMES } from './status-machine.ts'

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null)

export function presentSummary(d: DossierRow, now: Date, cal?: WorkingCalendar) {
  const open = !FINAL_STATUSES.includes(d.status) && d.status !== 9
  const overdue = open && !!d.due_at && !d.paused_since && now.getTime() > d.due_at.getTime()
  return {
    code: d.code,
    status: d.status,
    status_key: STATUS_NAMES[d.status].key,
    status_vi: STATUS_NAMES[d.status].vi,
    status_en: STATUS_NAMES[d.status].en,
    procedure: { code: d.procedure_code, version: d.procedure_version, name_vi: d.procedure.name_vi, name_en: d.procedure.name_en },
    unit_code: d.unit_code,
    commune_code: d.commune_code,
    channel: d.channel,
    current_step: d.current_step,
    assignee_user_id: d.assignee_user_id,
    applicant_name: d.applicant_name,
    submitted_at: iso(d.submitted_at),
    received_at: iso(d.received_at),
    clock_started_at: iso(d.clock_started_at),
    due_at: iso(d.due_at),
    step_due_at: iso(d.step_due_at),
    paused: d.paused_since !== null,
    overdue,
    // Office hours left before the due instant (negative when late), for the work queue.
    working_hours_left: open && d.due_at && cal && !d.paused_since
      ? Math.round(((now.getTime() <= d.due_at.getTime() ? cal.workingMillisBetween(now, d.due_at) : -cal.workingMillisBetween(d.due_at, now)) / 3_600_000) * 100) / 100
      : null,
    resolved_at: iso(d.resolved_at),
    returned_at: iso(d.returned_at),
    timeliness: d.timeliness,
    result_document: d.result_document_id ? { id: d.result_document_id, symbol: d.result_document_symbol } : null,
    fee: { amount_vnd: d.fee_vnd, policy_code: d.fee_policy_code, policy_name_vi: d.fee_policy_name_vi, payment_status: d.payment_status, payment_reference: d.payment_reference, paid_at: iso(d.paid_at) },
  }
}

export function presentDetail(d: DossierRow, now: Date, cal: WorkingCalendar, extra: { files: FileRow[]; slips: SlipRow[]; pauses: PauseRow[]; changes: DeadlineChangeRow[]; letter?: LetterRow; vietqr: string | null; staffView: boolean }) {
  return {
    ...presentSummary(d, now, cal),
    view: extra.staffView ? 'staff' : 'owner',
    applicant: { name: d.applicant_name, id_number: d.applicant_id_number, phone: d.applicant_phone, email: d.applicant_email, address: d.applicant_address },
    form: d.form,
    refusal_reason: d.refusal_reason,
    supplement_reason: d.supplement_reason,
    stop_reason: d.stop_reason,
    forced_late: d.forced_late,
    vietqr: extra.vietqr,
    components: d.procedure.components.map((c) => ({ key: c.key, name_vi: c.name_vi, name_en: c.name_en, required: c.required })),
    files: extra.files.map((f) => ({ id: f.id, reused_from: f.reused_from ?? null, component_key: f.component_key, round: f.round, name: f.original_name, mime: f.mime, bytes: f.bytes, sha256: f.sha256, uploaded_at: iso(f.uploaded_at) })),
    control_slips: extra.slips.map((s) => ({ ...s, at: iso(s.at), due_at: iso(s.due_at) })),
    pauses: extra.pauses.map((p) => ({ kind: p.kind, unit_code: p.unit_code, reason: p.reason, from: iso(p.from_at), to: iso(p.to_at), counted_late: p.counted_late })),
    deadline_changes: extra.staffView ? extra.changes.map((c) => ({ ...c, old_due: iso(c.old_due), new_due: iso(c.new_due), at: iso(c.at) })) : [],
    apology: extra.letter ? { status: extra.letter.status, proposed_due: iso(extra.letter.proposed_due), approved_at: iso(extra.letter.approved_at) } : null,
  }
}

/** The answer to a workflow action: the dossier's own fields and the control slip the action wrote. */
export function presentAction(d: DossierRow, now: Date, cal: WorkingCalendar, staffView: boolean, slip: SlipRow) {
  return {
    ...presentSummary(d, now, cal),
    view: staffView ? 'staff' : 'owner',
    refusal_reason: d.refusal_reason,
    supplement_reason: d.supplement_reason,
    stop_reason: d.stop_reason,
    forced_late: d.forced_late,
    control_slip: { ...slip, at: iso(slip.at), due_at: iso(slip.due_at) },
  }
}
