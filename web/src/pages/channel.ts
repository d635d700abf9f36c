/**
 * The province's direct channel in the citizen app: digital-skills guides (hướng dẫn kỹ năng số,
 * kept by the service worker for offline reading), notices targeted by commune (thông báo) and
 * questions to the province with their published answers (hỏi đáp).
 */
import { api, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { store, uuid, vnTime } from '../format.ts'
import { dictionary, lang, pick } from '../i18n.ts'
import { communeLabel, communes } from '../refdata.ts'

const d = dictionary({
  guidesTitle: 'Hướng dẫn kỹ năng số',
  guidesIntro: 'Hướng dẫn từng bước, dùng được cả khi không có mạng sau lần mở đầu tiên.',
  savedOffline: 'Đã lưu {n} hướng dẫn để đọc khi không có mạng.',
  offlineCopy: 'Bạn đang xem bản đã lưu trên máy.',
  guideMissing: 'Chưa có hướng dẫn này trên máy. Hãy mở khi có mạng.',
  steps: '{n} bước',
  step: 'Bước {n}',
  back: '← Tất cả hướng dẫn',
  noticesTitle: 'Thông báo của tỉnh',
  noticesIntro: 'Thông báo, sự kiện của tỉnh. Chọn xã/phường để xem thông báo chung của tỉnh và riêng của xã/phường đó.',
  commune: 'Xã/phường của bạn',
  wholeProvince: '— Mọi xã/phường —',
  noNotices: 'Chưa có thông báo.',
  where: 'Địa điểm: {x}',
  when: 'Thời gian: {x}',
  askTitle: 'Hỏi đáp với chính quyền',
  askIntro: 'Đặt câu hỏi cho tỉnh; câu hỏi được chuyển tới sở, ngành phụ trách và trả lời trong hạn.',
  search: 'Tìm trong câu hỏi đã trả lời',
  searchBtn: 'Tìm',
  answered: 'Câu hỏi đã được trả lời',
  noAnswers: 'Không tìm thấy câu hỏi nào.',
  answer: 'Trả lời',
  askForm: 'Đặt câu hỏi mới',
  topic: 'Lĩnh vực',
  chooseTopic: '— Chọn lĩnh vực —',
  qTitle: 'Tiêu đề',
  qBody: 'Nội dung câu hỏi',
  name: 'Họ và tên',
  phone: 'Số điện thoại (không bắt buộc)',
  allowPublish: 'Đồng ý công khai câu hỏi và trả lời (đã ẩn thông tin cá nhân)',
  send: 'Gửi câu hỏi',
  sending: 'Đang gửi…',
  asked: 'Đã gửi câu hỏi {code}. Hạn trả lời: {due}.',
  needTopic: 'Hãy chọn lĩnh vực.',
  tooShort: 'Tiêu đề từ 5 ký tự, nội dung từ 10 ký tự.',
}, {
  guidesTitle: 'Digital-skills guides',
  guidesIntro: 'Step-by-step guides, readable offline once opened.',
  savedOffline: '{n} guides saved for offline reading.',
  offlineCopy: 'You are reading the copy saved on this device.',
  guideMissing: 'This guide is not on this device yet. Open it while online.',
  steps: '{n} steps',
  step: 'Step {n}',
  back: '← All guides',
  noticesTitle: 'Notices from the province',
  noticesIntro: 'Notices and events of the province. Choose a commune to see the province-wide ones and those for that commune.',
  commune: 'Your commune',
  wholeProvince: '— All communes —',
  noNotices: 'No notices yet.',
  where: 'Where: {x}',
  when: 'When: {x}',
  askTitle: 'Ask the government',
  askIntro: 'Ask the province a question; it goes to the responsible department and is answered within the deadline.',
  search: 'Search answered questions',
  searchBtn: 'Search',
  answered: 'Answered questions',
  noAnswers: 'No question found.',
  answer: 'Answer',
  askForm: 'Ask a new question',
  topic: 'Topic',
  chooseTopic: '— Choose a topic —',
  qTitle: 'Title',
  qBody: 'Your question',
  name: 'Full name',
  phone: 'Phone (optional)',
  allowPublish: 'The question and answer may be published (personal data removed)',
  send: 'Send the question',
  sending: 'Sending…',
  asked: 'Question {code} sent. Answer due: {due}.',
  needTopic: 'Choose a topic.',
  tooShort: 'Title at least 5 characters, question at least 10.',
})

interface GuideStep { title_vi: string; title_en: string; body_vi: string; body_en: string; illustration_svg: string; illustration_alt_vi: string }
interface Guide { slug: string; title_vi: string; title_en: string; summary_vi: string; summary_en: string; steps: GuideStep[]; version: number; updated_at: string }

const svgSrc = (svg: string): string => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`

// ---- guides ----
export async function renderGuides(main: HTMLElement, params: string[]): Promise<void> {
  if (params[0]) return renderGuide(main, params[0])
  const r = await api<{ etag: string; items: Guide[] }>('/api/guides')
  const status = h('p', { class: 'hint', role: 'status' })
  fill(main,
    h('h1', null, d('guidesTitle')),
    h('p', { class: 'lead' }, d('guidesIntro')),
    navigator.onLine === false ? h('p', { class: 'warn' }, d('offlineCopy')) : null,
    h('ul', { class: 'list guides' }, r.items.map((g) =>
      h('li', { class: 'card' },
        h('h2', null, h('a', { href: `#/guides/${encodeURIComponent(g.slug)}` }, pick(g.title_vi, g.title_en))),
        h('p', null, pick(g.summary_vi, g.summary_en)),
        h('p', { class: 'meta' }, d('steps', { n: g.steps.length })),
      ))),
    status,
  )
  if (navigator.onLine !== false) void saveGuidesOffline(r.items, status)
}

