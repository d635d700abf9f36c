/**
 * Community digital teams in the officers' console (#/staff/community, issue 8 §2): the teams of
 * my commune (all communes for a province admin), a team's members, help a member gave (acting for
 * a resident only with the resident's consent recorded on the form), and campaigns with their
 * progress. Every write goes to /api/community/*; the server checks who may do what.
 */
import { api, errorText } from '../api.ts'
import { field, fill, h } from '../dom.ts'
import { uuid } from '../format.ts'
import { dictionary } from '../i18n.ts'
import { communeLabel, communes, type Commune } from '../refdata.ts'

const d = dictionary({
  title: 'Tổ công nghệ số cộng đồng',
  teams: 'Các tổ',
  noTeams: 'Chưa có tổ nào.',
  newTeam: 'Lập tổ mới',
  name: 'Tên tổ',
  commune: 'Xã/phường',
  village: 'Thôn/bản',
  noVillage: '— Không gắn thôn/bản —',
  partners: 'Doanh nghiệp đồng hành (cách nhau dấu phẩy)',
  create: 'Lập tổ',
  members: 'Thành viên',
  addMember: 'Thêm thành viên',
  fullName: 'Họ tên',
  role: 'Vai trò',
  leader: 'Tổ trưởng',
  member: 'Tổ viên',
  phone: 'Số điện thoại',
  organisation: 'Tổ chức',
  add: 'Thêm',
  activity: 'Ghi nhận hỗ trợ người dân',
  who: 'Thành viên hỗ trợ',
  kind: 'Việc đã làm',
  platform: 'Nền tảng (ví dụ Điện Biên Smart, VNeID)',
  resident: 'Tên người dân',
  reference: 'Mã hồ sơ/phản ánh đã nộp thay',
  consent: 'Người dân đồng ý cho tổ làm thay (bắt buộc khi nộp thay)',
  consentMethod: 'Cách ghi nhận đồng ý',
  evidence: 'Bằng chứng (ảnh giấy đồng ý, tên người làm chứng hoặc mã tin nhắn OTP)',
  record: 'Ghi nhận',
  recorded: 'Đã ghi nhận.',
  campaigns: 'Chiến dịch',
  newCampaign: 'Chiến dịch mới',
  createCampaign: 'Tạo chiến dịch',
  starts: 'Từ ngày',
  ends: 'Đến ngày',
  target: 'Chỉ tiêu của xã',
  noCampaigns: 'Chưa có chiến dịch.',
  choose: 'Chọn một tổ để xem thành viên và ghi nhận hỗ trợ.',
}, {
  title: 'Community digital teams',
  teams: 'Teams',
  noTeams: 'No team yet.',
  newTeam: 'New team',
  name: 'Team name',
  commune: 'Commune',
  village: 'Village',
  noVillage: '— No village —',
  partners: 'Partner companies (comma-separated)',
  create: 'Create team',
  members: 'Members',
  addMember: 'Add a member',
  fullName: 'Full name',
  role: 'Role',
  leader: 'Leader',
  member: 'Member',
  phone: 'Phone',
  organisation: 'Organisation',
  add: 'Add',
  activity: 'Record help given',
  who: 'Member who helped',
  kind: 'What was done',
  platform: 'Platform (e.g. Điện Biên Smart, VNeID)',
  resident: 'Resident name',
  reference: 'Code of the dossier/report filed for them',
  consent: 'The resident agreed that the team acts for them (required to act on their behalf)',
  consentMethod: 'How consent was recorded',
  evidence: 'Evidence (photo of the signed form, witness name or OTP message reference)',
  record: 'Record',
  recorded: 'Recorded.',
  campaigns: 'Campaigns',
  newCampaign: 'New campaign',
  createCampaign: 'Create campaign',
  starts: 'From',
  ends: 'Until',
  target: 'Target for the commune',
  noCampaigns: 'No campaign yet.',
  choose: 'Choose a team to see its members and record help.',
})

