import { sql, type RawBuilder } from 'kysely'
import { auditAppendCall, type AuditEntry } from '../../../platform/audit/audit-log.ts'
import type { Db } from '../../../platform/db/database.ts'
import { outboxInsert } from '../../../platform/events/outbox.ts'
import type { SlipRow } from './repository.ts'
import { STATUS_NAMES, type DossierStatus } from './status-machine.ts'

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
  /** The applicant's account: told in the app when the status changes (`dossier.citizen_notice`). */
  applicantUserId?: string | null
}

/** The in-app notice to the citizen for a status change (delivered by the notification channels). */
export function citizenNotice(userId: string, code: string, status: DossierStatus) {
  const name = STATUS_NAMES[status]
  return {
    user_id: userId, code, status,
    message_vi: `Hồ sơ ${code} đã chuyển sang trạng thái: ${name.vi}.`,
    message_en: `Dossier ${code} is now: ${name.en}.`,
  }
}

/**
 * Writes what every change leaves behind, in the caller's transaction and in ONE statement: the
 * control slip row (phiếu kiểm soát), the `dossier.status_changed` event, the citizen's notice
 * when the status changed, any `extra` statements of the caller (folded in as data-modifying
 * WITH parts) and the audit entry (its chain lock is taken by this statement, so it is held only
 * from here to the commit). Returns the slip written.
 */
export async function recordHandOff(tx: Db, province: string, h: HandOff, extra: RawBuilder<unknown>[] = [], extraAudit: AuditEntry[] = []): Promise<SlipRow> {
  const parts: RawBuilder<unknown>[] = [
    outboxInsert('dossier.status_changed', { code: h.code, action: h.action, from: h.from, to: h.to, unit_code: h.toUnit, step: h.step, from_unit: h.fromUnit, at: h.at.toISOString() }),
    ...(h.applicantUserId && h.from !== h.to ? [outboxInsert('dossier.citizen_notice', citizenNotice(h.applicantUserId, h.code, h.to))] : []),
    ...extra,
  ]
  const withs = parts.map((q, i) => sql`${sql.raw(`w${i}`)} as (${q})`)
  const { rows } = await sql<SlipRow & { hash: string }>`with slip as (
      insert into dossier_control_slips (dossier_id, seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note)
      values (${h.dossierId}::bigint, (select coalesce(max(seq), 0) + 1 from dossier_control_slips where dossier_id = ${h.dossierId}::bigint and province_code = ${province}),
        ${h.action}, ${h.step}, ${h.from}, ${h.to}, ${h.fromUnit}, ${h.actorUserId}, ${h.toUnit}, ${h.toUser ?? null},
        ${h.at.toISOString()}, ${h.dueAt?.toISOString() ?? null}, ${h.note})
      returning seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note), ${sql.join(withs, sql`, `)}
    select slip.*, ${extraAudit.length ? sql`array[${sql.join(extraAudit.map((e) => auditAppendCall(e, h.at)))}]` : sql`null`} as extra_audit, ${auditAppendCall({ actor: h.actor, action: `dossier.${h.action}`, entityType: 'dossier', entityId: h.code, data: { from: h.from, to: h.to, step: h.step, ...(h.data ?? {}) } }, h.at)} as hash
    from slip`.execute(tx)
  const { hash: _hash, extra_audit: _extra, ...slip } = rows[0] as SlipRow & { hash: string; extra_audit: unknown }
  return slip
}
