import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { loadWorkingCalendar } from '../calendar/index.ts'
import type { Rule } from './policy.ts'
import {
  listEndpoints, listExemptions, listRules, listSystems, listUnitsUnderCompliance, setCoverageBelowSince,
  type EndpointRow, type ExemptionRow, type FindingRow, type SubjectKind, type SystemRow, type UnitRow,
} from './repository.ts'

/** Events the gateway listens to (it keeps its own copy of suspensions). */
export const SUSPENSION_STARTED = 'compliance.suspension.started'
export const SUSPENSION_LIFTED = 'compliance.suspension.lifted'

interface Violation { reason_vi: string; reason_en: string; evidence: Record<string, unknown> }

export interface Decision {
  action: 'warned' | 'suspended' | 'restored'
  subject_kind: SubjectKind
  subject_ref: string
  rule_code: string
  finding_id: string
  resolution?: 'compliant' | 'exempted'
  deadline?: string
}

const DAY = 86_400_000
/** Calendar date in Asia/Ho_Chi_Minh (YYYY-MM-DD). */
export const vnDate = (d: Date) => new Date(d.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
const daysBetween = (a: string, b: string) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY)

export interface UnitCoverage { registered: number; reporting: number; healthy: number; coverage: number }

/** Coverage = computers with a healthy agent ÷ registered computers (at least the computers reporting). */
export function unitCoverage(unit: Pick<UnitRow, 'registered_computers'>, endpoints: EndpointRow[], now: Date, maxAgeHours = 24): UnitCoverage {
  const healthy = endpoints.filter((e) => now.getTime() - new Date(e.last_heartbeat_at).getTime() <= maxAgeHours * 3600_000).length
  const registered = Math.max(unit.registered_computers, endpoints.length)
  return { registered, reporting: endpoints.length, healthy, coverage: registered === 0 ? 0 : healthy / registered }
}

function checkSystem(rule: Rule, s: SystemRow, today: string): Violation | null {
  switch (rule.check_name) {
    case 'no_approved_level':
      if (s.approved_level !== null && s.decision_number && s.decision_date) return null
      return { reason_vi: 'chưa có quyết định phê duyệt cấp độ', reason_en: 'no approved level decision recorded', evidence: { approved_level: s.approved_level, decision_number: s.decision_number, decision_date: s.decision_date, proposed_level: s.proposed_level } }
    case 'reassessment_overdue': {
      const overdue = rule.params.overdue_days ?? 30
      if (!s.next_assessment_date) return null
      const late = daysBetween(s.next_assessment_date, today)
      if (late <= overdue) return null
      return { reason_vi: `quá hạn đánh giá lại ${late} ngày`, reason_en: `re-assessment overdue by ${late} days`, evidence: { next_assessment_date: s.next_assessment_date, last_assessment_date: s.last_assessment_date, days_late: late, allowed_days: overdue } }
    }
    default:
      return null
  }
}

