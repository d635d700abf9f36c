/**
 * The officers' console (part of the staff chunk): one work queue of reports and dossiers of the
 * officer's unit, sorted by urgency (working time left), with bulk assignment for unit admins; the
 * dossier detail with the actions of each step; the document registers (register, search).
 * Keyboard: "/" focuses the filter, j/k or ↓/↑ move in the queue, Enter opens, x selects.
 */
import './console.css'
import { api, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { uuid, vnTime } from '../format.ts'
import { dictionary, pick, statusLabel } from '../i18n.ts'
import { categoryName, unitName, type Category, type OrgUnit } from '../refdata.ts'
import { loadOfficeCalendar } from '../worktime.ts'
import { clip } from './common.ts'
import { dossierStatus, type DossierDetail, type DossierSummary } from './services.ts'
import { hoursLeft, money, STATUS_KEYS, type Me } from './services-common.ts'

export const ct = dictionary({
  queue: 'Việc cần xử lý',
  documents: 'Văn bản',
  kind: 'Loại việc',
  all: 'Tất cả',
  reports: 'Phản ánh',
  dossiers: 'Hồ sơ',
  report: 'Phản ánh',
  dossier: 'Hồ sơ',
  filter: 'Lọc theo mã, nội dung',
  overdueOnly: 'Chỉ việc quá hạn',
  unit: 'Đơn vị',
  allUnits: 'Tất cả đơn vị',
  left: 'Còn {h} giờ làm việc',
  late: 'Quá hạn {h} giờ làm việc',
  paused: 'Tạm dừng',
  awaitingReception: 'Chờ tiếp nhận',
  due: 'Hạn',
  count: '{n} việc · {o} quá hạn',
  empty: 'Không có việc nào.',
  select: 'Chọn {code}',
  selectAll: 'Chọn tất cả',
  assignTo: 'Giao cho cán bộ',
  chooseOfficer: '— Chọn cán bộ —',
  assignSelected: 'Giao {n} việc đã chọn',
  assigned: 'Đã giao {ok} việc; {bad} việc không giao được.',
  keys: 'Phím tắt: / lọc · j/k di chuyển · Enter mở · x chọn',
  back: '← Danh sách',
  applicant: 'Người nộp',
  procedure: 'Thủ tục',
  step: 'Bước',
  submitted: 'Nộp lúc',
  received: 'Tiếp nhận',
  stepDue: 'Hạn bước',
  fee: 'Phí, lệ phí',
  payment: 'Thanh toán',
  files: 'Thành phần hồ sơ',
  history: 'Lịch sử (phiếu kiểm soát)',
  linked: 'Văn bản liên quan',
  actions: 'Xử lý',
  reason: 'Lý do',
  note: 'Ghi chú',
  reference: 'Số biên lai / mã giao dịch',
  done: 'Đã cập nhật.',
  noActions: 'Không còn thao tác nào ở trạng thái này.',
  a_receive: 'Tiếp nhận',
  a_refuse: 'Từ chối tiếp nhận',
  a_process: 'Chuyển xử lý',
  a_forward: 'Chuyển bước tiếp theo',
  a_request_supplement: 'Yêu cầu bổ sung',
  a_request_fee: 'Yêu cầu nộp phí',
  a_pay: 'Ghi nhận nộp phí tại quầy',
  a_stop: 'Dừng xử lý',
  a_resolve: 'Giải quyết, ban hành kết quả',
  a_return: 'Trả kết quả',
  a_submit: 'Nộp hồ sơ',
  a_supplement: 'Bổ sung hồ sơ',
  a_withdraw: 'Rút hồ sơ',
  a_change_deadline: 'Gia hạn',
  a_approve_apology: 'Duyệt thư xin lỗi',
  p_unpaid: 'chưa nộp',
  p_paid_online: 'đã nộp trực tuyến',
  p_paid_at_desk: 'đã nộp tại quầy',
  p_not_required: 'không phải nộp',
  docTitle: 'Sổ văn bản đi, đến',
  search: 'Tìm văn bản',
  direction: 'Sổ',
  incoming: 'Văn bản đến',
  outgoing: 'Văn bản đi',
  register: 'Vào sổ',
  registerIncoming: 'Vào sổ văn bản đến',
  registerOutgoing: 'Vào sổ văn bản đi',
  docType: 'Loại văn bản (QĐ, CV, TB…)',
  symbol: 'Số, ký hiệu',
  issuer: 'Cơ quan ban hành',
  issuedAt: 'Ngày văn bản',
  signer: 'Người ký',
  summary: 'Trích yếu',
  file: 'Tệp (PDF)',
  registered: 'Đã vào sổ số {n}: {s}',
  noDocs: 'Không có văn bản.',
  more: 'Xem thêm',
  issueDoc: 'Ban hành công văn trả lời (vào sổ văn bản đi)',
  map: 'Bản đồ',
}, {
  queue: 'Work queue',
  documents: 'Documents',
  kind: 'Kind',
  all: 'All',
  reports: 'Reports',
  dossiers: 'Dossiers',
  report: 'Report',
  dossier: 'Dossier',
  filter: 'Filter by code or text',
  overdueOnly: 'Overdue only',
  unit: 'Unit',
  allUnits: 'All units',
  left: '{h} working hours left',
  late: '{h} working hours late',
  paused: 'Paused',
  awaitingReception: 'Awaiting reception',
  due: 'Due',
  count: '{n} items · {o} overdue',
  empty: 'Nothing to do.',
  select: 'Select {code}',
  selectAll: 'Select all',
  assignTo: 'Assign to officer',
  chooseOfficer: '— Choose an officer —',
  assignSelected: 'Assign {n} selected',
  assigned: 'Assigned {ok}; {bad} could not be assigned.',
  keys: 'Keys: / filter · j/k move · Enter open · x select',
  back: '← Queue',
  applicant: 'Applicant',
  procedure: 'Procedure',
  step: 'Step',
  submitted: 'Submitted',
  received: 'Received',
  stepDue: 'Step due',
  fee: 'Fees',
  payment: 'Payment',
  files: 'Documents submitted',
  history: 'History (control slips)',
  linked: 'Linked documents',
  actions: 'Actions',
  reason: 'Reason',
  note: 'Note',
  reference: 'Receipt number / transaction reference',
  done: 'Updated.',
  noActions: 'No action left in this status.',
  a_receive: 'Receive',
  a_refuse: 'Refuse',
  a_process: 'Start processing',
  a_forward: 'Forward to the next step',
  a_request_supplement: 'Request a supplement',
  a_request_fee: 'Request the fee',
  a_pay: 'Record payment at the desk',
  a_stop: 'Stop',
  a_resolve: 'Resolve and issue the result',
  a_return: 'Return the result',
  a_submit: 'Submitted',
  a_supplement: 'Supplemented',
  a_withdraw: 'Withdrawn',
  a_change_deadline: 'Deadline changed',
  a_approve_apology: 'Apology approved',
  p_unpaid: 'not paid',
  p_paid_online: 'paid online',
  p_paid_at_desk: 'paid at the desk',
  p_not_required: 'nothing to pay',
  docTitle: 'Document registers',
  search: 'Search documents',
  direction: 'Register',
  incoming: 'Incoming',
  outgoing: 'Outgoing',
  register: 'Register',
  registerIncoming: 'Register an incoming document',
  registerOutgoing: 'Register an outgoing document',
  docType: 'Type (QĐ, CV, TB…)',
  symbol: 'Number and symbol',
  issuer: 'Issued by',
  issuedAt: 'Date of the document',
  signer: 'Signed by',
  summary: 'Summary',
  file: 'File (PDF)',
  registered: 'Registered as number {n}: {s}',
  noDocs: 'No documents.',
  more: 'Load more',
  issueDoc: 'Issue the answer as an outgoing letter (numbered)',
  map: 'Map',
})

interface QueueReport {
  code: string
  status: string
  category: string
  description: string
  unit_code: string
  commune_code: string | null
  created_at: string
  state_due_at: string | null
  overdue: boolean
  assignee_user_id?: string | null
}

/** One line of the queue: a report or a dossier, with its urgency. */
interface QueueItem {
  kind: 'report' | 'dossier'
  code: string
  title: string
  text: string
  status: HTMLElement
  statusKey: string
  unit: string
  due: string | null
  /** Working hours left; negative when late; null when paused or without a due time. */
  hours: number | null
  overdue: boolean
  paused: boolean
}

const STAFF_ACTIONS_BY_STATUS: Record<number, string[]> = {
  1: ['receive', 'refuse', 'request_supplement'],
  2: ['process', 'request_supplement', 'request_fee', 'stop'],
  4: ['forward', 'resolve', 'request_supplement', 'request_fee', 'stop'],
  5: [],
  6: ['pay', 'stop'],
  9: ['return'],
}
const NEEDS_REASON = new Set(['refuse', 'request_supplement', 'stop'])

export async function consoleQueue(body: HTMLElement, me: Me, cats: Category[], units: OrgUnit[]): Promise<void> {
  const f = { kind: '', text: '', overdue: false, unit: '' }
  const kindSel = h('select', { name: 'kind', onchange: () => ((f.kind = kindSel.value), draw()) },
    h('option', { value: '' }, ct('all')), h('option', { value: 'report' }, ct('reports')), h('option', { value: 'dossier' }, ct('dossiers')))
  const text = h('input', { type: 'search', name: 'filter', maxlength: 100, 'aria-keyshortcuts': '/', oninput: () => ((f.text = text.value.trim().toLowerCase()), draw()) })
  const od = checkbox(ct('overdueOnly'), false, (v) => ((f.overdue = v), draw()), { name: 'overdue' })
  const unitSel = me.role === 'province_admin'
    ? h('select', { name: 'unit', onchange: () => ((f.unit = unitSel!.value), void load()) }, h('option', { value: '' }, ct('allUnits')), units.map((u) => h('option', { value: u.code }, pick(u.name_vi, u.name_en))))
    : null
  const status = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' })
  const table = h('table', { class: 'queue-table' })
  const selected = new Set<string>()
  const bulk = h('div', { class: 'bulk' })
  fill(body,
    h('div', { class: 'filters' }, field(ct('kind'), kindSel), field(ct('filter'), text), unitSel ? field(ct('unit'), unitSel) : null, od.el),
    bulk, status, h('div', { class: 'table-wrap' }, table), h('p', { class: 'hint keys' }, ct('keys')))

  let items: QueueItem[] = []
  const canBulk = me.role === 'unit_admin' || me.role === 'province_admin'
  let officers: { id: string; display_name: string; role: string }[] = []
  if (canBulk) {
    const q = new URLSearchParams({ limit: '200' })
    if (me.unit_code) q.set('unit_code', me.unit_code)
    officers = (await api<{ items: { id: string; display_name: string; role: string }[] }>(`/api/identity/users?${q}`).catch(() => ({ items: [] }))).items.filter((u) => u.role !== 'citizen')
  }

  async function load(): Promise<void> {
    fill(status, pick('Đang tải…', 'Loading…'))
    const unitQ = f.unit ? `&unit_code=${encodeURIComponent(f.unit)}` : ''
    try {
      const [reports, dossiers, cal] = await Promise.all([
        api<{ items: QueueReport[] }>(`/api/reports/queue?limit=200${unitQ}`),
        api<{ items: DossierSummary[] }>(`/api/dossiers?limit=200&status=1,2,4,5,6,9${unitQ}`),
        loadOfficeCalendar(),
      ])
      const now = Date.now()
      items = [
        ...reports.items.map((r): QueueItem => ({
          kind: 'report', code: r.code, title: categoryName(cats, r.category), text: r.description, status: h('span', { class: `badge st-${r.status}` }, statusLabel(r.status)), statusKey: r.status,
          unit: r.unit_code, due: r.state_due_at, hours: r.state_due_at ? Math.round((cal.between(now, Date.parse(r.state_due_at)) / 3_600_000) * 100) / 100 : null, overdue: r.overdue, paused: false,
        })),
        ...dossiers.items.map((d): QueueItem => ({
          kind: 'dossier', code: d.code, title: pick(d.procedure.name_vi, d.procedure.name_en), text: d.applicant_name, status: dossierStatus(d), statusKey: d.status_key,
          unit: d.unit_code, due: d.due_at, hours: d.working_hours_left, overdue: d.overdue, paused: d.paused,
        })),
      ]
      // Most urgent first: least working time left; paused or undated items last.
      items.sort((a, b) => (a.hours ?? Infinity) - (b.hours ?? Infinity) || (a.due ?? '').localeCompare(b.due ?? '') || a.code.localeCompare(b.code))
      draw()
    } catch (e) {
      fill(status, h('span', { class: 'error' }, errorText(e)))
    }
  }

  let cursor = 0
  function visible(): QueueItem[] {
    return items.filter((i) => (!f.kind || i.kind === f.kind) && (!f.overdue || i.overdue) && (!f.text || `${i.code} ${i.title} ${i.text}`.toLowerCase().includes(f.text)))
  }
  const href = (i: QueueItem) => (i.kind === 'report' ? `#/staff/${i.code}` : `#/staff/d/${i.code}`)
  function draw(): void {
    const list = visible()
    fill(status, list.length ? ct('count', { n: list.length, o: list.filter((i) => i.overdue).length }) : ct('empty'))
    cursor = Math.min(cursor, Math.max(0, list.length - 1))
    fill(table,
      h('thead', null, h('tr', null, canBulk ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, ct('selectAll'))) : null,
        h('th', { scope: 'col' }, ct('kind')), h('th', { scope: 'col' }, pick('Mã', 'Code')), h('th', { scope: 'col' }, pick('Nội dung', 'Subject')), h('th', { scope: 'col' }, pick('Trạng thái', 'Status')), h('th', { scope: 'col' }, ct('due')))),
      h('tbody', null, list.map((i, n) => h('tr', { class: `${i.overdue ? 'overdue' : ''}${n === cursor ? ' cursor' : ''}`, 'data-code': i.code, 'data-kind': i.kind },
        canBulk ? h('td', null, h('input', { type: 'checkbox', 'aria-label': ct('select', { code: i.code }), checked: selected.has(i.code), onchange: (e: Event) => {
          if ((e.target as HTMLInputElement).checked) selected.add(i.code)
          else selected.delete(i.code)
          drawBulk()
        } })) : null,
        h('td', null, h('span', { class: `badge kind-${i.kind}` }, i.kind === 'report' ? ct('report') : ct('dossier'))),
        h('td', null, h('a', { href: href(i), class: 'code' }, i.code)),
        h('td', null, h('strong', null, i.title), h('div', { class: 'meta' }, clip(i.text, 90)), me.role === 'province_admin' ? h('div', { class: 'meta' }, unitName(units, i.unit)) : null),
        h('td', null, i.status),
        h('td', { class: 'due' }, h('div', { class: i.overdue || (i.hours !== null && i.hours < 0) ? 'late' : '' }, i.paused ? ct('paused') : i.hours !== null ? hoursLeft(i.hours, ct('left'), ct('late')) : i.statusKey === 'new' ? ct('awaitingReception') : '—'), h('div', { class: 'meta' }, vnTime(i.due))),
      ))),
    )
    drawBulk()
  }
  function drawBulk(): void {
    if (!canBulk) return
    const officer = h('select', { name: 'assignee' }, h('option', { value: '' }, ct('chooseOfficer')), officers.map((o) => h('option', { value: o.id }, o.display_name)))
    const go = h('button', { type: 'button', class: 'btn primary', disabled: selected.size === 0, onclick: async () => {
      if (!officer.value) return officer.focus()
      go.disabled = true
      let ok = 0
      let bad = 0
      for (const code of selected) {
        const it = items.find((i) => i.code === code)
        if (!it) continue
        try {
          if (it.kind === 'report') await api(`/api/reports/${code}/assign`, { method: 'POST', body: { assignee_user_id: officer.value } })
          else {
            // A dossier is handed to an officer when it goes to processing (received first if new).
            if (it.statusKey === 'new') await api(`/api/dossiers/${code}/receive`, { method: 'POST', body: {} })
            await api(`/api/dossiers/${code}/process`, { method: 'POST', body: { to_user_id: officer.value } })
          }
          ok++
        } catch {
          bad++
        }
      }
      selected.clear()
      await load()
      fill(status, ct('assigned', { ok, bad }))
    } }, ct('assignSelected', { n: selected.size }))
    fill(bulk, h('div', { class: 'inline-form' }, field(ct('assignTo'), officer), go))
  }

  const onKey = (e: KeyboardEvent) => {
    if (!table.isConnected) return document.removeEventListener('keydown', onKey)
    const tag = (e.target as HTMLElement).tagName
    if (e.key === '/' && tag !== 'INPUT' && tag !== 'TEXTAREA') {
      e.preventDefault()
      text.focus()
      return
    }
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.ctrlKey || e.metaKey || e.altKey) return
    const list = visible()
    if (e.key === 'j' || e.key === 'ArrowDown') cursor = Math.min(list.length - 1, cursor + 1)
    else if (e.key === 'k' || e.key === 'ArrowUp') cursor = Math.max(0, cursor - 1)
    else if (e.key === 'Enter' && list[cursor] && !(e.target as HTMLElement).closest('a,button')) return void (location.hash = href(list[cursor]))
    else if (e.key === 'x' && list[cursor] && canBulk) {
      if (selected.has(list[cursor].code)) selected.delete(list[cursor].code)
      else selected.add(list[cursor].code)
    } else return
    e.preventDefault()
    draw()
    table.querySelector('tr.cursor')?.scrollIntoView({ block: 'nearest' })
  }
  document.addEventListener('keydown', onKey)
  await load()
}