const KINDS: Record<string, [string, string]> = {
  app_install: ['Cài ứng dụng', 'App install'], vneid_account: ['Tạo tài khoản VNeID', 'VNeID account'], epayment_account: ['Mở tài khoản thanh toán điện tử', 'E-payment account'],
  public_services_account: ['Tạo tài khoản dịch vụ công', 'Public-services account'], dossier_on_behalf: ['Nộp hồ sơ thay', 'Dossier on behalf'],
  report_on_behalf: ['Gửi phản ánh thay', 'Report on behalf'], digital_skills_guidance: ['Hướng dẫn kỹ năng số', 'Digital-skills guidance'],
}
const ON_BEHALF = new Set(['dossier_on_behalf', 'report_on_behalf'])
const ORGS: Record<string, [string, string]> = { youth_union: ['Đoàn thanh niên', 'Youth union'], women_union: ['Hội phụ nữ', "Women's union"], police: ['Công an', 'Police'], telecom_post: ['Viễn thông, bưu điện', 'Telecom / post'], village_head: ['Trưởng thôn/bản', 'Village head'], other: ['Khác', 'Other'] }
const CONSENT: Record<string, [string, string]> = { signed_paper_photo: ['Giấy ký (ảnh)', 'Signed paper (photo)'], verbal_with_witness: ['Lời nói có người làm chứng', 'Verbal with a witness'], sms_otp: ['Mã OTP qua tin nhắn', 'SMS OTP'] }
const en = () => document.documentElement.lang === 'en'
const label = (m: Record<string, [string, string]>, k: string) => (m[k] ? m[k][en() ? 1 : 0] : k)
const options = (m: Record<string, [string, string]>) => Object.keys(m).map((k) => h('option', { value: k }, label(m, k)))

interface Team { id: string; name: string; commune_code: string; village_id: string | null; partners: string[]; members_count: number }
interface Member { id: string; full_name: string; role: string; phone: string | null; organisation: string }
interface Campaign { id: string; name: string; activity_kind: string; starts_on: string; ends_on: string }
interface Progress { campaign: Campaign; total: { target: number; done: number; progress: number } }
interface Village { id: string; name: string }

const vnToday = () => new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)

