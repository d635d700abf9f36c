/**
 * The IOC wall (#/ioc or /ioc): full screen, refreshes by itself every minute. A commune map
 * coloured by open and overdue reports, counts and on-time rates by unit for reports and dossiers,
 * the online-dossier rate, weekly trend lines (uPlot, loaded only here), the latest escalations and,
 * for leaders, security compliance by unit with the units and systems cut off from the gateway.
 * All data comes from ../ioc-data.ts.
 */
import 'uplot/dist/uPlot.min.css'
import './ioc.css'
import { errorText } from '../api.ts'
import { fill, h } from '../dom.ts'
import { vnTime } from '../format.ts'
import { loadWallData, type ComplianceFinding, type UnitRow, type WallData } from '../ioc-data.ts'
import { dictionary, pick } from '../i18n.ts'
import { orgUnits, unitName, type OrgUnit } from '../refdata.ts'
import { clip } from './common.ts'

const t = dictionary({
  title: 'Trung tâm điều hành thông minh tỉnh Điện Biên',
  updated: 'Cập nhật {t}',
  window: '{d} ngày gần nhất',
  reports: 'Phản ánh hiện trường',
  dossiers: 'Hồ sơ thủ tục hành chính',
  open: 'Đang xử lý',
  overdue: 'Quá hạn',
  onTime: 'Đúng hạn',
  total: 'Tổng',
  onlineRate: 'Hồ sơ trực tuyến',
  byUnit: 'Theo đơn vị',
  unit: 'Đơn vị',
  map: 'Phản ánh đang mở theo xã/phường',
  legendNone: 'Không có',
  legendOpen: 'Đang mở',
  legendOverdue: 'Có quá hạn',
  trend: 'Xu hướng theo tuần',
  sIn: 'Phản ánh mới',
  sResolved: 'Phản ánh đã giải quyết',
  sDossiers: 'Hồ sơ mới',
  escalations: 'Cảnh báo quá hạn mới nhất',
  none: 'Không có việc quá hạn.',
  noDossiers: 'Đăng nhập tài khoản lãnh đạo tỉnh để xem số liệu hồ sơ.',
  score766: 'Chỉ số phục vụ (QĐ 766)',
  whiteZones: 'Thôn/bản vùng trắng',
  flags: 'Đơn vị bị cảnh báo',
  noFlags: 'Không có đơn vị nào bị cảnh báo.',
  fullscreen: 'Toàn màn hình',
  exit: 'Thoát',
  truncated: 'Số liệu đã giới hạn để không làm chậm hệ thống.',
  compliance: 'An toàn thông tin theo đơn vị (NĐ 85, 4 lớp)',
  compSummary: '{ok} đơn vị đạt · {warned} bị cảnh báo · {suspended} bị tạm ngừng kết nối',
  antimalware: 'Phòng chống mã độc',
  approvedSystems: 'HT được duyệt cấp độ',
  warnings: 'Cảnh báo',
  suspensions: 'Tạm ngừng',
  noUnits: 'Chưa có đơn vị nào khai báo an toàn thông tin.',
  suspended: 'Bị tạm ngừng kết nối trục LGSP',
  noSuspended: 'Không có đơn vị, hệ thống nào bị tạm ngừng kết nối.',
  since: 'từ {t}',
  fix: 'Cách khắc phục: {x}',
  warned: 'Đang bị cảnh báo',
  deadline: 'hạn khắc phục {t}',
  unitSubject: 'Đơn vị',
}, {
  title: 'Điện Biên Intelligent Operations Center',
  updated: 'Updated {t}',
  window: 'last {d} days',
  reports: 'Field reports',
  dossiers: 'Administrative dossiers',
  open: 'Open',
  overdue: 'Overdue',
  onTime: 'On time',
  total: 'Total',
  onlineRate: 'Online dossiers',
  byUnit: 'By unit',
  unit: 'Unit',
  map: 'Open reports by commune',
  legendNone: 'None',
  legendOpen: 'Open',
  legendOverdue: 'Some overdue',
  trend: 'Weekly trend',
  sIn: 'New reports',
  sResolved: 'Reports resolved',
  sDossiers: 'New dossiers',
  escalations: 'Latest escalations (overdue)',
  none: 'Nothing overdue.',
  noDossiers: 'Sign in as a provincial leader to see dossier figures.',
  score766: 'Service score (Decision 766)',
  whiteZones: 'White-zone villages',
  flags: 'Units flagged',
  noFlags: 'No unit is flagged.',
  fullscreen: 'Full screen',
  exit: 'Exit',
  truncated: 'Figures are capped so as not to slow the system down.',
  compliance: 'Security compliance by unit (Decree 85, 4 layers)',
  compSummary: '{ok} units compliant · {warned} warned · {suspended} cut off',
  antimalware: 'Anti-malware',
  approvedSystems: 'Systems with approved level',
  warnings: 'Warnings',
  suspensions: 'Suspended',
  noUnits: 'No unit has declared its security duties yet.',
  suspended: 'Suspended from the exchange gateway (LGSP)',
  noSuspended: 'No unit or system is suspended.',
  since: 'since {t}',
  fix: 'To fix: {x}',
  warned: 'Warned',
  deadline: 'fix by {t}',
  unitSubject: 'Unit',
})

