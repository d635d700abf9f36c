import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { coverageByCommune, villagesWithoutTeam } from '../community/index.ts'
import { getOrgUnit } from '../identity/index.ts'
import { clusterReportLocations, listReportTexts, reportCategoryNames, type ReportHotSpot } from '../reports/facts.ts'
import { getProcedureVersion } from '../services/index.ts'
import { addMonths, forecastNext, median, monthRange, scoreLast, trendOf, type AnomalyScore, type Forecast, type Trend } from './stats.ts'
import { findTopics, type Topic } from './topics.ts'

/**
 * The monthly analysis (phân tích tháng): trends, anomalies, forecast, hot spots, recurring
 * topics, late dossiers and the step that eats their time, then ranked recommendations in
 * Vietnamese built from those numbers. Reads the IOC roll-ups and the reports module's
 * exported read functions.
 */

export const HISTORY_MONTHS = 36
export const ANOMALY_THRESHOLD = 3.5
export const HOTSPOT_EPS_M = 300
export const HOTSPOT_MIN_POINTS = 8

export interface Recommendation {
  rank: number
  kind: 'spike' | 'hotspot' | 'slow_step' | 'report_overdue' | 'online_rate' | 'topic'
  unit_code: string
  unit_name: string
  title_vi: string
  action_vi: string
  expected_effect_vi: string
  evidence: Record<string, number | string | null>
  /** Items (reports or dossiers) the issue touches this month: the ranking key. */
  weight: number
}

export interface SeriesBlock { months: string[]; received: number[]; trend: Trend; forecast: Forecast | null; anomaly: AnomalyScore | null }

export interface AnalysisResult {
  period: string
  generated_at: string
  province: { reports: SeriesBlock; dossiers: SeriesBlock; report_on_time_rate: number | null; dossier_on_time_rate: number | null; online_rate: number | null }
  units: { unit_code: string; unit_name: string; reports: SeriesBlock; dossiers: SeriesBlock }[]
  anomalies: { unit_code: string; unit_name: string; commune_code: string; category: string; category_name: string; month: string; value: number; baseline: number; level: number; seasonal: number; score: number }[]
  hotspots: (ReportHotSpot & { unit_name: string; category_name: string })[]
  topics: (Topic & { unit_name: string; category_name: string })[]
  late_dossiers: { unit_code: string; unit_name: string; procedure_code: string; procedure_name: string; resolved: number; late: number; late_rate: number; province_late_rate: number; slowest_step: string | null; slowest_step_name: string | null; step_share: number | null; step_hours: number | null; other_units_step_hours: number | null }[]
  report_overdue: { unit_code: string; unit_name: string; category: string; category_name: string; finished: number; late: number; overdue_open: number; rate: number; province_rate: number }[]
  online: { unit_code: string; unit_name: string; received: number; online: number; rate: number; province_rate: number; community?: OnlineCommunity }[]
  /** Community digital teams (tổ công nghệ số cộng đồng): coverage now and help given in the month. */
  community: CommunitySummary
  recommendations: Recommendation[]
  method: Record<string, string>
}

/** Where a commune with a low online rate stands with community teams. */
export interface OnlineCommunity { villages: number; villages_with_team: number; teams: number; members: number; without_team: string[] }
export interface CommunitySummary {
  villages: number
  villages_with_team: number
  village_coverage: number | null
  teams: number
  members: number
  /** Help recorded in the month, per kind and per platform. */
  activities: Record<string, number>
  by_platform: Record<string, number>
  /** Communes with listed villages and none covered by a team. */
  communes_without_team: number
}

