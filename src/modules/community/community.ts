import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { canSeeUnit, type Principal, type UserPrincipal } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { countVillagesByCommune, getAdminUnit, getVillage, listVillages } from '../geo/index.ts'

export const ORGANISATIONS = ['youth_union', 'women_union', 'police', 'telecom_post', 'village_head', 'other'] as const
export const ACTIVITY_KINDS = ['app_install', 'vneid_account', 'epayment_account', 'public_services_account', 'dossier_on_behalf', 'report_on_behalf', 'digital_skills_guidance'] as const
/** Acting for a resident (submitting for them) needs their recorded consent. */
export const ON_BEHALF_KINDS: ActivityKind[] = ['dossier_on_behalf', 'report_on_behalf']
export const CONSENT_METHODS = ['signed_paper_photo', 'verbal_with_witness', 'sms_otp'] as const
export type Organisation = (typeof ORGANISATIONS)[number]
export type ActivityKind = (typeof ACTIVITY_KINDS)[number]
export type ConsentMethod = (typeof CONSENT_METHODS)[number]

export interface Team {
  id: string
  name: string
  commune_code: string
  village_id: string | null
  residential_group: string | null
  partners: string[]
  members_count: number
  created_at: Date
}

export interface Member {
  id: string
  team_id: string
  full_name: string
  role: 'leader' | 'member'
  phone: string | null
  organisation: Organisation
  user_id: string | null
}

export interface Activity {
  id: string
  team_id: string
  member_id: string
  commune_code: string
  kind: ActivityKind
  platform: string | null
  resident_name: string | null
  consent_id: string | null
  reference: string | null
  campaign_id: string | null
  occurred_at: Date
}

