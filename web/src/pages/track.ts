import { api, ApiError, errorText } from '../api.ts'
import { field, fill, h } from '../dom.ts'
import { deviceId, myReports, vnTime } from '../format.ts'
import { actionLabel, t } from '../i18n.ts'
import { icon } from '../icons.ts'
import { navigate } from '../router.ts'
import { categories, categoryName, communes, orgUnits, unitName, type Category, type Commune, type OrgUnit } from '../refdata.ts'
import { statusBadge } from './common.ts'

export interface PublicReport {
  view: 'public' | 'owner' | 'internal'
  code: string
  category: string
  description: string
  status: string
  lat: number | null
  lon: number | null
  commune_code: string | null
  unit_code: string
  address_text: string | null
  public_answer: string | null
  reject_reason: string | null
  supporters_count: number
  created_at: string
  created_at_local: string
  photos: { url: string; thumb_url: string }[]
  timeline?: { at: string; at_local: string; action: string; to_status: string | null; to_unit: string | null }[]
  rating?: number | null
}

const CODE = /^PA-\d{4}-\d{6,}$/

export async function renderTrack(main: HTMLElement, params: string[]): Promise<void> {
  const code = (params[0] ?? '').toUpperCase()
  const input = h('input', { type: 'text', name: 'code', value: code, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', placeholder: 'PA-2025-000123', pattern: 'PA-[0-9]{4}-[0-9]{6,}', required: true })
  const result = h('div', { 'aria-live': 'polite' })
  const mine = myReports.list()
  fill(main,
    h('h1', null, t('trackTitle')),
    h('form', { class: 'inline-form', onsubmit: (e: Event) => {
      e.preventDefault()
      const v = input.value.trim().toUpperCase()
      if (v) navigate(`/track/${encodeURIComponent(v)}`)
    } }, field(t('codeLabel'), input, t('codeHint')), h('button', { type: 'submit', class: 'btn primary' }, t('lookUp'))),
    result,
    mine.length
      ? h('section', null, h('h2', null, t('myReports')), h('ul', { class: 'codes' }, mine.map((m) => h('li', null, h('a', { href: `#/track/${m.code}` }, m.code), h('span', { class: 'meta' }, ` · ${vnTime(m.at)}`)))))
      : null,
  )
  if (!code) return
  if (!CODE.test(code)) return void fill(result, h('p', { class: 'error' }, t('notFound')))
  fill(result, h('p', { class: 'hint' }, t('loading')))
  try {
    const [r, cats, comms, units] = await Promise.all([
      api<PublicReport>(`/api/reports/${encodeURIComponent(code)}`),
      categories().catch(() => [] as Category[]),
      communes().catch(() => [] as Commune[]),
      orgUnits().catch(() => [] as OrgUnit[]),
    ])
    fill(result, reportCard(r, cats, comms, units))
  } catch (e) {
    fill(result, h('p', { class: 'error' }, e instanceof ApiError && e.status === 404 ? t('notFound') : errorText(e)))
  }
}

export function reportCard(r: PublicReport, cats: Category[], comms: Commune[], units: OrgUnit[], withMeToo = true): HTMLElement {
  const commune = comms.find((c) => c.code === r.commune_code)
  const isOpen = ['received', 'assigned', 'in_progress'].includes(r.status)
  const count = h('span', null, t('supporters', { n: r.supporters_count }))
  const meToo = isOpen && withMeToo
    ? h('button', { type: 'button', class: 'btn small', onclick: async () => {
        meToo!.disabled = true
        try {
          const x = await api<{ supporters_count: number; added: boolean }>(`/api/reports/${r.code}/support`, { method: 'POST', headers: { 'X-Device-Id': deviceId() } })
          fill(meToo!, x.added ? t('meTooDone', { n: x.supporters_count }) : t('meTooAlready', { n: x.supporters_count }))
          fill(count, t('supporters', { n: x.supporters_count }))
        } catch (e) {
          meToo!.disabled = false
          fill(count, errorText(e))
        }
      } }, icon('plus1'), t('meToo'))
    : null
  return h('article', { class: 'card report' },
    h('div', { class: 'item-head' }, h('h2', { class: 'code' }, r.code), statusBadge(r.status)),
    h('p', { class: 'cat' }, categoryName(cats, r.category)),
    h('p', { class: 'desc' }, r.description),
    h('dl', { class: 'facts' },
      h('dt', null, t('sentAt')), h('dd', null, vnTime(r.created_at, true)),
      h('dt', null, t('communeOf')), h('dd', null, commune ? commune.full_name : (r.commune_code ?? '—')),
      h('dt', null, t('handlingUnit')), h('dd', null, unitName(units, r.unit_code)),
      h('dt', null, t('coords')), h('dd', null, r.lat !== null && r.lon !== null ? `${r.lat.toFixed(5)}, ${r.lon.toFixed(5)}` : t('noPosition')),
    ),
    r.address_text ? h('p', { class: 'meta' }, r.address_text) : null,
    r.public_answer ? h('div', { class: 'answer' }, h('h3', null, t('answer')), h('p', null, r.public_answer)) : null,
    r.reject_reason ? h('div', { class: 'answer rejected' }, h('h3', null, t('rejectReason')), h('p', null, r.reject_reason)) : null,
    r.photos.length
      ? h('div', null, h('h3', null, t('photosOf')), h('ul', { class: 'thumbs' }, r.photos.map((p, i) => h('li', null, h('a', { href: p.url, target: '_blank', rel: 'noopener' }, h('img', { src: p.thumb_url, alt: `${t('photosOf')} ${i + 1}`, width: 120, height: 120, loading: 'lazy' }))))))
      : null,
    h('p', { class: 'meta' }, count, ' ', meToo),
    r.view === 'owner' && ['resolved', 'closed'].includes(r.status) ? ownerFeedback(r) : null,
    r.timeline?.length
      ? h('div', null, h('h3', null, t('timeline')), h('ol', { class: 'timeline' }, r.timeline.map((x) => h('li', null, h('time', { datetime: x.at }, vnTime(x.at)), ' — ', actionLabel(x.action, x.to_status), x.to_unit && x.action === 'transfer' ? ` → ${unitName(units, x.to_unit)}` : ''))))
      : null,
  )
}

/** The reporter rates the answer and, when it did not solve the problem, reopens the report. */
function ownerFeedback(r: PublicReport): HTMLElement {
  const msg = h('p', { class: 'hint', 'aria-live': 'polite' })
  const send = async (action: 'rate' | 'reopen', body: Record<string, unknown>, btn: HTMLButtonElement) => {
    btn.disabled = true
    try {
      await api(`/api/reports/${encodeURIComponent(r.code)}/${action}`, { method: 'POST', body })
      if (action === 'rate') fill(msg, t('rated', { n: Number(body.rating) }))
      else navigate(`/track/${encodeURIComponent(r.code)}`)
    } catch (e) {
      fill(msg, errorText(e))
    } finally {
      btn.disabled = false
    }
  }
  const rating = h('select', { name: 'rating', required: true }, [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n), selected: r.rating === n || (!r.rating && n === 5) }, `${n} ★`)))
  const comment = h('input', { type: 'text', name: 'comment', maxlength: 1000 })
  const rateBtn = h('button', { type: 'submit', class: 'btn primary' }, t('rateSend'))
  const reason = h('textarea', { name: 'reason', maxlength: 2000, rows: 2, required: true })
  const reopenBtn = h('button', { type: 'submit', class: 'btn' }, t('reopenSend'))
  return h('section', { class: 'card feedback' },
    h('h3', null, t('rateTitle')),
    h('form', { class: 'rate-form', onsubmit: (e: Event) => {
      e.preventDefault()
      void send('rate', { rating: Number(rating.value), ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) }, rateBtn)
    } }, field(t('rateLabel'), rating), field(t('rateComment'), comment), rateBtn),
    h('h3', null, t('reopenTitle')),
    h('form', { class: 'reopen-form', onsubmit: (e: Event) => {
      e.preventDefault()
      if (reason.value.trim()) void send('reopen', { reason: reason.value.trim() }, reopenBtn)
    } }, field(t('reopenReason'), reason), reopenBtn),
    msg,
  )
}
