/**
 * The hotline operator screen (đường dây nóng): a caller reports by phone; the operator finds the
 * place (village or commune, typo-tolerant), may pin it on the map, picks the category, notes the
 * caller's phone if given, and reads the tracking code back to the caller.
 */
import { api, errorText } from '../api.ts'
import { checkbox, field, fill, h } from '../dom.ts'
import { uuid } from '../format.ts'
import { dictionary, pick } from '../i18n.ts'
import type { Category } from '../refdata.ts'

const d = dictionary({
  title: 'Tiếp nhận qua đường dây nóng',
  place: 'Địa điểm (thôn/bản, xã/phường)',
  placeHint: 'Gõ tên, có thể không dấu: "ban hin", "muong pon"…',
  find: 'Tìm',
  village: 'Thôn/bản',
  commune: 'Xã/phường',
  chosen: 'Đã chọn: {x}',
  noPlace: 'Không tìm thấy địa điểm.',
  pin: 'Ghim trên bản đồ (không bắt buộc)',
  pinned: 'Đã ghim: {lat}, {lon}',
  unpin: 'Bỏ ghim',
  landmark: 'Mốc địa điểm người gọi nói (không bắt buộc)',
  category: 'Lĩnh vực',
  chooseCategory: '— Chọn lĩnh vực —',
  description: 'Nội dung người gọi phản ánh',
  callerName: 'Tên người gọi (không bắt buộc)',
  callerPhone: 'Số điện thoại người gọi (không bắt buộc)',
  anonymous: 'Người gọi không để lại tên, số điện thoại',
  submit: 'Ghi nhận phản ánh',
  sending: 'Đang ghi nhận…',
  needPlace: 'Hãy chọn địa điểm hoặc ghim trên bản đồ.',
  needCategory: 'Hãy chọn lĩnh vực.',
  needDescription: 'Hãy ghi nội dung (ít nhất 3 ký tự).',
  readBack: 'Đọc lại cho người gọi',
  code: 'Mã phản ánh',
  duplicates: 'Có phản ánh gần đó:',
  next: 'Cuộc gọi mới',
}, {
  title: 'Hotline intake',
  place: 'Place (village, commune)',
  placeHint: 'Type the name, diacritics optional: "ban hin", "muong pon"…',
  find: 'Find',
  village: 'Village',
  commune: 'Commune',
  chosen: 'Chosen: {x}',
  noPlace: 'No place found.',
  pin: 'Pin on the map (optional)',
  pinned: 'Pinned: {lat}, {lon}',
  unpin: 'Remove pin',
  landmark: 'Landmark the caller names (optional)',
  category: 'Category',
  chooseCategory: '— Choose a category —',
  description: 'What the caller reports',
  callerName: 'Caller name (optional)',
  callerPhone: 'Caller phone (optional)',
  anonymous: 'The caller gives no name or number',
  submit: 'Record the report',
  sending: 'Recording…',
  needPlace: 'Choose a place or pin it on the map.',
  needCategory: 'Choose a category.',
  needDescription: 'Write what is reported (at least 3 characters).',
  readBack: 'Read back to the caller',
  code: 'Tracking code',
  duplicates: 'Reports nearby:',
  next: 'New call',
})

interface PlaceHit { kind: 'commune' | 'village'; id: string; name: string; commune_code: string | null; commune_name: string | null; lat: number | null; lon: number | null }
interface Answer { code: string; read_back_vi: string; unit: { name_vi: string; name_en: string }; possible_duplicates: { code: string; distance_m: number; description: string }[] }