export interface Campaign {
  id: string
  name: string
  activity_kind: ActivityKind
  starts_on: string
  ends_on: string
  description: string
  targets: { commune_code: string; target: number }[]
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

// ---- reads ---------------------------------------------------------------------------------

export async function listTeams(db: Db, f: { communeCode?: string; limit: number; offset: number }): Promise<Team[]> {
  const { rows } = await sql<Team>`select t.id, t.name, t.commune_code, t.village_id, t.residential_group, t.partners, t.created_at,
      (select count(*)::int from community_members m where m.team_id = t.id) as members_count
    from community_teams t where (${f.communeCode ?? null}::text is null or t.commune_code = ${f.communeCode ?? null})
    order by t.commune_code, t.name, t.id limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows
}

export async function getTeam(db: Db, id: string): Promise<Team | undefined> {
  if (!isUuid(id)) return undefined
  const { rows } = await sql<Team>`select t.id, t.name, t.commune_code, t.village_id, t.residential_group, t.partners, t.created_at,
      (select count(*)::int from community_members m where m.team_id = t.id) as members_count
    from community_teams t where t.id = ${id}::uuid`.execute(db)
  return rows[0]
}

export async function listMembers(db: Db, teamId: string): Promise<Member[]> {
  return (await sql<Member>`select id, team_id, full_name, role, phone, organisation, user_id::text as user_id from community_members where team_id = ${teamId}::uuid order by role, full_name`.execute(db)).rows
}

/** The member records of a signed-in user (a person may belong to a team through their account). */
async function membershipsOf(db: Db, userId: string): Promise<Member[]> {
  return (await sql<Member>`select id, team_id, full_name, role, phone, organisation, user_id::text as user_id from community_members where user_id = ${userId}::uuid`.execute(db)).rows
}

export type TeamAccess = 'staff' | 'leader' | 'member' | null

/** What a principal may do for a team: commune staff (and province admins), its leader, a member, or nothing. */
export async function teamAccess(db: Db, p: Principal | null, team: Pick<Team, 'id' | 'commune_code'>): Promise<TeamAccess> {
  if (!p || p.kind !== 'user') return null
  if (p.role !== 'citizen' && p.role !== 'ioc_viewer' && canSeeUnit(p, team.commune_code)) return 'staff'
  const m = (await membershipsOf(db, p.userId)).filter((x) => x.team_id === team.id)
  if (m.some((x) => x.role === 'leader')) return 'leader'
  return m.length > 0 ? 'member' : null
}

export async function listActivities(db: Db, f: { communeCode?: string; teamId?: string; limit: number; offset: number }): Promise<Activity[]> {
  const { rows } = await sql<Activity>`select id, team_id, member_id, commune_code, kind, platform, resident_name, consent_id, reference, campaign_id, occurred_at
    from community_activities
    where (${f.communeCode ?? null}::text is null or commune_code = ${f.communeCode ?? null})
      and (${f.teamId ?? null}::uuid is null or team_id = ${f.teamId ?? null}::uuid)
    order by occurred_at desc, id limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows
}

export async function listCampaigns(db: Db): Promise<Campaign[]> {
  const { rows } = await sql<Omit<Campaign, 'targets'> & { targets: Campaign['targets'] | null }>`
    select c.id, c.name, c.activity_kind, to_char(c.starts_on, 'YYYY-MM-DD') as starts_on, to_char(c.ends_on, 'YYYY-MM-DD') as ends_on, c.description,
      (select jsonb_agg(jsonb_build_object('commune_code', t.commune_code, 'target', t.target) order by t.commune_code) from community_campaign_targets t where t.campaign_id = c.id) as targets
    from community_campaigns c order by c.starts_on desc, c.name`.execute(db)
  return rows.map((r) => ({ ...r, targets: r.targets ?? [] }))
}

export async function getCampaign(db: Db, id: string): Promise<Campaign | undefined> {
  if (!isUuid(id)) return undefined
  return (await listCampaigns(db)).find((c) => c.id === id)
}

// ---- figures for the IOC and the monthly analysis -------------------------------------------

export interface CommuneCoverage {
  commune_code: string
  villages: number
  villages_with_team: number
  /** Share of the commune's villages that have a team (0–1); null when no village is listed. */
  village_coverage: number | null
  teams: number
  members: number
  activities: Partial<Record<ActivityKind, number>>
  /** Installs and accounts per platform ("Điện Biên Smart": 12, "VNeID": 30, …). */
  by_platform: Record<string, number>
}

/**
 * Coverage of community digital teams per commune: share of villages with a team, teams,
 * members, and help recorded per kind and per platform (optionally in a period).
 */
export async function coverageByCommune(db: Db, period: { from?: Date; to?: Date } = {}): Promise<CommuneCoverage[]> {
  const villages = await countVillagesByCommune(db)
  const teams = await sql<{ commune_code: string; teams: number; villages_with_team: number; members: number }>`
    select t.commune_code, count(distinct t.id)::int as teams, count(distinct t.village_id)::int as villages_with_team, count(m.id)::int as members
    from community_teams t left join community_members m on m.team_id = t.id group by t.commune_code`.execute(db)
  const acts = await sql<{ commune_code: string; kind: ActivityKind; platform: string | null; n: number }>`
    select commune_code, kind, platform, count(*)::int as n from community_activities
    where (${period.from?.toISOString() ?? null}::timestamptz is null or occurred_at >= ${period.from?.toISOString() ?? null}::timestamptz)
      and (${period.to?.toISOString() ?? null}::timestamptz is null or occurred_at < ${period.to?.toISOString() ?? null}::timestamptz)
    group by commune_code, kind, platform`.execute(db)
  const codes = new Set([...villages.keys(), ...teams.rows.map((r) => r.commune_code), ...acts.rows.map((r) => r.commune_code)])
  return [...codes].sort().map((code) => {
    const t = teams.rows.find((r) => r.commune_code === code)
    const v = villages.get(code) ?? 0
    const activities: Partial<Record<ActivityKind, number>> = {}
    const byPlatform: Record<string, number> = {}
    for (const a of acts.rows.filter((r) => r.commune_code === code)) {
      activities[a.kind] = (activities[a.kind] ?? 0) + a.n
      if (a.platform) byPlatform[a.platform] = (byPlatform[a.platform] ?? 0) + a.n
    }
    const withTeam = t?.villages_with_team ?? 0
    return { commune_code: code, villages: v, villages_with_team: withTeam, village_coverage: v > 0 ? withTeam / v : null, teams: t?.teams ?? 0, members: t?.members ?? 0, activities, by_platform: byPlatform }
  })
}

export interface CampaignProgress {
  campaign: Campaign
  communes: { commune_code: string; target: number; done: number; progress: number }[]
  total: { target: number; done: number; progress: number }
}

/** Progress of a campaign: activities of its kind in each target commune between its dates (Vietnam days), against the target. */
export async function campaignProgress(db: Db, id: string): Promise<CampaignProgress | undefined> {
  const campaign = await getCampaign(db, id)
  if (!campaign) return undefined
  const { rows } = await sql<{ commune_code: string; n: number }>`
    select commune_code, count(*)::int as n from community_activities
    where kind = ${campaign.activity_kind}
      and occurred_at >= (${campaign.starts_on}::date::timestamp at time zone 'Asia/Ho_Chi_Minh')
      and occurred_at < ((${campaign.ends_on}::date + 1)::timestamp at time zone 'Asia/Ho_Chi_Minh')
    group by commune_code`.execute(db)
  const done = new Map(rows.map((r) => [r.commune_code, r.n]))
  const communes = campaign.targets.map((t) => {
    const d = done.get(t.commune_code) ?? 0
    return { commune_code: t.commune_code, target: t.target, done: d, progress: Math.min(1, d / t.target) }
  })
  const target = communes.reduce((s, c) => s + c.target, 0)
  const doneTotal = communes.reduce((s, c) => s + Math.min(c.done, c.target), 0)
  return { campaign, communes, total: { target, done: doneTotal, progress: target > 0 ? doneTotal / target : 0 } }
}

// ---- writes ----------------------------------------------------------------------------------

export interface NewTeam {
  name: string
  commune_code: string
  village_id?: string
  residential_group?: string
  partners?: string[]
  is_demo?: boolean
}

export async function createTeam(db: Db, actor: string, t: NewTeam, now: Date): Promise<Team> {
  const commune = await getAdminUnit(db, t.commune_code)
  if (!commune || commune.level !== 'commune') throw badRequest('UNKNOWN_COMMUNE', 'Xã/phường không tồn tại.', `Unknown commune ${t.commune_code}.`)
  if (t.village_id) {
    const v = await getVillage(db, t.village_id)
    if (!v) throw badRequest('UNKNOWN_VILLAGE', 'Thôn/bản không tồn tại.', `Unknown village ${t.village_id}.`)
    if (v.commune_code !== t.commune_code) throw badRequest('VILLAGE_NOT_IN_COMMUNE', 'Thôn/bản không thuộc xã/phường này.', 'The village is not in this commune.')
  }
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<{ id: string }>`insert into community_teams (name, commune_code, village_id, residential_group, partners, created_at, created_by, is_demo)
      values (${t.name}, ${t.commune_code}, ${t.village_id ?? null}, ${t.residential_group ?? null}, ${JSON.stringify(t.partners ?? [])}::jsonb, ${now.toISOString()}::timestamptz, ${actor}, ${t.is_demo ?? false}) returning id`.execute(tx)
    const id = rows[0].id
    await publishEvent(tx, 'community.team_created', { id, commune_code: t.commune_code, village_id: t.village_id ?? null })
    await appendAudit(tx, { actor, action: 'community.team_created', entityType: 'community_team', entityId: id, data: { commune: t.commune_code, village: t.village_id ?? null, name: t.name } }, now)
    return (await getTeam(tx, id))!
  })
}