function checkUnit(rule: Rule, u: UnitRow, endpoints: EndpointRow[], cov: UnitCoverage, now: Date, today: string): Violation | null {
  switch (rule.check_name) {
    case 'monitoring_contract_expired':
      if (u.monitoring_provider && u.monitoring_contract_end && u.monitoring_contract_end >= today) return null
      return {
        reason_vi: u.monitoring_contract_end ? `hợp đồng giám sát hết hạn ngày ${u.monitoring_contract_end}` : 'chưa có hợp đồng giám sát',
        reason_en: u.monitoring_contract_end ? `monitoring contract ended on ${u.monitoring_contract_end}` : 'no monitoring contract recorded',
        evidence: { monitoring_provider: u.monitoring_provider, monitoring_contract_end: u.monitoring_contract_end, today },
      }
    case 'antimalware_coverage_low': {
      const min = rule.params.min_coverage ?? 1
      const days = rule.params.days ?? 7
      if (cov.coverage >= min || !u.coverage_below_since) return null
      const since = new Date(u.coverage_below_since)
      if (now.getTime() - since.getTime() < days * DAY) return null
      const pct = Math.floor(cov.coverage * 1000) / 10
      return { reason_vi: `độ phủ phòng chống mã độc ${pct}% (${cov.healthy}/${cov.registered} máy) từ ${vnDate(since)}`, reason_en: `anti-malware coverage ${pct}% (${cov.healthy}/${cov.registered} computers) since ${vnDate(since)}`, evidence: { ...cov, below_since: since.toISOString(), min_coverage: min, days } }
    }
    case 'agent_signatures_stale': {
      const maxAge = rule.params.max_age_days ?? 3
      const stale = endpoints.filter((e) => daysBetween(e.signatures_date, today) > maxAge)
      if (stale.length === 0) return null
      return { reason_vi: `${stale.length} máy có mẫu nhận diện cũ hơn ${maxAge} ngày`, reason_en: `${stale.length} computers have signatures older than ${maxAge} days`, evidence: { stale: stale.slice(0, 50).map((e) => ({ hostname: e.hostname, signatures_date: e.signatures_date })), count: stale.length, max_age_days: maxAge } }
    }
    default:
      return null
  }
}

const exempted = (ex: ExemptionRow[], kind: SubjectKind, ref: string, rule: string) => ex.find((e) => e.subject_kind === kind && e.subject_ref === ref && (e.rule_code === null || e.rule_code === rule))

/**
 * Applies the policy at `now`: a new violation is warned (reason, rule, deadline = grace period
 * in Vietnamese working days); a warning whose deadline has passed becomes a suspension, which
 * the gateway enforces; a finding whose subject is compliant again, or exempted, is resolved and
 * any suspension lifted. Each decision is audited with its evidence in its own transaction.
 */
