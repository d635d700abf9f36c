import { api, ApiError, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { vnTime } from '../format.ts'
import { actionLabel, lang, pick, statusLabel, t, type Key } from '../i18n.ts'
import { navigate } from '../router.ts'
import { categories, categoryName, communes, orgUnits, unitName, type Category, type Commune, type OrgUnit } from '../refdata.ts'
import { statusBadge } from './common.ts'
import { consoleDocuments, consoleDossier, consoleQueue, ct, linkedCard } from './console.ts'
import { reportCard, type PublicReport } from './track.ts'

interface Me {
  id: string
  role: string
  unit_code: string | null
  display_name: string
}
interface InternalReport extends PublicReport {
  channel: string
  locate_status: string
  near_border: boolean
  distance_to_border_m: number | null
  location_confirmed_at: string | null
  state_due_at: string | null
  state_due_at_local: string | null
  overdue: boolean
  anonymous: boolean
  share_identity: boolean
  reporter: { name: string | null; phone: string | null; email: string | null } | null
  linked_documents?: { id: string; symbol: string; summary: string; direction: string; issued_at: string }[]
  history?: { at: string; actor: string; action: string; from_status: string | null; to_status: string | null; to_unit: string | null; note: string | null }[]
}

const STAFF = ['officer', 'unit_admin', 'province_admin']
const OPEN = ['received', 'assigned', 'in_progress']

export async function renderStaff(main: HTMLElement, params: string[]): Promise<void> {
  fill(main, h('h1', null, t('staffTitle')), h('p', { class: 'hint' }, t('loading')))
  let me: Me
  try {
    me = await api<Me>('/api/auth/me')
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return loginForm(main, params)
    return void fill(main, h('h1', null, t('staffTitle')), h('p', { class: 'error' }, errorText(e)))
  }
  const [cats, units, comms] = await Promise.all([categories().catch(() => [] as Category[]), orgUnits().catch(() => [] as OrgUnit[]), communes().catch(() => [] as Commune[])])
  const logout = h('button', { type: 'button', class: 'btn small secondary', onclick: async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' })
    } catch {
      /* the session may have expired already */
    }
    navigate('/staff')
  } }, t('logout'))
  const who = h('div', { class: 'who' }, h('span', null, t('signedInAs', { name: me.display_name }), me.unit_code ? ` · ${unitName(units, me.unit_code)}` : ''), logout)
  if (!STAFF.includes(me.role)) return void fill(main, h('h1', null, t('staffTitle')), who, h('p', { class: 'error' }, t('notStaff')))
  const body = h('div')
  const section = params[0] === 'docs' ? 'docs' : params[0] === 'hotline' ? 'hotline' : params[0] === 'community' ? 'community' : 'queue'
  const sub = h('nav', { class: 'subnav', 'aria-label': t('staffTitle') },
    h('a', { href: '#/staff', 'aria-current': section === 'queue' ? 'page' : null }, ct('queue')),
    h('a', { href: '#/staff/docs', 'aria-current': section === 'docs' ? 'page' : null }, ct('documents')),
    h('a', { href: '#/staff/hotline', 'aria-current': section === 'hotline' ? 'page' : null }, lang === 'en' ? 'Hotline' : 'Đường dây nóng'),
    h('a', { href: '#/staff/community', 'aria-current': section === 'community' ? 'page' : null }, lang === 'en' ? 'Community teams' : 'Tổ công nghệ số'))
  fill(main, h('h1', null, t('staffTitle')), who, sub, body)
  if (params[0] === 'docs') await consoleDocuments(body, me)
  else if (params[0] === 'hotline') await (await import('./hotline.ts')).renderHotline(body, cats)
  else if (params[0] === 'community') await (await import('./community.ts')).renderCommunity(body, me)
  else if (params[0] === 'd' && params[1]) await consoleDossier(body, params[1], units)
  else if (params[0]) await detail(body, params[0].toUpperCase(), cats, units, comms)
  else await consoleQueue(body, me, cats, units)
}