export interface NewMember {
  team_id: string
  full_name: string
  role: 'leader' | 'member'
  phone?: string
  organisation: Organisation
  user_id?: string
}

export async function addMember(db: Db, actor: string, m: NewMember, now: Date): Promise<Member> {
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<{ id: string }>`insert into community_members (team_id, full_name, role, phone, organisation, user_id, created_at)
      values (${m.team_id}::uuid, ${m.full_name}, ${m.role}, ${m.phone ?? null}, ${m.organisation}, ${m.user_id ?? null}::uuid, ${now.toISOString()}::timestamptz) returning id`.execute(tx)
    const id = rows[0].id
    await appendAudit(tx, { actor, action: 'community.member_added', entityType: 'community_member', entityId: id, data: { team: m.team_id, role: m.role, organisation: m.organisation } }, now)
    return (await listMembers(tx, m.team_id)).find((x) => x.id === id)!
  })
}

export interface ConsentInput {
  resident_name: string
  method: ConsentMethod
  /** signed_paper_photo: the photo's file reference; verbal_with_witness: the witness's name; sms_otp: the OTP message reference. */
  evidence: string
  scope: ActivityKind[]
  given_at: string
}

export interface NewActivity {
  team_id: string
  member_id: string
  kind: ActivityKind
  platform?: string
  resident_name?: string
  reference?: string
  campaign_id?: string
  occurred_at: string
  consent_id?: string
  consent?: ConsentInput
}