const REFRESH_MS = 60_000
/** The compliance module's reasons are clauses ("hợp đồng giám sát hết hạn …"): a capital on the wall. */
const sentence = (x: string): string => x.charAt(0).toUpperCase() + x.slice(1)
const pct = (a: number, b: number): string => (b > 0 ? `${Math.round((a / b) * 100)}%` : '—')

let timer: ReturnType<typeof setInterval> | undefined

export async function renderIoc(main: HTMLElement): Promise<void> {
  clearInterval(timer)
  const units = await orgUnits().catch(() => [] as OrgUnit[])
  const stamp = h('span', { class: 'stamp', role: 'status' })
  const kpis = h('div', { class: 'kpis' })
  const mapBox = h('div', { class: 'map-box wall-map' })
  const tables = h('div', { class: 'wall-tables' })
  const chartBox = h('div', { class: 'wall-chart' })
  const esc = h('ol', { class: 'escalations' })
  const flagList = h('ul', { class: 'escalations unit-flags' })
  const flagPanel = h('section', { class: 'wall-panel', hidden: true }, h('h2', null, t('flags')), flagList)
  const compSummary = h('p', { class: 'comp-summary' })
  const compTable = h('div')
  const suspendedList = h('ul', { class: 'escalations suspended-list' })
  const warnedList = h('ul', { class: 'escalations warned-list' })
  const compPanel = h('section', { class: 'wall-panel compliance-panel', hidden: true }, h('h2', null, t('compliance')), compSummary, compTable,
    h('h3', null, t('suspended')), suspendedList, h('h3', null, t('warned')), warnedList)
  const note = h('p', { class: 'hint' })
  const communityBox = h('div', { class: 'community-box' })
  const layerSlot = h('div')
  fill(main,
    h('div', { class: 'wall-grid', 'data-ready': 'false' },
      h('header', { class: 'wall-head' }, h('h1', null, t('title')), stamp,
        h('span', { class: 'wall-btns' },
          h('button', { type: 'button', class: 'btn small secondary', onclick: () => void document.documentElement.requestFullscreen?.().catch(() => undefined) }, t('fullscreen')),
          h('a', { class: 'btn small secondary', href: '#/' }, t('exit')))),
      kpis,
      h('section', { class: 'wall-panel' }, h('h2', null, t('map')), mapBox,
        h('p', { class: 'legend' }, h('span', { class: 'sw none' }), t('legendNone'), h('span', { class: 'sw open' }), t('legendOpen'), h('span', { class: 'sw overdue' }), t('legendOverdue')),
        layerSlot),
      h('section', { class: 'wall-panel' }, h('h2', null, t('trend')), chartBox),
      h('section', { class: 'wall-panel' }, h('h2', null, t('byUnit')), tables),
      h('section', { class: 'wall-panel' }, h('h2', null, t('escalations')), esc),
      flagPanel,
      compPanel,
      h('section', { class: 'wall-panel', 'data-panel': 'community' }, h('h2', { class: 'community-title' }), communityBox),
      note),
  )
  const grid = main.querySelector<HTMLElement>('.wall-grid')!
  const mapP = import('../map.ts').then(({ createMap }) => createMap()).then((m) => (fill(mapBox, m.el), m))
  mapP.catch((e) => fill(mapBox, h('p', { class: 'hint' }, errorText(e))))
  const uplotP = import('uplot').then((m) => m.default)
  // The village layer and the community panel come in their own chunk, after the first screen.
  const communityP = import('./ioc-community.ts')
  void communityP.then((c) => {
    fill(layerSlot, c.villageLayer(mapP.catch(() => null)))
    fill(main.querySelector<HTMLElement>('.community-title')!, c.communityTitle())
  }).catch(() => undefined)
  let plot: { destroy(): void; setSize(s: { width: number; height: number }): void } | undefined
  let resizeTimer: ReturnType<typeof setTimeout> | undefined
  const onResize = () => {
    if (!grid.isConnected) return window.removeEventListener('resize', onResize)
    clearTimeout(resizeTimer)
    resizeTimer = setTimeout(() => plot?.setSize({ width: Math.max(260, chartBox.clientWidth), height: 220 }), 100)
  }
  window.addEventListener('resize', onResize)

  /** Who is cut off from the gateway and why, who is warned and until when, and each unit's duties. */
  const drawCompliance = (c: NonNullable<WallData['compliance']>) => {
    const count = (f: (u: (typeof c.units)[number]) => boolean) => c.units.filter(f).length
    fill(compSummary, t('compSummary', { ok: count((u) => u.compliant), warned: count((u) => u.warnings > 0 && u.suspensions === 0), suspended: count((u) => u.suspensions > 0) }))
    fill(compTable, c.units.length === 0 ? h('p', { class: 'hint' }, t('noUnits')) : h('table', { class: 'wall-table compliance-units' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('unit')), h('th', { scope: 'col' }, t('antimalware')), h('th', { scope: 'col' }, t('approvedSystems')), h('th', { scope: 'col' }, t('warnings')), h('th', { scope: 'col' }, t('suspensions')))),
      h('tbody', null, c.units.slice(0, 12).map((u) => h('tr', { 'data-unit': u.unit },
        h('td', null, unitName(units, u.unit)),
        h('td', { class: u.registered > 0 && u.coverage < 1 ? 'bad' : '' }, u.registered > 0 ? `${pct(u.healthy, u.registered)} (${u.healthy}/${u.registered})` : '—'),
        h('td', { class: u.approved < u.systems ? 'bad' : '' }, `${u.approved}/${u.systems}`),
        h('td', { class: u.warnings ? 'bad' : '' }, String(u.warnings)),
        h('td', { class: u.suspensions ? 'bad' : '' }, String(u.suspensions)))))))
    const subject = (f: ComplianceFinding) => (f.kind === 'unit' ? [h('strong', null, unitName(units, f.subject))] : [h('strong', null, f.subject), ` (${unitName(units, f.unit)})`])
    fill(suspendedList, c.suspended.length ? c.suspended.map((f) => h('li', { 'data-subject': `${f.kind}:${f.subject}` },
      h('span', { class: 'badge kind-suspended' }, f.rule), ' ', ...subject(f), ' — ', sentence(pick(f.reasonVi, f.reasonEn)),
      f.suspendedAt ? h('span', { class: 'meta' }, ` (${t('since', { t: vnTime(f.suspendedAt) })})`) : null,
      h('div', { class: 'meta fix' }, t('fix', { x: pick(f.fixVi, f.fixEn) })))) : h('li', null, t('noSuspended')))
    fill(warnedList, c.warned.length ? c.warned.slice(0, 10).map((f) => h('li', { 'data-subject': `${f.kind}:${f.subject}` },
      h('span', { class: 'badge kind-warned' }, f.rule), ' ', ...subject(f), ' — ', sentence(pick(f.reasonVi, f.reasonEn)),
      h('span', { class: 'meta' }, ` (${t('deadline', { t: vnTime(f.deadline) })})`))) : h('li', null, '—'))
  }

  const draw = async (d: WallData) => {
    fill(stamp, `${t('updated', { t: vnTime(d.generatedAt) })} · ${t('window', { d: d.windowDays })}`)
    const r = d.reports
    const ds = d.dossiers
    const kpi = (label: string, value: string, cls = '') => h('div', { class: `kpi ${cls}` }, h('div', { class: 'v' }, value), h('div', { class: 'l' }, label))
    fill(kpis,
      kpi(`${t('reports')} · ${t('total')}`, String(r.total)),
      kpi(`${t('reports')} · ${t('open')}`, String(r.open)),
      kpi(`${t('reports')} · ${t('overdue')}`, String(r.overdue), r.overdue ? 'bad' : ''),
      kpi(`${t('reports')} · ${t('onTime')}`, pct(r.onTime, r.done)),
      ds ? [
        kpi(`${t('dossiers')} · ${t('total')}`, String(ds.total)),
        kpi(`${t('dossiers')} · ${t('overdue')}`, String(ds.overdue), ds.overdue ? 'bad' : ''),
        kpi(`${t('dossiers')} · ${t('onTime')}`, pct(ds.onTime, ds.done)),
        kpi(t('onlineRate'), pct(ds.online, ds.total), 'good'),
      ] : null,
      d.score766 !== null ? kpi(t('score766'), d.score766.toFixed(1), 'good') : null,
      d.whiteZones ? kpi(`${t('whiteZones')} (/${d.whiteZones.surveyed})`, String(d.whiteZones.villages), d.whiteZones.villages ? 'bad' : '') : null,
    )
    flagPanel.hidden = d.flags === null
    if (d.flags) fill(flagList, d.flags.length ? d.flags.map((f) => h('li', { 'data-unit': f.unit }, h('span', { class: `badge flag-${f.level}` }, f.level), ' ', h('strong', null, unitName(units, f.unit)), ' — ', pick(f.reasonVi, f.reasonEn), h('span', { class: 'meta' }, ` (${vnTime(f.since)})`))) : h('li', null, t('noFlags')))
    compPanel.hidden = d.compliance === null
    if (d.compliance) drawCompliance(d.compliance)
    const table = (title: string, rows: UnitRow[]) => h('table', { class: 'wall-table' },
      h('caption', null, title),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('unit')), h('th', { scope: 'col' }, t('total')), h('th', { scope: 'col' }, t('open')), h('th', { scope: 'col' }, t('overdue')), h('th', { scope: 'col' }, t('onTime')))),
      h('tbody', null, rows.slice(0, 10).map((u) => h('tr', null, h('td', null, unitName(units, u.unit)), h('td', null, String(u.total)), h('td', null, String(u.open)), h('td', { class: u.overdue ? 'bad' : '' }, String(u.overdue)), h('td', null, pct(u.onTime, u.done))))))
    fill(tables, table(t('reports'), r.byUnit), ds ? table(t('dossiers'), ds.byUnit) : h('p', { class: 'hint' }, t('noDossiers')))
    fill(esc, d.escalations.length ? d.escalations.map((e) => h('li', null,
      h('span', { class: `badge kind-${e.kind}` }, e.code), ' ', h('strong', null, unitName(units, e.unit)), ' — ', clip(e.title, 80), h('span', { class: 'meta' }, ` (${vnTime(e.dueAt)})`))) : h('li', null, t('none')))
    fill(note, d.truncated ? t('truncated') : '')

    const map = await mapP.catch(() => null)
    if (map) {
      for (const path of Array.from(map.el.querySelectorAll<SVGPathElement>('path[data-code]'))) {
        const c = d.communes[path.dataset.code!]
        path.classList.toggle('c-open', !!c && c.open > 0 && c.overdue === 0)
        path.classList.toggle('c-overdue', !!c && c.overdue > 0)
        const title = path.querySelector('title')
        if (title) title.textContent = `${title.textContent!.split(' · ')[0]}${c ? ` · ${t('open')}: ${c.open} · ${t('overdue')}: ${c.overdue}` : ''}`
      }
    }
    const uPlot = await uplotP.catch(() => null)
    if (uPlot) {
      plot?.destroy()
      const series: { label: string; stroke: string; width: number }[] = [
        { label: t('sIn'), stroke: '#f0a500', width: 2 },
        { label: t('sResolved'), stroke: '#52b788', width: 2 },
      ]
      const data: number[][] = [d.trend.weeks, d.trend.reportsIn, d.trend.reportsResolved]
      if (d.trend.dossiersIn) {
        series.push({ label: t('sDossiers'), stroke: '#8ecae6', width: 2 })
        data.push(d.trend.dossiersIn)
      }
      chartBox.textContent = ''
      const width = Math.max(260, chartBox.clientWidth || 600)
      plot = new uPlot({
        width, height: 220, tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Ho_Chi_Minh'),
        axes: [{ stroke: '#ccc', grid: { stroke: '#333' } }, { stroke: '#ccc', grid: { stroke: '#333' } }],
        series: [{}, ...series],
      }, data as unknown as [number[], ...number[][]], chartBox)
    }
    grid.dataset.ready = 'true'
  }
  const refresh = async () => {
    if (!grid.isConnected) return clearInterval(timer)
    try {
      void communityP.then((c) => c.communityPanel(communityBox)).catch((e) => fill(communityBox, h('p', { class: 'hint' }, errorText(e))))
      await draw(await loadWallData())
    } catch (e) {
      fill(note, h('span', { class: 'error' }, errorText(e)))
    }
  }
  await refresh()
  timer = setInterval(() => void refresh(), REFRESH_MS)
}
