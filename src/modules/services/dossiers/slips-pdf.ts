/**
 * The dossier's printed forms, after the official layouts (Thông tư 01/2018/TT-VPCP, mẫu 01–06):
 * receipt and appointment slip, refusal slip, supplement request, apology and new-date letter,
 * result notice and the control slip. PDF with DejaVu Sans embedded, so Vietnamese diacritics
 * render (and extract) correctly everywhere.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import PDFDocument from 'pdfkit'
import type { DossierRow, FileRow, LetterRow, SlipRow } from './repository.ts'
import { STATUS_NAMES, type DossierStatus } from './status-machine.ts'

const require = createRequire(import.meta.url)
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf')
const REGULAR = join(FONT_DIR, 'DejaVuSans.ttf')
const BOLD = join(FONT_DIR, 'DejaVuSans-Bold.ttf')
const ITALIC = join(FONT_DIR, 'DejaVuSans-Oblique.ttf')

export const SLIP_KINDS = ['receipt', 'refusal', 'supplement', 'apology', 'result', 'control'] as const
export type SlipKind = (typeof SLIP_KINDS)[number]

export const SLIP_TITLES: Record<SlipKind, string> = {
  receipt: 'GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ',
  refusal: 'PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ',
  supplement: 'PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ',
  apology: 'PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ',
  result: 'THÔNG BÁO KẾT QUẢ GIẢI QUYẾT HỒ SƠ',
  control: 'PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ',
}

export interface SlipData {
  dossier: DossierRow
  agencyName: string
  files: FileRow[]
  slips: SlipRow[]
  letter?: LetterRow
  /** Where the document is signed, e.g. 'Điện Biên'. */
  place: string
  now: Date
}

const VN = 7 * 3_600_000
const p2 = (n: number) => String(n).padStart(2, '0')
function local(d: Date) {
  const x = new Date(d.getTime() + VN)
  return { y: x.getUTCFullYear(), m: x.getUTCMonth() + 1, d: x.getUTCDate(), h: x.getUTCHours(), min: x.getUTCMinutes() }
}
/** '14 giờ 05 phút, ngày 03/02/2026' */
export function vnDateTime(d: Date | null): string {
  if (!d) return '…'
  const l = local(d)
  return `${p2(l.h)} giờ ${p2(l.min)} phút, ngày ${p2(l.d)}/${p2(l.m)}/${l.y}`
}
function vnDate(d: Date | null): string {
  if (!d) return '…'
  const l = local(d)
  return `${p2(l.d)}/${p2(l.m)}/${l.y}`
}
function durationText(p: DossierRow['procedure'], channel: 'online' | 'in_person'): string {
  const d = p.priority && p.priority_duration ? p.priority_duration : p.duration[channel]
  const unit = d.unit === 'working_days' ? 'ngày làm việc' : d.unit === 'working_hours' ? 'giờ làm việc' : 'ngày'
  return `${d.amount} ${unit}`
}

