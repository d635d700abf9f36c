import { api, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { deviceId, meters, store, vnTime } from '../format.ts'
import { pick, statusLabel, t } from '../i18n.ts'
import type { CommuneMap } from '../map.ts'
import { draftKey, listPending, newDraftKey, notify, putPending, sendPending, type DraftFields, type IntakeAnswer, type PendingReport } from '../outbox.ts'
import { icon } from '../icons.ts'
import { resizePhoto } from '../photos.ts'
import { currentPath, navigate } from '../router.ts'
import { categories, communeLabel, communes, orgUnits, unitName, type Category, type Commune } from '../refdata.ts'

const DRAFT = 'hb.draft'
const emptyDraft = (): DraftFields => ({ category: '', description: '', lat: null, lon: null, commune_code: null, position_source: null, anonymous: false, share_identity: false, name: '', phone: '' })
const PHONE = /^\+?[0-9 .-]{6,20}$/

interface LocateAnswer {
  status: 'inside' | 'nearest' | 'outside'
  unit: { code: string; name: string; full_name: string } | null
  near_border: boolean
  distance_to_border_m: number | null
}

interface NearbyItem {
  code: string
  description: string
  status: string
  supporters_count: number
  distance_m: number
  created_at_local: string
}

/** Photos handed over when a refused report from the outbox is opened again for editing. */
let restored: { photos: Blob[] } | null = null
/** The draft's photos, kept in memory across re-renders (language switch, navigation). */
let draftPhotos: Blob[] = []

/** Puts a refused outbox report back into the form, with its key (nothing was stored under it). */
export function editPending(p: PendingReport): void {
  store.set(DRAFT, p.fields)
  store.set('hb.draft.key', p.key)
  restored = { photos: p.photos.map((x) => new Blob([x.data], { type: x.type })) }
}

export async function renderReport(main: HTMLElement): Promise<void> {
  const d: DraftFields = { ...emptyDraft(), ...store.get<Partial<DraftFields>>(DRAFT, {}) }
  if (restored) draftPhotos = restored.photos
  restored = null
  const photos = draftPhotos
  const save = () => store.set(DRAFT, d)

  let cats: Category[] = []
  let communeList: Commune[] = []
  let located: LocateAnswer | null = null
  let map: CommuneMap | null = null
  let locateSeq = 0
  let busyPhotos = 0

  // ---- category & description ----
  const catSelect = h('select', { name: 'category', required: true, onchange: () => ((d.category = catSelect.value), save(), updatePlace(), loadNearby()) }, h('option', { value: '' }, t('chooseCategory')))
  const desc = h('textarea', { name: 'description', rows: 4, maxlength: 4000, required: true, value: d.description, oninput: () => ((d.description = desc.value), save()) })

  // ---- position ----
  const gpsBtn = h('button', { type: 'button', class: 'btn secondary', onclick: () => useGps() }, icon('pin'), t('useGps'))
  const mapBtn = h('button', { type: 'button', class: 'btn secondary', 'aria-expanded': 'false', onclick: () => toggleMap() }, icon('map'), t('pickOnMap'))
  const posStatus = h('p', { class: 'pos-status', role: 'status', 'aria-live': 'polite' })
  const mapBox = h('div', { class: 'map-box', hidden: true })
  const communeSelect = h('select', { name: 'commune_code', onchange: () => pickCommune(communeSelect.value) }, h('option', { value: '' }, t('chooseCommune')))
  const placeBox = h('div', { class: 'place', 'aria-live': 'polite' })
  const nearbyBox = h('section', { class: 'nearby', hidden: true, 'aria-live': 'polite' })

  // ---- photos ----
  const fileInput = h('input', { type: 'file', accept: 'image/*', multiple: true, class: 'visually-hidden', id: 'photo-input', onchange: () => addPhotos() })
  const addLabel = h('label', { for: 'photo-input', class: 'btn secondary photo-add' }, icon('camera'), t('addPhoto'))
  const thumbs = h('ul', { class: 'thumbs' })
  const photoStatus = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' })

  // ---- about you ----
  const nameInput = h('input', { type: 'text', name: 'contact.name', autocomplete: 'name', maxlength: 120, value: d.name, oninput: () => ((d.name = nameInput.value), save()) })
  const phoneInput = h('input', { type: 'tel', name: 'contact.phone', autocomplete: 'tel', inputmode: 'tel', maxlength: 20, value: d.phone, oninput: () => ((d.phone = phoneInput.value), save()) })
  const contactBox = h('div', { class: 'contact' })
  const anon = checkbox(t('anonymous'), d.anonymous, (v) => ((d.anonymous = v), save(), syncAnon()), { name: 'anonymous' })
  const share = checkbox(t('shareIdentity'), d.share_identity, (v) => ((d.share_identity = v), save()), { name: 'share_identity' })
  fill(contactBox, share.el, field(t('contactName'), nameInput), field(t('contactPhone'), phoneInput))
  const syncAnon = () => {
    contactBox.hidden = d.anonymous
  }
  syncAnon()

  const errBox = h('div', { class: 'error', role: 'alert', hidden: true })
  const submit = h('button', { type: 'submit', class: 'btn primary big' }, t('send'))

  const form = h('form', { class: 'report-form', novalidate: true, onsubmit: (e: Event) => (e.preventDefault(), void send()) },
    field(t('category'), catSelect),
    field(t('description'), desc, t('descriptionHint')),
    h('fieldset', null,
      h('legend', null, t('position')),
      h('div', { class: 'row' }, gpsBtn, mapBtn),
      posStatus,
      mapBox,
      field(t('pickCommune'), communeSelect),
      placeBox,
    ),
    nearbyBox,
    h('fieldset', null,
      h('legend', null, t('photos')),
      fileInput,
      addLabel,
      thumbs,
      photoStatus,
      h('p', { class: 'hint' }, t('photoHint')),
    ),
    h('fieldset', null, h('legend', null, t('you')), anon.el, contactBox, h('p', { class: 'hint' }, t('privacyNote'))),
    errBox,
    submit,
  )
  fill(main, h('h1', null, t('reportTitle')), h('p', { class: 'lead' }, t('reportIntro')), form)

  // ---- reference data (the form works while they load) ----
  categories()
    .then((list) => {
      cats = list
      for (const c of list) catSelect.appendChild(h('option', { value: c.code, selected: c.code === d.category }, pick(c.name_vi, c.name_en)))
      if (!list.some((c) => c.code === d.category)) d.category = ''
      updatePlace()
    })
    .catch((e) => showError(e))
  communes()
    .then((list) => {
      communeList = list
      for (const c of list) communeSelect.appendChild(h('option', { value: c.code, selected: c.code === d.commune_code }, communeLabel(c)))
      updatePlace()
    })
    .catch(() => {})

  // ---- position logic ----
  function useGps(): void {
    if (!('geolocation' in navigator)) return void fill(posStatus, t('gpsUnsupported'))
    fill(posStatus, t('gpsLocating'))
    gpsBtn.disabled = true
    navigator.geolocation.getCurrentPosition(
      (p) => {
        gpsBtn.disabled = false
        setPosition(Math.round(p.coords.latitude * 1e6) / 1e6, Math.round(p.coords.longitude * 1e6) / 1e6, 'gps', p.coords.accuracy)
      },
      () => {
        gpsBtn.disabled = false
        fill(posStatus, t('gpsDenied'))
      },
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    )
  }

  async function toggleMap(): Promise<void> {
    if (!mapBox.hidden) {
      mapBox.hidden = true
      mapBtn.setAttribute('aria-expanded', 'false')
      fill(mapBtn, icon('map'), t('pickOnMap'))
      return
    }
    mapBox.hidden = false
    mapBtn.setAttribute('aria-expanded', 'true')
    fill(mapBtn, icon('map'), t('hideMap'))
    if (map) return
    fill(mapBox, h('p', { class: 'hint' }, t('loading')))
    try {
      const { createMap } = await import('../map.ts')
      map = await createMap({ caption: t('mapHint'), onTap: (lat, lon) => setPosition(lat, lon, 'map') })
      fill(mapBox, map.el)
      syncMap()
    } catch (e) {
      fill(mapBox, h('p', { class: 'error' }, errorText(e)), h('button', { type: 'button', class: 'btn secondary', onclick: () => ((mapBox.hidden = true), toggleMap()) }, t('retry')))
    }
  }

  function syncMap(): void {
    if (!map) return
    map.setMarker(d.lat, d.lon)
    map.highlight(d.commune_code)
    if (d.position_source === 'list' && d.commune_code) map.zoomToCommune(d.commune_code)
  }

  function setPosition(lat: number, lon: number, source: 'gps' | 'map', accuracy?: number): void {
    d.lat = lat
    d.lon = lon
    d.position_source = source
    d.commune_code = null
    communeSelect.value = ''
    located = null
    save()
    fill(posStatus, `${t('coords')}: ${lat.toFixed(5)}, ${lon.toFixed(5)}`, accuracy ? ` (${t('gpsAccuracy', { m: Math.round(accuracy) })})` : '')
    syncMap()
    void locate()
    void loadNearby()
  }

  function pickCommune(code: string): void {
    d.commune_code = code || null
    d.lat = d.lon = null
    d.position_source = code ? 'list' : null
    located = null
    locateSeq++
    save()
    fill(posStatus)
    syncMap()
    updatePlace()
    nearbyBox.hidden = true
  }

  async function locate(): Promise<void> {
    if (d.lat === null || d.lon === null) return
    const seq = ++locateSeq
    fill(placeBox, h('p', { class: 'hint' }, t('checkingPlace')))
    try {
      const r = await api<LocateAnswer>(`/api/geo/locate?lat=${d.lat}&lon=${d.lon}`)
      if (seq !== locateSeq) return
      located = r
      d.commune_code = r.unit?.code ?? null
      if (r.unit) communeSelect.value = r.unit.code
      save()
      map?.highlight(d.commune_code)
      updatePlace()
    } catch (e) {
      if (seq !== locateSeq) return
      // Not fatal: the server locates the point itself when the report is sent.
      fill(placeBox, h('p', { class: 'hint' }, errorText(e)))
    }
  }

  function updatePlace(): void {
    if (!d.commune_code && located?.status !== 'outside') return void fill(placeBox)
    if (located?.status === 'outside' || !d.commune_code) return void fill(placeBox, h('p', { class: 'warn' }, t('outsideNote')))
    const c = communeList.find((x) => x.code === d.commune_code)
    const communeName = located?.unit?.full_name ?? c?.full_name ?? d.commune_code
    const cat = cats.find((x) => x.code === d.category)
    const dept = cat?.handling === 'department' ? cat.department_code : null
    const unitEl = h('strong', { class: 'unit-name' }, dept ? t('departmentGeneric') : `UBND ${communeName}`)
    if (dept) orgUnits().then((units) => fill(unitEl, unitName(units, dept))).catch(() => {})
    const notes: HTMLElement[] = []
    if (located?.status === 'nearest') notes.push(h('p', { class: 'warn' }, t('nearestNote', { m: meters(located.distance_to_border_m) })))
    else if (located?.near_border) notes.push(h('p', { class: 'warn' }, t('nearBorderNote', { m: meters(located.distance_to_border_m) })))
    fill(placeBox,
      h('div', { class: 'goes-to' },
        h('span', { class: 'label' }, t('willGoTo')),
        unitEl,
        h('p', { class: 'place-unit' }, `${t('communeOf')}: `, h('span', { class: 'commune-name' }, communeName)),
      ),
      notes,
    )
  }

  async function loadNearby(): Promise<void> {
    if (d.lat === null || d.lon === null) return void (nearbyBox.hidden = true)
    const q = `/api/reports/nearby?lat=${d.lat}&lon=${d.lon}${d.category ? `&category=${encodeURIComponent(d.category)}` : ''}`
    try {
      const r = await api<{ items: NearbyItem[] }>(q)
      if (!r.items.length) return void (nearbyBox.hidden = true)
      fill(nearbyBox,
        h('h2', null, t('nearbyTitle')),
        h('p', { class: 'hint' }, t('nearbyIntro')),
        h('ul', { class: 'list' }, r.items.slice(0, 5).map(nearbyItem)),
      )
      nearbyBox.hidden = false
    } catch {
      nearbyBox.hidden = true
    }
  }

  function nearbyItem(n: NearbyItem): HTMLElement {
    const count = h('span', null, t('supporters', { n: n.supporters_count }))
    const btn = h('button', { type: 'button', class: 'btn small', onclick: async () => {
      btn.disabled = true
      try {
        const r = await api<{ supporters_count: number; added: boolean }>(`/api/reports/${n.code}/support`, { method: 'POST', headers: { 'X-Device-Id': deviceId() } })
        fill(btn, r.added ? t('meTooDone', { n: r.supporters_count }) : t('meTooAlready', { n: r.supporters_count }))
        fill(count, t('supporters', { n: r.supporters_count }))
      } catch (e) {
        btn.disabled = false
        fill(count, errorText(e))
      }
    } }, icon('plus1'), t('meToo'))
    return h('li', { class: 'item' },
      h('div', { class: 'item-head' }, h('a', { href: `#/track/${n.code}` }, n.code), h('span', { class: `badge st-${n.status}` }, statusLabel(n.status))),
      h('p', null, n.description.length > 160 ? `${n.description.slice(0, 160)}…` : n.description),
      h('p', { class: 'meta' }, t('away', { m: n.distance_m }), ' · ', count),
      btn,
    )
  }

  // ---- photos ----
  async function addPhotos(): Promise<void> {
    const files = Array.from(fileInput.files ?? []).slice(0, 3 - photos.length)
    fileInput.value = ''
    for (const f of files) {
      busyPhotos++
      fill(photoStatus, t('processingPhoto'))
      try {
        photos.push(await resizePhoto(f))
      } catch {
        fill(photoStatus, t('photoError', { name: f.name }))
        busyPhotos--
        continue
      }
      busyPhotos--
      fill(photoStatus)
      renderThumbs()
    }
  }
  function renderThumbs(): void {
    for (const img of Array.from(thumbs.querySelectorAll('img'))) URL.revokeObjectURL(img.src)
    fill(thumbs, photos.map((b, i) =>
      h('li', null,
        h('img', { src: URL.createObjectURL(b), alt: `${t('photosOf')} ${i + 1}`, width: 96, height: 96 }),
        h('button', { type: 'button', class: 'remove', 'aria-label': t('removePhoto', { n: i + 1 }), onclick: () => (photos.splice(i, 1), renderThumbs()) }, '×'),
      ),
    ))
    addLabel.hidden = photos.length >= 3
  }
  renderThumbs()

  // ---- restore the position part of a saved draft ----
  if (d.lat !== null && d.lon !== null) {
    fill(posStatus, `${t('coords')}: ${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`)
    void locate()
    void loadNearby()
  }

  // ---- send ----
  function showError(e: unknown): void {
    fill(errBox, typeof e === 'string' ? e : errorText(e))
    errBox.hidden = false
  }
  function validate(): { msg: string; el: HTMLElement } | null {
    if (!d.category) return { msg: t('needCategory'), el: catSelect }
    if (d.description.trim().length < 3) return { msg: t('needDescription'), el: desc }
    if ((d.lat === null || d.lon === null) && !d.commune_code) return { msg: t('needPosition'), el: gpsBtn }
    if (!d.anonymous && d.phone.trim() && !PHONE.test(d.phone.trim())) return { msg: t('phoneInvalid'), el: phoneInput }
    return null
  }

  async function send(): Promise<void> {
    errBox.hidden = true
    const bad = validate()
    if (bad) {
      showError(bad.msg)
      bad.el.focus()
      return
    }
    if (busyPhotos) return showError(t('processingPhoto'))
    submit.disabled = true
    fill(submit, t('sending'))
    const p: PendingReport = {
      key: draftKey(),
      fields: { ...d },
      photos: await Promise.all(photos.map(async (b) => ({ type: b.type || 'image/jpeg', data: await b.arrayBuffer() }))),
      createdAt: new Date().toISOString(),
      attempts: 0,
    }
    // Saved before sending: if the page dies mid-request, it is retried later with the same key.
    await putPending(p)
    const r = await sendPending(p, false)
    if (r.ok || r.retry) draftPhotos = []
    if (r.ok) {
      newDraftKey()
      store.del(DRAFT)
      notify()
      return navigate('/sent')
    }
    if (r.retry) {
      newDraftKey()
      store.del(DRAFT)
      notify()
      return navigate('/waiting')
    }
    if (r.error.code === 'IDEMPOTENCY_KEY_REUSED') newDraftKey()
    submit.disabled = false
    fill(submit, t('send'))
    showError(r.error)
  }
}

/** The receipt of the last report sent from this device (kept, so a reload or a language switch shows it again). */
export function renderSuccess(main: HTMLElement): void {
  const a = store.get<IntakeAnswer | null>('hb.last', null)
  if (!a) return void renderReport(main)
  const copyBtn = h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(a.code)
      fill(copyBtn, t('copied'))
    } catch {
      /* clipboard refused: the code is on screen */
    }
  } }, t('copy'))
  fill(main,
    h('section', { class: 'card success', 'aria-labelledby': 'ok-title' },
      h('h1', { id: 'ok-title', tabindex: -1 }, icon('check'), ' ', t('sentTitle')),
      h('p', { class: 'label' }, t('trackingCode')),
      h('p', { class: 'tracking-code', 'data-code': a.code }, a.code),
      h('p', { class: 'hint' }, t('keepCode')),
      h('dl', { class: 'facts' },
        a.commune ? [h('dt', null, t('communeOf')), h('dd', { class: 'commune-name' }, a.commune.name)] : null,
        h('dt', null, t('handlingUnit')), h('dd', null, pick(a.unit.name_vi, a.unit.name_en)),
        h('dt', null, t('firstStepDue')), h('dd', null, vnTime(a.state_due_at, true)),
        h('dt', null, t('dueAt')), h('dd', null, vnTime(a.due_at, true)),
      ),
      a.near_border ? h('p', { class: 'warn' }, t('nearBorderSent')) : null,
      a.possible_duplicates.length
        ? h('div', null, h('h2', null, t('possibleDup')), h('ul', { class: 'list' }, a.possible_duplicates.map((x) => h('li', { class: 'item' }, h('a', { href: `#/track/${x.code}` }, x.code), ` · ${t('away', { m: x.distance_m })} · ${x.description}`))))
        : null,
      h('div', { class: 'row' },
        h('a', { class: 'btn primary', href: `#/track/${a.code}` }, t('trackThis')),
        copyBtn,
        h('a', { class: 'btn secondary', href: '#/', onclick: (e: Event) => (e.preventDefault(), navigate('/')) }, t('sendAnother')),
      ),
    ),
  )
  window.scrollTo(0, 0)
  main.querySelector<HTMLElement>('#ok-title')?.focus({ preventScroll: true })
}

export function renderPending(main: HTMLElement): void {
  fill(main,
    h('section', { class: 'card pending', 'aria-labelledby': 'wait-title' },
      h('h1', { id: 'wait-title', tabindex: -1 }, icon('clock'), ' ', t('pendingTitle')),
      h('p', null, t('pendingBody')),
      h('div', { class: 'row' }, h('a', { class: 'btn secondary', href: '#/', onclick: (e: Event) => (e.preventDefault(), navigate('/')) }, t('sendAnother'))),
    ),
  )
  window.scrollTo(0, 0)
  main.querySelector<HTMLElement>('#wait-title')?.focus({ preventScroll: true })
  // Opened again after the report left (reload, another tab): show where it stands.
  void listPending().then((l) => {
    if (!l.some((p) => !p.failed) && currentPath()[0] === 'waiting') navigate(store.get('hb.last', null) ? '/sent' : '/')
  })
}