/**
 * Records help given by a member. Acting for a resident (submitting a dossier or report on their
 * behalf) needs their consent: an existing, unrevoked consent of this team whose scope covers
 * the activity and that was given before it, or a new one recorded in the same transaction.
 */
export async function recordActivity(db: Db, actor: string, a: NewActivity, now: Date): Promise<{ activity: Activity; consent_id: string | null }> {
  return db.transaction().execute((tx) => recordActivityInTransaction(tx, actor, a, now))
}

/** recordActivity inside a transaction the caller holds (e.g. the idempotency key's). */
export async function recordActivityInTransaction(db: Db, actor: string, a: NewActivity, now: Date): Promise<{ activity: Activity; consent_id: string | null }> {
  const team = await getTeam(db, a.team_id)
  if (!team) throw notFound('Team', 'tổ công nghệ số')
  const members = await listMembers(db, a.team_id)
  if (!members.some((m) => m.id === a.member_id)) throw badRequest('MEMBER_NOT_IN_TEAM', 'Thành viên không thuộc tổ này.', 'The member is not in this team.')
  const occurred = new Date(a.occurred_at)
  if (Number.isNaN(occurred.getTime()) || occurred.getTime() > now.getTime() + 5 * 60_000) throw badRequest('INVALID_OCCURRED_AT', 'Thời điểm không hợp lệ (không được ở tương lai).', 'occurred_at must be a valid instant, not in the future.')
  if (a.campaign_id && !(await getCampaign(db, a.campaign_id))) throw badRequest('UNKNOWN_CAMPAIGN', 'Chiến dịch không tồn tại.', 'Unknown campaign.')
  const onBehalf = ON_BEHALF_KINDS.includes(a.kind)
  if (a.consent_id && a.consent) throw badRequest('CONSENT_TWICE', 'Chỉ gửi consent_id hoặc consent.', 'Give consent_id or consent, not both.')
  if (onBehalf && !a.consent_id && !a.consent) {
    throw badRequest('CONSENT_REQUIRED', 'Thao tác thay người dân cần có sự đồng ý đã ghi nhận (consent).', 'Acting on behalf of a resident requires their recorded consent (consent or consent_id).')
  }
  if (onBehalf && !a.resident_name && !a.consent && !a.consent_id) throw badRequest('RESIDENT_REQUIRED', 'Cần tên người dân.', 'resident_name is required when acting on their behalf.')
  if (onBehalf && !a.reference) throw badRequest('REFERENCE_REQUIRED', 'Cần mã hồ sơ/phản ánh đã nộp thay.', 'reference (the dossier or report code) is required.')
  if (a.consent) {
    const c = a.consent
    const given = new Date(c.given_at)
    if (Number.isNaN(given.getTime()) || given.getTime() > occurred.getTime()) throw badRequest('CONSENT_AFTER_ACTIVITY', 'Sự đồng ý phải có trước khi thao tác.', 'Consent must be given before the activity.')
    if (!c.scope.includes(a.kind)) throw badRequest('CONSENT_SCOPE', 'Phạm vi đồng ý không bao gồm thao tác này.', 'The consent scope does not cover this activity.')
  }
  // Runs in the caller's transaction.
  const tx = db
  let consentId = a.consent_id ?? null
  if (a.consent_id) {
    const { rows } = await sql<{ team_id: string; scope: string[]; given_at: Date; revoked_at: Date | null; resident_name: string }>`
      select team_id::text as team_id, scope, given_at, revoked_at, resident_name from community_consents where id = ${isUuid(a.consent_id) ? a.consent_id : null}::uuid for update`.execute(tx)
    const c = rows[0]
    if (!c || c.team_id !== a.team_id) throw badRequest('UNKNOWN_CONSENT', 'Không tìm thấy sự đồng ý của tổ này.', 'No such consent recorded by this team.')
    if (c.revoked_at) throw badRequest('CONSENT_REVOKED', 'Người dân đã rút lại sự đồng ý.', 'The resident has revoked this consent.')
    if (!c.scope.includes(a.kind)) throw badRequest('CONSENT_SCOPE', 'Phạm vi đồng ý không bao gồm thao tác này.', 'The consent scope does not cover this activity.')
    if (c.given_at.getTime() > occurred.getTime()) throw badRequest('CONSENT_AFTER_ACTIVITY', 'Sự đồng ý phải có trước khi thao tác.', 'Consent must be given before the activity.')
    a = { ...a, resident_name: a.resident_name ?? c.resident_name }
  } else if (a.consent) {
    const c = a.consent
    const { rows } = await sql<{ id: string }>`insert into community_consents (team_id, resident_name, method, evidence, scope, given_at, recorded_by_member)
      values (${a.team_id}::uuid, ${c.resident_name}, ${c.method}, ${c.evidence}, ${JSON.stringify(c.scope)}::jsonb, ${c.given_at}::timestamptz, ${a.member_id}::uuid) returning id`.execute(tx)
    consentId = rows[0].id
    await appendAudit(tx, { actor, action: 'community.consent_recorded', entityType: 'community_consent', entityId: consentId, data: { team: a.team_id, method: c.method, scope: c.scope } }, now)
    a = { ...a, resident_name: a.resident_name ?? c.resident_name }
  }
  const { rows } = await sql<Activity>`insert into community_activities (team_id, member_id, commune_code, kind, platform, resident_name, consent_id, reference, campaign_id, occurred_at, created_at, created_by)
    values (${a.team_id}::uuid, ${a.member_id}::uuid, ${team.commune_code}, ${a.kind}, ${a.platform ?? null}, ${a.resident_name ?? null}, ${consentId}::uuid, ${a.reference ?? null},
      ${a.campaign_id ?? null}::uuid, ${occurred.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, ${actor})
    returning id, team_id, member_id, commune_code, kind, platform, resident_name, consent_id, reference, campaign_id, occurred_at`.execute(tx)
  const activity = rows[0]
  await publishEvent(tx, 'community.activity_recorded', { id: activity.id, commune_code: team.commune_code, kind: a.kind, platform: a.platform ?? null, campaign_id: a.campaign_id ?? null })
  await appendAudit(tx, { actor, action: 'community.activity_recorded', entityType: 'community_activity', entityId: activity.id, data: { team: a.team_id, kind: a.kind, consent: consentId } }, now)
  return { activity, consent_id: consentId }
}

