import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import PDFDocument from 'pdfkit'
import type { AnalysisResult, SeriesBlock } from './analysis.ts'

const require = createRequire(import.meta.url)
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf')
const REGULAR = join(FONT_DIR, 'DejaVuSans.ttf')
const BOLD = join(FONT_DIR, 'DejaVuSans-Bold.ttf')

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
const pct = (x: number | null) => (x === null ? '—' : `${(Math.round(x * 1000) / 10).toString().replace('.', ',')}%`)

/** Points of a line chart of the series (last 24 months) and its forecast, in a w × h box. */
function chartGeometry(s: SeriesBlock, w: number, h: number) {
  const months = s.months.slice(-24)
  const values = s.received.slice(-24)
  const f = s.forecast
  const max = Math.max(1, ...values, f?.upper ?? 0)
  const n = months.length + (f ? 1 : 0)
  const x = (i: number) => (n <= 1 ? w / 2 : (i / (n - 1)) * w)
  const y = (v: number) => h - (v / max) * h
  return { months, values, f, max, x, y, points: values.map((v, i) => [x(i), y(v)] as const) }
}

export function seriesSvg(s: SeriesBlock, title: string): string {
  const W = 640, H = 200, P = 30
  const g = chartGeometry(s, W - 2 * P, H - 2 * P)
  const pts = g.points.map(([x, y]) => `${(x + P).toFixed(1)},${(y + P).toFixed(1)}`).join(' ')
  let fc = ''
  if (g.f && g.points.length) {
    const xi = g.x(g.values.length) + P
    const [lx, ly] = g.points[g.points.length - 1]!
    fc = `<line x1="${lx + P}" y1="${ly + P}" x2="${xi}" y2="${g.y(g.f.value) + P}" stroke="#c0392b" stroke-dasharray="4 3"/>`
      + `<line x1="${xi}" y1="${g.y(g.f.upper) + P}" x2="${xi}" y2="${g.y(g.f.lower) + P}" stroke="#c0392b" stroke-width="6" stroke-opacity="0.3"/>`
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`
    + `<text x="${P}" y="16" font-size="12">${esc(title)} (tối đa ${g.max})</text>`
    + `<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/>`
    + `<polyline fill="none" stroke="#2c6fbb" stroke-width="2" points="${pts}"/>${fc}`
    + `<text x="${P}" y="${H - 8}" font-size="10">${esc(g.months[0] ?? '')}</text><text x="${W - P - 40}" y="${H - 8}" font-size="10">${esc(g.f?.month ?? g.months.at(-1) ?? '')}</text></svg>`
}

/** One line on community digital teams (older stored analyses have no community block). */
function communityLine(a: AnalysisResult): string {
  const c = a.community
  if (!c) return ''
  const help = Object.values(c.activities).reduce((x, n) => x + n, 0)
  return `Tổ công nghệ số cộng đồng: ${c.teams} tổ, ${c.members} thành viên; ${c.villages_with_team}/${c.villages} thôn, bản có tổ (${pct(c.village_coverage)}); ${help} lượt hỗ trợ người dân trong tháng.`
}

/** The analysis as a server-rendered web page. */
export function analysisHtml(a: AnalysisResult & { id: string; narrative?: string | null }): string {
  const recs = a.recommendations.map((r) => `<li><strong>${esc(r.title_vi)}</strong><br>→ ${esc(r.action_vi)}<br><em>Hiệu quả dự kiến: ${esc(r.expected_effect_vi)}</em></li>`).join('')
  const anomalies = a.anomalies.map((x) => `<tr><td>${esc(x.unit_name)}</td><td>${esc(x.category_name)}</td><td>${x.value}</td><td>${x.baseline}</td><td>${x.score}</td></tr>`).join('')
  const spots = a.hotspots.map((h) => `<tr><td>${esc(h.unit_name)}</td><td>${h.lat.toFixed(4)}, ${h.lon.toFixed(4)}</td><td>${h.size}</td><td>${h.radius_m} m</td><td>${esc(h.category_name)}</td></tr>`).join('')
  const late = a.late_dossiers.map((d) => `<tr><td>${esc(d.unit_name)}</td><td>${esc(d.procedure_name)}</td><td>${d.late}/${d.resolved}</td><td>${esc(d.slowest_step_name ?? '—')}</td><td>${pct(d.step_share)}</td></tr>`).join('')
  const f = a.province.reports.forecast
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Phân tích tháng ${esc(a.period)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>
<h1>Trung tâm điều hành thông minh tỉnh Điện Biên — Phân tích tháng ${esc(a.period)}</h1>
<p>Phản ánh hiện trường: ${a.province.reports.trend.value} (tháng trước ${a.province.reports.trend.previous ?? '—'}, cùng kỳ ${a.province.reports.trend.year_ago ?? '—'}); đúng hạn ${pct(a.province.report_on_time_rate)}.
Hồ sơ TTHC: ${a.province.dossiers.trend.value}; đúng hạn ${pct(a.province.dossier_on_time_rate)}; trực tuyến ${pct(a.province.online_rate)}.
${f ? `Dự báo phản ánh tháng ${esc(f.month)}: ${f.value} (khoảng ${f.lower}–${f.upper}).` : ''}
${esc(communityLine(a))}</p>
${seriesSvg(a.province.reports, 'Phản ánh hiện trường theo tháng')}
${seriesSvg(a.province.dossiers, 'Hồ sơ TTHC theo tháng')}
${a.narrative ? `<h2>Tóm tắt</h2><p>${esc(a.narrative)}</p>` : ''}
<h2>Khuyến nghị</h2><ol>${recs || '<li>Không có vấn đề nổi bật.</li>'}</ol>
<h2>Bất thường</h2><table><tr><th>Đơn vị</th><th>Lĩnh vực</th><th>Tháng này</th><th>Mức nền</th><th>Điểm</th></tr>${anomalies}</table>
<h2>Điểm nóng</h2><table><tr><th>Đơn vị</th><th>Tọa độ</th><th>Số phản ánh</th><th>Bán kính</th><th>Lĩnh vực chính</th></tr>${spots}</table>
<h2>Hồ sơ trễ hạn</h2><table><tr><th>Đơn vị</th><th>Thủ tục</th><th>Trễ/giải quyết</th><th>Bước chậm nhất</th><th>Tỷ trọng thời gian</th></tr>${late}</table>
<p><a href="/api/ioc/analyses/${esc(a.id)}.pdf">PDF</a></p></body></html>`
}

/** The analysis as a PDF with DejaVu fonts (Vietnamese diacritics) and charts drawn with pdfkit. */
export function analysisPdf(a: AnalysisResult & { narrative?: string | null }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 48, info: { Title: `Phân tích tháng ${a.period}` } })
    const chunks: Buffer[] = []
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
    doc.registerFont('r', REGULAR)
    doc.registerFont('b', BOLD)
    doc.font('b').fontSize(15).text(`Trung tâm điều hành thông minh tỉnh Điện Biên`, { align: 'center' })
    doc.fontSize(13).text(`Phân tích và khuyến nghị tháng ${a.period}`, { align: 'center' }).moveDown()
    const p = a.province
    doc.font('r').fontSize(10).text(`Phản ánh hiện trường: ${p.reports.trend.value} (tháng trước ${p.reports.trend.previous ?? '—'}, cùng kỳ năm trước ${p.reports.trend.year_ago ?? '—'}); đúng hạn ${pct(p.report_on_time_rate)}.`)
    doc.text(`Hồ sơ thủ tục hành chính: ${p.dossiers.trend.value}; đúng hạn ${pct(p.dossier_on_time_rate)}; nộp trực tuyến ${pct(p.online_rate)}.`)
    if (communityLine(a)) doc.text(communityLine(a))
    if (p.reports.forecast) doc.text(`Dự báo phản ánh tháng ${p.reports.forecast.month}: ${p.reports.forecast.value} (khoảng tin cậy 95%: ${p.reports.forecast.lower}–${p.reports.forecast.upper}).`)
    doc.moveDown()
    const chart = (s: SeriesBlock, title: string) => {
      const x0 = 60, w = 470, h = 120
      const y0 = doc.y + 14
      doc.font('b').fontSize(10).text(title, x0, doc.y)
      const g = chartGeometry(s, w, h)
      doc.save().lineWidth(0.5).strokeColor('#999999').moveTo(x0, y0 + h).lineTo(x0 + w, y0 + h).stroke().moveTo(x0, y0).lineTo(x0, y0 + h).stroke().restore()
      if (g.points.length) {
        doc.save().lineWidth(1.5).strokeColor('#2c6fbb')
        g.points.forEach(([x, y], i) => (i === 0 ? doc.moveTo(x0 + x, y0 + y) : doc.lineTo(x0 + x, y0 + y)))
        doc.stroke().restore()
        if (g.f) {
          const xi = x0 + g.x(g.values.length)
          const [lx, ly] = g.points[g.points.length - 1]!
          doc.save().strokeColor('#c0392b').dash(3, { space: 2 }).moveTo(x0 + lx, y0 + ly).lineTo(xi, y0 + g.y(g.f.value)).stroke().undash()
          doc.lineWidth(5).strokeOpacity(0.3).moveTo(xi, y0 + g.y(g.f.upper)).lineTo(xi, y0 + g.y(g.f.lower)).stroke().restore()
        }
      }
      doc.font('r').fontSize(7).text(String(g.max), x0 - 30, y0 - 3, { width: 26, align: 'right' }).text('0', x0 - 30, y0 + h - 4, { width: 26, align: 'right' })
        .text(g.months[0] ?? '', x0, y0 + h + 3).text(g.f?.month ?? g.months.at(-1) ?? '', x0 + w - 40, y0 + h + 3)
      doc.x = 48
      doc.y = y0 + h + 18
    }
    chart(p.reports, 'Phản ánh hiện trường theo tháng (đường đỏ: dự báo và khoảng tin cậy)')
    chart(p.dossiers, 'Hồ sơ thủ tục hành chính theo tháng')
    if (a.late_dossiers.length) {
      doc.font('b').fontSize(10).text('Hồ sơ trễ hạn theo thủ tục (số hồ sơ)', 48, doc.y)
      const max = Math.max(...a.late_dossiers.map((d) => d.late))
      for (const d of a.late_dossiers.slice(0, 6)) {
        const y = doc.y + 2
        doc.font('r').fontSize(8).text(`${d.unit_name} — ${d.procedure_name}`.slice(0, 60), 48, y, { width: 250 })
        doc.save().fillColor('#c0392b').rect(300, y, (d.late / max) * 200, 8).fill().restore()
        doc.fontSize(8).text(`${d.late}/${d.resolved}`, 505, y)
        doc.x = 48
        doc.y = Math.max(doc.y, y + 12)
      }
      doc.moveDown()
    }
    if (a.narrative) {
      doc.font('b').fontSize(11).text('Tóm tắt', 48, doc.y).font('r').fontSize(9).text(a.narrative).moveDown()
    }
    doc.font('b').fontSize(11).text('Khuyến nghị', 48, doc.y).moveDown(0.3)
    if (a.recommendations.length === 0) doc.font('r').fontSize(9).text('Không có vấn đề nổi bật trong tháng.')
    for (const r of a.recommendations.slice(0, 20)) {
      doc.font('b').fontSize(9).text(`${r.rank}. ${r.title_vi}`)
      doc.font('r').fontSize(9).text(`→ ${r.action_vi}`).text(`Hiệu quả dự kiến: ${r.expected_effect_vi}`).moveDown(0.4)
    }
    doc.end()
  })
}
