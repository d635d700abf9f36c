import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'
import { DEFAULT_RULES, type Rule } from './policy.ts'
import { proposeLevel, type Answers } from './questionnaire.ts'

export type SubjectKind = 'unit' | 'system'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface SystemRow {
  id: string; system_ref: string; unit_code: string; name: string; info_types: string[]; serves: string; personal_data_subjects: number
  questionnaire: Answers; proposed_level: number; proposed_reasons: unknown[]; approved_level: number | null; decision_number: string | null
  decision_date: string | null; decision_signer: string | null; decision_file_name: string | null; decision_file_sha256: string | null
  security_plan: string | null; reassessment_triggers: string[]; last_assessment_date: string | null; next_assessment_date: string | null
  created_at: Date; updated_at: Date
}

export interface UnitRow {
  unit_code: string; onsite_team: string | null; monitoring_provider: string | null; monitoring_contract_end: string | null
  independent_assessor: string | null; national_monitoring_connected: boolean; national_monitoring_ref: string | null
  registered_computers: number; coverage_below_since: Date | null; updated_at: Date
}

export interface EndpointRow {
  id: string; unit_code: string; hostname: string; agent_id: string | null; agent_version: string; signatures_date: string
  last_scan_at: Date | null; threats_found: number; last_heartbeat_at: Date; reported_by: string
}

export interface FindingRow {
  id: string; subject_kind: SubjectKind; subject_ref: string; rule_code: string; status: 'warned' | 'suspended' | 'resolved'
  reason_vi: string; reason_en: string; evidence: Record<string, unknown>; warned_at: Date; deadline: Date
  suspended_at: Date | null; resolved_at: Date | null; resolution: string | null
}

export interface ExemptionRow { id: string; subject_kind: SubjectKind; subject_ref: string; rule_code: string | null; valid_from: Date; valid_until: Date; reason: string; granted_by: string; created_at: Date }

const SYSTEM_COLUMNS = sql.raw(`id, system_ref, unit_code, name, info_types, serves, personal_data_subjects, questionnaire, proposed_level, proposed_reasons,
  approved_level, decision_number, to_char(decision_date, 'YYYY-MM-DD') as decision_date, decision_signer, decision_file_name, decision_file_sha256,
  security_plan, reassessment_triggers, to_char(last_assessment_date, 'YYYY-MM-DD') as last_assessment_date,
  to_char(next_assessment_date, 'YYYY-MM-DD') as next_assessment_date, created_at, updated_at`)
const UNIT_COLUMNS = sql.raw(`unit_code, onsite_team, monitoring_provider, to_char(monitoring_contract_end, 'YYYY-MM-DD') as monitoring_contract_end,
  independent_assessor, national_monitoring_connected, national_monitoring_ref, registered_computers, coverage_below_since, updated_at`)

export async function seedRules(db: Db): Promise<void> {
  for (const r of DEFAULT_RULES) {
    await sql`insert into compliance_rules (code, subject_kind, check_name, params, grace_working_days, title_vi, title_en, fix_vi, fix_en, enabled)
      values (${r.code}, ${r.subject_kind}, ${r.check_name}, ${JSON.stringify(r.params)}::jsonb, ${r.grace_working_days}, ${r.title_vi}, ${r.title_en}, ${r.fix_vi}, ${r.fix_en}, ${r.enabled})
      on conflict (code) do nothing`.execute(db)
  }
}

export async function listRules(db: Db): Promise<Rule[]> {
  return (await sql<Rule>`select * from compliance_rules order by subject_kind desc, code`.execute(db)).rows
}

async function checkUnit(db: Db, code: string): Promise<void> {
  if (!(await getOrgUnit(db, code))) throw badRequest('UNKNOWN_UNIT', `Không có đơn vị mã "${code}".`, `Unknown unit "${code}".`)
}

export interface SystemInput {
  system_ref: string; unit_code: string; name: string; info_types?: string[]; questionnaire: Answers
}

