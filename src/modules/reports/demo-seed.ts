import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { AppContext, DemoSeedOutput } from '../../platform/module.ts'
import { loadWorkingCalendar } from '../calendar/index.ts'
import { getLocator, type LocateResult } from '../geo/index.ts'
import { getCategory, listCategories, type Category } from './categories.ts'
import { overallDueAt, stateDueAt } from './deadlines.ts'
import { trackingCode } from './intake.ts'
import { countReports, insertHistory, insertReport, nextReportNumber, updateReport, type ReportStatus } from './repository.ts'

// Demo texts in the words citizens use; every demo report is marked is_demo.
const TEXTS: Record<string, string[]> = {
  traffic: ['Đường liên bản bị sạt lở taluy, đất đá lấn nửa mặt đường, xe máy đi rất nguy hiểm.', 'Mặt đường xuất hiện nhiều ổ gà lớn sau mưa, đề nghị vá lại.', 'Cầu treo qua suối bị hỏng mấy tấm ván, học sinh đi lại nguy hiểm.', 'Cống thoát nước qua đường bị tắc, nước tràn mặt đường.'],
  environment: ['Rác thải tập kết bên đường lâu ngày không được thu gom, bốc mùi.', 'Có người đổ trộm rác xây dựng ra bờ suối.', 'Cơ sở chăn nuôi xả nước thải ra mương thủy lợi.'],
  urban_order: ['Hàng quán lấn chiếm vỉa hè, người đi bộ phải đi xuống lòng đường.', 'Xe tải đỗ trái phép trước cổng trường vào giờ tan học.', 'Biển quảng cáo dựng trái phép che khuất tầm nhìn ở ngã ba.'],
  electricity: ['Đèn đường cả đoạn không sáng đã một tuần.', 'Dây điện võng thấp sát mái nhà dân, rất nguy hiểm khi mưa gió.', 'Cột điện bị nghiêng sau trận mưa lớn.'],
  water: ['Nước sinh hoạt mất liên tục 3 ngày nay.', 'Đường ống nước bị vỡ, nước chảy lênh láng ra đường.', 'Nước máy có màu đục và mùi lạ.'],
  security: ['Nhóm thanh niên tụ tập gây ồn ào lúc nửa đêm.', 'Nghi có người lạ vào bản mua bán hàng cấm.'],
  land: ['Hộ dân xây nhà lấn sang đất hành lang đường.', 'San ủi đất đồi trái phép gây nguy cơ sạt lở.'],
  health: ['Quán ăn đường phố không đảm bảo vệ sinh, nhiều người bị đau bụng.', 'Trạm y tế xã thiếu thuốc thông thường.'],
  education: ['Lớp học điểm bản bị dột mái, học sinh phải nghỉ khi trời mưa.', 'Nhà vệ sinh trường tiểu học bị hỏng lâu ngày.'],
  other: ['Đề nghị lắp thêm biển báo khu vực thường xuyên sạt lở.', 'Sóng điện thoại trong bản rất yếu, không dùng được dịch vụ công trực tuyến.'],
}
const WEIGHTS: Record<string, number> = { traffic: 25, environment: 18, urban_order: 10, electricity: 12, water: 10, security: 5, land: 7, health: 4, education: 4, other: 5 }

