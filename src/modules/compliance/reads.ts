import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { unitCoverage } from './evaluator.ts'
import { listEndpoints, listSystems, listUnitsUnderCompliance, type SubjectKind } from './repository.ts'

export interface SubjectFinding {
  finding_id: string
  subject_kind: SubjectKind
  subject_ref: string
  unit_code: string
  rule_code: string
  status: 'warned' | 'suspended'
  reason_vi: string
  reason_en: string
  fix_vi: string
  fix_en: string
  warned_at: string
  deadline: string
  suspended_at: string | null
  evidence: Record<string, unknown>
}

/** Open findings (suspensions, and warnings when asked), with the unit each belongs to. For the IOC. */
export async function suspendedSubjects(db: Db, opts: { includeWarnings?: boolean } = {}): Promise<SubjectFinding[]> {
  const status = opts.includeWarnings ? sql`f.status <> 'resolved'` : sql`f.status = 'suspended'`
  const { rows } = await sql<SubjectFinding & { warned_at: Date; deadline: Date; suspended_at: Date | null }>`
    select f.id::text as finding_id, f.subject_kind, f.subject_ref, coalesce(s.unit_code, f.subject_ref) as unit_code, f.rule_code, f.status,
      f.reason_vi, f.reason_en, r.fix_vi, r.fix_en, f.warned_at, f.deadline, f.suspended_at, f.evidence
    from compliance_findings f join compliance_rules r on r.code = f.rule_code
    left join compliance_systems s on f.subject_kind = 'system' and s.system_ref = f.subject_ref
    where ${status} order by f.status desc, f.warned_at, f.id`.execute(db)
  return rows.map((r) => ({ ...r, warned_at: new Date(r.warned_at).toISOString(), deadline: new Date(r.deadline).toISOString(), suspended_at: r.suspended_at ? new Date(r.suspended_at).toISOString() : null }))
}

export interface UnitCompliance {
  unit_code: string
  four_layer: { onsite_team: string | null; monitoring_provider: string | null; monitoring_contract_end: string | null; independent_assessor: string | null; national_monitoring_connected: boolean; national_monitoring_ref: string | null }
  antimalware: { registered: number; reporting: number; healthy: number; coverage: number; below_since: string | null }
  systems: { system_ref: string; name: string; proposed_level: number; approved_level: number | null; decision_number: string | null; next_assessment_date: string | null }[]
  warnings: number
  suspensions: number
  compliant: boolean
}

/** Compliance by unit: 4-layer evidence, anti-malware coverage now, systems and open findings. For the IOC. */
export async function complianceByUnit(db: Db, now: Date, unitCode?: string): Promise<UnitCompliance[]> {
  const [units, systems, endpoints, findings] = await Promise.all([listUnitsUnderCompliance(db, unitCode), listSystems(db, unitCode), listEndpoints(db, unitCode), suspendedSubjects(db, { includeWarnings: true })])
  return units.map((u) => {
    const cov = unitCoverage(u, endpoints.filter((e) => e.unit_code === u.unit_code), now)
    const mine = findings.filter((f) => f.unit_code === u.unit_code)
    return {
      unit_code: u.unit_code,
      four_layer: { onsite_team: u.onsite_team, monitoring_provider: u.monitoring_provider, monitoring_contract_end: u.monitoring_contract_end, independent_assessor: u.independent_assessor, national_monitoring_connected: u.national_monitoring_connected, national_monitoring_ref: u.national_monitoring_ref },
      antimalware: { ...cov, below_since: u.coverage_below_since ? new Date(u.coverage_below_since).toISOString() : null },
      systems: systems.filter((s) => s.unit_code === u.unit_code).map((s) => ({ system_ref: s.system_ref, name: s.name, proposed_level: s.proposed_level, approved_level: s.approved_level, decision_number: s.decision_number, next_assessment_date: s.next_assessment_date })),
      warnings: mine.filter((f) => f.status === 'warned').length,
      suspensions: mine.filter((f) => f.status === 'suspended').length,
      compliant: mine.length === 0,
    }
  })
}