/** The linked documents of a report or dossier, as a card. */
export function linkedCard(docs: { id: string; symbol: string | null; summary: string; direction: string; issued_at?: string }[] | undefined): HTMLElement | null {
  if (!docs?.length) return null
  return h('section', { class: 'card linked' }, h('h3', null, ct('linked')), h('ul', null, docs.map((d) => h('li', null,
    h('a', { href: `/api/documents/${d.id}/file`, target: '_blank', rel: 'noopener' }, d.symbol ?? d.id), ` (${d.direction === 'incoming' ? ct('incoming') : ct('outgoing')}) `, h('span', { class: 'meta' }, clip(d.summary, 160))))))
}

export async function consoleDossier(body: HTMLElement, code: string, units: OrgUnit[]): Promise<void> {
  const back = h('a', { href: '#/staff', class: 'back' }, ct('back'))
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  const panel = h('div', { class: 'action-form' })
  const draw = (d: DossierDetail, note?: string) => {
    const comp = (key: string) => d.components.find((c) => c.key === key)
    fill(body, back, msg,
      h('article', { class: 'card dossier' },
        h('div', { class: 'item-head' }, h('h2', { class: 'code' }, d.code), dossierStatus(d)),
        h('p', null, h('strong', null, pick(d.procedure.name_vi, d.procedure.name_en))),
        h('dl', { class: 'facts' },
          h('dt', null, ct('applicant')), h('dd', null, [d.applicant.name, d.applicant.id_number, d.applicant.phone, d.applicant.address].filter(Boolean).join(' · ')),
          h('dt', null, ct('unit')), h('dd', null, unitName(units, d.unit_code)),
          h('dt', null, ct('submitted')), h('dd', null, `${vnTime(d.submitted_at, true)} · ${d.channel}`),
          h('dt', null, ct('received')), h('dd', null, vnTime(d.received_at)),
          h('dt', null, ct('due')), h('dd', { class: 'due' }, vnTime(d.due_at, true), d.paused ? ` · ${ct('paused')}` : d.working_hours_left !== null ? ` · ${hoursLeft(d.working_hours_left, ct('left'), ct('late'))}` : ''),
          h('dt', null, ct('step')), h('dd', null, d.current_step, d.step_due_at ? ` (${ct('stepDue')}: ${vnTime(d.step_due_at)})` : ''),
          h('dt', null, ct('fee')), h('dd', null, money(d.fee.amount_vnd), ` · ${ct(`p_${d.fee.payment_status}` as 'p_unpaid')}`, d.fee.payment_reference ? ` · ${d.fee.payment_reference}` : ''),
        ),
        d.supplement_reason ? h('p', { class: 'warn' }, d.supplement_reason) : null,
        d.refusal_reason ? h('p', { class: 'error' }, d.refusal_reason) : null,
      ),
      h('section', { class: 'card' }, h('h3', null, ct('files')), h('ul', null, d.components.map((c) => {
        const fs = d.files.filter((x) => x.component_key === c.key)
        return h('li', null, `${pick(c.name_vi, c.name_en)}${c.required ? ' *' : ''}: `, fs.length ? fs.map((x) => `${x.name} (${Math.ceil(x.bytes / 1024)} kB)`).join(', ') : '—')
      })), d.files.filter((x) => !comp(x.component_key)).map((x) => h('p', null, x.name))),
      linkedCard(d.linked_documents),
      h('section', { class: 'card' }, h('h3', null, ct('history')), h('ol', { class: 'timeline' }, d.control_slips.map((s) => h('li', null,
        h('time', { datetime: s.at }, vnTime(s.at)), ` — ${ct(`a_${s.action}` as 'a_receive') === `a_${s.action}` ? s.action : ct(`a_${s.action}` as 'a_receive')} → ${STATUS_KEYS[s.to_status] ? pick(STATUS_KEYS[s.to_status][0], STATUS_KEYS[s.to_status][1]) : s.to_status}`,
        s.due_at ? h('span', { class: 'meta' }, ` (${ct('due')}: ${vnTime(s.due_at)})`) : null, s.note ? h('div', { class: 'meta' }, s.note) : null)))),
      actions(d), panel,
    )
    fill(msg, note ?? '')
  }
  const run = async (d: DossierDetail, action: string, payload: Record<string, unknown>, btn: HTMLButtonElement) => {
    btn.disabled = true
    try {
      fill(panel)
      // An action answers with the dossier's own fields only; the page needs the full detail.
      await api(`/api/dossiers/${d.code}/${action}`, { method: 'POST', body: payload, headers: { 'Idempotency-Key': uuid() } })
      draw(await api<DossierDetail>(`/api/dossiers/${encodeURIComponent(d.code)}`), ct('done'))
      body.querySelector<HTMLElement>('.actions button')?.focus()
    } catch (e) {
      btn.disabled = false
      fill(msg, h('span', { class: 'error' }, errorText(e)))
    }
  }
  const actions = (d: DossierDetail): HTMLElement => {
    const list = d.view === 'staff' ? STAFF_ACTIONS_BY_STATUS[d.status] ?? [] : []
    const buttons = list.map((a) => {
      const b: HTMLButtonElement = h('button', { type: 'button', class: 'btn secondary', 'data-action': a, onclick: () => {
        if (!NEEDS_REASON.has(a) && a !== 'pay') return void run(d, a, {}, b)
        const input = a === 'pay' ? h('input', { type: 'text', name: 'reference', required: true, maxlength: 100 }) : h('textarea', { name: 'reason', rows: 3, required: true, maxlength: 2000 })
        const ok = h('button', { type: 'submit', class: 'btn primary' }, ct(`a_${a}` as 'a_receive'))
        fill(panel, h('form', { class: 'card', onsubmit: (e: Event) => {
          e.preventDefault()
          const v = input.value.trim()
          if (!v) return input.focus()
          void run(d, a, a === 'pay' ? { method: 'at_desk', reference: v } : { reason: v }, ok)
        } }, h('h3', null, ct(`a_${a}` as 'a_receive')), field(a === 'pay' ? ct('reference') : ct('reason'), input), ok))
        input.focus()
      } }, ct(`a_${a}` as 'a_receive'))
      return b
    })
    return h('section', { class: 'card actions' }, h('h3', null, ct('actions')), buttons.length ? h('div', { class: 'row wrap' }, buttons) : h('p', { class: 'hint' }, ct('noActions')))
  }
  fill(body, back, h('p', { class: 'hint' }, pick('Đang tải…', 'Loading…')))
  try {
    draw(await api<DossierDetail>(`/api/dossiers/${encodeURIComponent(code)}`))
  } catch (e) {
    fill(body, back, h('p', { class: 'error' }, errorText(e)))
  }
}

