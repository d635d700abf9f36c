import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { Db } from '../../../platform/db/database.ts'
import { publishEvent } from '../../../platform/events/outbox.ts'
import { insertSlip } from './repository.ts'
import type { DossierStatus } from './status-machine.ts'

export interface HandOff {
  dossierId: string
  code: string
  action: string
  actor: string
  actorUserId: string | null
  step: string
  from: DossierStatus | null
  to: DossierStatus
  fromUnit: string | null
  toUnit: string | null
  toUser?: string | null
  at: Date
  dueAt: Date | null
  note: string | null
  data?: Record<string, unknown>
}

/**
 * Writes what every change leaves behind, in the caller's transaction: the control slip row
 * (phiếu kiểm soát), the `dossier.status_changed` event and, last (it takes the chain lock),
 * the audit entry.
 */
export async function recordHandOff(tx: Db, h: HandOff): Promise<void> {
  await insertSlip(tx, h.dossierId, {
    action: h.action, step: h.step, from_status: h.from, to_status: h.to, from_unit: h.fromUnit, from_user: h.actorUserId,
    to_unit: h.toUnit, to_user: h.toUser ?? null, at: h.at, due_at: h.dueAt, note: h.note,
  })
  await publishEvent(tx, 'dossier.status_changed', { code: h.code, action: h.action, from: h.from, to: h.to, unit_code: h.toUnit, step: h.step, from_unit: h.fromUnit, at: h.at.toISOString() })
  await appendAudit(tx, { actor: h.actor, action: `dossier.${h.action}`, entityType: 'dossier', entityId: h.code, data: { from: h.from, to: h.to, step: h.step, ...(h.data ?? {}) } }, h.at)
}