/** Registers or updates a system's classification; the questionnaire proposes its level. */
export async function saveSystemClassification(tx: Db, s: SystemInput, actor: string, now: Date): Promise<SystemRow> {
  await checkUnit(tx, s.unit_code)
  const proposal = proposeLevel(s.questionnaire)
  const { rows } = await sql<{ id: string }>`insert into compliance_systems (system_ref, unit_code, name, info_types, serves, personal_data_subjects, questionnaire,
      proposed_level, proposed_reasons, created_at, updated_at)
    values (${s.system_ref}, ${s.unit_code}, ${s.name}, array(select jsonb_array_elements_text(${JSON.stringify(s.info_types ?? [])}::jsonb)), ${s.questionnaire.serves},
      ${s.questionnaire.personal_data_subjects}, ${JSON.stringify(s.questionnaire)}::jsonb, ${proposal.level}, ${JSON.stringify(proposal.reasons)}::jsonb,
      ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
    on conflict (system_ref) do update set unit_code = excluded.unit_code, name = excluded.name, info_types = excluded.info_types, serves = excluded.serves,
      personal_data_subjects = excluded.personal_data_subjects, questionnaire = excluded.questionnaire, proposed_level = excluded.proposed_level,
      proposed_reasons = excluded.proposed_reasons, updated_at = excluded.updated_at
    returning id`.execute(tx)
  await appendAudit(tx, { actor, action: 'compliance.system.classified', entityType: 'compliance_system', entityId: rows[0].id, data: { system_ref: s.system_ref, unit_code: s.unit_code, proposed_level: proposal.level, questionnaire: s.questionnaire } }, now)
  return (await getSystem(tx, rows[0].id))!
}

export interface ApprovalInput {
  approved_level?: number; decision_number?: string; decision_date?: string; decision_signer?: string; decision_file_name?: string; decision_file_sha256?: string
  security_plan?: string; reassessment_triggers?: string[]; last_assessment_date?: string; next_assessment_date?: string
}

/** Records the approval decision, security plan, re-assessment triggers and assessment dates. */
export async function saveApproval(tx: Db, id: string, a: ApprovalInput, actor: string, now: Date): Promise<SystemRow | undefined> {
  const cur = await getSystem(tx, id)
  if (!cur) return undefined
  const pick = <K extends keyof ApprovalInput>(k: K) => (a[k] === undefined ? (cur as unknown as Record<string, unknown>)[k] : a[k]) as never
  await sql`update compliance_systems set approved_level = ${pick('approved_level')}, decision_number = ${pick('decision_number')},
      decision_date = ${pick('decision_date')}::date, decision_signer = ${pick('decision_signer')}, decision_file_name = ${pick('decision_file_name')},
      decision_file_sha256 = ${pick('decision_file_sha256')}, security_plan = ${pick('security_plan')},
      reassessment_triggers = array(select jsonb_array_elements_text(${JSON.stringify(a.reassessment_triggers ?? cur.reassessment_triggers)}::jsonb)),
      last_assessment_date = ${pick('last_assessment_date')}::date, next_assessment_date = ${pick('next_assessment_date')}::date, updated_at = ${now.toISOString()}::timestamptz
    where id = ${id}::uuid`.execute(tx)
  await appendAudit(tx, { actor, action: 'compliance.system.approval_recorded', entityType: 'compliance_system', entityId: id, data: { ...a } }, now)
  return getSystem(tx, id)
}

/** Where a stored approval decision lives under the upload folder (content-addressed: `compliance/decisions/<sha256>.pdf`). */
export const decisionFilePath = (sha256: string) => `compliance/decisions/${sha256}.pdf`

/** Records the stored approval decision file (the signed PDF, kept byte for byte) of a system. */
export async function saveDecisionFile(tx: Db, id: string, file: { name: string; sha256: string; bytes: number }, actor: string, now: Date): Promise<SystemRow | undefined> {
  const cur = await getSystem(tx, id)
  if (!cur) return undefined
  await sql`update compliance_systems set decision_file_name = ${file.name}, decision_file_sha256 = ${file.sha256}, updated_at = ${now.toISOString()}::timestamptz
    where id = ${id}::uuid`.execute(tx)
  await appendAudit(tx, { actor, action: 'compliance.system.decision_file_stored', entityType: 'compliance_system', entityId: id, data: { ...file, previous_sha256: cur.decision_file_sha256 } }, now)
  return getSystem(tx, id)
}