/** The month before `now` in Asia/Ho_Chi_Minh, 'YYYY-MM'. */
export function previousMonth(now: Date): string {
  return addMonths(new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 7), -1)
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`.replace('.', ',')
const fmt = (x: number) => (Math.round(x * 10) / 10).toLocaleString('vi-VN')

export async function runAnalysis(db: Db, period: string, now: Date): Promise<AnalysisResult> {
  const months = monthRange(period, HISTORY_MONTHS)
  const first = `${months[0]}-01`
  const periodStart = `${period}-01`
  const nextStart = `${addMonths(period, 1)}-01`
  const monthIdx = new Map(months.map((m, i) => [m, i]))
  const unitNames = new Map<string, string>()
  const unitName = async (code: string) => {
    if (!unitNames.has(code)) unitNames.set(code, (await getOrgUnit(db, code))?.name_vi ?? code)
    return unitNames.get(code)!
  }
  const categories = await reportCategoryNames(db)
  const catName = (c: string) => categories.get(c)?.name_vi ?? c

  // Monthly received counts by source × unit × commune × category over the window.
  const { rows: monthly } = await sql<{ month: string; source: string; unit_code: string; commune_code: string; category: string; received: number }>`
    select to_char(day, 'YYYY-MM') as month, source, unit_code, commune_code, category, sum(received)::int as received
    from ioc_daily_facts where day >= ${first}::date and day < ${nextStart}::date and received > 0
    group by 1, 2, 3, 4, 5`.execute(db)
  const series = (filter: (r: (typeof monthly)[number]) => boolean) => {
    const v = new Array<number>(months.length).fill(0)
    for (const r of monthly) if (filter(r)) v[monthIdx.get(r.month)!] += r.received
    return v
  }
  // Drop leading months before any data, so a young system is not read as a jump from zero.
  const block = (values: number[]): SeriesBlock => {
    const firstData = values.findIndex((x) => x > 0)
    const from = firstData === -1 ? values.length - 1 : firstData
    const ms = months.slice(from)
    const vs = values.slice(from)
    return { months: ms, received: vs, trend: trendOf(vs), forecast: forecastNext(ms, vs), anomaly: scoreLast(vs) }
  }

  // Outcomes of the month.
  const { rows: outcome } = await sql<{ source: string; unit_code: string; category: string; channel: string; received: number; resolved: number; early: number; on_time: number; late: number }>`
    select source, unit_code, category, channel, sum(received)::int as received, sum(resolved)::int as resolved, sum(early)::int as early, sum(on_time)::int as on_time, sum(late)::int as late
    from ioc_daily_facts where day >= ${periodStart}::date and day < ${nextStart}::date group by 1, 2, 3, 4`.execute(db)
  const sum = (rows: typeof outcome, k: 'received' | 'resolved' | 'early' | 'on_time' | 'late') => rows.reduce((a, r) => a + r[k], 0)
  const rep = outcome.filter((r) => r.source === 'report')
  const dos = outcome.filter((r) => r.source === 'dossier')
  const rate = (n: number, d: number) => (d > 0 ? n / d : null)

  const unitCodes = [...new Set(monthly.map((r) => r.unit_code))].sort()
  const units = []
  for (const u of unitCodes) {
    units.push({ unit_code: u, unit_name: await unitName(u), reports: block(series((r) => r.source === 'report' && r.unit_code === u)), dossiers: block(series((r) => r.source === 'dossier' && r.unit_code === u)) })
  }

  // Anomalies: every commune × category series of reports.
  const anomalies: AnalysisResult['anomalies'] = []
  const cells = new Map<string, { unit_code: string; commune_code: string; category: string }>()
  for (const r of monthly) if (r.source === 'report') cells.set(`${r.commune_code}|${r.category}`, { unit_code: r.unit_code, commune_code: r.commune_code, category: r.category })
  for (const [key, c] of cells) {
    const values = series((r) => r.source === 'report' && `${r.commune_code}|${r.category}` === key)
    const firstData = values.findIndex((x) => x > 0)
    const s = scoreLast(values.slice(Math.max(0, firstData)))
    if (s && s.score >= ANOMALY_THRESHOLD && s.value >= 5) {
      anomalies.push({ unit_code: c.unit_code, unit_name: await unitName(c.unit_code), commune_code: c.commune_code, category: c.category, category_name: catName(c.category), month: period, value: s.value, baseline: Math.round(s.baseline * 10) / 10, level: s.level, seasonal: s.seasonal, score: Math.round(s.score * 10) / 10 })
    }
  }
  anomalies.sort((a, b) => b.score - a.score)

  // Spatial hot spots of the month.
  const from = new Date(`${periodStart}T00:00:00+07:00`)
  const to = new Date(`${nextStart}T00:00:00+07:00`)
  const spots = await clusterReportLocations(db, { from, to, epsMeters: HOTSPOT_EPS_M, minPoints: HOTSPOT_MIN_POINTS, limit: 10 })
  const hotspots = []
  for (const h of spots) hotspots.push({ ...h, unit_name: await unitName(h.unit_code), category_name: catName(h.top_category) })

  // Recurring topics in the month's texts.
  const texts = await listReportTexts(db, { from, to, limit: 5000 })
  const topics = []
  for (const t of findTopics(texts.map((x) => ({ id: x.code, text: x.description, category: x.category, unit_code: x.unit_code, commune_code: x.commune_code })), { minSize: 5 })) {
    topics.push({ ...t, unit_name: await unitName(t.top_unit), category_name: catName(t.top_category) })
  }

  // Late dossiers by unit × procedure and the step that eats the time.
  const provinceLate = rate(sum(dos, 'late'), sum(dos, 'resolved')) ?? 0
  const { rows: stepRows } = await sql<{ procedure_code: string; unit_code: string; step: string; n: number; seconds: number }>`
    select procedure_code, unit_code, step, sum(n)::int as n, sum(seconds)::float8 as seconds from ioc_step_facts
    where month >= ${`${addMonths(period, -2)}-01`}::date and month <= ${periodStart}::date group by 1, 2, 3`.execute(db)
  const byUP = new Map<string, { unit_code: string; procedure_code: string; resolved: number; late: number }>()
  for (const r of dos) {
    const k = `${r.unit_code}|${r.category}`
    const cur = byUP.get(k) ?? { unit_code: r.unit_code, procedure_code: r.category, resolved: 0, late: 0 }
    cur.resolved += r.resolved
    cur.late += r.late
    byUP.set(k, cur)
  }
  const late_dossiers: AnalysisResult['late_dossiers'] = []
  for (const x of [...byUP.values()].filter((x) => x.late > 0 && x.resolved >= 5).sort((a, b) => b.late - a.late).slice(0, 10)) {
    const mine = stepRows.filter((s) => s.procedure_code === x.procedure_code && s.unit_code === x.unit_code)
    const total = mine.reduce((a, s) => a + s.seconds, 0)
    const slowest = [...mine].sort((a, b) => b.seconds - a.seconds)[0]
    const others = stepRows.filter((s) => s.procedure_code === x.procedure_code && s.unit_code !== x.unit_code && slowest && s.step === slowest.step && s.n > 0)
    const proc = await getProcedureVersion(db, x.procedure_code, now)
    late_dossiers.push({
      unit_code: x.unit_code, unit_name: await unitName(x.unit_code), procedure_code: x.procedure_code, procedure_name: proc?.name_vi ?? x.procedure_code,
      resolved: x.resolved, late: x.late, late_rate: x.late / x.resolved, province_late_rate: provinceLate,
      slowest_step: slowest?.step ?? null, slowest_step_name: slowest ? (proc?.steps?.find((s) => s.key === slowest.step)?.name_vi ?? slowest.step) : null,
      step_share: slowest && total > 0 ? slowest.seconds / total : null,
      step_hours: slowest && slowest.n > 0 ? slowest.seconds / slowest.n / 3600 : null,
      other_units_step_hours: others.length ? median(others.map((s) => s.seconds / s.n / 3600)) : null,
    })
  }

  // Report overdue by unit × category: finished late this month plus open items now past due.
  const { rows: openRows } = await sql<{ unit_code: string; category: string; overdue: number }>`
    select unit_code, category, count(*)::int as overdue from ioc_open_items where source = 'report' and due_at < ${now.toISOString()} group by 1, 2`.execute(db)
  const ov = new Map<string, { unit_code: string; category: string; finished: number; late: number; overdue_open: number }>()
  for (const r of rep) {
    const k = `${r.unit_code}|${r.category}`
    const cur = ov.get(k) ?? { unit_code: r.unit_code, category: r.category, finished: 0, late: 0, overdue_open: 0 }
    cur.finished += r.resolved
    cur.late += r.late
    ov.set(k, cur)
  }
  for (const o of openRows) {
    const k = `${o.unit_code}|${o.category}`
    const cur = ov.get(k) ?? { unit_code: o.unit_code, category: o.category, finished: 0, late: 0, overdue_open: 0 }
    cur.overdue_open += o.overdue
    ov.set(k, cur)
  }
  const allOv = [...ov.values()]
  const provinceOvRate = rate(allOv.reduce((a, o) => a + o.late + o.overdue_open, 0), allOv.reduce((a, o) => a + o.finished + o.overdue_open, 0)) ?? 0
  const report_overdue: AnalysisResult['report_overdue'] = []
  for (const o of allOv.filter((o) => o.finished + o.overdue_open >= 5)) {
    const r = (o.late + o.overdue_open) / (o.finished + o.overdue_open)
    if (r >= 0.2 && r >= 1.5 * provinceOvRate) report_overdue.push({ ...o, unit_name: await unitName(o.unit_code), category_name: catName(o.category), rate: r, province_rate: provinceOvRate })
  }
  report_overdue.sort((a, b) => b.late + b.overdue_open - (a.late + a.overdue_open))

  // Online share of dossiers per unit.
  const provinceOnline = rate(dos.filter((r) => r.channel === 'online').reduce((a, r) => a + r.received, 0), sum(dos, 'received'))
  const online: AnalysisResult['online'] = []
  for (const u of new Set(dos.map((r) => r.unit_code))) {
    const mine = dos.filter((r) => r.unit_code === u)
    const received = sum(mine, 'received')
    const on = mine.filter((r) => r.channel === 'online').reduce((a, r) => a + r.received, 0)
    if (received >= 10 && provinceOnline !== null && on / received < provinceOnline - 0.2) online.push({ unit_code: u, unit_name: await unitName(u), received, online: on, rate: on / received, province_rate: provinceOnline })
  }

  // Community digital teams: coverage now, help given in the month; where the online rate is low,
  // which villages of the commune have no team yet (the campaign's targets).
  const vnMidnight = (d: string) => new Date(`${d}T00:00:00+07:00`)
  const [coverageNow, helpInMonth] = await Promise.all([coverageByCommune(db), coverageByCommune(db, { from: vnMidnight(periodStart), to: vnMidnight(nextStart) })])
  const coverageOf = new Map(coverageNow.map((c) => [c.commune_code, c]))
  for (const o of online) {
    const c = coverageOf.get(o.unit_code)
    if (!c || c.villages === 0) continue
    o.community = { villages: c.villages, villages_with_team: c.villages_with_team, teams: c.teams, members: c.members, without_team: (await villagesWithoutTeam(db, o.unit_code)).map((v) => v.name) }
  }
  const community: CommunitySummary = { villages: 0, villages_with_team: 0, village_coverage: null, teams: 0, members: 0, activities: {}, by_platform: {}, communes_without_team: 0 }
  for (const c of coverageNow) {
    community.villages += c.villages
    community.villages_with_team += c.villages_with_team
    community.teams += c.teams
    community.members += c.members
    if (c.villages > 0 && c.villages_with_team === 0) community.communes_without_team++
  }
  community.village_coverage = community.villages > 0 ? community.villages_with_team / community.villages : null
  for (const c of helpInMonth) {
    for (const [k, n] of Object.entries(c.activities)) community.activities[k] = (community.activities[k] ?? 0) + (n ?? 0)
    for (const [k, n] of Object.entries(c.by_platform)) community.by_platform[k] = (community.by_platform[k] ?? 0) + n
  }

  const result: AnalysisResult = {
    period,
    generated_at: now.toISOString(),
    province: {
      reports: block(series((r) => r.source === 'report')),
      dossiers: block(series((r) => r.source === 'dossier')),
      report_on_time_rate: rate(sum(rep, 'early') + sum(rep, 'on_time'), sum(rep, 'resolved')),
      dossier_on_time_rate: rate(sum(dos, 'early') + sum(dos, 'on_time'), sum(dos, 'resolved')),
      online_rate: provinceOnline,
    },
    units, anomalies, hotspots, topics, late_dossiers, report_overdue, online, community, recommendations: [],
    method: {
      anomaly: `Baseline = median of the 12 previous months + seasonal deviation of the same calendar month in earlier years; score = (residual − median residual) / max(1.4826·MAD of residuals, √baseline); flagged at score ≥ ${ANOMALY_THRESHOLD} and ≥ 5 reports.`,
      forecast: 'Linear trend over the last 12 seasonally adjusted months + seasonal index; 95% interval ±1.96σ (MAD of residuals, at least Poisson).',
      hotspots: `PostGIS ST_ClusterDBSCAN, eps ${HOTSPOT_EPS_M} m, at least ${HOTSPOT_MIN_POINTS} reports.`,
      topics: 'Normalised syllables and bigrams, TF-IDF, greedy cosine clustering (threshold 0.3), topics of ≥ 5 reports.',
      late_dossiers: 'Resolved late / resolved this month by unit × procedure; time per control-slip step over the last 3 months.',
    },
  }
  result.recommendations = recommend(result)
  return result
}

/** Ranked recommendations, each built from the numbers of one finding. */
export function recommend(a: AnalysisResult): Recommendation[] {
  const out: Omit<Recommendation, 'rank'>[] = []
  for (const x of a.anomalies) {
    out.push({
      kind: 'spike', unit_code: x.unit_code, unit_name: x.unit_name, weight: x.value - x.baseline,
      title_vi: `${x.unit_name}: phản ánh về "${x.category_name}" tháng ${x.month} tăng đột biến: ${x.value} phản ánh so với mức nền ${fmt(x.baseline)} (điểm bất thường ${fmt(x.score)}).`,
      action_vi: `Cử cán bộ kiểm tra hiện trường, tìm nguyên nhân chung của các phản ánh "${x.category_name}" tại ${x.unit_name} và xử lý tận gốc.`,
      expected_effect_vi: `Đưa số phản ánh về gần mức nền (khoảng ${fmt(x.baseline)}/tháng), giảm khoảng ${fmt(x.value - x.baseline)} phản ánh mỗi tháng.`,
      evidence: { value: x.value, baseline: x.baseline, score: x.score, commune_code: x.commune_code, category: x.category },
    })
  }
  for (const h of a.hotspots) {
    out.push({
      kind: 'hotspot', unit_code: h.unit_code, unit_name: h.unit_name, weight: h.size,
      title_vi: `Điểm nóng tại ${h.unit_name} (${h.lat.toFixed(4)}, ${h.lon.toFixed(4)}): ${h.size} phản ánh trong bán kính ${h.radius_m} m, nhiều nhất là "${h.category_name}" (${h.top_category_count}).`,
      action_vi: `Lập tổ công tác xử lý một lần cho cả cụm điểm nóng thay vì từng phản ánh riêng lẻ; gộp các phản ánh trùng.`,
      expected_effect_vi: `Giải quyết đồng thời ${h.size} phản ánh; giảm tới ${h.size - 1} lượt xử lý trùng lặp.`,
      evidence: { size: h.size, radius_m: h.radius_m, lat: h.lat, lon: h.lon, top_category: h.top_category, top_category_count: h.top_category_count },
    })
  }
  for (const d of a.late_dossiers) {
    const stepPart = d.slowest_step_name && d.step_share !== null
      ? `; bước "${d.slowest_step_name}" chiếm ${pct(d.step_share)} thời gian xử lý (${fmt(d.step_hours ?? 0)} giờ/hồ sơ${d.other_units_step_hours !== null ? `, các đơn vị khác ${fmt(d.other_units_step_hours)} giờ` : ''})`
      : ''
    const ratio = d.province_late_rate > 0 ? d.late_rate / d.province_late_rate : null
    const saved = d.step_hours !== null && d.other_units_step_hours !== null && d.step_hours > d.other_units_step_hours ? d.step_hours - d.other_units_step_hours : null
    out.push({
      kind: 'slow_step', unit_code: d.unit_code, unit_name: d.unit_name, weight: d.late,
      title_vi: `${d.unit_name}: thủ tục "${d.procedure_name}" có ${d.late}/${d.resolved} hồ sơ trễ hạn (${pct(d.late_rate)}${ratio !== null ? `, gấp ${fmt(ratio)} lần tỷ lệ chung của tỉnh ${pct(d.province_late_rate)}` : ''})${stepPart}.`,
      action_vi: d.slowest_step_name ? `Bổ sung người xử lý hoặc ủy quyền cho bước "${d.slowest_step_name}" của thủ tục này; theo dõi hạn của bước trên phiếu kiểm soát.` : 'Rà soát quy trình nội bộ của thủ tục này và phân công lại người xử lý.',
      expected_effect_vi: saved !== null ? `Nếu bước "${d.slowest_step_name}" về mức của các đơn vị khác, mỗi hồ sơ rút ngắn khoảng ${fmt(saved)} giờ; có thể tránh trễ hạn cho phần lớn ${d.late} hồ sơ/tháng.` : `Giảm số hồ sơ trễ hạn (${d.late} hồ sơ trong tháng) về gần tỷ lệ chung của tỉnh.`,
      evidence: { procedure_code: d.procedure_code, resolved: d.resolved, late: d.late, late_rate: d.late_rate, province_late_rate: d.province_late_rate, slowest_step: d.slowest_step, step_share: d.step_share, step_hours: d.step_hours, other_units_step_hours: d.other_units_step_hours },
    })
  }
  for (const o of a.report_overdue) {
    out.push({
      kind: 'report_overdue', unit_code: o.unit_code, unit_name: o.unit_name, weight: o.late + o.overdue_open,
      title_vi: `${o.unit_name}: ${pct(o.rate)} phản ánh "${o.category_name}" quá hạn (${o.late} xử lý trễ, ${o.overdue_open} đang quá hạn), gấp ${fmt(o.province_rate > 0 ? o.rate / o.province_rate : 0)} lần tỷ lệ chung ${pct(o.province_rate)}.`,
      action_vi: `Phân công thêm người xử lý phản ánh "${o.category_name}" tại ${o.unit_name}; nhắc hạn hằng ngày các phản ánh sắp quá hạn.`,
      expected_effect_vi: `Đưa tỷ lệ quá hạn về mức chung của tỉnh (${pct(o.province_rate)}), tức giảm khoảng ${Math.max(0, Math.round((o.rate - o.province_rate) * (o.finished + o.overdue_open)))} phản ánh quá hạn mỗi tháng.`,
      evidence: { category: o.category, finished: o.finished, late: o.late, overdue_open: o.overdue_open, rate: o.rate, province_rate: o.province_rate },
    })
  }
  for (const o of a.online) {
    const c = o.community
    const names = (xs: string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')} và ${xs.length - 8} thôn, bản khác` : xs.join(', '))
    // Where villages have no community team, the recommendation is a campaign naming them.
    const action = c && c.without_team.length > 0
      ? `Mở chiến dịch "Đưa dịch vụ công trực tuyến về bản" tại ${o.unit_name}: thành lập tổ công nghệ số cộng đồng ở ${c.without_team.length}/${c.villages} thôn, bản chưa có tổ (${names(c.without_team)}), phối hợp doanh nghiệp viễn thông hướng dẫn người dân tạo tài khoản và nộp hồ sơ trực tuyến.`
      : c
        ? `${o.unit_name} đã có tổ công nghệ số ở ${c.villages_with_team}/${c.villages} thôn, bản (${c.members} thành viên): giao các tổ hướng dẫn người dân nộp hồ sơ trực tuyến, đặt chỉ tiêu theo tháng; hỗ trợ tại bộ phận một cửa.`
        : `Tổ công nghệ số cộng đồng hướng dẫn người dân ${o.unit_name} nộp hồ sơ trực tuyến; hỗ trợ tại bộ phận một cửa.`
    out.push({
      kind: 'online_rate', unit_code: o.unit_code, unit_name: o.unit_name, weight: Math.round((o.province_rate - o.rate) * o.received),
      title_vi: `${o.unit_name}: tỷ lệ hồ sơ nộp trực tuyến ${pct(o.rate)} so với ${pct(o.province_rate)} toàn tỉnh (${o.online}/${o.received} hồ sơ)${c ? `; ${c.villages_with_team}/${c.villages} thôn, bản có tổ công nghệ số cộng đồng` : ''}.`,
      action_vi: action,
      expected_effect_vi: `Nếu đạt mức toàn tỉnh, thêm khoảng ${Math.round((o.province_rate - o.rate) * o.received)} hồ sơ trực tuyến mỗi tháng.`,
      evidence: { received: o.received, online: o.online, rate: o.rate, province_rate: o.province_rate, ...(c ? { villages: c.villages, villages_with_team: c.villages_with_team, villages_without_team: c.without_team.join(', ') } : {}) },
    })
  }
  for (const t of a.topics) {
    out.push({
      kind: 'topic', unit_code: t.top_unit, unit_name: t.unit_name, weight: t.size / 2,
      title_vi: `Chủ đề lặp lại: "${t.terms.slice(0, 3).join(', ')}" — ${t.size} phản ánh trong tháng, chủ yếu "${t.category_name}" tại ${t.unit_name}.`,
      action_vi: `Giao ${t.unit_name} rà soát chung nhóm phản ánh này và trả lời công khai một lần cho các phản ánh cùng nội dung.`,
      expected_effect_vi: `Giảm phản ánh lặp lại cùng nội dung (${t.size} phản ánh trong tháng).`,
      evidence: { size: t.size, terms: t.terms.join(', '), top_category: t.top_category },
    })
  }
  return out.sort((x, y) => y.weight - x.weight).map((r, i) => ({ rank: i + 1, ...r }))
}

/** What an officer of one unit sees: province aggregates plus their own unit's findings. */
export function viewForUnit(a: AnalysisResult, unitCode: string): AnalysisResult {
  const mine = <T extends { unit_code: string }>(xs: T[]) => xs.filter((x) => x.unit_code === unitCode)
  return {
    ...a, units: mine(a.units), anomalies: mine(a.anomalies), hotspots: mine(a.hotspots), late_dossiers: mine(a.late_dossiers),
    report_overdue: mine(a.report_overdue), online: mine(a.online), topics: a.topics.filter((t) => t.top_unit === unitCode),
    recommendations: mine(a.recommendations).map((r, i) => ({ ...r, rank: i + 1 })),
  }
}
