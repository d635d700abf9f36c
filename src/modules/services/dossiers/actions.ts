import { getActiveUserRole } from '../../identity/index.ts'
import { sql, type RawBuilder } from 'kysely'
import type { AuditEntry } from '../../../platform/audit/audit-log.ts'
import { actorOf, canSeeUnit, type Principal } from '../../../platform/auth/principal.ts'
import type { Db } from '../../../platform/db/database.ts'
import { AppError, badRequest, conflict, forbidden, notFound } from '../../../platform/http/errors.ts'
import { issueOutgoingDocument } from '../../documents/index.ts'
import { loadWorkingCalendar, parseIsoInstant, type WorkingCalendar } from '../../calendar/index.ts'
import { applicableDuration, clockStart, computeDue, extendForPause, judgeTimeliness, stepDueAt, warningAt } from './deadline.ts'
import { detectFormat, checkFiles, removeUnreferenced, storeFiles, type CheckedFile, type UploadedFile } from './files.ts'
import { deliverResultToStore, keepSignedResult } from '../citizen-store/results.ts'
import { recordHandOff } from './record.ts'
import { closePause, getDossierByCode, getLetter, insertFilesStatement, listPauses, openPause, updateLockedDossier, type DossierAccess, type DossierRow, type SlipRow } from './repository.ts'
import { DOSSIER_STATUS, nextStatus, STATUS_NAMES, TRANSITIONS, type DossierAction, type DossierStatus } from './status-machine.ts'
import { cumulativeShare, nextProcessingStep, processingSteps, RESULT_STEP } from './steps.ts'

export interface ActionInput {
  reason?: string
  note?: string
  method?: 'online' | 'at_desk'
  reference?: string
  approver_user_id?: string
  new_due?: string
  to_user_id?: string
  files?: UploadedFile[]
}

export interface ActionDeps {
  db: Db
  /** The node's province (config.provinceCode): every statement on the dossier names it (Citus routing). */
  provinceCode: string
  uploadDir: string
  now: Date
}

const FINAL: readonly DossierStatus[] = [3, 7, 8, 10]
const required = (field: string, vi: string) => badRequest('FIELD_REQUIRED', `Cần nhập ${vi}.`, `The field "${field}" is required for this action.`, { field })
const FIELD_VI: Record<string, string> = { reason: 'lý do', approver_user_id: 'người phê duyệt', new_due: 'hạn mới', method: 'hình thức thanh toán' }

export function isOwner(p: Principal | null, d: Pick<DossierAccess, 'applicant_user_id'>): boolean {
  return p?.kind === 'user' && !!d.applicant_user_id && d.applicant_user_id === p.userId
}
export function isUnitStaff(p: Principal | null, d: Pick<DossierAccess, 'unit_code'>): boolean {
  return canSeeUnit(p, d.unit_code)
}
function isLeader(p: Principal | null, d: DossierRow): boolean {
  if (!p || p.kind !== 'user') return false
  return p.role === 'province_admin' || (p.role === 'unit_admin' && p.unitCode === d.unit_code)
}

function mayAct(action: DossierAction, p: Principal | null, d: DossierRow): boolean {
  switch (TRANSITIONS[action].who) {
    case 'staff': return isUnitStaff(p, d)
    case 'owner': return isOwner(p, d)
    case 'staff_or_owner': return isUnitStaff(p, d) || isOwner(p, d)
    case 'leader': return isLeader(p, d)
  }
}

function invalidTransition(action: string, status: DossierStatus) {
  return conflict('INVALID_TRANSITION', `Không thể thực hiện "${action}" khi hồ sơ ở trạng thái "${STATUS_NAMES[status].vi}".`,
    `Cannot ${action} a dossier in status ${status} (${STATUS_NAMES[status].key}).`, { status, action })
}

/**
 * Applies one action to a dossier under a row lock: who may, from which status, the required
 * fields and the action's own guards; then the change, its control slip, event and audit entry,
 * all in one transaction. Files of a supplement are checked before and stored content-addressed.
 */
export interface ActionResult {
  /** The dossier as it is after the action. */
  dossier: DossierRow
  /** The control slip the action wrote. */
  slip: SlipRow
}

export async function applyDossierAction(deps: ActionDeps, code: string, action: DossierAction, input: ActionInput, p: Principal | null): Promise<DossierRow> {
  return (await runDossierAction(deps, code, action, input, p)).dossier
}