function loginForm(main: HTMLElement, params: string[]): void {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true })
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true })
  const err = h('p', { class: 'error', role: 'alert', hidden: true })
  const btn = h('button', { type: 'submit', class: 'btn primary' }, t('login'))
  fill(main,
    h('h1', null, t('staffTitle')),
    h('form', { class: 'card login', onsubmit: async (e: Event) => {
      e.preventDefault()
      err.hidden = true
      btn.disabled = true
      try {
        await api('/api/auth/login', { method: 'POST', body: { username: user.value.trim(), password: pass.value, mode: 'cookie' } })
        pass.value = ''
        navigate(params[0] ? `/staff/${params[0]}` : '/staff')
      } catch (x) {
        fill(err, errorText(x))
        err.hidden = false
        btn.disabled = false
      }
    } }, field(t('username'), user), field(t('password'), pass), err, btn),
  )
}

async function detail(body: HTMLElement, code: string, cats: Category[], units: OrgUnit[], comms: Commune[]): Promise<void> {
  const back = h('a', { href: '#/staff', class: 'back' }, t('backToQueue'))
  fill(body, back, h('p', { class: 'hint' }, t('loading')))
  let r: InternalReport
  try {
    r = await api<InternalReport>(`/api/reports/${encodeURIComponent(code)}`)
  } catch (e) {
    return void fill(body, back, h('p', { class: 'error' }, errorText(e)))
  }
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  let linked = r.linked_documents
  const draw = (rep: InternalReport, note?: string) => {
    const mapBox = h('div', { class: 'map-box console-map' })
    fill(body, back, msg, reportCard(rep, cats, comms, units, false), rep.lat !== null && rep.lon !== null ? h('section', { class: 'card' }, h('h3', null, ct('map')), mapBox) : null,
      rep.view === 'internal' ? internal(rep) : null, linkedCard(rep.linked_documents ?? linked), rep.view === 'internal' ? actions(rep) : null)
    fill(msg, note ?? '')
    if (rep.linked_documents) linked = rep.linked_documents
    if (rep.lat !== null && rep.lon !== null) {
      void import('../map.ts').then(({ createMap }) => createMap()).then((m) => {
        fill(mapBox, m.el)
        m.setMarker(rep.lat, rep.lon)
        if (rep.commune_code) {
          m.highlight(rep.commune_code)
          m.zoomToCommune(rep.commune_code)
        }
      }).catch((e) => fill(mapBox, h('p', { class: 'hint' }, errorText(e))))
    }
  }

  const internal = (x: InternalReport) =>
    h('section', { class: 'card' },
      h('dl', { class: 'facts' },
        h('dt', null, t('stepDue')), h('dd', null, vnTime(x.state_due_at, true), x.overdue ? h('span', { class: 'badge danger' }, t('overdue')) : null),
        h('dt', null, t('channel')), h('dd', null, x.channel),
        h('dt', null, t('locateStatus')), h('dd', null, x.locate_status, x.near_border ? h('span', { class: 'badge warn' }, `${t('nearBorder')} ${x.distance_to_border_m !== null ? `${Math.round(x.distance_to_border_m)} m` : ''}`) : null, x.location_confirmed_at ? ` · ${t('locationConfirmed')}` : ''),
        h('dt', null, t('reporter')), h('dd', null, x.reporter ? [x.reporter.name, x.reporter.phone, x.reporter.email].filter(Boolean).join(' · ') || '—' : t('reporterHidden')),
      ),
      x.history?.length
        ? h('div', null, h('h3', null, t('history')), h('ol', { class: 'timeline' }, x.history.map((hh) => h('li', null, h('time', { datetime: hh.at }, vnTime(hh.at)), ` — ${actionLabel(hh.action, hh.to_status)}`, hh.to_status && hh.to_status !== hh.from_status ? ` → ${statusLabel(hh.to_status)}` : '', hh.to_unit && hh.action === 'transfer' ? ` (${unitName(units, hh.to_unit)})` : '', hh.note ? h('div', { class: 'meta' }, hh.note) : null))))
        : null,
    )

  function actions(x: InternalReport): HTMLElement {
    const panel = h('div', { class: 'action-form' })
    const run = async (action: string, payload: Record<string, unknown>, btn: HTMLButtonElement) => {
      btn.disabled = true
      try {
        const next = await api<InternalReport>(`/api/reports/${x.code}/${action}`, { method: 'POST', body: payload })
        draw(next, t('done'))
      } catch (e) {
        btn.disabled = false
        fill(msg, h('span', { class: 'error' }, errorText(e)))
      }
    }
    /** An action with no input runs at once; one with input opens a small form first. */
    const act = (label: Key, action: string, inputs?: () => { els: HTMLElement[]; payload: () => Record<string, unknown> | null }) => {
      const b = h('button', { type: 'button', class: 'btn secondary', 'data-action': action, onclick: () => {
        if (!inputs) return void run(action, {}, b)
        const spec = inputs()
        const ok = h('button', { type: 'submit', class: 'btn primary' }, t(label))
        fill(panel, h('form', { onsubmit: (e: Event) => {
          e.preventDefault()
          const p = spec.payload()
          if (p) void run(action, p, ok)
        } }, h('h3', null, t(label)), spec.els, ok))
        panel.querySelector<HTMLElement>('textarea, select, input')?.focus()
      } }, t(label))
      return b
    }
    const text = (label: Key, name: string) => {
      const ta = h('textarea', { name, rows: 3, required: true, maxlength: 4000 })
      return { el: field(t(label), ta), ta }
    }
    const buttons: HTMLElement[] = []
    const open = OPEN.includes(x.status)
    if (x.status === 'received' || x.status === 'assigned') buttons.push(act('actAssign', 'assign'), act('actStart', 'start'))
    if (open) {
      buttons.push(act('actResolve', 'resolve', () => {
        const a = text('answerLabel', 'answer')
        const doc = checkbox(ct('issueDoc'), false, () => undefined, { name: 'issue_document' })
        return { els: [a.el, doc.el], payload: () => (a.ta.value.trim() ? { answer: a.ta.value.trim(), ...(doc.input.checked ? { issue_document: true } : {}) } : (a.ta.focus(), null)) }
      }))
      buttons.push(act('actReject', 'reject', () => {
        const a = text('reasonLabel', 'reason')
        return { els: [a.el], payload: () => (a.ta.value.trim() ? { reason: a.ta.value.trim() } : (a.ta.focus(), null)) }
      }))
      buttons.push(act('actTransfer', 'transfer', () => {
        const sel = h('select', { name: 'to_unit', required: true }, h('option', { value: '' }, t('chooseUnit')), units.filter((u) => u.code !== x.unit_code).map((u) => h('option', { value: u.code }, pick(u.name_vi, u.name_en))))
        const a = text('reasonLabel', 'reason')
        return { els: [field(t('toUnit'), sel), a.el], payload: () => (!sel.value ? (sel.focus(), null) : a.ta.value.trim() ? { to_unit: sel.value, reason: a.ta.value.trim() } : (a.ta.focus(), null)) }
      }))
      if (!x.location_confirmed_at && (x.near_border || x.locate_status !== 'inside')) buttons.push(act('actConfirm', 'confirm_location'))
    }
    if (x.status === 'resolved' || x.status === 'rejected') buttons.push(act('actClose', 'close'))
    if (x.status === 'assigned' || x.status === 'in_progress') {
      buttons.push(act('actCloseNotFixed', 'close', () => {
        const a = text('answerLabel', 'answer')
        return { els: [a.el], payload: () => (a.ta.value.trim() ? { outcome: 'not_fixed', answer: a.ta.value.trim() } : (a.ta.focus(), null)) }
      }))
    }
    return h('section', { class: 'card actions' }, h('h3', null, t('actions')), h('div', { class: 'row wrap' }, buttons), panel)
  }
  draw(r)
}