export async function renderCommunity(body: HTMLElement, me: { role: string; unit_code: string | null }): Promise<void> {
  const all = await communes().catch(() => [] as Commune[])
  const mine = me.role === 'province_admin' ? all : all.filter((c) => c.code === me.unit_code)
  const teamList = h('ul', { class: 'list teams' })
  const teamBox = h('div', { class: 'card team-detail' }, h('p', { class: 'hint' }, d('choose')))
  const campaignList = h('ul', { class: 'list campaigns' })
  const msg = h('p', { role: 'status', 'aria-live': 'polite' })
  const fail = (e: unknown) => fill(msg, h('span', { class: 'error' }, errorText(e)))
  const communeSelect = () => h('select', { name: 'commune_code', required: true }, mine.map((c) => h('option', { value: c.code }, communeLabel(c))))

  async function loadTeams(): Promise<void> {
    const q = me.role === 'province_admin' || !me.unit_code ? '' : `&commune_code=${me.unit_code}`
    const r = await api<{ items: Team[] }>(`/api/community/teams?limit=200${q}`)
    fill(teamList, r.items.length ? r.items.map((t) => h('li', null, h('button', { type: 'button', class: 'btn small secondary', 'data-team': t.id, onclick: () => void openTeam(t).catch(fail) },
      `${t.name} · ${t.members_count} ${d('members').toLowerCase()}`, t.partners.length ? ` · ${t.partners.join(', ')}` : ''))) : h('li', { class: 'hint' }, d('noTeams')))
  }

  // New team: commune, optional village of that commune, partners.
  const tName = h('input', { name: 'name', required: true, minlength: 2, maxlength: 200 })
  const tCommune = communeSelect()
  const tVillage = h('select', { name: 'village_id' })
  const tPartners = h('input', { name: 'partners', maxlength: 1000 })
  const loadVillages = async () => {
    const r = await api<{ items: Village[] }>(`/api/places/villages?commune_code=${tCommune.value}`).catch(() => ({ items: [] as Village[] }))
    fill(tVillage, h('option', { value: '' }, d('noVillage')), r.items.map((v) => h('option', { value: v.id }, v.name)))
  }
  tCommune.addEventListener('change', () => void loadVillages())
  const teamForm = h('form', { class: 'card', 'data-form': 'team', onsubmit: async (ev: Event) => {
    ev.preventDefault()
    try {
      const partners = tPartners.value.split(',').map((x) => x.trim()).filter(Boolean)
      const t = await api<Team>('/api/community/teams', { body: { name: tName.value.trim(), commune_code: tCommune.value, ...(tVillage.value ? { village_id: tVillage.value } : {}), partners } })
      tName.value = ''
      fill(msg, d('recorded'))
      await loadTeams()
      await openTeam(t)
    } catch (e) { fail(e) }
  } }, h('h3', null, d('newTeam')), field(d('name'), tName), field(d('commune'), tCommune), field(d('village'), tVillage), field(d('partners'), tPartners), h('button', { type: 'submit', class: 'btn primary' }, d('create')))

  async function openTeam(t: Team): Promise<void> {
    const members = (await api<{ items: Member[] }>(`/api/community/members?team_id=${t.id}`)).items
    const mName = h('input', { name: 'full_name', required: true, minlength: 2, maxlength: 120 })
    const mRole = h('select', { name: 'role' }, h('option', { value: 'member' }, d('member')), h('option', { value: 'leader' }, d('leader')))
    const mPhone = h('input', { name: 'phone', type: 'tel', maxlength: 20 })
    const mOrg = h('select', { name: 'organisation' }, options(ORGS))
    const memberForm = h('form', { class: 'inline-form', 'data-form': 'member', onsubmit: async (ev: Event) => {
      ev.preventDefault()
      try {
        await api('/api/community/members', { body: { team_id: t.id, full_name: mName.value.trim(), role: mRole.value, organisation: mOrg.value, ...(mPhone.value.trim() ? { phone: mPhone.value.trim() } : {}) } })
        fill(msg, d('recorded'))
        await loadTeams()
        await openTeam(t)
      } catch (e) { fail(e) }
    } }, h('h4', null, d('addMember')), field(d('fullName'), mName), field(d('role'), mRole), field(d('phone'), mPhone), field(d('organisation'), mOrg), h('button', { type: 'submit', class: 'btn secondary' }, d('add')))

    // Help given; acting for a resident needs the consent block, checked here and by the server.
    const aMember = h('select', { name: 'member_id', required: true }, members.map((m) => h('option', { value: m.id }, m.full_name)))
    const aKind = h('select', { name: 'kind' }, options(KINDS))
    const aPlatform = h('input', { name: 'platform', maxlength: 100, value: 'Điện Biên Smart' })
    const aResident = h('input', { name: 'resident_name', maxlength: 120 })
    const aRef = h('input', { name: 'reference', maxlength: 64 })
    const aConsent = h('input', { type: 'checkbox', name: 'consent' }) as HTMLInputElement
    const aMethod = h('select', { name: 'consent_method' }, options(CONSENT))
    const aEvidence = h('input', { name: 'consent_evidence', maxlength: 500 })
    const consentBox = h('fieldset', { class: 'consent', hidden: true }, h('legend', null, d('consent')), h('label', { class: 'check' }, aConsent, h('span', null, d('consent'))), field(d('consentMethod'), aMethod), field(d('evidence'), aEvidence))
    aKind.addEventListener('change', () => { consentBox.hidden = !ON_BEHALF.has(aKind.value) })
    let key = uuid()
    const activityForm = h('form', { class: 'inline-form', 'data-form': 'activity', onsubmit: async (ev: Event) => {
      ev.preventDefault()
      const onBehalf = ON_BEHALF.has(aKind.value)
      if (onBehalf && (!aConsent.checked || aEvidence.value.trim().length < 2 || aResident.value.trim().length < 2)) return fill(msg, h('span', { class: 'error' }, d('consent')))
      const now = new Date().toISOString()
      try {
        await api('/api/community/activities', {
          headers: { 'idempotency-key': key },
          body: {
            team_id: t.id, member_id: aMember.value, kind: aKind.value, occurred_at: now,
            ...(aPlatform.value.trim() ? { platform: aPlatform.value.trim() } : {}),
            ...(aResident.value.trim() ? { resident_name: aResident.value.trim() } : {}),
            ...(aRef.value.trim() ? { reference: aRef.value.trim() } : {}),
            ...(onBehalf ? { consent: { resident_name: aResident.value.trim(), method: aMethod.value, evidence: aEvidence.value.trim(), scope: [aKind.value], given_at: now } } : {}),
          },
        })
        key = uuid()
        fill(msg, d('recorded'))
        await loadCampaigns()
      } catch (e) { fail(e) }
    } }, h('h4', null, d('activity')), field(d('who'), aMember), field(d('kind'), aKind), field(d('platform'), aPlatform), field(d('resident'), aResident), field(d('reference'), aRef), consentBox, h('button', { type: 'submit', class: 'btn primary' }, d('record')))

    fill(teamBox, h('h3', null, t.name),
      h('h4', null, d('members')),
      h('ul', { class: 'list members' }, members.map((m) => h('li', null, `${m.full_name} · ${m.role === 'leader' ? d('leader') : d('member')} · ${label(ORGS, m.organisation)}${m.phone ? ` · ${m.phone}` : ''}`))),
      memberForm, members.length ? activityForm : null)
  }

  async function loadCampaigns(): Promise<void> {
    const items = (await api<{ items: Campaign[] }>('/api/community/campaigns')).items
    const progress = await Promise.all(items.slice(0, 20).map((c) => api<Progress>(`/api/community/campaigns/${c.id}`)))
    fill(campaignList, progress.length ? progress.map((p) => h('li', { 'data-campaign': p.campaign.id },
      h('strong', null, p.campaign.name), ` · ${label(KINDS, p.campaign.activity_kind)} · ${p.campaign.starts_on} → ${p.campaign.ends_on} `,
      h('progress', { max: 100, value: Math.round(p.total.progress * 100) }), h('span', { class: 'meta progress-text' }, ` ${p.total.done}/${p.total.target}`))) : h('li', { class: 'hint' }, d('noCampaigns')))
  }
  const cName = h('input', { name: 'name', required: true, minlength: 2, maxlength: 200 })
  const cKind = h('select', { name: 'activity_kind' }, options(KINDS))
  const cStarts = h('input', { name: 'starts_on', type: 'date', value: vnToday(), required: true })
  const cEnds = h('input', { name: 'ends_on', type: 'date', required: true })
  const cCommune = communeSelect()
  const cTarget = h('input', { name: 'target', type: 'number', min: 1, value: 50, required: true })
  const campaignForm = h('form', { class: 'card', 'data-form': 'campaign', onsubmit: async (ev: Event) => {
    ev.preventDefault()
    try {
      await api('/api/community/campaigns', { body: { name: cName.value.trim(), activity_kind: cKind.value, starts_on: cStarts.value, ends_on: cEnds.value, targets: [{ commune_code: cCommune.value, target: Number(cTarget.value) }] } })
      fill(msg, d('recorded'))
      await loadCampaigns()
    } catch (e) { fail(e) }
  } }, h('h3', null, d('newCampaign')), field(d('name'), cName), field(d('kind'), cKind), field(d('starts'), cStarts), field(d('ends'), cEnds), field(d('commune'), cCommune), field(d('target'), cTarget), h('button', { type: 'submit', class: 'btn primary' }, d('createCampaign')))

  fill(body, h('h2', null, d('title')), msg,
    h('div', { class: 'community-grid' },
      h('section', null, h('h3', null, d('teams')), teamList, teamForm),
      h('section', null, teamBox),
      h('section', null, h('h3', null, d('campaigns')), campaignList, campaignForm)))
  await Promise.all([loadTeams(), loadVillages(), loadCampaigns()]).catch(fail)
}
