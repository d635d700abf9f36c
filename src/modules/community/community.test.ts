import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { listVillages, seedSampleVillages, type Village } from '../geo/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { campaignProgress, coverageByCommune } from './index.ts'
import { seedDemoCommunity } from './demo-seed.ts'

let platform: Platform
let villages: Village[]
let officer: TestUser // staff of Xã Thanh Nưa (03328)
let otherOfficer: TestUser // staff of Xã Mường Nhé (03160)
let admin: TestUser
let leaderUser: TestUser // a citizen who leads a team
let memberUser: TestUser
let stranger: TestUser

before(async () => {
  platform = await startTestPlatform()
  const db = platform.ctx.db
  await seedSampleVillages(db, new Date())
  villages = await listVillages(db)
  await seedDemoCommunity(platform.ctx, { accounts: [], notes: [] })
  officer = await createTestUser(db, 'officer', '03328')
  otherOfficer = await createTestUser(db, 'officer', '03160')
  admin = await createTestUser(db, 'province_admin', '11')
  leaderUser = await createTestUser(db, 'citizen')
  memberUser = await createTestUser(db, 'citizen')
  stranger = await createTestUser(db, 'citizen')
})
after(async () => {
  await platform?.close()
})

const call = (method: 'GET' | 'POST', url: string, user?: TestUser, payload?: unknown, headers: Record<string, string> = {}) =>
  platform.app.inject({ method, url, payload: payload as object, headers: { ...(user?.headers ?? {}), ...headers } })

test('coverage figures on the seeded demo data', async () => {
  // The demo seed puts a team (leader + member) on two of every three villages.
  const withTeam = villages.filter((_, i) => i % 3 !== 2)
  const res = await call('GET', '/api/community/coverage')
  assert.equal(res.statusCode, 200)
  const { totals, communes } = res.json()
  assert.equal(totals.villages, villages.length)
  assert.equal(totals.teams, withTeam.length)
  assert.equal(totals.villages_with_team, withTeam.length)
  assert.equal(totals.members, withTeam.length * 2)
  assert.ok(Math.abs(totals.village_coverage - withTeam.length / villages.length) < 1e-9)
  for (const c of communes) {
    const inCommune = villages.filter((v) => v.commune_code === c.commune_code)
    assert.equal(c.villages, inCommune.length)
    assert.equal(c.villages_with_team, withTeam.filter((v) => v.commune_code === c.commune_code).length)
  }
  const expectedActivities = villages.reduce((s, _, i) => (i % 3 === 2 ? s : s + 3 + (i % 4)), 0)
  const all = await coverageByCommune(platform.ctx.db)
  const total = all.reduce((s, c) => s + Object.values(c.activities).reduce((a, b) => a + (b ?? 0), 0), 0)
  assert.equal(total, expectedActivities)
  const perPlatform = all.reduce((s, c) => s + Object.values(c.by_platform).reduce((a, b) => a + b, 0), 0)
  assert.equal(perPlatform, expectedActivities)
  // The demo campaign counts the app installs of its dates.
  const campaigns = (await call('GET', '/api/community/campaigns')).json().items
  assert.equal(campaigns.length, 1)
  const progress = (await call('GET', `/api/community/campaigns/${campaigns[0].id}`)).json()
  const installs = all.reduce((s, c) => s + (c.activities.app_install ?? 0), 0)
  assert.equal(progress.communes.reduce((s: number, c: { done: number }) => s + c.done, 0), installs)
})

let teamId: string
let leaderMemberId: string
let plainMemberId: string

test('teams: created by staff of the commune only; public list without personal data', async () => {
  const village = villages.find((v) => v.commune_code === '03328' && v.name === 'Bản Co Luống')!
  const body = { name: 'Tổ CNSCĐ Bản Co Luống (thử)', commune_code: '03328', village_id: village.id, partners: ['VNPT Điện Biên'] }
  assert.equal((await call('POST', '/api/community/teams', undefined, body)).statusCode, 401)
  assert.equal((await call('POST', '/api/community/teams', stranger, body)).statusCode, 403)
  assert.equal((await call('POST', '/api/community/teams', otherOfficer, body)).statusCode, 403)
  const wrongVillage = await call('POST', '/api/community/teams', otherOfficer, { ...body, commune_code: '03160' })
  assert.equal(wrongVillage.statusCode, 400)
  assert.equal(wrongVillage.json().error.code, 'VILLAGE_NOT_IN_COMMUNE')
  const res = await call('POST', '/api/community/teams', officer, body)
  assert.equal(res.statusCode, 201, res.body)
  teamId = res.json().id
  assert.deepEqual(res.json().partners, ['VNPT Điện Biên'])
  const pub = await call('GET', `/api/community/teams/${teamId}`)
  assert.equal(pub.statusCode, 200)
  assert.equal(pub.json().name, body.name)
})