/** A resident withdraws consent: later on-behalf activities can no longer use it (past ones stay recorded). */
export async function revokeConsent(db: Db, actor: string, id: string, reason: string, now: Date): Promise<{ id: string; revoked_at: Date }> {
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<{ id: string; revoked_at: Date }>`update community_consents set revoked_at = ${now.toISOString()}::timestamptz, revoked_reason = ${reason}
      where id = ${id}::uuid and revoked_at is null returning id, revoked_at`.execute(tx)
    if (!rows[0]) throw badRequest('CONSENT_NOT_ACTIVE', 'Sự đồng ý không tồn tại hoặc đã rút.', 'No active consent with this id.')
    await appendAudit(tx, { actor, action: 'community.consent_revoked', entityType: 'community_consent', entityId: id, data: {} }, now)
    return rows[0]
  })
}

export async function consentTeam(db: Db, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined
  return (await sql<{ team_id: string }>`select team_id::text as team_id from community_consents where id = ${id}::uuid`.execute(db)).rows[0]?.team_id
}

export interface NewCampaign {
  name: string
  activity_kind: ActivityKind
  starts_on: string
  ends_on: string
  description?: string
  targets: { commune_code: string; target: number }[]
  is_demo?: boolean
}

/** Creates a campaign; an officer may set targets only for communes they see, a province admin for any. */
export async function createCampaign(db: Db, p: UserPrincipal | null, actor: string, c: NewCampaign, now: Date): Promise<Campaign> {
  if (c.ends_on < c.starts_on) throw badRequest('INVALID_DATES', 'Ngày kết thúc phải sau ngày bắt đầu.', 'ends_on must not be before starts_on.')
  const codes = new Set<string>()
  for (const t of c.targets) {
    if (codes.has(t.commune_code)) throw badRequest('DUPLICATE_TARGET', 'Một xã chỉ có một chỉ tiêu.', `Commune ${t.commune_code} appears twice.`)
    codes.add(t.commune_code)
    const u = await getAdminUnit(db, t.commune_code)
    if (!u || u.level !== 'commune') throw badRequest('UNKNOWN_COMMUNE', 'Xã/phường không tồn tại.', `Unknown commune ${t.commune_code}.`)
    if (p && !canSeeUnit(p, t.commune_code)) throw forbidden(`You may not set targets for commune ${t.commune_code}.`, 'Bạn không được giao chỉ tiêu cho xã/phường này.')
  }
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<{ id: string }>`insert into community_campaigns (name, activity_kind, starts_on, ends_on, description, created_at, created_by, is_demo)
      values (${c.name}, ${c.activity_kind}, ${c.starts_on}::date, ${c.ends_on}::date, ${c.description ?? ''}, ${now.toISOString()}::timestamptz, ${actor}, ${c.is_demo ?? false}) returning id`.execute(tx)
    const id = rows[0].id
    for (const t of c.targets) await sql`insert into community_campaign_targets (campaign_id, commune_code, target) values (${id}::uuid, ${t.commune_code}, ${t.target})`.execute(tx)
    await publishEvent(tx, 'community.campaign_created', { id, activity_kind: c.activity_kind, communes: [...codes] })
    await appendAudit(tx, { actor, action: 'community.campaign_created', entityType: 'community_campaign', entityId: id, data: { name: c.name, kind: c.activity_kind, targets: c.targets.length } }, now)
    return (await getCampaign(tx, id))!
  })
}

