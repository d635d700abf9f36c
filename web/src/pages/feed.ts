import { api, errorText } from '../api.ts'
import { field, fill, h } from '../dom.ts'
import { vnTime } from '../format.ts'
import { pick, t } from '../i18n.ts'
import { categories, categoryName, type Category } from '../refdata.ts'
import { clip, statusBadge } from './common.ts'

interface FeedItem {
  code: string
  category: string
  description: string
  status: string
  lat: number | null
  lon: number | null
  created_at: string
  created_at_local: string
  supporters_count: number
  photos: unknown[]
}
interface Feature {
  id: string
  geometry: { type: 'Point'; coordinates: [number, number] } | null
  properties: { code: string; category: string; status: string; description: string; created_at: string }
}

const STATUSES = ['received', 'assigned', 'in_progress', 'resolved', 'rejected', 'closed']

export async function renderFeed(main: HTMLElement): Promise<void> {
  let cats: Category[] = []
  const filter = { category: '', status: '' }
  const catSel = h('select', { name: 'category', onchange: () => ((filter.category = catSel.value), reload()) }, h('option', { value: '' }, t('allCategories')))
  const stSel = h('select', { name: 'status', onchange: () => ((filter.status = stSel.value), reload()) },
    h('option', { value: '' }, t('allStatuses')),
    STATUSES.map((s) => h('option', { value: s }, statusBadge(s).textContent)),
  )
  const mapBox = h('div', { class: 'map-box' }, h('p', { class: 'hint' }, t('loading')))
  const mapInfo = h('div', { class: 'map-info', 'aria-live': 'polite' })
  const list = h('ul', { class: 'list feed' })
  const more = h('button', { type: 'button', class: 'btn secondary', hidden: true, onclick: () => loadPage() }, t('loadMore'))
  const status = h('p', { class: 'hint', role: 'status' })
  fill(main,
    h('h1', null, t('feedTitle')),
    h('p', { class: 'lead' }, t('feedIntro')),
    h('div', { class: 'filters' }, field(t('category'), catSel), field(t('status'), stSel)),
    mapBox,
    mapInfo,
    status,
    list,
    more,
  )

  let cursor: string | null = null
  let seq = 0
  const qs = () => `${filter.category ? `&category=${encodeURIComponent(filter.category)}` : ''}${filter.status ? `&status=${filter.status}` : ''}`

  async function loadPage(): Promise<void> {
    const my = seq
    more.disabled = true
    try {
      const r = await api<{ items: FeedItem[]; next_cursor: string | null }>(`/api/reports?limit=20${qs()}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      if (my !== seq) return
      for (const it of r.items) list.appendChild(item(it))
      cursor = r.next_cursor
      more.hidden = !cursor
      fill(status, list.children.length ? '' : t('noReports'))
    } catch (e) {
      if (my === seq) fill(status, errorText(e))
    } finally {
      more.disabled = false
    }
  }

  const item = (it: FeedItem) =>
    h('li', { class: 'item', 'data-code': it.code },
      h('div', { class: 'item-head' }, h('a', { href: `#/track/${it.code}`, class: 'code' }, it.code), statusBadge(it.status)),
      h('p', { class: 'cat' }, categoryName(cats, it.category)),
      h('p', null, clip(it.description)),
      h('p', { class: 'meta' }, vnTime(it.created_at), it.supporters_count > 1 ? ` · ${t('supporters', { n: it.supporters_count })}` : ''),
    )

  let setPoints: ((f: Feature[]) => void) | null = null
  let features: Feature[] = []
  async function loadPoints(): Promise<void> {
    const my = seq
    try {
      const fc = await api<{ features: Feature[] }>(`/api/reports.geojson?limit=200${qs()}`)
      if (my !== seq) return
      features = fc.features.filter((f) => f.geometry)
      setPoints?.(features)
    } catch {
      /* the list still works */
    }
  }

  function reload(): void {
    seq++
    cursor = null
    list.textContent = ''
    fill(mapInfo)
    void loadPage()
    void loadPoints()
  }

  try {
    cats = await categories()
    for (const c of cats) catSel.appendChild(h('option', { value: c.code }, pick(c.name_vi, c.name_en)))
  } catch {
    /* codes are shown instead of names */
  }
  reload()

  try {
    const { createMap } = await import('../map.ts')
    const map = await createMap({
      onPoint: (code) => {
        const f = features.find((x) => x.properties.code === code)
        if (!f) return
        fill(mapInfo, h('div', { class: 'card' },
          h('div', { class: 'item-head' }, h('a', { href: `#/track/${code}`, class: 'code' }, code), statusBadge(f.properties.status)),
          h('p', { class: 'cat' }, categoryName(cats, f.properties.category)),
          h('p', null, clip(f.properties.description)),
          h('a', { href: `#/track/${code}` }, t('openReport'), ' →'),
        ))
      },
    })
    const count = h('p', { class: 'hint' })
    setPoints = (fs) => {
      map.setPoints(fs.map((f) => ({ id: f.properties.code, lon: f.geometry!.coordinates[0], lat: f.geometry!.coordinates[1], cls: `st-${f.properties.status}`, title: `${f.properties.code} – ${clip(f.properties.description, 60)}` })))
      fill(count, t('mapPoints', { n: fs.length }))
    }
    fill(mapBox, map.el, count)
    setPoints(features)
  } catch (e) {
    fill(mapBox, h('p', { class: 'hint' }, errorText(e)))
  }
}