export async function evaluateCompliance(db: Db, now: Date): Promise<Decision[]> {
  const calendar = await loadWorkingCalendar(db)
  const today = vnDate(now)
  const rules = (await listRules(db)).filter((r) => r.enabled)
  const [systems, units, endpoints, exemptions] = await Promise.all([listSystems(db), listUnitsUnderCompliance(db), listEndpoints(db), listExemptions(db, now)])
  const open = new Map((await sql<FindingRow>`select * from compliance_findings where status <> 'resolved'`.execute(db)).rows.map((f) => [`${f.subject_kind}|${f.subject_ref}|${f.rule_code}`, f]))
  const decisions: Decision[] = []
  const covRule = rules.find((r) => r.check_name === 'antimalware_coverage_low')

  const subjects: { kind: SubjectKind; ref: string; check: (r: Rule) => Violation | null }[] = []
  for (const s of systems) subjects.push({ kind: 'system', ref: s.system_ref, check: (r) => checkSystem(r, s, today) })
  for (const u of units) {
    const eps = endpoints.filter((e) => e.unit_code === u.unit_code)
    const cov = unitCoverage(u, eps, now, covRule?.params.heartbeat_max_age_hours ?? 24)
    const below = cov.coverage < (covRule?.params.min_coverage ?? 1)
    const since = below ? (u.coverage_below_since ? new Date(u.coverage_below_since) : now) : null
    if ((since?.getTime() ?? null) !== (u.coverage_below_since ? new Date(u.coverage_below_since).getTime() : null)) await setCoverageBelowSince(db, u.unit_code, since)
    const unit = { ...u, coverage_below_since: since }
    subjects.push({ kind: 'unit', ref: u.unit_code, check: (r) => checkUnit(r, unit, eps, cov, now, today) })
  }

  for (const subject of subjects) {
    for (const rule of rules.filter((r) => r.subject_kind === subject.kind)) {
      const v = subject.check(rule)
      const finding = open.get(`${subject.kind}|${subject.ref}|${rule.code}`)
      const ex = v ? exempted(exemptions, subject.kind, subject.ref, rule.code) : undefined
      if (v && !ex) {
        if (!finding) {
          const deadline = calendar.addWorkingDays(now, rule.grace_working_days)
          const d = await db.transaction().execute(async (tx) => {
            const { rows } = await sql<{ id: string }>`insert into compliance_findings (subject_kind, subject_ref, rule_code, status, reason_vi, reason_en, evidence, warned_at, deadline)
              values (${subject.kind}, ${subject.ref}, ${rule.code}, 'warned', ${v.reason_vi}, ${v.reason_en}, ${JSON.stringify(v.evidence)}::jsonb, ${now.toISOString()}::timestamptz, ${deadline.toISOString()}::timestamptz)
              on conflict do nothing returning id::text as id`.execute(tx)
            if (!rows[0]) return null
            await publishEvent(tx, 'compliance.warning.issued', { finding_id: rows[0].id, subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code, reason_vi: v.reason_vi, reason_en: v.reason_en, deadline: deadline.toISOString(), fix_vi: rule.fix_vi, fix_en: rule.fix_en })
            await appendAudit(tx, { actor: 'system', action: 'compliance.warned', entityType: `compliance_${subject.kind}`, entityId: subject.ref, data: { finding_id: rows[0].id, rule: rule.code, reason: v.reason_en, deadline: deadline.toISOString(), evidence: v.evidence } }, now)
            return rows[0].id
          })
          if (d) decisions.push({ action: 'warned', subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code, finding_id: d, deadline: deadline.toISOString() })
        } else if (finding.status === 'warned' && now >= new Date(finding.deadline)) {
          const ok = await db.transaction().execute(async (tx) => {
            const { rows } = await sql`update compliance_findings set status = 'suspended', suspended_at = ${now.toISOString()}::timestamptz, evidence = ${JSON.stringify(v.evidence)}::jsonb,
                reason_vi = ${v.reason_vi}, reason_en = ${v.reason_en}
              where id = ${finding.id}::uuid and status = 'warned' returning id`.execute(tx)
            if (!rows[0]) return false
            await publishEvent(tx, SUSPENSION_STARTED, { finding_id: finding.id, subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code, reason_vi: v.reason_vi, reason_en: v.reason_en, fix_vi: rule.fix_vi, fix_en: rule.fix_en, since: now.toISOString() })
            await appendAudit(tx, { actor: 'system', action: 'compliance.suspended', entityType: `compliance_${subject.kind}`, entityId: subject.ref, data: { finding_id: finding.id, rule: rule.code, reason: v.reason_en, warned_at: new Date(finding.warned_at).toISOString(), deadline: new Date(finding.deadline).toISOString(), evidence: v.evidence } }, now)
            return true
          })
          if (ok) decisions.push({ action: 'suspended', subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code, finding_id: finding.id })
        }
      } else if (finding) {
        const resolution = v ? 'exempted' : 'compliant'
        const ok = await db.transaction().execute(async (tx) => {
          const { rows } = await sql`update compliance_findings set status = 'resolved', resolved_at = ${now.toISOString()}::timestamptz, resolution = ${resolution}
            where id = ${finding.id}::uuid and status <> 'resolved' returning id`.execute(tx)
          if (!rows[0]) return false
          if (finding.status === 'suspended') await publishEvent(tx, SUSPENSION_LIFTED, { finding_id: finding.id, subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code })
          await appendAudit(tx, { actor: 'system', action: finding.status === 'suspended' ? 'compliance.restored' : 'compliance.warning_cleared', entityType: `compliance_${subject.kind}`, entityId: subject.ref, data: { finding_id: finding.id, rule: rule.code, resolution, exemption_id: ex?.id ?? null, evidence: v?.evidence ?? { compliant_at: now.toISOString() } } }, now)
          return true
        })
        if (ok) decisions.push({ action: 'restored', subject_kind: subject.kind, subject_ref: subject.ref, rule_code: rule.code, finding_id: finding.id, resolution })
      }
    }
  }
  return decisions
}
