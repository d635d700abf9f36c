import { actorOf, canSeeUnit, type Principal } from '../../platform/auth/principal.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { loadWorkingCalendar } from '../calendar/index.ts'
import { getLocator } from '../geo/index.ts'
import { issueOutgoingDocument } from '../documents/index.ts'
import { getOrgUnit } from '../identity/index.ts'
import { getCategory } from './categories.ts'
import { stateDueAt } from './deadlines.ts'
import { addSupporter, getReportByCode, insertHistory, moveSupporters, updateReport, type ReportRow, type ReportStatus } from './repository.ts'

export const STAFF_ACTIONS = ['assign', 'start', 'resolve', 'reject', 'transfer', 'confirm_location', 'close', 'merge'] as const
export const CITIZEN_ACTIONS = ['rate', 'reopen'] as const
export type ReportAction = (typeof STAFF_ACTIONS)[number] | (typeof CITIZEN_ACTIONS)[number]

/** What an action may carry; which fields are required depends on the action. */
export interface ActionInput {
  note?: string
  answer?: string
  reason?: string
  to_unit?: string
  lat?: number
  lon?: number
  assignee_user_id?: string
  outcome?: 'fixed' | 'not_fixed'
  rating?: number
  comment?: string
  into_code?: string
  /** resolve: also issue the answer as an outgoing official document (công văn) of the unit. */
  issue_document?: boolean
  signer?: string
}

const OPEN: ReportStatus[] = ['received', 'assigned', 'in_progress']
/** A citizen may reopen within this many days of the answer. */
export const REOPEN_DAYS = 10

const FROM: Record<ReportAction, ReportStatus[]> = {
  assign: ['received', 'assigned'],
  start: ['received', 'assigned'],
  resolve: OPEN,
  reject: OPEN,
  transfer: OPEN,
  confirm_location: OPEN,
  close: ['resolved', 'rejected', 'in_progress', 'assigned'],
  merge: OPEN,
  rate: ['resolved', 'closed'],
  reopen: ['resolved', 'closed'],
}

const required = (field: string, vi: string) => badRequest('FIELD_REQUIRED', `Cần nhập ${vi}.`, `The field "${field}" is required for this action.`)

export interface WorkflowDeps {
  db: Db
  now: Date
  provinceCode: string
  uploadDir: string
}

/**
 * Applies one workflow action to a report, under a row lock: checks who may do it and from
 * which state, sets the new state and its due time on the working calendar, and writes the
 * history row, the audit entry and a `report.status_changed` event in the same transaction.
 */