/** Renders one form as a PDF. */
export async function renderSlip(kind: SlipKind, data: SlipData): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margins: { top: 56, bottom: 56, left: 70, right: 56 }, info: { Title: SLIP_TITLES[kind], Author: data.agencyName, Subject: data.dossier.code, CreationDate: data.now } })
  doc.registerFont('R', REGULAR)
  doc.registerFont('B', BOLD)
  doc.registerFont('I', ITALIC)
  const chunks: Buffer[] = []
  doc.on('data', (c: Buffer) => chunks.push(c))
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  const { dossier: d } = data
  const left = doc.page.margins.left
  const width = doc.page.width - left - doc.page.margins.right
  const colW = width * 0.42

  // Header: agency on the left, national motto on the right.
  const top = doc.y
  doc.font('R').fontSize(11).text(data.agencyName.toUpperCase(), left, top, { width: colW, align: 'center' })
  doc.font('R').fontSize(11).text(`Số: ${d.code}`, left, doc.y + 6, { width: colW, align: 'center' })
  const leftBottom = doc.y
  doc.font('B').fontSize(11).text('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', left + colW, top, { width: width - colW, align: 'center' })
  doc.font('B').fontSize(12).text('Độc lập - Tự do - Hạnh phúc', left + colW, doc.y, { width: width - colW, align: 'center', underline: true })
  const n = local(data.now)
  doc.font('I').fontSize(11).text(`${data.place}, ngày ${p2(n.d)} tháng ${p2(n.m)} năm ${n.y}`, left + colW, doc.y + 8, { width: width - colW, align: 'center' })
  doc.y = Math.max(doc.y, leftBottom) + 24

  doc.font('B').fontSize(14).text(SLIP_TITLES[kind], left, doc.y, { width, align: 'center' })
  doc.font('R').fontSize(11).text(`Mã hồ sơ: ${d.code}`, { width, align: 'center' })
  doc.moveDown(1.2)
  const line = (label: string, value: string) => {
    doc.font('B').fontSize(11).text(`${label}: `, left, doc.y, { continued: true, width })
    doc.font('R').text(value, { width })
  }
  const para = (text: string, font = 'R') => doc.font(font).fontSize(11).text(text, left, doc.y, { width, align: 'justify' })

  switch (kind) {
    case 'receipt':
      para(`${data.agencyName}`)
      line('Tiếp nhận hồ sơ của', d.applicant_name)
      line('Địa chỉ', d.applicant_address ?? '…')
      line('Số điện thoại', d.applicant_phone ?? '…')
      line('Thư điện tử', d.applicant_email ?? '…')
      line('Nội dung yêu cầu giải quyết', d.procedure.name_vi)
      para('1. Thành phần hồ sơ nộp gồm:')
      componentList(doc, data, left, width)
      para('2. Số lượng hồ sơ: 01 bộ.')
      para(`3. Thời gian giải quyết hồ sơ theo quy định là: ${durationText(d.procedure, d.channel)}.`)
      para(`4. Thời gian nhận hồ sơ: ${vnDateTime(d.received_at ?? d.submitted_at)}.`)
      para(`5. Thời gian trả kết quả giải quyết hồ sơ: ${vnDateTime(d.due_at)}.`)
      para(`6. Phí, lệ phí: ${formatVnd(d.fee_vnd)}${d.fee_policy_name_vi ? ` (${d.fee_policy_name_vi})` : ''}.`)
      para(`7. Hình thức nộp: ${d.channel === 'online' ? 'trực tuyến' : 'trực tiếp tại Bộ phận Một cửa'}. Vào sổ theo dõi hồ sơ, Quyển số: ${local(d.submitted_at).y}.`)
      signatures(doc, left, width, ['NGƯỜI NỘP HỒ SƠ', 'NGƯỜI TIẾP NHẬN HỒ SƠ'])
      break
    case 'refusal':
      para(`${data.agencyName} tiếp nhận hồ sơ của: ${d.applicant_name}.`)
      line('Nội dung yêu cầu giải quyết', d.procedure.name_vi)
      para('Sau khi xem xét, đối chiếu thành phần hồ sơ, cơ quan tiếp nhận từ chối tiếp nhận, giải quyết hồ sơ này với lý do như sau:')
      para(d.refusal_reason ?? '…', 'I')
      para('Xin thông báo để ông/bà được biết và thực hiện.')
      signatures(doc, left, width, ['', 'NGƯỜI TIẾP NHẬN HỒ SƠ'])
      break
    case 'supplement':
      para(`${data.agencyName} tiếp nhận hồ sơ của: ${d.applicant_name}.`)
      line('Nội dung yêu cầu giải quyết', d.procedure.name_vi)
      para('Ngày tiếp nhận: ' + vnDate(d.received_at ?? d.submitted_at) + '. Yêu cầu hoàn thiện hồ sơ gồm những nội dung như sau:')
      para(d.supplement_reason ?? '…', 'I')
      para('Lý do: hồ sơ chưa đầy đủ, hợp lệ theo quy định. Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, ông/bà liên hệ với cơ quan tiếp nhận để được hướng dẫn.')
      signatures(doc, left, width, ['', 'NGƯỜI HƯỚNG DẪN'])
      break
    case 'apology':
      para(`${data.agencyName} xin gửi lời xin lỗi tới ông/bà ${d.applicant_name}.`)
      para(`Ngày ${vnDate(d.received_at)}, cơ quan tiếp nhận hồ sơ đề nghị giải quyết thủ tục: ${d.procedure.name_vi}. Mã hồ sơ: ${d.code}.`)
      para(`Thời hạn trả kết quả theo quy định: ${vnDateTime(d.due_at)}. Tuy nhiên đến nay cơ quan chưa trả kết quả đúng hạn vì quá trình thẩm định, xử lý hồ sơ cần thêm thời gian.`)
      para(`Cơ quan xin lỗi ông/bà và hẹn lại thời gian trả kết quả vào: ${vnDateTime(data.letter?.proposed_due ?? null)}.`)
      para(data.letter?.status === 'approved' ? `Phê duyệt ngày ${vnDate(data.letter.approved_at)}.` : 'Dự thảo chờ lãnh đạo phê duyệt.', 'I')
      para('Rất mong nhận được sự thông cảm của ông/bà.')
      signatures(doc, left, width, ['', 'THỦ TRƯỞNG CƠ QUAN'])
      break
    case 'result': {
      line('Người nộp hồ sơ', d.applicant_name)
      line('Thủ tục', d.procedure.name_vi)
      line('Tình trạng', STATUS_NAMES[d.status].vi)
      para(`Hồ sơ đã được giải quyết lúc ${vnDateTime(d.resolved_at)}; hạn giải quyết: ${vnDateTime(d.due_at)}.`)
      const t = d.timeliness === 'early' ? 'trước hạn' : d.timeliness === 'on_time' ? 'đúng hạn' : d.timeliness === 'late' ? 'quá hạn' : '…'
      para(`Kết quả được giải quyết ${t}. Mời ông/bà đến Bộ phận Một cửa hoặc nhận kết quả trực tuyến theo đăng ký.`)
      para(`Phí, lệ phí: ${formatVnd(d.fee_vnd)} — ${paymentText(d)}.`)
      signatures(doc, left, width, ['', 'NGƯỜI TRẢ KẾT QUẢ'])
      break
    }
    case 'control':
      line('Người nộp hồ sơ', d.applicant_name)
      line('Thủ tục', d.procedure.name_vi)
      line('Thời gian tiếp nhận', vnDateTime(d.received_at))
      line('Hạn trả kết quả', vnDateTime(d.due_at))
      doc.moveDown(0.6)
      for (const s of data.slips) {
        const fromTo = `${STATUS_NAMES[(s.from_status ?? 1) as DossierStatus]?.vi ?? '—'} → ${STATUS_NAMES[s.to_status as DossierStatus]?.vi ?? s.to_status}`
        para(`${s.seq}. ${vnDateTime(s.at)} — ${s.action} (${s.step}): ${s.from_status === null ? 'Nộp hồ sơ' : fromTo}${s.due_at ? `; hạn: ${vnDateTime(s.due_at)}` : ''}${s.note ? `; ${s.note}` : ''}`)
      }
      break
  }
  doc.end()
  return done
}

