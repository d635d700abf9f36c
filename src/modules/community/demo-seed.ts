import { sql } from 'kysely'
import type { AppContext, DemoSeedOutput } from '../../platform/module.ts'
import { listVillages } from '../geo/index.ts'
import { addMember, createCampaign, createTeam, recordActivity, type ActivityKind } from './community.ts'

const PARTNERS = ['VNPT Điện Biên', 'Viettel Điện Biên', 'Bưu điện tỉnh Điện Biên']
const PEOPLE = ['Lò Văn Thắng', 'Quàng Thị Hoa', 'Giàng A Sùng', 'Lường Văn Piểng', 'Vàng Thị Mai', 'Cà Văn Chung', 'Sùng A Lử', 'Nguyễn Thị Lan']
const HELP: { kind: ActivityKind; platform: string }[] = [
  { kind: 'app_install', platform: 'Điện Biên Smart' },
  { kind: 'vneid_account', platform: 'VNeID' },
  { kind: 'epayment_account', platform: 'Viettel Money' },
  { kind: 'public_services_account', platform: 'Cổng Dịch vụ công' },
  { kind: 'digital_skills_guidance', platform: 'Điện Biên Smart' },
]

/** Demo teams on two of every three sample villages, with members, recorded help and one campaign (all marked demo). */
export async function seedDemoCommunity(ctx: AppContext, out: DemoSeedOutput): Promise<void> {
  const has = await sql<{ n: number }>`select count(*)::int as n from (select 1 from community_teams limit 1) x`.execute(ctx.db)
  if (has.rows[0].n > 0) return
  const villages = await listVillages(ctx.db)
  const now = ctx.clock()
  const communes = [...new Set(villages.map((v) => v.commune_code))]
  const campaign = communes.length
    ? await createCampaign(ctx.db, null, 'system', { name: 'Tháng cài đặt Điện Biên Smart (demo)', activity_kind: 'app_install', starts_on: new Date(now.getTime() - 20 * 86_400_000).toISOString().slice(0, 10), ends_on: new Date(now.getTime() + 10 * 86_400_000).toISOString().slice(0, 10), targets: communes.map((c) => ({ commune_code: c, target: 20 })), is_demo: true }, now)
    : null
  let teams = 0
  for (const [i, v] of villages.entries()) {
    if (i % 3 === 2) continue
    const team = await createTeam(ctx.db, 'system', { name: `Tổ công nghệ số cộng đồng ${v.name}`, commune_code: v.commune_code, village_id: v.id, partners: [PARTNERS[i % PARTNERS.length]], is_demo: true }, now)
    const leader = await addMember(ctx.db, 'system', { team_id: team.id, full_name: PEOPLE[i % PEOPLE.length], role: 'leader', organisation: 'village_head' }, now)
    await addMember(ctx.db, 'system', { team_id: team.id, full_name: PEOPLE[(i + 3) % PEOPLE.length], role: 'member', organisation: i % 2 ? 'youth_union' : 'telecom_post' }, now)
    for (let k = 0; k < 3 + (i % 4); k++) {
      const h = HELP[(i + k) % HELP.length]
      await recordActivity(ctx.db, 'system', { team_id: team.id, member_id: leader.id, kind: h.kind, platform: h.platform, occurred_at: new Date(now.getTime() - (k + 1) * 86_400_000).toISOString(), campaign_id: h.kind === 'app_install' ? campaign?.id : undefined }, now)
    }
    teams++
  }
  out.notes.push(`community: ${teams} demo community digital teams on the sample villages`)
}