export async function applyReportAction(deps: WorkflowDeps, code: string, action: ReportAction, input: ActionInput, principal: Principal | null): Promise<ReportRow> {
  const { db, now, provinceCode: province } = deps
  const cal = await loadWorkingCalendar(db)
  return db.transaction().execute(async (tx) => {
    const r = await getReportByCode(tx, province, code, { forUpdate: true })
    if (!r) throw notFound('Report', 'phản ánh')
    const isStaffOfUnit = canSeeUnit(principal, r.unit_code)
    const isOwner = principal?.kind === 'user' && r.reporter_user_id === principal.userId
    if ((STAFF_ACTIONS as readonly string[]).includes(action) ? !isStaffOfUnit : !isOwner) {
      // Hide the report's existence from people who may not act on it only if they cannot see it at all.
      throw forbidden()
    }
    if (!FROM[action].includes(r.status)) {
      throw conflict('INVALID_TRANSITION', `Không thể "${action}" khi phản ánh đang ở trạng thái "${r.status}".`, `Cannot ${action} a report in status ${r.status}.`, { status: r.status })
    }
    const category = (await getCategory(tx, r.category_code))!
    const changes: Parameters<typeof updateReport>[3] = {}
    let to: ReportStatus = r.status
    let toUnit = r.unit_code
    let note = input.note ?? null
    const enter = (s: ReportStatus) => {
      to = s
      changes.status = s
      changes.state_entered_at = now
      changes.state_due_at = stateDueAt(cal, category, s, now)
      changes.escalation_level = 0
    }
    switch (action) {
      case 'assign':
        enter('assigned')
        changes.assignee_user_id = input.assignee_user_id ?? (principal?.kind === 'user' ? principal.userId : null)
        break
      case 'start':
        enter('in_progress')
        break
      case 'resolve':
        if (!input.answer?.trim()) throw required('answer', 'nội dung trả lời')
        enter('resolved')
        changes.public_answer = input.answer
        changes.resolved_at = now
        note = input.answer
        if (input.issue_document) {
          // The answer becomes a numbered outgoing document of the unit, linked to the report.
          const doc = await issueOutgoingDocument(tx, {
            agencyCode: r.unit_code,
            docType: 'CV',
            summary: `V/v trả lời phản ánh ${r.code}: ${input.answer.slice(0, 1500)}`,
            signer: input.signer ?? null,
            issuedAt: now,
            links: [{ kind: 'report', ref: r.code }],
            actor: actorOf(principal),
            uploadDir: deps.uploadDir,
          })
          note = `${input.answer} [${doc.symbol}]`
        }
        break
      case 'reject':
        if (!input.reason?.trim()) throw required('reason', 'lý do')
        enter('rejected')
        changes.reject_reason = input.reason
        changes.outcome = 'rejected'
        changes.resolved_at = now
        note = input.reason
        break
      case 'transfer': {
        if (!input.reason?.trim()) throw required('reason', 'lý do chuyển')
        // A corrected pin re-locates the report; otherwise the target unit must be named.
        if (input.lat !== undefined && input.lon !== undefined) {
          const loc = (await getLocator(tx)).locate(input.lat, input.lon)
          if (!loc.unit) throw badRequest('OUTSIDE_PROVINCE', 'Vị trí mới nằm ngoài địa bàn tỉnh.', 'The corrected position is outside the province.')
          changes.location = { lat: input.lat, lon: input.lon }
          changes.commune_code = loc.unit.code
          changes.locate_status = loc.status === 'inside' ? 'inside' : 'nearest'
          changes.near_border = loc.near_border
          changes.distance_to_border_m = loc.distance_to_border_m
          changes.boundary_version = loc.boundary_version
          toUnit = input.to_unit ?? (category.handling === 'department' && category.department_code ? category.department_code : loc.unit.code)
        } else if (input.to_unit) {
          toUnit = input.to_unit
        } else {
          throw required('to_unit', 'đơn vị nhận')
        }
        if (toUnit === r.unit_code) throw badRequest('SAME_UNIT', 'Đơn vị nhận trùng đơn vị hiện tại.', 'The report is already with that unit.')
        if (!(await getOrgUnit(tx, toUnit))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị nhận không tồn tại.', `Unknown unit ${toUnit}.`)
        enter('received')
        changes.unit_code = toUnit
        changes.assignee_user_id = null
        changes.location_confirmed_at = null
        note = input.reason
        break
      }
      case 'confirm_location':
        changes.location_confirmed_at = now
        break
      case 'close':
        if (r.status === 'in_progress' || r.status === 'assigned') {
          // Closing without a fix ("closed, not fixed") needs an answer for the citizen.
          if (input.outcome !== 'not_fixed') throw badRequest('OUTCOME_REQUIRED', 'Chỉ đóng khi chưa giải quyết với kết quả "không khắc phục được".', 'An open report can only be closed with outcome not_fixed.')
          if (!input.answer?.trim()) throw required('answer', 'nội dung trả lời')
          changes.public_answer = input.answer
        }
        to = 'closed'
        changes.status = 'closed'
        changes.closed_at = now
        changes.state_entered_at = now
        changes.state_due_at = null
        changes.outcome = r.status === 'rejected' ? 'rejected' : (input.outcome ?? r.outcome ?? 'fixed')
        break
      case 'merge': {
        if (!input.into_code) throw required('into_code', 'mã phản ánh gộp vào')
        const target = await getReportByCode(tx, province, input.into_code, { forUpdate: true })
        if (!target || target.id === r.id) throw badRequest('INVALID_MERGE_TARGET', 'Phản ánh gộp vào không hợp lệ.', 'Invalid report to merge into.')
        if (!canSeeUnit(principal, target.unit_code)) throw forbidden()
        if (!OPEN.includes(target.status)) throw conflict('INVALID_TRANSITION', 'Phản ánh gộp vào đã đóng.', 'The target report is no longer open.')
        to = 'closed'
        changes.status = 'closed'
        changes.outcome = 'duplicate'
        changes.merged_into = target.id
        changes.closed_at = now
        changes.state_due_at = null
        await moveSupporters(tx, province, r.id, target.id)
        // The reporter of the duplicate becomes a supporter of the original.
        await addSupporter(tx, province, target.id, `report:${r.id}`)
        note = `merged into ${target.code}`
        break
      }
      case 'rate':
        if (!Number.isInteger(input.rating) || input.rating! < 1 || input.rating! > 5) throw badRequest('INVALID_RATING', 'Đánh giá từ 1 đến 5.', 'Rating must be an integer from 1 to 5.')
        changes.rating = input.rating
        changes.rating_comment = input.comment ?? null
        note = `rating ${input.rating}`
        break
      case 'reopen': {
        if (r.outcome === 'duplicate' || r.outcome === 'rejected') throw conflict('CANNOT_REOPEN', 'Phản ánh này không thể mở lại.', 'This report cannot be reopened.')
        const since = r.resolved_at ?? r.closed_at
        if (!since || now.getTime() - since.getTime() > REOPEN_DAYS * 86_400_000) {
          throw conflict('REOPEN_WINDOW_PASSED', `Chỉ mở lại trong ${REOPEN_DAYS} ngày sau khi có kết quả.`, `A report can only be reopened within ${REOPEN_DAYS} days of its answer.`)
        }
        if (!input.reason?.trim()) throw required('reason', 'lý do mở lại')
        enter('in_progress')
        changes.reopen_count = r.reopen_count + 1
        changes.closed_at = null
        changes.outcome = null
        note = input.reason
        break
      }
    }
    changes.updated_at = now
    await updateReport(tx, province, r.id, changes)
    const actor = actorOf(principal)
    await insertHistory(tx, { reportId: r.id, at: now, actor, action, fromStatus: r.status, toStatus: to, fromUnit: r.unit_code, toUnit, note })
    await appendAudit(tx, { actor, action: `report.${action}`, entityType: 'report', entityId: r.code, data: { from: r.status, to, unit: toUnit } }, now)
    if (to !== r.status || toUnit !== r.unit_code) {
      await publishEvent(tx, 'report.status_changed', { code: r.code, from: r.status, to, unit_code: toUnit, action, from_unit: r.unit_code, category: r.category_code, channel: r.channel, commune_code: r.commune_code, received_at: r.created_at.toISOString(), due_at: r.due_at?.toISOString() ?? null, at: now.toISOString() })
    }
    return (await getReportByCode(tx, province, code))!
  })
}