function mulberry32(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A few hundred realistic reports over the past year, spread over the communes, in every state,
 * so a newcomer sees a living system. Runs only when there are no reports; all rows are is_demo.
 */
export async function seedDemoReports(ctx: AppContext, out: DemoSeedOutput, count = 320): Promise<void> {
  const province = ctx.config.provinceCode
  if ((await countReports(ctx.db, province)) > 0) return
  const rnd = mulberry32(20260101)
  const locator = await getLocator(ctx.db)
  const cal = await loadWorkingCalendar(ctx.db)
  const categories = await listCategories(ctx.db)
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0)
  const pickCategory = () => {
    let x = rnd() * total
    for (const c of categories) if ((x -= WEIGHTS[c.code] ?? 1) <= 0) return c
    return categories[0]
  }
  const now = ctx.clock()
  const items: { lat: number; lon: number; loc: LocateResult; created: Date; category: Category }[] = []
  while (items.length < count) {
    const lat = 20.885 + rnd() * (22.548 - 20.885)
    const lon = 102.144 + rnd() * (103.598 - 102.144)
    const loc = locator.locate(lat, lon)
    if (loc.status !== 'inside' || !loc.unit) continue
    // More recent reports are more frequent (adoption grows).
    const ageDays = Math.floor(365 * rnd() ** 1.6)
    const created = new Date(now.getTime() - ageDays * 86_400_000 - Math.floor(rnd() * 10 * 3600_000))
    items.push({ lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6, loc, created, category: pickCategory() })
  }
  items.sort((a, b) => a.created.getTime() - b.created.getTime())
  const codes: string[] = []
  for (const it of items) {
    const year = new Date(it.created.getTime() + 7 * 3600_000).getUTCFullYear()
    codes.push(trackingCode(year, await nextReportNumber(ctx.db, year)))
  }
  for (let i = 0; i < items.length; i += 40) {
    await ctx.db.transaction().execute(async (tx) => {
      for (const [j, it] of items.slice(i, i + 40).entries()) {
        const c = (await getCategory(tx, it.category.code))!
        const code = codes[i + j]
        const texts = TEXTS[c.code] ?? TEXTS.other
        const unit = c.handling === 'department' && c.department_code ? c.department_code : it.loc.unit!.code
        const id = await insertReport(tx, {
          code, category_code: c.code, description: texts[Math.floor(rnd() * texts.length)], channel: rnd() < 0.7 ? 'app' : rnd() < 0.5 ? 'web' : 'hotline',
          lat: it.lat, lon: it.lon, location_source: 'gps', address_text: null, commune_code: it.loc.unit!.code, locate_status: 'inside',
          near_border: it.loc.near_border, distance_to_border_m: it.loc.distance_to_border_m, boundary_version: it.loc.boundary_version, unit_code: unit,
          status: 'received', reporter_user_id: null, reporter_name: 'Người dân (demo)', reporter_phone: null, reporter_email: null,
          anonymous: rnd() < 0.3, share_identity: rnd() < 0.4, created_at: it.created, state_due_at: stateDueAt(cal, c, 'received', it.created)!, due_at: overallDueAt(cal, c, it.created), is_demo: true,
        })
        await insertHistory(tx, { reportId: id, at: it.created, actor: 'anonymous', action: 'created', toStatus: 'received', toUnit: unit, note: 'demo' })
        const ageDays = (now.getTime() - it.created.getTime()) / 86_400_000
        const roll = rnd()
        let status: ReportStatus = 'received'
        if (ageDays > 20) status = roll < 0.75 ? 'closed' : roll < 0.85 ? 'resolved' : roll < 0.92 ? 'rejected' : 'in_progress'
        else if (ageDays > 3) status = roll < 0.4 ? 'resolved' : roll < 0.75 ? 'in_progress' : roll < 0.9 ? 'assigned' : 'received'
        else status = roll < 0.5 ? 'received' : roll < 0.8 ? 'assigned' : 'in_progress'
        const step = new Date(Math.min(now.getTime() - 3600_000, it.created.getTime() + (1 + rnd() * 6) * 86_400_000))
        if (status !== 'received') {
          const changes: Parameters<typeof updateReport>[3] = { status, state_entered_at: step, state_due_at: stateDueAt(cal, c, status, step) }
          if (status === 'resolved' || status === 'closed') Object.assign(changes, { public_answer: 'Đơn vị đã kiểm tra, xử lý xong và thông báo tới người dân.', resolved_at: step })
          if (status === 'closed') Object.assign(changes, { closed_at: step, outcome: rnd() < 0.9 ? 'fixed' : 'not_fixed', rating: 3 + Math.floor(rnd() * 3) })
          if (status === 'rejected') Object.assign(changes, { reject_reason: 'Nội dung không thuộc thẩm quyền giải quyết; đã hướng dẫn người dân.', outcome: 'rejected', resolved_at: step })
          await updateReport(tx, province, id, { ...changes, updated_at: step })
          await insertHistory(tx, { reportId: id, at: step, actor: 'system', action: 'demo', fromStatus: 'received', toStatus: status, toUnit: unit, note: 'demo' })
        }
        await appendAudit(tx, { actor: 'system', action: 'report.demo_seeded', entityType: 'report', entityId: code, data: { status } })
      }
    })
  }
  out.notes.push(`${items.length} demo field reports (is_demo = true) over the past year.`)
}
