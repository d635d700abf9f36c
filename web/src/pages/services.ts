/**
 * Public services (dịch vụ công): search the procedure catalogue, read a procedure, submit a
 * dossier (hồ sơ) with its component files through the offline outbox, follow my dossiers.
 * A lazy chunk: none of this is in the first download.
 */
import './services.css'
import { api, ApiError, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { flushDossiers, listPendingDossiers, notifyDossiers, onDossierOutboxChange, putPendingDossier, removePendingDossier, sendPendingDossier, type PendingDossier, type PendingFile } from '../dossier-outbox.ts'
import { store, uuid, vnTime } from '../format.ts'
import { dictionary, lang, pick } from '../i18n.ts'
import { navigate } from '../router.ts'
import { communeLabel, communes, type Commune } from '../refdata.ts'
import { money, hoursLeft, type Me, currentUser, STATUS_KEYS } from './services-common.ts'

const t = dictionary({
  title: 'Dịch vụ công trực tuyến',
  intro: 'Tìm thủ tục hành chính, nộp hồ sơ trực tuyến và theo dõi kết quả.',
  search: 'Tìm thủ tục',
  searchHint: 'Gõ có dấu hoặc không dấu, ví dụ: khai sinh, dang ky kinh doanh',
  field: 'Lĩnh vực',
  allFields: 'Tất cả lĩnh vực',
  onlyOnline: 'Chỉ thủ tục trực tuyến toàn trình',
  results: '{n} thủ tục',
  none: 'Không tìm thấy thủ tục phù hợp.',
  fullyOnline: 'Trực tuyến toàn trình',
  partlyOnline: 'Trực tuyến một phần',
  priority: 'Ưu tiên rút ngắn thời gian',
  myDossiers: 'Hồ sơ của tôi',
  time: 'Thời hạn giải quyết',
  online: 'Nộp trực tuyến',
  inPerson: 'Nộp trực tiếp',
  fee: 'Phí, lệ phí',
  free: 'Miễn phí',
  components: 'Thành phần hồ sơ',
  required: 'bắt buộc',
  optional: 'không bắt buộc',
  formats: 'Định dạng: {f}; tối đa {mb} MB',
  template: 'Tải mẫu',
  steps: 'Các bước xử lý',
  legal: 'Căn cứ pháp lý',
  handledBy: 'Cơ quan giải quyết',
  communeLevel: 'UBND xã/phường nơi cư trú',
  submit: 'Nộp hồ sơ trực tuyến',
  notOnline: 'Thủ tục này chưa nộp trực tuyến toàn trình được; vẫn có thể nộp hồ sơ trực tuyến rồi nhận kết quả tại Bộ phận một cửa.',
  signInFirst: 'Cần đăng nhập để nộp hồ sơ.',
  signIn: 'Đăng nhập / Đăng ký',
  formTitle: 'Nộp hồ sơ: {name}',
  applicant: 'Người nộp',
  name: 'Họ và tên',
  idNumber: 'Số định danh cá nhân (CCCD)',
  phone: 'Số điện thoại',
  address: 'Địa chỉ',
  commune: 'Xã/phường nơi nộp',
  chooseCommune: '— Chọn xã/phường —',
  files: 'Tệp đính kèm',
  send: 'Nộp hồ sơ',
  sending: 'Đang gửi…',
  needName: 'Hãy nhập họ tên (ít nhất 2 ký tự).',
  needCommune: 'Hãy chọn xã/phường.',
  needFile: 'Thiếu tệp bắt buộc: {name}',
  badFormat: 'Tệp “{name}” không đúng định dạng ({f}).',
  tooBig: 'Tệp “{name}” lớn hơn {mb} MB.',
  idInvalid: 'Số định danh gồm 9 đến 12 chữ số.',
  waitingTitle: 'Hồ sơ đang chờ gửi',
  waitingBody: 'Hồ sơ đã được lưu trên máy và sẽ tự động gửi một lần khi có mạng.',
  pendingList: 'Chờ gửi (trên máy này)',
  refused: 'Không gửi được: {msg}',
  discard: 'Bỏ',
  sendNow: 'Gửi ngay',
  noDossiers: 'Bạn chưa có hồ sơ nào.',
  code: 'Mã hồ sơ',
  status: 'Trạng thái',
  submitted: 'Nộp lúc',
  due: 'Hẹn trả kết quả',
  left: 'Còn {h} giờ làm việc',
  late: 'Quá hạn {h} giờ làm việc',
  paused: 'Tạm dừng tính thời gian',
  history: 'Quá trình xử lý',
  payment: 'Thanh toán',
  amount: 'Số tiền',
  payRef: 'Nội dung chuyển khoản / mã thanh toán',
  vietqr: 'Mã VietQR (quét bằng ứng dụng ngân hàng)',
  paid: 'Đã thanh toán',
  unpaid: 'Chưa thanh toán',
  noFee: 'Không có phí',
  payOnline: 'Tôi đã chuyển khoản',
  txRef: 'Mã giao dịch ngân hàng',
  slips: 'Giấy tờ tải về',
  receipt: 'Giấy tiếp nhận và hẹn trả kết quả (PDF)',
  resultPdf: 'Phiếu kết quả giải quyết (PDF)',
  refusalPdf: 'Phiếu từ chối tiếp nhận (PDF)',
  supplementPdf: 'Phiếu yêu cầu bổ sung (PDF)',
  resultDoc: 'Văn bản kết quả: {s}',
  supplementAsked: 'Cơ quan yêu cầu bổ sung: {r}',
  sendSupplement: 'Gửi bổ sung',
  withdraw: 'Rút hồ sơ',
  confirmWithdraw: 'Rút hồ sơ này? Không thể hoàn tác.',
  done: 'Đã cập nhật.',
  refusalReason: 'Lý do từ chối: {r}',
  back: '← Dịch vụ công',
  uploaded: 'Tệp đã nộp',
}, {
  title: 'Online public services',
  intro: 'Find an administrative procedure, submit a dossier online and follow the result.',
  search: 'Find a procedure',
  searchHint: 'With or without Vietnamese accents, e.g. khai sinh, birth',
  field: 'Field',
  allFields: 'All fields',
  onlyOnline: 'Fully online procedures only',
  results: '{n} procedures',
  none: 'No procedure matches.',
  fullyOnline: 'Fully online',
  partlyOnline: 'Partly online',
  priority: 'Priority: shorter time',
  myDossiers: 'My dossiers',
  time: 'Processing time',
  online: 'Online',
  inPerson: 'In person',
  fee: 'Fees',
  free: 'Free',
  components: 'Documents to submit',
  required: 'required',
  optional: 'optional',
  formats: 'Formats: {f}; up to {mb} MB',
  template: 'Template',
  steps: 'Steps',
  legal: 'Legal basis',
  handledBy: 'Handled by',
  communeLevel: "The People's Committee of your commune",
  submit: 'Submit online',
  notOnline: 'This procedure is not fully online yet; you can still submit online and collect the result at the one-stop desk.',
  signInFirst: 'Sign in to submit a dossier.',
  signIn: 'Sign in / Sign up',
  formTitle: 'Submit: {name}',
  applicant: 'Applicant',
  name: 'Full name',
  idNumber: 'Personal ID number (CCCD)',
  phone: 'Phone number',
  address: 'Address',
  commune: 'Commune',
  chooseCommune: '— Choose a commune —',
  files: 'Files',
  send: 'Submit dossier',
  sending: 'Sending…',
  needName: 'Enter your full name (at least 2 characters).',
  needCommune: 'Choose a commune.',
  needFile: 'A required file is missing: {name}',
  badFormat: 'The file “{name}” is not an allowed type ({f}).',
  tooBig: 'The file “{name}” is larger than {mb} MB.',
  idInvalid: 'The ID number has 9 to 12 digits.',
  waitingTitle: 'Dossier waiting to send',
  waitingBody: 'The dossier is saved on this device and will be sent once, automatically, when you are back online.',
  pendingList: 'Waiting to send (on this device)',
  refused: 'Could not be sent: {msg}',
  discard: 'Discard',
  sendNow: 'Send now',
  noDossiers: 'You have no dossier yet.',
  code: 'Dossier code',
  status: 'Status',
  submitted: 'Submitted',
  due: 'Result due',
  left: '{h} working hours left',
  late: '{h} working hours late',
  paused: 'Clock paused',
  history: 'Progress',
  payment: 'Payment',
  amount: 'Amount',
  payRef: 'Transfer reference',
  vietqr: 'VietQR code (scan with a banking app)',
  paid: 'Paid',
  unpaid: 'Not paid',
  noFee: 'No fee',
  payOnline: 'I have paid by transfer',
  txRef: 'Bank transaction reference',
  slips: 'Downloads',
  receipt: 'Receipt and appointment (PDF)',
  resultPdf: 'Result slip (PDF)',
  refusalPdf: 'Refusal slip (PDF)',
  supplementPdf: 'Supplement request (PDF)',
  resultDoc: 'Result document: {s}',
  supplementAsked: 'The office asks for more: {r}',
  sendSupplement: 'Send the supplement',
  withdraw: 'Withdraw',
  confirmWithdraw: 'Withdraw this dossier? This cannot be undone.',
  done: 'Updated.',
  refusalReason: 'Refused: {r}',
  back: '← Public services',
  uploaded: 'Files submitted',
})

interface Duration { amount: number; unit: 'working_days' | 'working_hours' | 'calendar_days' }
interface ProcedureSummary {
  code: string
  name_vi: string
  name_en: string
  field: string
  field_name_vi: string
  level: 'commune' | 'province'
  handling_unit: string
  fully_online: boolean
  priority: boolean
  duration: { online: Duration; in_person: Duration }
  priority_duration: Duration | null
  fee_vnd: number
}
interface Component { key: string; name_vi: string; name_en: string; required: boolean; template_url: string | null; formats: string[]; max_bytes: number }
interface FeeQuote { amount_vnd: number; policy_code: string | null; policy_name_vi: string | null }
interface ProcedureDetail extends Omit<ProcedureSummary, 'code' | 'field_name_vi'> {
  procedure_code: string
  components: Component[]
  legal_basis: string[]
  steps: { key: string; name_vi: string; name_en: string; share: number }[]
  fees: { online: FeeQuote; in_person: FeeQuote }
}
export interface DossierSummary {
  code: string
  status: number
  status_key: string
  status_vi: string
  status_en: string
  procedure: { code: string; name_vi: string; name_en: string }
  unit_code: string
  commune_code: string | null
  channel: string
  current_step: string
  assignee_user_id: string | null
  applicant_name: string
  submitted_at: string | null
  received_at: string | null
  due_at: string | null
  step_due_at: string | null
  paused: boolean
  overdue: boolean
  working_hours_left: number | null
  resolved_at: string | null
  returned_at: string | null
  timeliness: string | null
  result_document: { id: string; symbol: string } | null
  fee: { amount_vnd: number; policy_code: string | null; policy_name_vi: string | null; payment_status: string; payment_reference: string | null; paid_at: string | null }
}
export interface DossierDetail extends DossierSummary {
  view: 'staff' | 'owner'
  applicant: { name: string; id_number: string | null; phone: string | null; email: string | null; address: string | null }
  refusal_reason: string | null
  supplement_reason: string | null
  stop_reason: string | null
  vietqr: string | null
  components: { key: string; name_vi: string; name_en: string; required: boolean }[]
  files: { component_key: string; round: number; name: string; mime: string; bytes: number; uploaded_at: string }[]
  control_slips: { seq: number; action: string; step: string; from_status: number | null; to_status: number; at: string; due_at: string | null; note: string | null }[]
  linked_documents?: { id: string; direction: string; symbol: string | null; summary: string; number?: number | null }[]
}

const durationText = (d: Duration): string => {
  const u = { working_days: lang === 'en' ? 'working days' : 'ngày làm việc', working_hours: lang === 'en' ? 'working hours' : 'giờ làm việc', calendar_days: lang === 'en' ? 'days' : 'ngày' }[d.unit]
  return `${d.amount} ${u}`
}
const feeText = (n: number): string => (n > 0 ? money(n) : t('free'))
export const dossierStatus = (d: { status: number; status_key: string; status_vi: string; status_en: string }): HTMLElement =>
  h('span', { class: `badge ds-${d.status_key}` }, pick(d.status_vi, d.status_en))

export async function renderServices(main: HTMLElement, params: string[]): Promise<void> {
  if (params[0] === 'p' && params[1]) {
    if (params[2] === 'submit') return submitForm(main, params[1])
    return procedurePage(main, params[1])
  }
  return searchPage(main)
}

// ---- search ----
async function searchPage(main: HTMLElement): Promise<void> {
  const saved = store.get<{ q: string; field: string; online: boolean }>('hb.svc.search', { q: '', field: '', online: false })
  const q = h('input', { type: 'search', name: 'q', value: saved.q, autocomplete: 'off', maxlength: 200, placeholder: t('searchHint') })
  const fieldSel = h('select', { name: 'field' }, h('option', { value: '' }, t('allFields')))
  const online = checkbox(t('onlyOnline'), saved.online, () => load(), { name: 'fully_online' })
  const count = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' })
  const list = h('ul', { class: 'list procedures' })
  fill(main,
    h('h1', null, t('title')),
    h('p', { class: 'lead' }, t('intro'), ' ', h('a', { href: '#/dossiers' }, t('myDossiers'))),
    h('form', { class: 'card', role: 'search', onsubmit: (e: Event) => (e.preventDefault(), load()) },
      field(t('search'), q, t('searchHint')), field(t('field'), fieldSel), online.el),
    count, list)
  api<{ items: { code: string; name_vi: string; name_en: string; count: number }[] }>('/api/procedures/fields').then((r) => {
    for (const f of r.items) fieldSel.appendChild(h('option', { value: f.code, selected: f.code === saved.field }, `${pick(f.name_vi, f.name_en)} (${f.count})`))
  }).catch(() => undefined)
  let timer: ReturnType<typeof setTimeout> | undefined
  q.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(load, 250)
  })
  fieldSel.addEventListener('change', () => load())
  let seq = 0
  async function load(): Promise<void> {
    const my = ++seq
    const s = { q: q.value.trim(), field: fieldSel.value || saved.field, online: online.input.checked }
    store.set('hb.svc.search', s)
    const qs = new URLSearchParams({ limit: '50' })
    if (s.q) qs.set('q', s.q)
    if (s.field) qs.set('field', s.field)
    if (s.online) qs.set('fully_online', 'true')
    try {
      const r = await api<{ items: ProcedureSummary[]; total: number }>(`/api/procedures?${qs}`)
      if (my !== seq) return
      fill(count, r.items.length ? t('results', { n: r.total }) : t('none'))
      fill(list, r.items.map((p) => h('li', { class: 'item', 'data-code': p.code },
        h('a', { href: `#/services/p/${encodeURIComponent(p.code)}`, class: 'proc-name' }, pick(p.name_vi, p.name_en)),
        h('p', { class: 'meta' },
          h('span', { class: `badge ${p.fully_online ? 'ok' : 'warn'}` }, p.fully_online ? t('fullyOnline') : t('partlyOnline')),
          p.priority ? h('span', { class: 'badge' }, t('priority')) : null,
          ` ${p.field_name_vi} · ${durationText(p.duration.online)} · ${feeText(p.fee_vnd)}`),
      )))
    } catch (e) {
      if (my === seq) fill(count, h('span', { class: 'error' }, errorText(e)))
    }
  }
  await load()
  q.focus()
}

