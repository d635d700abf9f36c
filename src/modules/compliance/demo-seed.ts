import type { AppContext, DemoSeedOutput } from '../../platform/module.ts'
import { evaluateCompliance, vnDate } from './evaluator.ts'
import type { Answers } from './questionnaire.ts'
import { listUnitsUnderCompliance, recordHeartbeats, saveApproval, saveSystemClassification, saveUnitEvidence, type HeartbeatInput } from './repository.ts'

const DAY = 86_400_000
const ACTOR = 'system:demo-seed'

/** A department's demo security duties: 4-layer evidence, computers, one system (made up, labelled demo). */
interface DemoUnit {
  unit: string
  computers: number
  /** Days from now to the end of the monitoring contract (negative: already expired three weeks ago). */
  contractDays: number
  system: { ref: string; name: string; questionnaire: Answers; approvedLevel: number | null }
  /** Now: computers whose agent stopped reporting, and computers whose signatures are this many days old. */
  silent?: number
  stale?: { computers: number; days: number }
}

const PUBLIC_SERVICE: Answers = { serves: 'citizens_businesses', information: 'private_or_personal', personal_data_subjects: 120_000, online_public_service_level: 4, shared_platform: false, national_critical: false }

const UNITS: DemoUnit[] = [
  {
    unit: '11.SKHCN', computers: 12, contractDays: 200,
    system: { ref: 'SKHCN/lgsp', name: 'Nền tảng tích hợp, chia sẻ dữ liệu tỉnh Điện Biên (LGSP) (demo)', questionnaire: { serves: 'sector_or_national', information: 'private_or_personal', personal_data_subjects: 650_000, online_public_service_level: 0, shared_platform: true, national_critical: false }, approvedLevel: 3 },
  },
  {
    unit: '11.SYT', computers: 20, contractDays: 120, stale: { computers: 2, days: 6 },
    system: { ref: 'SYT/his', name: 'Hệ thống quản lý khám chữa bệnh và hồ sơ sức khoẻ (demo)', questionnaire: { ...PUBLIC_SERVICE, personal_data_subjects: 400_000 }, approvedLevel: 3 },
  },
  {
    unit: '11.SGDDT', computers: 15, contractDays: 300, silent: 2,
    system: { ref: 'SGDDT/csdl-giao-duc', name: 'Cơ sở dữ liệu ngành giáo dục tỉnh (demo)', questionnaire: { ...PUBLIC_SERVICE, online_public_service_level: 2 }, approvedLevel: 3 },
  },
  {
    unit: '11.SXD', computers: 10, contractDays: 90,
    system: { ref: 'SXD/cap-phep', name: 'Hệ thống cấp phép xây dựng trực tuyến (demo)', questionnaire: PUBLIC_SERVICE, approvedLevel: null },
  },
  {
    unit: '11.STC', computers: 8, contractDays: -26,
    system: { ref: 'STC/ngan-sach', name: 'Hệ thống quản lý ngân sách tỉnh (demo)', questionnaire: { serves: 'internal', information: 'private_or_personal', personal_data_subjects: 0, online_public_service_level: 0, shared_platform: false, national_critical: false }, approvedLevel: 2 },
  },
]

function beats(u: DemoUnit, at: Date, current: boolean): HeartbeatInput[] {
  const out: HeartbeatInput[] = []
  const reporting = u.computers - (current ? (u.silent ?? 0) : 0)
  for (let i = 1; i <= reporting; i++) {
    const staleDays = current && u.stale && i <= u.stale.computers ? u.stale.days : 0
    out.push({
      unit_code: u.unit, hostname: `${u.unit.slice(3)}-PC-${String(i).padStart(2, '0')}`, agent_id: `demo-${u.unit}-${i}`, agent_version: '12.4.2',
      signatures_date: vnDate(new Date(at.getTime() - staleDays * DAY)), last_scan_at: new Date(at.getTime() - 3 * 3_600_000).toISOString(), threats_found: 0,
    })
  }
  return out
}

/**
 * Demo security duties of five departments, so the IOC's compliance panel and the gateway's
 * suspensions show something on first start. Played by the real evaluator over three weeks: three
 * weeks ago every unit reported and two were warned (a system with no approved level, an expired
 * monitoring contract); today those two are past their grace period and cut off, and two units are
 * warned for old signatures: one whose agents did not update, one with two computers whose agent
 * stopped reporting three weeks ago (its coverage is also below 100%, not yet for 7 days).
 */
export async function seedDemoCompliance(ctx: AppContext, out: DemoSeedOutput): Promise<void> {
  if ((await listUnitsUnderCompliance(ctx.db)).length > 0) return
  const now = ctx.clock()
  const then = new Date(now.getTime() - 21 * DAY)
  await ctx.db.transaction().execute(async (tx) => {
    for (const [i, u] of UNITS.entries()) {
      await saveUnitEvidence(tx, u.unit, {
        onsite_team: `Tổ ứng cứu sự cố an toàn thông tin ${u.unit} (demo)`, monitoring_provider: 'Đơn vị giám sát an toàn thông tin (demo)',
        monitoring_contract_end: vnDate(new Date(now.getTime() + u.contractDays * DAY)), independent_assessor: 'Tổ chức kiểm tra, đánh giá độc lập (demo)',
        national_monitoring_connected: true, national_monitoring_ref: 'NCSC (demo)', registered_computers: u.computers,
      }, ACTOR, then)
      const s = await saveSystemClassification(tx, { system_ref: u.system.ref, unit_code: u.unit, name: u.system.name, info_types: ['demo'], questionnaire: u.system.questionnaire }, ACTOR, then)
      if (u.system.approvedLevel !== null) {
        await saveApproval(tx, s.id, {
          approved_level: u.system.approvedLevel, decision_number: `${100 + i}/QĐ-UBND (demo)`, decision_date: vnDate(new Date(now.getTime() - 300 * DAY)),
          decision_signer: 'Chủ tịch UBND tỉnh (demo)', last_assessment_date: vnDate(new Date(now.getTime() - 200 * DAY)), next_assessment_date: vnDate(new Date(now.getTime() + 165 * DAY)),
        }, ACTOR, then)
      }
      await recordHeartbeats(tx, beats(u, then, false), ACTOR, then)
    }
  })
  await evaluateCompliance(ctx.db, then)
  await ctx.db.transaction().execute(async (tx) => {
    for (const u of UNITS) await recordHeartbeats(tx, beats(u, now, true), ACTOR, now)
  })
  const decisions = await evaluateCompliance(ctx.db, now)
  out.notes.push(`compliance: ${UNITS.length} demo departments with security duties; ${decisions.filter((d) => d.action === 'suspended').length} cut off from the gateway today after three weeks' warning`)
}