export async function getSystem(db: Db, id: string): Promise<SystemRow | undefined> {
  if (!UUID.test(id)) return undefined
  return (await sql<SystemRow>`select ${SYSTEM_COLUMNS} from compliance_systems where id = ${id}::uuid`.execute(db)).rows[0]
}

export async function listSystems(db: Db, unitCode?: string): Promise<SystemRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`unit_code = ${unitCode}`
  return (await sql<SystemRow>`select ${SYSTEM_COLUMNS} from compliance_systems where ${where} order by unit_code, system_ref`.execute(db)).rows
}

export interface UnitInput {
  onsite_team?: string | null; monitoring_provider?: string | null; monitoring_contract_end?: string | null; independent_assessor?: string | null
  national_monitoring_connected?: boolean; national_monitoring_ref?: string | null; registered_computers?: number
}

/** Records a unit's 4-layer evidence and the number of computers it has registered. */
export async function saveUnitEvidence(tx: Db, code: string, u: UnitInput, actor: string, now: Date): Promise<UnitRow> {
  await checkUnit(tx, code)
  const cur = (await getUnit(tx, code)) ?? null
  const v = <K extends keyof UnitInput>(k: K, d: unknown) => (u[k] === undefined ? (cur ? (cur as unknown as Record<string, unknown>)[k] : d) : u[k]) as never
  await sql`insert into compliance_units (unit_code, onsite_team, monitoring_provider, monitoring_contract_end, independent_assessor, national_monitoring_connected,
      national_monitoring_ref, registered_computers, updated_at)
    values (${code}, ${v('onsite_team', null)}, ${v('monitoring_provider', null)}, ${v('monitoring_contract_end', null)}::date, ${v('independent_assessor', null)},
      ${v('national_monitoring_connected', false)}, ${v('national_monitoring_ref', null)}, ${v('registered_computers', 0)}, ${now.toISOString()}::timestamptz)
    on conflict (unit_code) do update set onsite_team = excluded.onsite_team, monitoring_provider = excluded.monitoring_provider,
      monitoring_contract_end = excluded.monitoring_contract_end, independent_assessor = excluded.independent_assessor,
      national_monitoring_connected = excluded.national_monitoring_connected, national_monitoring_ref = excluded.national_monitoring_ref,
      registered_computers = excluded.registered_computers, updated_at = excluded.updated_at`.execute(tx)
  await appendAudit(tx, { actor, action: 'compliance.unit.evidence_recorded', entityType: 'compliance_unit', entityId: code, data: { ...u } }, now)
  return (await getUnit(tx, code))!
}

export async function getUnit(db: Db, code: string): Promise<UnitRow | undefined> {
  return (await sql<UnitRow>`select ${UNIT_COLUMNS} from compliance_units where unit_code = ${code}`.execute(db)).rows[0]
}

/** Units under compliance: those with a record and those owning a registered system. */
export async function listUnitsUnderCompliance(db: Db, unitCode?: string): Promise<UnitRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`u.unit_code = ${unitCode}`
  return (await sql<UnitRow>`select u.unit_code, c.onsite_team, c.monitoring_provider,
      to_char(c.monitoring_contract_end, 'YYYY-MM-DD') as monitoring_contract_end, c.independent_assessor, coalesce(c.national_monitoring_connected, false) as national_monitoring_connected,
      c.national_monitoring_ref, coalesce(c.registered_computers, 0) as registered_computers, c.coverage_below_since, c.updated_at
    from (select unit_code from compliance_units union select unit_code from compliance_systems) u
    left join compliance_units c on c.unit_code = u.unit_code where ${where} order by u.unit_code`.execute(db)).rows
}

export async function setCoverageBelowSince(tx: Db, unitCode: string, since: Date | null): Promise<void> {
  await sql`insert into compliance_units (unit_code, coverage_below_since) values (${unitCode}, ${since?.toISOString() ?? null}::timestamptz)
    on conflict (unit_code) do update set coverage_below_since = excluded.coverage_below_since`.execute(tx)
}

export interface HeartbeatInput {
  unit_code: string; hostname: string; agent_id?: string; agent_version: string; signatures_date: string; last_scan_at?: string; threats_found: number
}