// ---- one procedure ----
async function loadProcedure(code: string): Promise<ProcedureDetail> {
  return api<ProcedureDetail>(`/api/procedures/${encodeURIComponent(code)}`)
}

async function procedurePage(main: HTMLElement, code: string): Promise<void> {
  const p = await loadProcedure(code)
  const feeRow = (label: string, f: FeeQuote) => [h('dt', null, label), h('dd', null, feeText(f.amount_vnd), f.policy_name_vi ? h('small', { class: 'meta' }, ` (${f.policy_name_vi})`) : null)]
  fill(main,
    h('a', { href: '#/services', class: 'back' }, t('back')),
    h('h1', null, pick(p.name_vi, p.name_en)),
    h('p', { class: 'meta' }, `${p.procedure_code} · `,
      h('span', { class: `badge ${p.fully_online ? 'ok' : 'warn'}` }, p.fully_online ? t('fullyOnline') : t('partlyOnline')),
      p.priority ? h('span', { class: 'badge' }, t('priority')) : null),
    h('section', { class: 'card' },
      h('dl', { class: 'facts' },
        h('dt', null, t('handledBy')), h('dd', null, p.level === 'commune' ? t('communeLevel') : p.handling_unit),
        h('dt', null, `${t('time')} – ${t('online')}`), h('dd', null, durationText(p.duration.online), p.priority && p.priority_duration ? h('small', { class: 'meta' }, ` (${t('priority')}: ${durationText(p.priority_duration)})`) : null),
        h('dt', null, `${t('time')} – ${t('inPerson')}`), h('dd', null, durationText(p.duration.in_person)),
        feeRow(`${t('fee')} – ${t('online')}`, p.fees.online),
        feeRow(`${t('fee')} – ${t('inPerson')}`, p.fees.in_person),
      ),
    ),
    h('section', { class: 'card' }, h('h2', null, t('components')),
      h('ul', { class: 'components' }, p.components.map((c) => h('li', null,
        h('strong', null, pick(c.name_vi, c.name_en)), ` (${c.required ? t('required') : t('optional')})`,
        h('div', { class: 'meta' }, t('formats', { f: c.formats.join(', '), mb: Math.round(c.max_bytes / 1048576) }),
          c.template_url ? [' · ', h('a', { href: c.template_url }, t('template'))] : null))))),
    p.steps.length ? h('section', { class: 'card' }, h('h2', null, t('steps')), h('ol', null, p.steps.map((s) => h('li', null, pick(s.name_vi, s.name_en))))) : null,
    p.legal_basis.length ? h('details', { class: 'card' }, h('summary', null, t('legal')), h('ul', null, p.legal_basis.map((l) => h('li', null, l)))) : null,
    p.fully_online ? null : h('p', { class: 'notice' }, t('notOnline')),
    h('p', null, h('a', { class: 'btn primary big', href: `#/services/p/${encodeURIComponent(p.procedure_code)}/submit` }, t('submit'))),
  )
}