test('members: staff appoint the leader; the leader adds members; phones only for the team and staff', async () => {
  const leader = { team_id: teamId, full_name: 'Lò Văn Thắng', role: 'leader', phone: '0915 111 222', organisation: 'village_head', user_id: leaderUser.id }
  assert.equal((await call('POST', '/api/community/members', undefined, leader)).statusCode, 401)
  assert.equal((await call('POST', '/api/community/members', leaderUser, leader)).statusCode, 403, 'not yet a member')
  assert.equal((await call('POST', '/api/community/members', otherOfficer, leader)).statusCode, 403)
  const r = await call('POST', '/api/community/members', officer, leader)
  assert.equal(r.statusCode, 201, r.body)
  leaderMemberId = r.json().id
  const member = await call('POST', '/api/community/members', leaderUser, { team_id: teamId, full_name: 'Quàng Thị Hoa', role: 'member', organisation: 'youth_union', user_id: memberUser.id })
  assert.equal(member.statusCode, 201, member.body)
  plainMemberId = member.json().id
  const promote = await call('POST', '/api/community/members', leaderUser, { team_id: teamId, full_name: 'Người Khác', role: 'leader', organisation: 'police' })
  assert.equal(promote.statusCode, 403)
  assert.equal((await call('POST', '/api/community/members', memberUser, { team_id: teamId, full_name: 'Ai Đó', role: 'member', organisation: 'other' })).statusCode, 403)
  assert.equal((await call('GET', `/api/community/members?team_id=${teamId}`)).statusCode, 401)
  assert.equal((await call('GET', `/api/community/members?team_id=${teamId}`, stranger)).statusCode, 403)
  assert.equal((await call('GET', `/api/community/members?team_id=${teamId}`, otherOfficer)).statusCode, 403)
  const list = await call('GET', `/api/community/members?team_id=${teamId}`, memberUser)
  assert.equal(list.statusCode, 200)
  assert.equal(list.json().items.find((m: { id: string }) => m.id === leaderMemberId).phone, '0915 111 222')
  assert.doesNotMatch((await call('GET', '/api/community/teams?commune_code=03328')).body, /0915/)
})