/** Records agents' heartbeats (one row per computer, last report wins). */
export async function recordHeartbeats(tx: Db, beats: HeartbeatInput[], reporter: string, now: Date): Promise<number> {
  for (const b of beats) {
    await sql`insert into compliance_endpoints (unit_code, hostname, agent_id, agent_version, signatures_date, last_scan_at, threats_found, last_heartbeat_at, reported_by)
      values (${b.unit_code}, ${b.hostname}, ${b.agent_id ?? null}, ${b.agent_version}, ${b.signatures_date}::date, ${b.last_scan_at ?? null}::timestamptz, ${b.threats_found},
        ${now.toISOString()}::timestamptz, ${reporter})
      on conflict (unit_code, hostname) do update set agent_id = excluded.agent_id, agent_version = excluded.agent_version, signatures_date = excluded.signatures_date,
        last_scan_at = excluded.last_scan_at, threats_found = excluded.threats_found, last_heartbeat_at = excluded.last_heartbeat_at, reported_by = excluded.reported_by`.execute(tx)
  }
  const units = [...new Set(beats.map((b) => b.unit_code))]
  const threats = beats.reduce((n, b) => n + b.threats_found, 0)
  await appendAudit(tx, { actor: reporter, action: 'compliance.agents.heartbeat', entityType: 'compliance_unit', entityId: units.join(',').slice(0, 200), data: { endpoints: beats.length, threats_found: threats } }, now)
  return beats.length
}

export async function listEndpoints(db: Db, unitCode?: string): Promise<EndpointRow[]> {
  const where = unitCode === undefined ? sql`true` : sql`unit_code = ${unitCode}`
  return (await sql<EndpointRow>`select id, unit_code, hostname, agent_id, agent_version, to_char(signatures_date, 'YYYY-MM-DD') as signatures_date, last_scan_at,
      threats_found, last_heartbeat_at, reported_by from compliance_endpoints where ${where} order by unit_code, hostname`.execute(db)).rows
}

export async function grantExemption(tx: Db, e: { subject_kind: SubjectKind; subject_ref: string; rule_code: string | null; valid_from: Date; valid_until: Date; reason: string }, actor: string, now: Date): Promise<ExemptionRow> {
  if (e.valid_until <= e.valid_from) throw badRequest('INVALID_VALIDITY', 'Ngày kết thúc phải sau ngày bắt đầu.', 'valid_until must be after valid_from.')
  if (e.rule_code && !(await sql`select 1 from compliance_rules where code = ${e.rule_code}`.execute(tx)).rows[0]) throw badRequest('UNKNOWN_RULE', 'Không có quy tắc này.', 'Unknown rule.')
  const { rows } = await sql<ExemptionRow>`insert into compliance_exemptions (subject_kind, subject_ref, rule_code, valid_from, valid_until, reason, granted_by, created_at)
    values (${e.subject_kind}, ${e.subject_ref}, ${e.rule_code}, ${e.valid_from.toISOString()}::timestamptz, ${e.valid_until.toISOString()}::timestamptz, ${e.reason}, ${actor}, ${now.toISOString()}::timestamptz)
    returning *`.execute(tx)
  await publishEvent(tx, 'compliance.exemption.granted', { id: rows[0].id, subject_kind: e.subject_kind, subject_ref: e.subject_ref, rule_code: e.rule_code })
  await appendAudit(tx, { actor, action: 'compliance.exemption.granted', entityType: 'compliance_exemption', entityId: rows[0].id, data: { ...e } }, now)
  return rows[0]
}

export async function listExemptions(db: Db, activeAt?: Date): Promise<ExemptionRow[]> {
  const where = activeAt ? sql`valid_from <= ${activeAt.toISOString()}::timestamptz and valid_until > ${activeAt.toISOString()}::timestamptz` : sql`true`
  return (await sql<ExemptionRow>`select * from compliance_exemptions where ${where} order by created_at desc limit 1000`.execute(db)).rows
}

export async function listOpenFindings(db: Db, status?: 'warned' | 'suspended'): Promise<FindingRow[]> {
  const where = status ? sql`status = ${status}` : sql`status <> 'resolved'`
  return (await sql<FindingRow>`select * from compliance_findings where ${where} order by warned_at, id`.execute(db)).rows
}
