import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { getReportByCode, insertHistory, listOverdueUnescalated, listResolvedBefore, updateReport } from './repository.ts'
import { REOPEN_DAYS } from './workflow.ts'

/**
 * Escalates open reports past their state deadline to the province: records it on the report
 * (escalation level, time), in its history, the audit log and as a `report.escalated` event.
 * Safe to run on several nodes: each report is re-read under a row lock and skipped if another
 * run escalated it first. Returns how many were escalated.
 */
export async function escalateOverdueReports(db: Db, now: Date, provinceCode: string): Promise<number> {
  let n = 0
  for (;;) {
    const batch = await listOverdueUnescalated(db, provinceCode, now, 200)
    if (batch.length === 0) return n
    for (const candidate of batch) {
      const done = await db.transaction().execute(async (tx) => {
        const r = await getReportByCode(tx, provinceCode, candidate.code, { forUpdate: true })
        if (!r || r.escalation_level > 0 || !r.state_due_at || r.state_due_at >= now || !['received', 'assigned', 'in_progress'].includes(r.status)) return false
        await updateReport(tx, provinceCode, r.id, { escalation_level: 1, escalated_at: now })
        await insertHistory(tx, { reportId: r.id, at: now, actor: 'system', action: 'escalated', fromStatus: r.status, toStatus: r.status, fromUnit: r.unit_code, toUnit: provinceCode, note: `overdue since ${r.state_due_at.toISOString()}` })
        await appendAudit(tx, { actor: 'system', action: 'report.escalated', entityType: 'report', entityId: r.code, data: { unit: r.unit_code, to: provinceCode, due: r.state_due_at.toISOString() } }, now)
        await publishEvent(tx, 'report.escalated', { code: r.code, unit_code: r.unit_code, escalated_to: provinceCode, state_due_at: r.state_due_at.toISOString() })
        return true
      })
      if (done) n++
    }
    if (batch.length < 200) return n
  }
}

/** Closes resolved reports whose reopen window has passed (outcome: fixed). */
export async function closeSettledReports(db: Db, now: Date, provinceCode: string): Promise<number> {
  const before = new Date(now.getTime() - REOPEN_DAYS * 86_400_000)
  let n = 0
  for (const candidate of await listResolvedBefore(db, provinceCode, before, 500)) {
    const done = await db.transaction().execute(async (tx) => {
      const r = await getReportByCode(tx, provinceCode, candidate.code, { forUpdate: true })
      if (!r || r.status !== 'resolved' || !r.resolved_at || r.resolved_at >= before) return false
      await updateReport(tx, provinceCode, r.id, { status: 'closed', closed_at: now, state_entered_at: now, state_due_at: null, outcome: r.outcome ?? 'fixed' })
      await insertHistory(tx, { reportId: r.id, at: now, actor: 'system', action: 'auto_closed', fromStatus: 'resolved', toStatus: 'closed', note: `no reopen within ${REOPEN_DAYS} days` })
      await appendAudit(tx, { actor: 'system', action: 'report.auto_closed', entityType: 'report', entityId: r.code, data: {} }, now)
      await publishEvent(tx, 'report.status_changed', { code: r.code, from: 'resolved', to: 'closed', unit_code: r.unit_code, action: 'auto_close', at: now.toISOString() })
      return true
    })
    if (done) n++
  }
  return n
}

/**
 * Escalates one report at the request of the IOC's automatic operations (event
 * `ioc.escalation_requested` of a rule over a report fact), in the transaction that delivers the
 * event. A report already escalated, or no longer open, is left as it is: the request is
 * idempotent, as the event may be delivered again.
 */
export async function escalateReportOnRequest(tx: Db, provinceCode: string, req: { code: string; toUnitCode: string; ruleCode: string; factKey: string }, now: Date): Promise<boolean> {
  const r = await getReportByCode(tx, provinceCode, req.code, { forUpdate: true })
  if (!r || r.escalation_level > 0 || !['received', 'assigned', 'in_progress'].includes(r.status)) return false
  await updateReport(tx, provinceCode, r.id, { escalation_level: 1, escalated_at: now })
  await insertHistory(tx, { reportId: r.id, at: now, actor: 'system', action: 'escalated', fromStatus: r.status, toStatus: r.status, fromUnit: r.unit_code, toUnit: req.toUnitCode, note: `IOC rule ${req.ruleCode}` })
  await appendAudit(tx, { actor: 'system', action: 'report.escalated', entityType: 'report', entityId: r.code, data: { unit: r.unit_code, to: req.toUnitCode, rule: req.ruleCode, fact: req.factKey } }, now)
  await publishEvent(tx, 'report.escalated', { code: r.code, unit_code: r.unit_code, escalated_to: req.toUnitCode, state_due_at: r.state_due_at?.toISOString() ?? null, rule: req.ruleCode })
  return true
}