/** Asks for each guide once so that the service worker keeps its own copy too. */
async function saveGuidesOffline(items: Guide[], status: HTMLElement): Promise<void> {
  if (!('serviceWorker' in navigator) || !navigator.serviceWorker.controller) return
  let n = 0
  for (const g of items) {
    try {
      await api(`/api/guides/${encodeURIComponent(g.slug)}`)
      n++
    } catch {
      /* tried again on the next visit */
    }
  }
  if (n) fill(status, d('savedOffline', { n }))
}

async function renderGuide(main: HTMLElement, slug: string): Promise<void> {
  let g: Guide
  try {
    g = await api<Guide>(`/api/guides/${encodeURIComponent(slug)}`)
  } catch (e) {
    // Offline and this guide was never fetched alone: the list (also cached) has every step.
    try {
      const all = await api<{ items: Guide[] }>('/api/guides')
      const hit = all.items.find((x) => x.slug === slug)
      if (!hit) throw e
      g = hit
    } catch {
      fill(main, h('p', null, h('a', { href: '#/guides' }, d('back'))), h('p', { class: 'error' }, navigator.onLine === false ? d('guideMissing') : errorText(e)))
      return
    }
  }
  fill(main,
    h('p', null, h('a', { href: '#/guides' }, d('back'))),
    h('h1', { tabindex: -1, class: 'guide-title' }, pick(g.title_vi, g.title_en)),
    navigator.onLine === false ? h('p', { class: 'warn' }, d('offlineCopy')) : null,
    h('p', { class: 'lead' }, pick(g.summary_vi, g.summary_en)),
    h('ol', { class: 'list guide-steps' }, g.steps.map((s, i) =>
      h('li', { class: 'card guide-step' },
        h('img', { src: svgSrc(s.illustration_svg), alt: s.illustration_alt_vi, width: 96, height: 96, lang: 'vi' }),
        h('div', null,
          h('h2', null, d('step', { n: i + 1 }), ': ', pick(s.title_vi, s.title_en)),
          h('p', null, pick(s.body_vi, s.body_en)),
        ),
      ))),
  )
  ;(main.querySelector('h1') as HTMLElement | null)?.focus({ preventScroll: true })
}

// ---- notices ----
interface Notice { id: string; kind: string; title: string; body: string; location: string | null; commune_codes: string[]; starts_at: string | null; ends_at: string | null; published_at: string | null }

export async function renderNotices(main: HTMLElement): Promise<void> {
  const sel = h('select', { name: 'commune', onchange: () => { store.set('hb.noticeCommune', sel.value); void load() } }, h('option', { value: '' }, d('wholeProvince')))
  const list = h('ul', { class: 'list notices' })
  const status = h('p', { class: 'hint', role: 'status' })
  fill(main, h('h1', null, d('noticesTitle')), h('p', { class: 'lead' }, d('noticesIntro')), field(d('commune'), sel), status, list)
  const saved = store.get('hb.noticeCommune', '')
  try {
    for (const c of await communes()) sel.append(h('option', { value: c.code, selected: c.code === saved }, communeLabel(c)))
  } catch {
    /* the whole province still shows */
  }
  let seq = 0
  async function load(): Promise<void> {
    const my = ++seq
    fill(status, '')
    try {
      const r = await api<{ items: Notice[] }>(`/api/notices?limit=50${sel.value ? `&commune_code=${sel.value}` : ''}`)
      if (my !== seq) return
      fill(list, r.items.map((n) => h('li', { class: 'card notice-item' },
        h('h2', null, n.title),
        h('p', { class: 'meta' }, vnTime(n.published_at)),
        n.location ? h('p', null, d('where', { x: n.location })) : null,
        n.starts_at ? h('p', null, d('when', { x: `${vnTime(n.starts_at)}${n.ends_at ? ` – ${vnTime(n.ends_at)}` : ''}` })) : null,
        h('p', { class: 'desc' }, n.body),
      )))
      if (!r.items.length) fill(status, d('noNotices'))
    } catch (e) {
      if (my === seq) fill(status, h('span', { class: 'error' }, errorText(e)))
    }
  }
  await load()
}