// ---- open data --------------------------------------------------------------------------------

/** One row of the public registry of community digital teams: no member's name or phone. */
export interface TeamRegistryRow {
  team: string
  commune_code: string
  commune_name: string
  village: string | null
  residential_group: string | null
  members: number
  organisations: string[]
  partners: string[]
  founded: string
}

/**
 * The public registry of community digital technology teams (tổ công nghệ số cộng đồng), for the
 * open-data portal: each team with its place, how many members and from which organisations, and
 * its partner companies. Personal data of members is never part of it, nor are demo teams.
 */
export async function teamRegistry(db: Db): Promise<TeamRegistryRow[]> {
  const { rows } = await sql<{ name: string; commune_code: string; village_id: string | null; residential_group: string | null; partners: string[]; created_at: Date; members: number; organisations: string[] | null }>`
    select t.name, t.commune_code, t.village_id::text as village_id, t.residential_group, t.partners, t.created_at,
      (select count(*)::int from community_members m where m.team_id = t.id) as members,
      (select array_agg(distinct m.organisation order by m.organisation) from community_members m where m.team_id = t.id) as organisations
    from community_teams t where not t.is_demo order by t.commune_code, t.name, t.id`.execute(db)
  const villageIds = [...new Set(rows.map((r) => r.village_id).filter((v): v is string => v !== null))]
  const villages = new Map((villageIds.length ? await listVillages(db, { ids: villageIds }) : []).map((v) => [v.id, v]))
  const communes = new Map<string, string>()
  for (const code of new Set(rows.map((r) => r.commune_code))) communes.set(code, (await getAdminUnit(db, code))?.name ?? code)
  return rows.map((r) => ({
    team: r.name, commune_code: r.commune_code, commune_name: communes.get(r.commune_code) ?? r.commune_code,
    village: r.village_id ? (villages.get(r.village_id)?.name ?? null) : null, residential_group: r.residential_group,
    members: r.members, organisations: r.organisations ?? [], partners: r.partners ?? [],
    founded: new Date(new Date(r.created_at).getTime() + 7 * 3_600_000).toISOString().slice(0, 10),
  }))
}

/** Villages (thôn, bản) of a commune that no community digital team covers yet, by name. */
export async function villagesWithoutTeam(db: Db, communeCode: string): Promise<{ id: string; name: string }[]> {
  const villages = await listVillages(db, { communeCode })
  if (villages.length === 0) return []
  const { rows } = await sql<{ village_id: string }>`select distinct village_id::text as village_id from community_teams
    where commune_code = ${communeCode} and village_id is not null`.execute(db)
  const covered = new Set(rows.map((r) => r.village_id))
  return villages.filter((v) => !covered.has(v.id)).map((v) => ({ id: v.id, name: v.name })).sort((a, b) => a.name.localeCompare(b.name, 'vi'))
}