// ---- submit a dossier ----
const EXT: Record<string, string[]> = { pdf: ['pdf'], jpg: ['jpg', 'jpeg'], png: ['png'], docx: ['docx'], xlsx: ['xlsx'], doc: ['doc'] }
const MIME: Record<string, string> = { pdf: 'application/pdf', jpg: 'image/jpeg', png: 'image/png', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', doc: 'application/msword' }

async function submitForm(main: HTMLElement, code: string): Promise<void> {
  const [p, me] = await Promise.all([loadProcedure(code), currentUser()])
  if (!me) {
    store.set('hb.next', `/services/p/${code}/submit`)
    return void fill(main, h('h1', null, t('formTitle', { name: pick(p.name_vi, p.name_en) })), h('p', { class: 'notice' }, t('signInFirst')), h('a', { class: 'btn primary', href: '#/account' }, t('signIn')))
  }
  const comms = p.level === 'commune' ? await communes().catch(() => [] as Commune[]) : []
  const name = h('input', { type: 'text', name: 'applicant_name', required: true, minlength: 2, maxlength: 200, autocomplete: 'name', value: me.role === 'citizen' ? me.display_name : '' })
  const idn = h('input', { type: 'text', name: 'applicant_id_number', inputmode: 'numeric', maxlength: 12, pattern: '[0-9]{9,12}' })
  const phone = h('input', { type: 'tel', name: 'applicant_phone', autocomplete: 'tel', maxlength: 20 })
  const address = h('input', { type: 'text', name: 'applicant_address', autocomplete: 'street-address', maxlength: 400 })
  const commune = p.level === 'commune'
    ? h('select', { name: 'commune_code', required: true }, h('option', { value: '' }, t('chooseCommune')), comms.map((c) => h('option', { value: c.code }, communeLabel(c))))
    : null
  const inputs = p.components.map((c) => ({
    c,
    input: h('input', { type: 'file', name: c.key, 'data-component': c.key, multiple: true, accept: c.formats.flatMap((f) => (EXT[f] ?? [f]).map((e) => `.${e}`)).join(',') }),
  }))
  const err = h('p', { class: 'error', role: 'alert', hidden: true })
  const btn = h('button', { type: 'submit', class: 'btn primary big' }, t('send'))
  const fail = (msg: string, focus?: HTMLElement) => {
    fill(err, msg)
    err.hidden = false
    focus?.focus()
    btn.disabled = false
    fill(btn, t('send'))
  }
  fill(main,
    h('a', { href: `#/services/p/${encodeURIComponent(code)}`, class: 'back' }, `← ${pick(p.name_vi, p.name_en)}`),
    h('h1', null, t('formTitle', { name: pick(p.name_vi, p.name_en) })),
    h('form', { class: 'dossier-form', novalidate: true, onsubmit: async (e: Event) => {
      e.preventDefault()
      err.hidden = true
      if (name.value.trim().length < 2) return fail(t('needName'), name)
      if (idn.value.trim() && !/^[0-9]{9,12}$/.test(idn.value.trim())) return fail(t('idInvalid'), idn)
      if (commune && !commune.value) return fail(t('needCommune'), commune)
      const files: PendingFile[] = []
      for (const { c, input } of inputs) {
        const picked = Array.from(input.files ?? [])
        if (c.required && !picked.length) return fail(t('needFile', { name: pick(c.name_vi, c.name_en) }), input)
        for (const f of picked) {
          const ext = (f.name.split('.').pop() ?? '').toLowerCase()
          const fmt = c.formats.find((x) => (EXT[x] ?? [x]).includes(ext))
          if (!fmt) return fail(t('badFormat', { name: f.name, f: c.formats.join(', ') }), input)
          if (f.size > c.max_bytes) return fail(t('tooBig', { name: f.name, mb: Math.round(c.max_bytes / 1048576) }), input)
          files.push({ component: c.key, name: f.name, type: f.type || MIME[fmt] || 'application/octet-stream', data: await f.arrayBuffer() })
        }
      }
      btn.disabled = true
      fill(btn, t('sending'))
      const fields: Record<string, string> = { procedure_code: p.procedure_code, channel: 'online', applicant_name: name.value, applicant_id_number: idn.value, applicant_phone: phone.value, applicant_address: address.value }
      if (commune) fields.commune_code = commune.value
      const pending: PendingDossier = { key: uuid(), procedure_code: p.procedure_code, procedure_name: { vi: p.name_vi, en: p.name_en }, fields, files, createdAt: new Date().toISOString(), attempts: 0 }
      // Kept on the phone before the first try: nothing is lost if the connection drops.
      await putPendingDossier(pending).catch(() => undefined)
      const r = await sendPendingDossier(pending)
      if (r.ok) return navigate(`/dossiers/${r.code}`)
      notifyDossiers()
      if (r.retry) {
        fill(main, h('section', { class: 'card pending dossier-waiting' }, h('h1', null, t('waitingTitle')), h('p', null, t('waitingBody')), h('a', { href: '#/dossiers' }, t('myDossiers'))))
        return
      }
      await removePendingDossier(pending.key)
      fail(errorText(r.error))
    } },
    h('fieldset', null, h('legend', null, t('applicant')), field(t('name'), name), field(t('idNumber'), idn), field(t('phone'), phone), field(t('address'), address), commune ? field(t('commune'), commune) : null),
    h('fieldset', null, h('legend', null, t('files')), inputs.map(({ c, input }) => field(`${pick(c.name_vi, c.name_en)}${c.required ? ' *' : ''}`, input, t('formats', { f: c.formats.join(', '), mb: Math.round(c.max_bytes / 1048576) })))),
    err, btn),
  )
}

// ---- my dossiers ----
export async function renderDossiers(main: HTMLElement, params: string[]): Promise<void> {
  if (params[0]) return dossierPage(main, params[0])
  const me = await currentUser()
  const pendingBox = h('div')
  const list = h('ul', { class: 'list dossiers' })
  fill(main, h('a', { href: '#/services', class: 'back' }, t('back')), h('h1', null, t('myDossiers')), pendingBox, list)
  const drawPending = async () => {
    const pending = await listPendingDossiers()
    fill(pendingBox, pending.length ? h('section', { class: 'card pending' }, h('h2', null, t('pendingList')),
      h('ul', { class: 'list' }, pending.map((x) => h('li', { class: 'item', 'data-key': x.key },
        h('strong', null, pick(x.procedure_name.vi, x.procedure_name.en)), h('p', { class: 'meta' }, vnTime(x.createdAt)),
        x.failed ? h('p', { class: 'error' }, t('refused', { msg: pick(x.failed.vi, x.failed.en) || x.failed.code })) : null,
        h('div', { class: 'row' },
          x.failed ? null : h('button', { type: 'button', class: 'btn small', onclick: () => void flushDossiers() }, t('sendNow')),
          h('button', { type: 'button', class: 'btn small secondary', onclick: async () => (await removePendingDossier(x.key), drawPending()) }, t('discard')))))),
    ) : '')
  }
  const off = onDossierOutboxChange(() => {
    if (!main.isConnected || !pendingBox.isConnected) return off()
    void drawPending()
    void drawList()
  })
  const drawList = async () => {
    if (!me) return void fill(list, h('li', null, h('p', { class: 'notice' }, t('signInFirst')), h('a', { class: 'btn primary', href: '#/account' }, t('signIn'))))
    try {
      const r = await api<{ items: DossierSummary[] }>('/api/dossiers?mine=true&limit=100')
      fill(list, r.items.length ? r.items.map((d) => h('li', { class: 'item', 'data-code': d.code },
        h('div', { class: 'item-head' }, h('a', { href: `#/dossiers/${d.code}`, class: 'code' }, d.code), dossierStatus(d)),
        h('p', null, pick(d.procedure.name_vi, d.procedure.name_en)),
        h('p', { class: 'meta' }, `${t('due')}: ${vnTime(d.due_at)}`, d.working_hours_left !== null ? ` · ${hoursLeft(d.working_hours_left, t('left'), t('late'))}` : ''),
      )) : h('li', { class: 'hint' }, t('noDossiers')))
    } catch (e) {
      fill(list, h('li', { class: 'error' }, errorText(e)))
    }
  }
  await Promise.all([drawPending(), drawList()])
}

async function dossierPage(main: HTMLElement, code: string): Promise<void> {
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  const draw = (d: DossierDetail) => {
    const comp = (key: string) => d.components.find((c) => c.key === key)
    const slips: [string, string][] = []
    if (d.received_at) slips.push(['receipt', t('receipt')])
    if (d.status === 3) slips.push(['refusal', t('refusalPdf')])
    if (d.supplement_reason) slips.push(['supplement', t('supplementPdf')])
    if (d.status === 9 || d.status === 10) slips.push(['result', t('resultPdf')])
    fill(main,
      h('a', { href: '#/dossiers', class: 'back' }, `← ${t('myDossiers')}`),
      h('h1', { class: 'code' }, d.code),
      msg,
      h('section', { class: 'card' },
        h('p', null, h('strong', null, pick(d.procedure.name_vi, d.procedure.name_en))),
        h('dl', { class: 'facts' },
          h('dt', null, t('status')), h('dd', { class: 'dossier-status' }, dossierStatus(d)),
          h('dt', null, t('submitted')), h('dd', null, vnTime(d.submitted_at, true)),
          h('dt', null, t('due')), h('dd', null, vnTime(d.due_at, true), d.paused ? ` · ${t('paused')}` : d.working_hours_left !== null ? ` · ${hoursLeft(d.working_hours_left, t('left'), t('late'))}` : ''),
          d.result_document ? [h('dt', null, t('resultPdf')), h('dd', null, t('resultDoc', { s: d.result_document.symbol }))] : null,
        ),
        d.refusal_reason ? h('p', { class: 'error' }, t('refusalReason', { r: d.refusal_reason })) : null,
        d.status === 5 && d.supplement_reason ? h('p', { class: 'warn' }, t('supplementAsked', { r: d.supplement_reason })) : null,
      ),
      paymentCard(d),
      d.status === 5 ? supplementCard(d) : null,
      slips.length ? h('section', { class: 'card' }, h('h2', null, t('slips')), h('ul', { class: 'links slips' }, slips.map(([kind, label]) => h('li', null, h('a', { href: `/api/dossiers/${d.code}/slips/${kind}.pdf`, target: '_blank', rel: 'noopener', 'data-slip': kind }, label))))) : null,
      h('section', { class: 'card' }, h('h2', null, t('history')), h('ol', { class: 'timeline' }, d.control_slips.map((s) => h('li', null,
        h('time', { datetime: s.at }, vnTime(s.at)), ` — ${STATUS_KEYS[s.to_status] ? pick(STATUS_KEYS[s.to_status][0], STATUS_KEYS[s.to_status][1]) : s.to_status}`,
        s.note ? h('div', { class: 'meta' }, s.note) : null)))),
      d.files.length ? h('section', { class: 'card' }, h('h2', null, t('uploaded')), h('ul', null, d.files.map((f) => h('li', null, `${f.name} `, h('span', { class: 'meta' }, `(${pick(comp(f.component_key)?.name_vi, comp(f.component_key)?.name_en) || f.component_key}, ${Math.ceil(f.bytes / 1024)} kB)`))))) : null,
      [1, 2, 4, 5, 6].includes(d.status) ? h('p', null, h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
        if (!confirm(t('confirmWithdraw'))) return
        await act(d.code, 'withdraw', {})
      } }, t('withdraw'))) : null,
    )
  }
  const act = async (c: string, action: string, body: Record<string, unknown> | FormData) => {
    try {
      // An action answers with the dossier's own fields only; the page needs the full detail.
      await api(`/api/dossiers/${c}/${action}`, { method: 'POST', body })
      draw(await api<DossierDetail>(`/api/dossiers/${encodeURIComponent(c)}`))
      fill(msg, t('done'))
    } catch (e) {
      fill(msg, h('span', { class: 'error' }, errorText(e)))
    }
  }
  const paymentCard = (d: DossierDetail): HTMLElement => {
    const f = d.fee
    if (f.amount_vnd <= 0) return h('section', { class: 'card payment' }, h('h2', null, t('payment')), h('p', null, t('noFee')))
    const paid = f.payment_status !== 'unpaid'
    const ref = h('input', { type: 'text', name: 'reference', maxlength: 100, required: true })
    return h('section', { class: 'card payment' }, h('h2', null, t('payment')),
      h('dl', { class: 'facts' },
        h('dt', null, t('amount')), h('dd', null, money(f.amount_vnd), f.policy_name_vi ? h('small', { class: 'meta' }, ` (${f.policy_name_vi})`) : null),
        h('dt', null, t('status')), h('dd', null, paid ? `${t('paid')} · ${vnTime(f.paid_at)}` : t('unpaid')),
        h('dt', null, t('payRef')), h('dd', { class: 'code pay-ref' }, f.payment_reference ?? d.code),
      ),
      !paid && d.vietqr ? vietQrBlock(d.vietqr) : null,
      !paid ? h('form', { class: 'inline-form', onsubmit: (e: Event) => {
        e.preventDefault()
        if (ref.value.trim()) void act(d.code, 'pay', { method: 'online', reference: ref.value.trim() })
      } }, field(t('txRef'), ref), h('button', { type: 'submit', class: 'btn primary' }, t('payOnline'))) : null,
    )
  }
  const supplementCard = (d: DossierDetail): HTMLElement => {
    const inputs = d.components.map((c) => ({ c, input: h('input', { type: 'file', name: c.key, multiple: true }) }))
    return h('section', { class: 'card' }, h('h2', null, t('sendSupplement')),
      h('form', { onsubmit: (e: Event) => {
        e.preventDefault()
        const fd = new FormData()
        for (const { c, input } of inputs) for (const f of Array.from(input.files ?? [])) fd.append(c.key, f, f.name)
        void act(d.code, 'supplement', fd)
      } }, inputs.map(({ c, input }) => field(pick(c.name_vi, c.name_en), input)), h('button', { type: 'submit', class: 'btn primary' }, t('sendSupplement'))))
  }
  try {
    draw(await api<DossierDetail>(`/api/dossiers/${encodeURIComponent(code)}`))
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      store.set('hb.next', `/dossiers/${code}`)
      return void fill(main, h('p', { class: 'notice' }, t('signInFirst')), h('a', { class: 'btn primary', href: '#/account' }, t('signIn')))
    }
    throw e
  }
}

/**
 * The VietQR payment code as a scannable image (drawn on the phone from the payload; the QR
 * encoder is loaded only when a dossier has a fee to pay), with the payload as text beside it.
 */
function vietQrBlock(payload: string): HTMLElement {
  const img = h('div', { class: 'vietqr-img', role: 'img', 'aria-label': t('vietqr') })
  void import('uqr').then(({ renderSVG }) => {
    const svg = renderSVG(payload, { border: 2 })
    const el = h('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt: t('vietqr'), width: 220, height: 220 })
    img.replaceChildren(el)
  }).catch(() => {})
  return h('div', null, h('p', { class: 'meta' }, t('vietqr')), img, h('code', { class: 'vietqr' }, payload))
}