// ---- questions ----
interface Topic { code: string; name_vi: string; name_en: string; answer_days: number }
interface PublicQuestion { code: string; topic: string; title: string; body: string; answer: string | null; answered_at: string | null }

export async function renderAsk(main: HTMLElement): Promise<void> {
  const topics = (await api<{ items: Topic[] }>('/api/questions/topics')).items
  const topicName = (code: string) => { const x = topics.find((t) => t.code === code); return x ? pick(x.name_vi, x.name_en) : code }
  const q = h('input', { type: 'text', name: 'q', maxlength: 200, enterkeyhint: 'search' })
  const results = h('ul', { class: 'list answers' })
  const resultStatus = h('p', { class: 'hint', role: 'status' })
  async function search(): Promise<void> {
    try {
      const r = await api<{ items: PublicQuestion[] }>(`/api/questions?limit=20${q.value.trim() ? `&q=${encodeURIComponent(q.value.trim())}` : ''}`)
      fill(results, r.items.map((x) => h('li', { class: 'card answer-item' },
        h('h3', null, x.title),
        h('p', { class: 'meta' }, `${x.code} · ${topicName(x.topic)}`),
        h('p', { class: 'desc' }, x.body),
        x.answer ? h('div', { class: 'goes-to' }, h('strong', null, d('answer')), h('p', { class: 'desc' }, x.answer), h('span', { class: 'meta' }, vnTime(x.answered_at))) : null,
      )))
      fill(resultStatus, r.items.length ? '' : d('noAnswers'))
    } catch (e) {
      fill(resultStatus, h('span', { class: 'error' }, errorText(e)))
    }
  }

  const topicSel = h('select', { name: 'topic', required: true }, h('option', { value: '' }, d('chooseTopic')), topics.map((x) => h('option', { value: x.code }, `${pick(x.name_vi, x.name_en)} (${x.answer_days} ${lang === 'en' ? 'working days' : 'ngày làm việc'})`)))
  const title = h('input', { type: 'text', name: 'title', maxlength: 200, required: true })
  const body = h('textarea', { name: 'body', maxlength: 5000, required: true })
  const name = h('input', { type: 'text', name: 'name', maxlength: 120, autocomplete: 'name' })
  const phone = h('input', { type: 'tel', name: 'phone', maxlength: 20, autocomplete: 'tel' })
  let allowPublish = true
  const publish = checkbox(d('allowPublish'), true, (v) => (allowPublish = v))
  const out = h('div', { role: 'status', 'aria-live': 'polite' })
  const sendBtn = h('button', { type: 'submit', class: 'btn primary big' }, d('send'))
  // One key per question being written: a retry after a lost answer does not ask twice.
  let key = uuid()
  const form = h('form', { class: 'card ask-form', novalidate: true, onsubmit: async (ev: Event) => {
    ev.preventDefault()
    if (!topicSel.value) return fill(out, h('p', { class: 'error' }, d('needTopic')))
    if (title.value.trim().length < 5 || body.value.trim().length < 10) return fill(out, h('p', { class: 'error' }, d('tooShort')))
    sendBtn.disabled = true
    fill(sendBtn, d('sending'))
    try {
      const payload: Record<string, unknown> = { topic: topicSel.value, title: title.value.trim(), body: body.value.trim(), allow_publish: allowPublish }
      if (name.value.trim()) payload.name = name.value.trim()
      if (phone.value.trim()) payload.phone = phone.value.trim()
      const r = await api<{ code: string; due_at: string }>('/api/questions', { body: payload, headers: { 'idempotency-key': key } })
      fill(out, h('p', { class: 'notice' }, d('asked', { code: r.code, due: vnTime(r.due_at) })))
      title.value = ''
      body.value = ''
      key = uuid()
    } catch (e) {
      fill(out, h('p', { class: 'error' }, errorText(e)))
    } finally {
      sendBtn.disabled = false
      fill(sendBtn, d('send'))
    }
  } },
    h('h2', null, d('askForm')),
    field(d('topic'), topicSel), field(d('qTitle'), title), field(d('qBody'), body), field(d('name'), name), field(d('phone'), phone), publish.el,
    out, sendBtn,
  )

  fill(main,
    h('h1', null, d('askTitle')),
    h('p', { class: 'lead' }, d('askIntro')),
    form,
    h('h2', null, d('answered')),
    h('form', { class: 'inline-form', role: 'search', onsubmit: (ev: Event) => { ev.preventDefault(); void search() } }, field(d('search'), q), h('button', { type: 'submit', class: 'btn small' }, d('searchBtn'))),
    resultStatus,
    results,
  )
  await search()
}