export async function renderHotline(body: HTMLElement, cats: Category[]): Promise<void> {
  let place: PlaceHit | null = null
  let pin: { lat: number; lon: number } | null = null
  let key = uuid()

  const q = h('input', { type: 'search', name: 'place', maxlength: 100, autocomplete: 'off' })
  const hits = h('ul', { class: 'list place-hits' })
  const chosen = h('p', { class: 'notice', role: 'status' })
  const pinInfo = h('p', { class: 'hint', role: 'status' })
  const mapBox = h('div', { class: 'map-box', hidden: true })
  let map: Awaited<ReturnType<typeof import('../map.ts')['createMap']>> | null = null
  const drawPin = () => {
    fill(pinInfo, pin ? [d('pinned', { lat: pin.lat.toFixed(5), lon: pin.lon.toFixed(5) }), ' ', h('button', { type: 'button', class: 'btn small secondary', onclick: () => { pin = null; map?.setMarker(null, null); drawPin() } }, d('unpin'))] : '')
  }
  const pinBtn = h('button', { type: 'button', class: 'btn small secondary', onclick: async () => {
    mapBox.hidden = !mapBox.hidden
    if (!map && !mapBox.hidden) {
      const { createMap } = await import('../map.ts')
      map = await createMap({ onTap: (lat, lon) => { pin = { lat, lon }; map?.setMarker(lat, lon); drawPin() } })
      fill(mapBox, map.el)
      if (place?.commune_code) map.zoomToCommune(place.commune_code)
    }
  } }, d('pin'))

  const choose = (p: PlaceHit) => {
    place = p
    fill(chosen, d('chosen', { x: p.kind === 'village' ? `${d('village')} ${p.name}, ${p.commune_name ?? ''}` : `${d('commune')} ${p.name}` }))
    fill(hits, '')
    if (map && p.commune_code) map.zoomToCommune(p.commune_code)
  }
  async function search(): Promise<void> {
    const text = q.value.trim()
    if (!text) return
    try {
      const r = await api<{ items: PlaceHit[] }>(`/api/places/search?q=${encodeURIComponent(text)}&limit=10`)
      fill(hits, r.items.length ? r.items.map((p) => h('li', null, h('button', { type: 'button', class: 'btn small secondary place-hit', 'data-kind': p.kind, onclick: () => choose(p) },
        p.kind === 'village' ? `${d('village')} ${p.name} — ${p.commune_name ?? ''}` : `${d('commune')} ${p.name}`))) : h('li', { class: 'hint' }, d('noPlace')))
    } catch (e) {
      fill(hits, h('li', { class: 'error' }, errorText(e)))
    }
  }

  const landmark = h('input', { type: 'text', name: 'address_text', maxlength: 300 })
  const cat = h('select', { name: 'category', required: true }, h('option', { value: '' }, d('chooseCategory')), cats.map((c) => h('option', { value: c.code }, pick(c.name_vi, c.name_en))))
  const desc = h('textarea', { name: 'description', maxlength: 4000, required: true })
  const callerName = h('input', { type: 'text', name: 'caller_name', maxlength: 120 })
  const callerPhone = h('input', { type: 'tel', name: 'caller_phone', maxlength: 20 })
  let anonymous = false
  const anon = checkbox(d('anonymous'), false, (v) => { anonymous = v; callerName.disabled = v; callerPhone.disabled = v }, { name: 'anonymous' })
  const out = h('div', { 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit', class: 'btn primary big' }, d('submit'))

  const form = h('form', { class: 'card hotline-form', novalidate: true, onsubmit: async (ev: Event) => {
    ev.preventDefault()
    if (!place && !pin) return fill(out, h('p', { class: 'error' }, d('needPlace')))
    if (!cat.value) return fill(out, h('p', { class: 'error' }, d('needCategory')))
    if (desc.value.trim().length < 3) return fill(out, h('p', { class: 'error' }, d('needDescription')))
    const placeBody: Record<string, unknown> = {}
    if (place?.kind === 'village') placeBody.village_id = place.id
    if (place?.commune_code) placeBody.commune_code = place.commune_code
    if (pin) Object.assign(placeBody, pin)
    if (landmark.value.trim()) placeBody.address_text = landmark.value.trim()
    const payload: Record<string, unknown> = { category: cat.value, description: desc.value.trim(), place: placeBody, anonymous }
    if (!anonymous && (callerName.value.trim() || callerPhone.value.trim())) {
      payload.caller = { ...(callerName.value.trim() ? { name: callerName.value.trim() } : {}), ...(callerPhone.value.trim() ? { phone: callerPhone.value.trim() } : {}) }
    }
    submit.disabled = true
    fill(submit, d('sending'))
    try {
      // The same key on a retry (lost answer, double click): one report, the same code.
      const r = await api<Answer>('/api/reports/hotline', { body: payload, headers: { 'idempotency-key': key } })
      fill(out, h('div', { class: 'card success hotline-receipt' },
        h('p', null, d('code'), ': ', h('strong', { class: 'tracking-code' }, r.code), ' · ', pick(r.unit.name_vi, r.unit.name_en)),
        h('h3', null, d('readBack')),
        h('p', { class: 'read-back', lang: 'vi' }, r.read_back_vi),
        r.possible_duplicates.length ? h('p', { class: 'warn' }, d('duplicates'), ' ', r.possible_duplicates.map((x) => `${x.code} (${Math.round(x.distance_m)} m)`).join(', ')) : null,
        h('button', { type: 'button', class: 'btn secondary', onclick: () => void renderHotline(body, cats) }, d('next')),
      ))
      key = uuid()
      submit.hidden = true
    } catch (e) {
      fill(out, h('p', { class: 'error' }, errorText(e)))
    } finally {
      submit.disabled = false
      fill(submit, d('submit'))
    }
  } },
    h('h2', null, d('title')),
    h('div', { class: 'inline-form' }, field(d('place'), q, d('placeHint')), h('button', { type: 'button', class: 'btn small', onclick: () => void search() }, d('find'))),
    hits, chosen, pinBtn, mapBox, pinInfo,
    field(d('landmark'), landmark),
    field(d('category'), cat),
    field(d('description'), desc),
    field(d('callerName'), callerName), field(d('callerPhone'), callerPhone), anon.el,
    submit, out,
  )
  q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); void search() } })
  fill(body, form)
}