/** `applyDossierAction`, answering also with the control slip the action wrote. */
export async function runDossierAction(deps: ActionDeps, code: string, action: DossierAction, input: ActionInput, p: Principal | null): Promise<ActionResult> {
  const { db, now, provinceCode: province } = deps
  const cal = await loadWorkingCalendar(db)
  let files: CheckedFile[] = []
  if (action === 'supplement') {
    const d = await getDossierByCode(db, province, code)
    if (!d) throw notFound('Dossier', 'hồ sơ')
    files = checkFiles(d.procedure.components, input.files ?? [], false)
    if (!files.length) throw badRequest('FILES_REQUIRED', 'Cần gửi kèm tệp bổ sung.', 'A supplement needs at least one file.')
    try {
      await storeFiles(deps.uploadDir, files)
    } catch (err) {
      await removeUnreferenced(db, deps.uploadDir, files)
      throw err
    }
  } else if (action === 'resolve' && input.files?.length) {
    // The signed result itself may be uploaded (one PDF in the part "result"); without it the
    // result document is still registered and numbered, and the result notice PDF is generated.
    const f = input.files[0]
    if (input.files.length !== 1 || f.field !== 'result') throw badRequest('UNEXPECTED_FILE', 'Chỉ nhận một tệp kết quả trong phần "result".', 'Resolve takes at most one file, in the part named "result".')
    if (!detectFormat(f.name, f.data, ['pdf'])) throw new AppError(415, 'FILE_TYPE_NOT_ALLOWED', 'Tệp kết quả phải là PDF.', 'The result file must be a PDF.')
  } else if (input.files?.length) {
    throw badRequest('UNEXPECTED_FILE', 'Thao tác này không nhận tệp.', 'This action takes no files.')
  }
  try {
    return await db.transaction().execute((tx) => applyInTx(tx, cal, deps, code, action, input, p, files))
  } catch (err) {
    await removeUnreferenced(db, deps.uploadDir, files)
    throw err
  }
}