interface Doc {
  id: string
  direction: 'incoming' | 'outgoing'
  register_year: number
  number: number
  number_label: string
  symbol: string | null
  doc_type: string
  issuer: string | null
  signer: string | null
  issued_at: string
  registered_at: string
  summary: string
  file: { name: string; url: string } | null
  status: string
}

export async function consoleDocuments(body: HTMLElement, me: Me): Promise<void> {
  const q = h('input', { type: 'search', name: 'q', maxlength: 200 })
  const dir = h('select', { name: 'direction' }, h('option', { value: '' }, ct('all')), h('option', { value: 'incoming' }, ct('incoming')), h('option', { value: 'outgoing' }, ct('outgoing')))
  const list = h('ul', { class: 'list docs' })
  const more = h('button', { type: 'button', class: 'btn secondary', hidden: true, onclick: () => void page() }, ct('more'))
  const status = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' })
  const formBox = h('div')
  fill(body,
    h('h2', null, ct('docTitle')),
    h('div', { class: 'row wrap' },
      h('button', { type: 'button', class: 'btn secondary', 'data-register': 'incoming', onclick: () => registerForm('incoming') }, ct('registerIncoming')),
      h('button', { type: 'button', class: 'btn secondary', 'data-register': 'outgoing', onclick: () => registerForm('outgoing') }, ct('registerOutgoing'))),
    formBox,
    h('form', { class: 'filters', role: 'search', onsubmit: (e: Event) => (e.preventDefault(), void load()) }, field(ct('search'), q), field(ct('direction'), dir), h('button', { type: 'submit', class: 'btn primary' }, ct('search'))),
    status, list, more)
  let cursor: string | null = null
  let seq = 0
  const row = (d: Doc) => h('li', { class: 'item', 'data-id': d.id },
    h('div', { class: 'item-head' }, h('span', { class: 'code' }, `${d.number_label} · ${d.symbol ?? d.doc_type}`), h('span', { class: 'badge' }, d.direction === 'incoming' ? ct('incoming') : ct('outgoing'))),
    h('p', null, d.summary),
    h('p', { class: 'meta' }, [d.issuer, d.signer, vnTime(d.issued_at)].filter(Boolean).join(' · '), d.file ? [' · ', h('a', { href: d.file.url, target: '_blank', rel: 'noopener' }, d.file.name)] : null))
  async function page(): Promise<void> {
    const my = seq
    const qs = new URLSearchParams({ limit: '20' })
    if (q.value.trim()) qs.set('q', q.value.trim())
    if (dir.value) qs.set('direction', dir.value)
    if (cursor) qs.set('cursor', cursor)
    try {
      const r = await api<{ items: Doc[]; next_cursor: string | null }>(`/api/documents?${qs}`)
      if (my !== seq) return
      for (const d of r.items) list.appendChild(row(d))
      cursor = r.next_cursor
      more.hidden = !cursor
      fill(status, list.children.length ? '' : ct('noDocs'))
    } catch (e) {
      fill(status, h('span', { class: 'error' }, errorText(e)))
    }
  }
  async function load(): Promise<void> {
    seq++
    cursor = null
    list.textContent = ''
    await page()
  }
  function registerForm(direction: 'incoming' | 'outgoing'): void {
    const type = h('input', { type: 'text', name: 'doc_type', required: true, maxlength: 10, value: direction === 'incoming' ? 'CV' : 'CV' })
    const symbol = h('input', { type: 'text', name: 'symbol', maxlength: 100 })
    const issuer = h('input', { type: 'text', name: 'issuer', maxlength: 300, required: true })
    const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10)
    const issued = h('input', { type: 'date', name: 'issued_at', value: today, required: true })
    const signer = h('input', { type: 'text', name: 'signer', maxlength: 200 })
    const summary = h('textarea', { name: 'summary', rows: 3, required: true, maxlength: 2000 })
    const file = h('input', { type: 'file', name: 'file', accept: '.pdf,application/pdf' })
    const err = h('p', { class: 'error', role: 'alert', hidden: true })
    const ok = h('button', { type: 'submit', class: 'btn primary' }, ct('register'))
    const key = uuid()
    fill(formBox, h('form', { class: 'card', onsubmit: async (e: Event) => {
      e.preventDefault()
      err.hidden = true
      const fd = new FormData()
      fd.append('doc_type', type.value.trim())
      if (direction === 'incoming') {
        if (symbol.value.trim()) fd.append('symbol', symbol.value.trim())
        fd.append('issuer', issuer.value.trim())
        fd.append('issued_at', issued.value)
      }
      if (signer.value.trim()) fd.append('signer', signer.value.trim())
      fd.append('summary', summary.value.trim())
      if (me.role === 'province_admin' && me.unit_code) fd.append('agency_code', me.unit_code)
      const f = file.files?.[0]
      if (f) fd.append('file', f, f.name)
      ok.disabled = true
      try {
        const d = await api<Doc>(`/api/documents/${direction}`, { method: 'POST', body: fd, headers: { 'Idempotency-Key': key } })
        fill(formBox, h('p', { class: 'notice' }, ct('registered', { n: d.number_label, s: d.symbol ?? d.doc_type })))
        await load()
      } catch (x) {
        ok.disabled = false
        fill(err, errorText(x))
        err.hidden = false
      }
    } }, h('h3', null, direction === 'incoming' ? ct('registerIncoming') : ct('registerOutgoing')),
      field(ct('docType'), type),
      direction === 'incoming' ? [field(ct('symbol'), symbol), field(ct('issuer'), issuer), field(ct('issuedAt'), issued)] : null,
      field(ct('signer'), signer), field(ct('summary'), summary), field(ct('file'), file), err, ok))
    type.focus()
  }
  await load()
}