test('activities: on-behalf submissions need recorded consent; revocation stops its reuse; retries are safe', async () => {
  const at = new Date(Date.now() - 3600_000).toISOString()
  const install = { team_id: teamId, member_id: leaderMemberId, kind: 'app_install', platform: 'Điện Biên Smart', occurred_at: at }
  assert.equal((await call('POST', '/api/community/activities', undefined, install)).statusCode, 401)
  assert.equal((await call('POST', '/api/community/activities', stranger, install)).statusCode, 403)
  const first = await call('POST', '/api/community/activities', leaderUser, install, { 'idempotency-key': 'act-1' })
  assert.equal(first.statusCode, 201, first.body)
  const retry = await call('POST', '/api/community/activities', leaderUser, install, { 'idempotency-key': 'act-1' })
  assert.equal(retry.json().activity.id, first.json().activity.id)
  assert.equal(retry.headers['idempotent-replayed'], 'true')

  // A member records only their own help.
  assert.equal((await call('POST', '/api/community/activities', memberUser, install)).statusCode, 403)
  assert.equal((await call('POST', '/api/community/activities', memberUser, { ...install, member_id: plainMemberId })).statusCode, 201)

  const dossier = { team_id: teamId, member_id: leaderMemberId, kind: 'dossier_on_behalf', resident_name: 'Giàng A Sùng', reference: 'HS-2026-000123', occurred_at: at }
  const noConsent = await call('POST', '/api/community/activities', leaderUser, dossier)
  assert.equal(noConsent.statusCode, 400)
  assert.equal(noConsent.json().error.code, 'CONSENT_REQUIRED')
  const consent = { resident_name: 'Giàng A Sùng', method: 'verbal_with_witness', evidence: 'Trưởng bản Lò Văn Pâng', scope: ['dossier_on_behalf'], given_at: new Date(Date.now() - 7200_000).toISOString() }
  const late = await call('POST', '/api/community/activities', leaderUser, { ...dossier, consent: { ...consent, given_at: new Date().toISOString() } })
  assert.equal(late.json().error.code, 'CONSENT_AFTER_ACTIVITY')
  const outOfScope = await call('POST', '/api/community/activities', leaderUser, { ...dossier, kind: 'report_on_behalf', consent })
  assert.equal(outOfScope.json().error.code, 'CONSENT_SCOPE')
  const ok = await call('POST', '/api/community/activities', leaderUser, { ...dossier, consent })
  assert.equal(ok.statusCode, 201, ok.body)
  const consentId = ok.json().consent_id
  assert.ok(consentId)
  const stored = await sql<{ method: string; evidence: string; recorded_by_member: string }>`select method, evidence, recorded_by_member::text as recorded_by_member from community_consents where id = ${consentId}::uuid`.execute(platform.ctx.db)
  assert.deepEqual(stored.rows[0], { method: 'verbal_with_witness', evidence: 'Trưởng bản Lò Văn Pâng', recorded_by_member: leaderMemberId })
  const reuse = await call('POST', '/api/community/activities', leaderUser, { ...dossier, reference: 'HS-2026-000124', consent_id: consentId })
  assert.equal(reuse.statusCode, 201, reuse.body)
  assert.equal(reuse.json().activity.resident_name, 'Giàng A Sùng')

  assert.equal((await call('POST', `/api/community/consents/${consentId}/revoke`, stranger, { reason: 'x' })).statusCode, 403)
  const revoke = await call('POST', `/api/community/consents/${consentId}/revoke`, leaderUser, { reason: 'Người dân tự làm được' })
  assert.equal(revoke.statusCode, 200, revoke.body)
  const afterRevoke = await call('POST', '/api/community/activities', leaderUser, { ...dossier, reference: 'HS-2026-000125', consent_id: consentId })
  assert.equal(afterRevoke.json().error.code, 'CONSENT_REVOKED')
  // The database refuses an on-behalf activity without consent, whatever the caller.
  await assert.rejects(sql`insert into community_activities (team_id, member_id, commune_code, kind, occurred_at, created_at, created_by) values (${teamId}::uuid, ${leaderMemberId}::uuid, '03328', 'report_on_behalf', now(), now(), 'test')`.execute(platform.ctx.db))

  const listed = await call('GET', `/api/community/activities?team_id=${teamId}`, memberUser)
  assert.equal(listed.json().items.length, 4)
  assert.equal((await call('GET', '/api/community/activities?commune_code=03328', otherOfficer)).statusCode, 403)
  assert.equal((await call('GET', '/api/community/activities?commune_code=03328', officer)).statusCode, 200)
  assert.equal((await call('GET', '/api/community/activities?commune_code=03328', stranger)).statusCode, 403)
})

test('campaigns: targets per commune, only for communes the creator sees; progress counts the kind between the dates', async () => {
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)
  const body = { name: 'Chiến dịch VNeID Thanh Nưa', activity_kind: 'vneid_account', starts_on: today, ends_on: today, targets: [{ commune_code: '03328', target: 4 }] }
  assert.equal((await call('POST', '/api/community/campaigns', undefined, body)).statusCode, 401)
  assert.equal((await call('POST', '/api/community/campaigns', leaderUser, body)).statusCode, 403)
  assert.equal((await call('POST', '/api/community/campaigns', otherOfficer, body)).statusCode, 403)
  const res = await call('POST', '/api/community/campaigns', officer, body)
  assert.equal(res.statusCode, 201, res.body)
  const id = res.json().id
  for (let i = 0; i < 3; i++) {
    const r = await call('POST', '/api/community/activities', leaderUser, { team_id: teamId, member_id: leaderMemberId, kind: 'vneid_account', platform: 'VNeID', occurred_at: new Date(Date.now() - 60_000).toISOString(), campaign_id: id })
    assert.equal(r.statusCode, 201, r.body)
  }
  const p = await campaignProgress(platform.ctx.db, id)
  assert.deepEqual(p!.communes, [{ commune_code: '03328', target: 4, done: 3, progress: 0.75 }])
  assert.equal((await call('GET', `/api/community/campaigns/${id}`)).json().total.progress, 0.75)
  const wide = await call('POST', '/api/community/campaigns', admin, { ...body, targets: [{ commune_code: '03328', target: 1 }, { commune_code: '03160', target: 2 }] })
  assert.equal(wide.statusCode, 201)
  assert.equal((await call('GET', '/api/community/campaigns/00000000-0000-0000-0000-000000000000')).statusCode, 404)
})

test('every write is in the audit chain', async () => {
  const v = await verifyAuditChain(platform.ctx.db)
  assert.ok(v.ok)
  const n = await sql<{ action: string }>`select distinct action from audit_log where action like 'community.%'`.execute(platform.ctx.db)
  assert.deepEqual(n.rows.map((r) => r.action).sort(), ['community.activity_recorded', 'community.campaign_created', 'community.consent_recorded', 'community.consent_revoked', 'community.member_added', 'community.team_created'])
})