async function applyInTx(tx: Db, cal: WorkingCalendar, deps: ActionDeps, code: string, action: DossierAction, input: ActionInput, p: Principal | null, files: CheckedFile[]): Promise<ActionResult> {
  const { now, provinceCode: province } = deps
  const d = await getDossierByCode(tx, province, code, { forUpdate: true })
  if (!d) throw notFound('Dossier', 'hồ sơ')
  if (!mayAct(action, p, d)) throw forbidden()
  const to = nextStatus(action, d.status, d.received_at !== null)
  if (to === undefined) throw invalidTransition(action, d.status)
  for (const f of TRANSITIONS[action].requires) {
    const v = input[f as keyof ActionInput]
    if (typeof v !== 'string' || !v.trim()) throw required(f, FIELD_VI[f] ?? f)
  }
  const userId = p?.kind === 'user' ? p.userId : null
  const changes: Partial<Record<keyof DossierRow, unknown>> = { updated_at: now }
  let step = d.current_step
  let toUser: string | null = null
  let note = input.reason ?? input.note ?? null
  const data: Record<string, unknown> = {}
  const folded: RawBuilder<unknown>[] = []
  const foldedAudit: AuditEntry[] = []
  const proc = d.procedure
  const unit = applicableDuration(proc, d.channel).unit
  let due = d.due_at

  /** Ends an open pause: the due instant moves back by the pause (unless it was counted late). */
  const resume = async () => {
    const pause = await closePause(tx, province, d.id, now)
    if (pause && !pause.counted_late && d.clock_started_at && due) {
      due = extendForPause(cal, unit, d.clock_started_at, due, { from: pause.from_at, to: now })
      changes.due_at = due
      changes.warn_at = warningAt(cal, due)
      if (due.getTime() !== d.due_at?.getTime()) changes.warned_at = null
    }
    changes.paused_since = null
  }

  switch (action) {
    case 'receive': {
      const start = clockStart(cal, now)
      due = computeDue(cal, start, applicableDuration(proc, d.channel))
      step = processingSteps(proc)[0]
      Object.assign(changes, { received_at: now, clock_started_at: start, due_at: due, warn_at: warningAt(cal, due), current_step: step })
      data.due_at = due.toISOString()
      break
    }
    case 'refuse':
      Object.assign(changes, { refusal_reason: input.reason, closed_at: now })
      break
    case 'process':
      toUser = input.to_user_id ?? null
      changes.assignee_user_id = toUser
      break
    case 'forward': {
      const next = nextProcessingStep(proc, d.current_step)
      if (!next) throw conflict('NO_NEXT_STEP', 'Hồ sơ đã ở bước xử lý cuối cùng.', 'The dossier is at its last processing step.')
      step = next
      toUser = input.to_user_id ?? null
      Object.assign(changes, { current_step: step, assignee_user_id: toUser })
      break
    }
    case 'request_supplement': {
      changes.supplement_reason = input.reason
      if (d.received_at) {
        // One supplement request per unit stops the clock; a second one is the unit's fault: counted late.
        const earlier = (await listPauses(tx, province, d.id)).filter((x) => x.kind === 'supplement' && x.unit_code === d.unit_code)
        const late = earlier.length > 0
        await openPause(tx, d.id, { kind: 'supplement', unit_code: d.unit_code, reason: input.reason ?? null, by: userId, at: now, counted_late: late })
        if (late) {
          changes.forced_late = true
          data.counted_late = true
        } else {
          changes.paused_since = now
        }
      }
      break
    }
    case 'supplement':
      await resume()
      if (files.length) {
        const round = await supplementRound(tx, province, d.id)
        folded.push(insertFilesStatement(d.id, files.map((f) => ({ ...f, round })), now, userId))
      }
      data.files = files.map((f) => f.component_key)
      break
    case 'request_fee':
      if (d.payment_status !== 'unpaid' || d.fee_vnd <= 0) throw conflict('NO_FEE_DUE', 'Hồ sơ không có phí, lệ phí phải nộp.', 'No fee is due for this dossier.')
      await openPause(tx, d.id, { kind: 'fee', unit_code: d.unit_code, reason: input.note ?? null, by: userId, at: now, counted_late: false })
      changes.paused_since = now
      break
    case 'pay': {
      if (d.payment_status !== 'unpaid') throw conflict('NOTHING_TO_PAY', 'Hồ sơ đã nộp phí hoặc không có phí.', 'The dossier is already paid or has no fee.')
      if (input.method !== 'online' && input.method !== 'at_desk') throw badRequest('INVALID_METHOD', 'Hình thức thanh toán không hợp lệ.', 'method must be online or at_desk.')
      if (input.method === 'at_desk' && !isUnitStaff(p, d)) throw forbidden('Payments at the desk are recorded by its officers.', 'Thanh toán tại quầy do cán bộ ghi nhận.')
      if (!input.reference?.trim()) throw required('reference', 'mã giao dịch / số biên lai')
      if (d.status === DOSSIER_STATUS.AWAITING_FEE) await resume()
      Object.assign(changes, { payment_status: input.method === 'online' ? 'paid_online' : 'paid_at_desk', payment_reference: input.reference.trim(), paid_at: now })
      data.method = input.method
      data.amount_vnd = d.fee_vnd
      note = input.reference.trim()
      break
    }
    case 'withdraw':
    case 'stop':
      if (d.paused_since || d.status === DOSSIER_STATUS.SUPPLEMENT_REQUESTED || d.status === DOSSIER_STATUS.AWAITING_FEE) await closePause(tx, province, d.id, now)
      Object.assign(changes, { closed_at: now, paused_since: null, ...(action === 'stop' ? { stop_reason: input.reason } : {}) })
      break
    case 'resolve': {
      const timeliness = judgeTimeliness(cal, now, due ?? now, d.forced_late)
      step = RESULT_STEP
      // The result is issued as an outgoing document of the handling unit, linked to the dossier.
      const doc = await issueOutgoingDocument(tx, {
        agencyCode: d.unit_code, docType: 'KQ', summary: `Kết quả giải quyết hồ sơ ${d.code}: ${d.procedure.name_vi}`.slice(0, 500),
        signer: p?.kind === 'user' ? p.displayName : null, issuedAt: now, recipients: [d.applicant_name],
        links: [{ kind: 'dossier', ref: d.code }], actor: actorOf(p), uploadDir: deps.uploadDir, auditSink: foldedAudit,
        ...(input.files?.[0] ? { file: { name: input.files[0].name, mime: 'application/pdf', data: input.files[0].data } } : {}),
      })
      Object.assign(changes, { resolved_at: now, timeliness, current_step: step, result_document_id: doc.id, result_document_symbol: doc.symbol })
      if (input.files?.[0]) await keepSignedResult(tx, d, input.files[0], doc.symbol, deps.uploadDir, now)
      Object.assign(data, { timeliness, result_document: doc.symbol })
      break
    }
    case 'return':
      Object.assign(changes, { returned_at: now, closed_at: now })
      break
    case 'change_deadline': {
      const newDue = parseInstant(input.new_due!)
      if (newDue.getTime() <= now.getTime()) throw badRequest('INVALID_DUE', 'Hạn mới phải sau thời điểm hiện tại.', 'The new due date must be in the future.')
      const approver = await userRole(tx, input.approver_user_id!)
      if (!approver || !(approver.role === 'province_admin' || (approver.role === 'unit_admin' && approver.unit_code === d.unit_code))) {
        throw badRequest('INVALID_APPROVER', 'Người phê duyệt phải là lãnh đạo đơn vị giải quyết.', 'The approver must be a leader (unit admin) of the handling unit or a province admin.')
      }
      if (input.approver_user_id === userId) throw badRequest('INVALID_APPROVER', 'Người phê duyệt phải khác người đề nghị.', 'The approver must be someone else.')
      await sql`insert into dossier_deadline_changes (dossier_id, old_due, new_due, reason, approver_user_id, changed_by, at)
        values (${d.id}::bigint, ${d.due_at?.toISOString() ?? null}, ${newDue.toISOString()}, ${input.reason!}, ${input.approver_user_id!}::uuid, ${userId}::uuid, ${now.toISOString()})`.execute(tx)
      due = newDue
      Object.assign(changes, { due_at: newDue, warn_at: warningAt(cal, newDue), warned_at: null })
      Object.assign(data, { old_due: d.due_at?.toISOString() ?? null, new_due: newDue.toISOString(), approver_user_id: input.approver_user_id })
      break
    }
    case 'approve_apology': {
      const letter = await getLetter(tx, province, d.id)
      if (!letter || letter.status !== 'pending') throw conflict('NO_APOLOGY_PENDING', 'Không có phiếu xin lỗi chờ phê duyệt.', 'No apology letter is waiting for approval.')
      const proposed = input.new_due ? parseInstant(input.new_due) : letter.proposed_due
      await sql`update dossier_letters set status = 'approved', approved_by = ${userId}::uuid, approved_at = ${now.toISOString()},
        proposed_due = ${proposed.toISOString()} where dossier_id = ${d.id}::bigint and province_code = ${province} and kind = 'apology'`.execute(tx)
      data.proposed_due = proposed.toISOString()
      break
    }
  }
  if (to !== d.status) changes.status = to
  // The step's own due instant, stored at each hand-off (and moved with the dossier's due instant).
  const start = (changes.clock_started_at as Date | undefined) ?? d.clock_started_at
  let slipDue = due
  if (start && due && (to === DOSSIER_STATUS.RECEIVED || to === DOSSIER_STATUS.PROCESSING)) {
    slipDue = stepDueAt(cal, start, due, cumulativeShare(proc, step))
    if (slipDue.getTime() !== d.step_due_at?.getTime()) changes.step_due_at = slipDue
  } else if (to === DOSSIER_STATUS.RESOLVED || FINAL.includes(to)) {
    changes.step_due_at = null
  }
  const dossier = await updateLockedDossier(tx, province, d, changes)
  // Returned: the result enters the applicant's data store (kho dữ liệu), reusable later.
  if (to === DOSSIER_STATUS.RETURNED) await deliverResultToStore(tx, dossier, now)
  const slip = await recordHandOff(tx, province, {
    dossierId: d.id, code: d.code, action, actor: actorOf(p), actorUserId: userId, step, from: d.status, to,
    fromUnit: d.unit_code, toUnit: d.unit_code, toUser, at: now, dueAt: slipDue, note, data, applicantUserId: d.applicant_user_id,
  }, folded, foldedAudit)
  return { dossier, slip }
}

function parseInstant(s: string): Date {
  const d = parseIsoInstant(s)
  if (!d) throw badRequest('INVALID_INSTANT', 'Thời điểm phải theo ISO 8601 và có múi giờ (Z hoặc +07:00).', 'new_due must be an ISO 8601 instant with an offset (Z or +07:00).')
  return d
}

async function supplementRound(tx: Db, province: string, dossierId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from dossier_pauses
    where dossier_id = ${dossierId}::bigint and province_code = ${province} and kind = 'supplement'`.execute(tx)
  return Math.max(1, rows[0].n)
}

async function userRole(tx: Db, id: string): Promise<{ role: string; unit_code: string | null } | undefined> {
  return getActiveUserRole(tx, id)
}