function componentList(doc: PDFKit.PDFDocument, data: SlipData, left: number, width: number) {
  const comps = data.dossier.procedure.components
  let i = 0
  for (const c of comps) {
    const got = data.files.filter((f) => f.component_key === c.key)
    if (!got.length) continue
    doc.font('R').fontSize(11).text(`   ${String.fromCharCode(97 + i++)}) ${c.name_vi} (${got.length} tệp)`, left, doc.y, { width })
  }
  if (i === 0) doc.font('R').fontSize(11).text('   (không có)', left, doc.y, { width })
}

function signatures(doc: PDFKit.PDFDocument, left: number, width: number, who: [string, string]) {
  doc.moveDown(2)
  const y = doc.y
  const half = width / 2
  who.forEach((w, i) => {
    if (!w) return
    doc.font('B').fontSize(11).text(w, left + i * half, y, { width: half, align: 'center' })
    doc.font('I').fontSize(10).text('(Ký và ghi rõ họ tên)', left + i * half, doc.y, { width: half, align: 'center' })
  })
}

export function formatVnd(n: number): string {
  return n > 0 ? `${n.toLocaleString('vi-VN')} đồng` : 'không thu'
}

function paymentText(d: DossierRow): string {
  switch (d.payment_status) {
    case 'not_required': return 'không phải nộp'
    case 'unpaid': return 'chưa nộp'
    case 'paid_online': return `đã nộp trực tuyến (mã giao dịch ${d.payment_reference})`
    case 'paid_at_desk': return `đã nộp tại quầy (biên lai ${d.payment_reference})`
  }
}
