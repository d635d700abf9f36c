import './style.css'
import { errorText } from './api.ts'
import { fill, h } from './dom.ts'
import { lang, pick, setLang, t, type Key } from './i18n.ts'
import { icon } from './icons.ts'
import { flushDossiers, listPendingDossiers, onDossierOutboxChange } from './dossier-outbox.ts'
import { flushOutbox, listPending, onOutboxChange, removePending, type PendingReport } from './outbox.ts'
import { renderAbout } from './pages/about.ts'
import { renderFeed } from './pages/feed.ts'
import { editPending, renderPending, renderReport, renderSuccess } from './pages/report.ts'
import { renderTrack } from './pages/track.ts'
import { currentPath, navigate, setRenderer } from './router.ts'

const main = document.getElementById('main')!
const nav = document.getElementById('nav')!
const banner = document.getElementById('banner')!
const langBtn = document.getElementById('lang') as HTMLButtonElement
/** The inbox bell with its unread badge, shown once someone is signed in. */
const bell = h('a', { id: 'inbox-bell', class: 'bell', href: '#/inbox', hidden: true })
langBtn.before(bell)
let bellCheckedAt = 0
async function drawBell(force = false): Promise<void> {
  if (!force && Date.now() - bellCheckedAt < 60_000) return
  bellCheckedAt = Date.now()
  try {
    const n = await (await import('./pages/inbox.ts')).unreadCount()
    bell.hidden = n === null
    fill(bell, icon('bell'), n ? h('span', { class: 'badge' }, n > 99 ? '99+' : String(n)) : null)
    bell.setAttribute('aria-label', n ? t('inboxUnread', { n }) : t('inbox'))
  } catch {
    /* offline: keep the last state */
  }
}

const ROUTES: { path: string; label: Key }[] = [
  { path: '', label: 'navReport' },
  { path: 'services', label: 'navServices' },
  { path: 'track', label: 'navTrack' },
  { path: 'feed', label: 'navFeed' },
  { path: 'guides', label: 'navGuides' },
  { path: 'notices', label: 'navNotices' },
  { path: 'ask', label: 'navAsk' },
  { path: 'account', label: 'navAccount' },
  { path: 'staff', label: 'navStaff' },
  { path: 'about', label: 'navAbout' },
]

function drawChrome(active: string): void {
  setLang(lang)
  nav.setAttribute('aria-label', t('mainNav'))
  fill(nav, ROUTES.map((r) => h('a', { href: `#/${r.path}`, 'aria-current': r.path === active ? 'page' : null }, t(r.label))))
  fill(langBtn, lang === 'vi' ? 'EN' : 'VI')
  langBtn.setAttribute('aria-label', t('switchLang'))
  langBtn.lang = lang === 'vi' ? 'en' : 'vi'
}

let renderSeq = 0
async function render(): Promise<void> {
  const seq = ++renderSeq
  const [page = '', ...params] = location.pathname === '/ioc' ? ['ioc'] : currentPath()
  // The IOC wall is full screen: no header, no navigation.
  document.body.classList.toggle('wall', page === 'ioc')
  void drawBell(page === 'inbox' || page === 'account' || page === 'services' || page === 'staff')
  const active = page === 'dossiers' ? 'services' : ROUTES.some((r) => r.path === page) ? page : ''
  drawChrome(active)
  document.title = `${t(ROUTES.find((r) => r.path === active)!.label)} – ${t('appName')}`
  const lazy = async <M,>(load: () => Promise<M>, run: (m: M) => Promise<void> | void) => {
    fill(main, h('p', { class: 'hint' }, t('loading')))
    const m = await load()
    if (seq === renderSeq) await run(m)
  }
  try {
    if (page === 'services' || page === 'dossiers') await lazy(() => import('./pages/services.ts'), (m) => (page === 'services' ? m.renderServices(main, params) : m.renderDossiers(main, params)))
    else if (page === 'account') await lazy(() => import('./pages/account.ts'), (m) => m.renderAccount(main, params))
    else if (page === 'ioc') await lazy(() => import('./pages/ioc.ts'), (m) => m.renderIoc(main))
    else if (page === 'guides' || page === 'notices' || page === 'ask') await lazy(() => import('./pages/channel.ts'), (m) => (page === 'guides' ? m.renderGuides(main, params) : page === 'notices' ? m.renderNotices(main) : m.renderAsk(main)))
    else if (page === 'inbox') await lazy(() => import('./pages/inbox.ts'), (m) => m.renderInbox(main, () => void drawBell(true)))
    else if (page === 'track') await renderTrack(main, params)
    else if (page === 'feed') await renderFeed(main)
    else if (page === 'about') renderAbout(main)
    else if (page === 'sent') renderSuccess(main)
    else if (page === 'waiting') renderPending(main)
    else if (page === 'staff') await lazy(() => import('./pages/staff.ts'), (m) => m.renderStaff(main, params))
    else await renderReport(main)
  } catch (e) {
    if (seq === renderSeq) fill(main, h('p', { class: 'error' }, errorText(e)), h('button', { class: 'btn secondary', type: 'button', onclick: () => void render() }, t('retry')))
  }
}
setRenderer(() => void render())

