/**
 * Two lazily loaded parts of the IOC wall (issue 8): the village infrastructure layer on the map
 * (fixed broadband, mobile coverage, grid power; white zones in red) with its list of white zones,
 * and the community digital teams panel (coverage of villages, teams, members, campaign progress).
 * Loaded after the wall's first screen, from the public APIs /api/places/* and /api/community/*.
 */
import { api } from '../api.ts'
import { fill, h } from '../dom.ts'
import { dictionary, pick } from '../i18n.ts'
import type { CommuneMap, MapPoint } from '../map.ts'

const t = dictionary({
  layer: 'Hạ tầng thôn, bản',
  layerHint: 'Băng rộng cố định, sóng di động, điện lưới theo khảo sát',
  ok: 'Đủ hạ tầng',
  white: 'Vùng trắng',
  unknown: 'Chưa khảo sát',
  noBroadband: 'không có băng rộng',
  noMobile: 'không có dữ liệu di động',
  noPower: 'không có điện lưới',
  whiteList: 'Vùng trắng cần hỗ trợ',
  noWhite: 'Không có thôn, bản vùng trắng trong số đã khảo sát.',
  sample: 'Dữ liệu mẫu minh hoạ',
  community: 'Tổ công nghệ số cộng đồng',
  teams: 'Tổ',
  members: 'Thành viên',
  villagesCovered: 'Thôn, bản có tổ',
  campaigns: 'Chiến dịch',
  noCampaigns: 'Chưa có chiến dịch.',
}, {
  layer: 'Village infrastructure',
  layerHint: 'Fixed broadband, mobile coverage, grid power as surveyed',
  ok: 'Covered',
  white: 'White zone',
  unknown: 'Not surveyed',
  noBroadband: 'no broadband',
  noMobile: 'no mobile data',
  noPower: 'no grid power',
  whiteList: 'White zones needing support',
  noWhite: 'No surveyed village is a white zone.',
  sample: 'Illustrative sample data',
  community: 'Community digital teams',
  teams: 'Teams',
  members: 'Members',
  villagesCovered: 'Villages with a team',
  campaigns: 'Campaigns',
  noCampaigns: 'No campaign yet.',
})

interface VillageFeature {
  id: string
  geometry: { coordinates: [number, number] }
  properties: { name: string; commune_name: string; is_sample: boolean; fixed_broadband?: boolean; broadband_provider?: string | null; mobile_coverage?: string; grid_power?: boolean; white_zone_gaps: string[] }
}
const GAP: Record<string, () => string> = { no_broadband: () => t('noBroadband'), no_mobile_data: () => t('noMobile'), no_power: () => t('noPower') }
const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`)

/** The village layer: a switch and legend above the map, points on it, the white-zone list below. */
export function villageLayer(map: Promise<CommuneMap | null>): HTMLElement {
  const list = h('ul', { class: 'escalations white-zones' })
  const toggle = h('input', { type: 'checkbox', id: 'village-layer', 'data-test': 'village-layer' }) as HTMLInputElement
  const note = h('p', { class: 'hint' })
  let features: VillageFeature[] | undefined
  const points = (): MapPoint[] => (features ?? []).map((f) => {
    const p = f.properties
    const surveyed = p.mobile_coverage !== undefined
    const cls = !surveyed ? 'v-unknown' : p.white_zone_gaps.length ? 'v-white' : 'v-ok'
    const detail = surveyed
      ? p.white_zone_gaps.length ? p.white_zone_gaps.map((g) => GAP[g]?.() ?? g).join(', ') : `${p.broadband_provider ?? ''} ${String(p.mobile_coverage).toUpperCase()}`.trim()
      : t('unknown')
    return { id: f.id, lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0], cls: `village ${cls}`, title: `${p.name} (${p.commune_name}) · ${detail}` }
  })
  const show = async () => {
    const m = await map
    if (!m) return
    if (toggle.checked && !features) {
      const fc = await api<{ features: VillageFeature[] }>('/api/places/villages.geojson')
      features = fc.features
      const white = features.filter((f) => f.properties.white_zone_gaps.length > 0)
      fill(list, white.length ? white.slice(0, 12).map((f) => h('li', { 'data-village': f.id }, h('strong', null, f.properties.name), ` (${f.properties.commune_name}) — `, f.properties.white_zone_gaps.map((g) => GAP[g]?.() ?? g).join(', '))) : h('li', null, t('noWhite')))
      fill(note, features.some((f) => f.properties.is_sample) ? t('sample') : '')
    }
    m.setPoints(toggle.checked ? points() : [])
    list.hidden = !toggle.checked
  }
  toggle.addEventListener('change', () => void show().catch((e) => fill(note, h('span', { class: 'error' }, String((e as Error).message)))))
  list.hidden = true
  return h('div', { class: 'village-layer' },
    h('label', { class: 'layer-switch', title: t('layerHint') }, toggle, ' ', t('layer')),
    h('p', { class: 'legend' }, h('span', { class: 'sw v-ok' }), t('ok'), h('span', { class: 'sw v-white' }), t('white'), h('span', { class: 'sw v-unknown' }), t('unknown')),
    list, note)
}

interface Coverage { totals: { villages: number; villages_with_team: number; village_coverage: number | null; teams: number; members: number } }
interface Campaign { id: string; name: string; ends_on: string }
interface Progress { campaign: Campaign; total: { target: number; done: number; progress: number } }

/** The community panel's content: coverage totals and each campaign's progress. */
export async function communityPanel(box: HTMLElement): Promise<void> {
  const [cov, camps] = await Promise.all([api<Coverage>('/api/community/coverage'), api<{ items: Campaign[] }>('/api/community/campaigns')])
  const progress = await Promise.all(camps.items.slice(0, 5).map((c) => api<Progress>(`/api/community/campaigns/${c.id}`)))
  const c = cov.totals
  const kpi = (label: string, value: string) => h('div', { class: 'kpi' }, h('div', { class: 'v' }, value), h('div', { class: 'l' }, label))
  fill(box,
    h('div', { class: 'community-kpis' },
      kpi(t('teams'), String(c.teams)), kpi(t('members'), String(c.members)),
      kpi(`${t('villagesCovered')} (${c.villages_with_team}/${c.villages})`, pct(c.village_coverage))),
    h('h3', null, t('campaigns')),
    progress.length
      ? h('ul', { class: 'campaigns' }, progress.map((p) => h('li', { 'data-campaign': p.campaign.id },
        h('span', null, p.campaign.name, ' '),
        h('progress', { max: 100, value: Math.round(p.total.progress * 100) }),
        h('span', { class: 'meta' }, ` ${p.total.done}/${p.total.target} · ${pick('đến', 'until')} ${p.campaign.ends_on}`))))
      : h('p', { class: 'hint' }, t('noCampaigns')))
}

export const communityTitle = () => t('community')