window.addEventListener('hashchange', () => {
  window.scrollTo(0, 0)
  void render()
  // Move focus into the new page (pages that focus their own heading keep it).
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true })
})
langBtn.addEventListener('click', () => {
  setLang(lang === 'vi' ? 'en' : 'vi')
  void render()
  void drawBanner()
})

// ---- outbox banner: reports waiting for the network, or refused and waiting for the user ----
let lastSent: string | null = null
async function drawBanner(): Promise<void> {
  const list = await listPending()
  const waiting = list.filter((p) => !p.failed)
  const failed = list.filter((p) => p.failed)
  const dossiers = (await listPendingDossiers()).filter((p) => !p.failed)
  const parts: HTMLElement[] = []
  if (dossiers.length) parts.push(h('p', { class: 'pending-line' }, icon('clock'), ' ', t('pendingDossiers', { n: dossiers.length }), ' ', h('a', { href: '#/dossiers' }, t('navServices'))))
  if (lastSent) parts.push(h('p', null, t('sentInBackground', { code: lastSent }), ' ', h('a', { href: `#/track/${lastSent}` }, t('trackThis'))))
  if (waiting.length) {
    parts.push(h('p', { class: 'pending-line' }, icon('clock'), ' ', t('pendingBanner', { n: waiting.length }), ' ', h('button', { type: 'button', class: 'btn small', onclick: () => void flushOutbox() }, t('sendNow'))))
  }
  for (const p of failed) parts.push(failedLine(p))
  fill(banner, parts)
  banner.hidden = parts.length === 0
}
function failedLine(p: PendingReport): HTMLElement {
  return h('p', { class: 'failed-line' },
    t('failedBanner', { msg: pick(p.failed!.vi, p.failed!.en) || p.failed!.code }), ' ',
    h('button', { type: 'button', class: 'btn small', onclick: async () => {
      editPending(p)
      await removePending(p.key)
      await drawBanner()
      navigate('/')
    } }, t('editDraft')),
    ' ',
    h('button', { type: 'button', class: 'btn small secondary', onclick: async () => (await removePending(p.key), drawBanner()) }, t('discard')),
  )
}
onOutboxChange((e) => {
  if (e.sent) {
    lastSent = e.sent.code
    // The "waiting" screen turns into the receipt.
    if (currentPath()[0] === 'waiting') navigate('/sent')
  }
  void drawBanner()
})

onDossierOutboxChange(() => void drawBanner())

let flushing = false
async function retry(): Promise<void> {
  if (flushing || navigator.onLine === false) return
  flushing = true
  try {
    await flushOutbox()
    await flushDossiers()
  } finally {
    flushing = false
  }
}
window.addEventListener('online', () => void retry())
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void retry()
})
setInterval(() => {
  void Promise.all([listPending(), listPendingDossiers()]).then(([a, b]) => {
    if (a.some((p) => !p.failed) || b.some((p) => !p.failed)) void retry()
  })
}, 30_000)

void render()
void drawBanner().then(() => retry())

if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => {})
  })
}
