import type { FastifyRequest } from 'fastify'
import { badRequest } from '../../../platform/http/errors.ts'
import type { Category } from '../categories.ts'
import type { ReportSubmission } from '../intake.ts'
import { toLocalIso } from '../presenters.ts'
import type { ReportStatus } from '../repository.ts'
import { listDoc, type Open311Doc, type XmlContent } from './format.ts'
import type { Open311ReportRow, StatusUpdateRow } from './repository.ts'

/**
 * How Hoa Ban's reports look through Open311 GeoReport v2 (with FixMyStreet's extensions):
 * categories are services, reports are service requests, report history is request updates.
 * Only public fields are mapped; reporter details never leave through Open311.
 */

export const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2'
/** Date of the last change of this endpoint's behaviour (the discovery changeset). */
export const CHANGESET = '2026-03-01T00:00:00+07:00'

export type Locale = 'vi' | 'en'
export interface UnitName {
  name_vi: string
  name_en: string
}

/** `?locale=en|vi` first, then the Accept-Language header's preferred language; Vietnamese by default. */
export function pickLocale(req: FastifyRequest): Locale {
  const q = (req.query as Record<string, unknown> | undefined)?.locale
  if (typeof q === 'string' && /^(en|vi)\b/i.test(q)) return q.slice(0, 2).toLowerCase() as Locale
  const header = String(req.headers['accept-language'] ?? '')
  const best = header
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';')
      const qv = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean)
      return { tag: tag.trim().toLowerCase(), q: qv === undefined ? 1 : Number(qv), i }
    })
    .filter((x) => /^(en|vi)\b/.test(x.tag) && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)[0]
  return best?.tag.startsWith('en') ? 'en' : 'vi'
}

const name = (u: UnitName | undefined, code: string, l: Locale) => (u ? (l === 'en' ? u.name_en : u.name_vi) : code)

// ---------------------------------------------------------------------------------------------
// Statuses

/** Open311 knows two statuses: open (received, assigned, in progress) and closed (answered). */
export const OPEN311_STATUS: Record<ReportStatus, 'open' | 'closed'> = {
  received: 'open',
  assigned: 'open',
  in_progress: 'open',
  resolved: 'closed',
  rejected: 'closed',
  closed: 'closed',
}

/** `status=open`, `status=closed` or `status=open,closed` → our statuses. */
export function statusesFor(filter: string | undefined): ReportStatus[] | undefined {
  if (!filter) return undefined
  const wanted = filter.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  for (const w of wanted) if (w !== 'open' && w !== 'closed') throw badRequest('INVALID_STATUS', 'Trạng thái phải là open hoặc closed.', `status must be open or closed, not "${w}".`)
  return (Object.keys(OPEN311_STATUS) as ReportStatus[]).filter((s) => wanted.includes(OPEN311_STATUS[s]))
}

/**
 * The status of a request update, in FixMyStreet's extended set: received → OPEN, assigned →
 * ACTION_SCHEDULED, in progress → IN_PROGRESS, resolved → FIXED, rejected → NO_FURTHER_ACTION,
 * closed → FIXED / NO_FURTHER_ACTION / DUPLICATE by how it was closed.
 */
export function extendedStatus(u: Pick<StatusUpdateRow, 'action' | 'from_status' | 'to_status' | 'outcome'>): string {
  switch (u.to_status) {
    case 'assigned':
      return 'ACTION_SCHEDULED'
    case 'in_progress':
      return 'IN_PROGRESS'
    case 'resolved':
      return 'FIXED'
    case 'rejected':
      return 'NO_FURTHER_ACTION'
    case 'closed':
      if (u.action === 'merge') return 'DUPLICATE'
      if (u.from_status === 'resolved') return u.outcome === 'not_fixed' ? 'NO_FURTHER_ACTION' : 'FIXED'
      return 'NO_FURTHER_ACTION'
    default:
      return 'OPEN'
  }
}

// ---------------------------------------------------------------------------------------------
// Discovery and services

export function discoveryDoc(baseUrl: string): Open311Doc {
  const contact = 'Hoa Ban — Cổng phản ánh hiện trường tỉnh Điện Biên (Điện Biên Province field reports). API documentation: /docs.'
  const keyService = 'API keys (api_key) are issued by the province administrator of Hoa Ban (Quản trị tỉnh), on request from the agency or application.'
  const endpoint = { specification: SPECIFICATION, url: `${baseUrl}/open311/v2`, changeset: CHANGESET, type: 'production' }
  const formats = ['text/xml', 'application/json']
  return {
    json: { changeset: CHANGESET, contact, key_service: keyService, endpoints: [{ ...endpoint, formats }] },
    xml: { root: 'discovery', content: { changeset: CHANGESET, contact, key_service: keyService, endpoints: { endpoint: [{ ...endpoint, formats: { format: formats } }] } } },
  }
}

/** A category as an Open311 service (no attributes, so `metadata` is false). */
export function toService(c: Category, l: Locale): XmlContent {
  const title = l === 'en' ? c.name_en : c.name_vi
  const hours = c.deadlines.received + c.deadlines.assigned + c.deadlines.in_progress
  const handled =
    c.handling === 'department'
      ? l === 'en' ? 'Handled by the responsible provincial department' : 'Do sở, ngành chuyên môn của tỉnh xử lý'
      : l === 'en' ? 'Handled by the commune or ward where it happens' : 'Do UBND xã, phường nơi xảy ra xử lý'
  const deadline = l === 'en' ? `within ${hours} working hours` : `trong ${hours} giờ làm việc`
  return {
    service_code: c.code,
    service_name: title,
    description: `${title}. ${handled}, ${deadline}.`,
    metadata: false,
    type: 'realtime',
    keywords: title.split(/[,()]/).map((s) => s.trim()).filter(Boolean).join(','),
    group: c.handling === 'department' ? (l === 'en' ? 'Provincial departments' : 'Sở, ngành') : l === 'en' ? 'Communes and wards' : 'Xã, phường',
  }
}

export function serviceDefinitionDoc(serviceCode: string): Open311Doc {
  return {
    json: { service_code: serviceCode, attributes: [] },
    xml: { root: 'service_definition', content: { service_code: serviceCode, attributes: { attribute: [] } } },
  }
}

// ---------------------------------------------------------------------------------------------
// Service requests

/** What the handling unit will do, shown while the request is open. */
export function serviceNotice(unit: string, due: Date | null, l: Locale): string {
  const when = due ? toLocalIso(due)!.slice(0, 16).replace('T', ' ') : null
  if (l === 'en') return `Routed to ${unit}.${when ? ` Due by ${when} (UTC+7).` : ''}`
  return `Đã chuyển đến ${unit}.${when ? ` Hạn xử lý: ${when}.` : ''}`
}

export interface Lookups {
  categories: Map<string, Category>
  units: Map<string, UnitName>
  locale: Locale
  /** `http(s)://host` of this request, for absolute photo URLs. */
  baseUrl: string
}

/** A report as an Open311 service request: public fields only, never the reporter. */
export function toServiceRequest(r: Open311ReportRow, k: Lookups): XmlContent {
  const l = k.locale
  const cat = k.categories.get(r.category_code)
  const unit = name(k.units.get(r.unit_code), r.unit_code, l)
  const status = OPEN311_STATUS[r.status]
  const duplicateNote = r.merged_into_code ? (l === 'en' ? `Duplicate of ${r.merged_into_code}.` : `Trùng với phản ánh ${r.merged_into_code}.`) : null
  return {
    service_request_id: r.code,
    status,
    status_notes: duplicateNote ?? r.public_answer ?? r.reject_reason ?? null,
    service_name: cat ? (l === 'en' ? cat.name_en : cat.name_vi) : r.category_code,
    service_code: r.category_code,
    description: r.description,
    agency_responsible: unit,
    service_notice: status === 'open' ? serviceNotice(unit, r.due_at, l) : null,
    requested_datetime: toLocalIso(r.created_at),
    updated_datetime: toLocalIso(r.updated_at),
    expected_datetime: toLocalIso(r.due_at),
    address: r.address_text,
    address_id: r.commune_code,
    zipcode: null,
    lat: r.lat,
    long: r.lon,
    media_url: r.first_photo_seq === null ? '' : `${k.baseUrl}/api/reports/${r.code}/photos/${r.first_photo_seq}`,
  }
}

export function serviceRequestsDoc(rows: XmlContent[]): Open311Doc {
  return listDoc('service_requests', 'request', rows)
}

/**
 * Tracking codes from `service_request_id=PA-2026-000001,PA-2026-000002`: at most 200; values
 * that cannot be a tracking code are dropped (they cannot match).
 */
export function parseCodes(list: string): string[] {
  const codes = [...new Set(list.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean))]
  if (codes.length > 200) throw badRequest('TOO_MANY_IDS', 'Tối đa 200 mã phản ánh.', 'At most 200 service_request_id values.')
  return codes.filter((c) => /^PA-\d{4}-\d{6,}$/.test(c))
}

// ---------------------------------------------------------------------------------------------
// Request updates (FixMyStreet's GET servicerequestupdates)

function updateText(u: StatusUpdateRow, unit: string, l: Locale): string {
  const en = l === 'en'
  switch (u.action) {
    case 'resolve':
    case 'reject':
      // The answer and the reject reason are public (they are on the public report too).
      if (u.note?.trim()) return u.note
      break
    case 'merge':
      if (u.merged_into_code) return en ? `Duplicate of ${u.merged_into_code}; merged into it.` : `Phản ánh trùng với ${u.merged_into_code}, đã được gộp vào phản ánh đó.`
      break
    case 'transfer':
      return en ? `Transferred to ${unit}.` : `Phản ánh được chuyển đến ${unit}.`
    case 'assign':
      return en ? `${unit} has assigned an officer.` : `${unit} đã phân công cán bộ xử lý.`
    case 'start':
      return en ? `${unit} has started work on it.` : `${unit} đang xử lý.`
    case 'reopen':
      return en ? `Reopened; ${unit} is handling it again.` : `Phản ánh được mở lại; ${unit} xử lý lại.`
  }
  const status = extendedStatus(u)
  if (status === 'FIXED') return en ? 'The report has been dealt with and closed.' : 'Phản ánh đã được xử lý xong và đóng.'
  if (status === 'NO_FURTHER_ACTION') {
    if (u.to_status === 'closed' && u.from_status !== 'rejected' && u.public_answer) return u.public_answer
    return en ? 'Closed: no further action is possible.' : 'Đã đóng: không thể xử lý thêm.'
  }
  if (status === 'DUPLICATE') return en ? 'Closed as a duplicate.' : 'Đã đóng do trùng phản ánh khác.'
  return en ? `Status: ${u.to_status ?? 'open'} (${unit}).` : `Trạng thái: ${u.to_status ?? 'open'} (${unit}).`
}

/** One history row as a request update: status, public text, time. Never who did it. */
export function toRequestUpdate(u: StatusUpdateRow, units: Map<string, UnitName>, l: Locale): XmlContent {
  const unitCode = u.to_unit ?? u.from_unit ?? ''
  const unit = name(units.get(unitCode), unitCode, l)
  return {
    update_id: u.id,
    service_request_id: u.code,
    status: extendedStatus(u),
    external_status_code: u.to_status,
    updated_datetime: toLocalIso(u.at),
    description: updateText(u, unit, l),
    media_url: '',
  }
}

// ---------------------------------------------------------------------------------------------
// POST requests

/** The fields of an Open311 POST (form or JSON); `attribute[...]` and others pass through unused. */
export interface Open311PostBody {
  api_key?: string
  jurisdiction_id?: string
  service_code?: string
  lat?: number
  long?: number
  /** Some clients say `lon`; `long` is the spec's name and wins. */
  lon?: number
  address_string?: string
  address_id?: string
  email?: string
  device_id?: string
  account_id?: string
  first_name?: string
  last_name?: string
  phone?: string
  description?: string
  media_url?: string
  [attribute: string]: unknown
}

const PHONE = /^\+?[0-9 .()-]{6,20}$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const bad = (code: string, vi: string, en: string) => badRequest(code, vi, en)

/**
 * Open311 fields → a report submission on the `open311` channel. Position: lat + long, or
 * `address_id` as a commune code (5-digit GSO code); `address_string` is kept as the address
 * text but cannot be located on its own. `media_url` is not fetched: it is kept in the
 * description for the officers. device_id, account_id and attributes are not used.
 */
export function toSubmission(b: Open311PostBody): ReportSubmission {
  const category = b.service_code?.trim()
  if (!category) throw bad('SERVICE_CODE_REQUIRED', 'Cần service_code (lĩnh vực).', 'service_code is required.')
  const lon = b.long ?? b.lon
  if ((b.lat === undefined) !== (lon === undefined)) throw bad('INVALID_COORDINATES', 'Cần cả lat và long.', 'Send both lat and long.')
  const communeCode = b.address_id?.trim() || undefined
  if (communeCode && !/^\d{5}$/.test(communeCode)) {
    throw bad('INVALID_ADDRESS_ID', 'address_id phải là mã xã/phường (5 chữ số).', 'address_id must be the 5-digit GSO code of a commune or ward.')
  }
  if (b.lat === undefined && !communeCode) {
    throw bad('LOCATION_REQUIRED', 'Cần lat/long hoặc address_id (mã xã/phường).', 'lat and long are required, or address_id (a commune code); address_string alone cannot be located.')
  }
  let description = b.description?.trim() ?? ''
  if (description.length < 3) throw bad('DESCRIPTION_REQUIRED', 'Cần mô tả (ít nhất 3 ký tự).', 'description is required (3 to 4000 characters).')
  const media = b.media_url?.trim()
  if (media) {
    if (!/^https?:\/\/\S+$/i.test(media)) throw bad('INVALID_MEDIA_URL', 'media_url phải là địa chỉ http(s).', 'media_url must be an http(s) URL.')
    description += `\n\nmedia_url: ${media}`
  }
  const contactName = [b.first_name, b.last_name].map((s) => s?.trim()).filter(Boolean).join(' ')
  const phone = b.phone?.trim()
  const email = b.email?.trim()
  if (phone && !PHONE.test(phone)) throw bad('INVALID_PHONE', 'Số điện thoại không hợp lệ.', 'phone is not a valid phone number.')
  if (email && !EMAIL.test(email)) throw bad('INVALID_EMAIL', 'Email không hợp lệ.', 'email is not a valid e-mail address.')
  const contact = { ...(contactName ? { name: contactName.slice(0, 120) } : {}), ...(phone ? { phone } : {}), ...(email ? { email } : {}) }
  return {
    category,
    description,
    channel: 'open311',
    ...(b.lat !== undefined && lon !== undefined ? { lat: b.lat, lon } : {}),
    ...(communeCode ? { commune_code: communeCode } : {}),
    ...(b.address_string?.trim() ? { address_text: b.address_string.trim().slice(0, 300) } : {}),
    anonymous: false,
    share_identity: false,
    ...(Object.keys(contact).length ? { contact } : {}),
  }
}

// ---------------------------------------------------------------------------------------------
// Dates

const W3C = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+\- ]\d{2}:?\d{2})?)?$/i

/**
 * Parses a W3C date-time (`2026-03-02T14:30:00+07:00`, `…Z`, or a date `2026-03-02`). A time
 * without zone, or a date alone, is taken in Vietnam time (+07:00). A `+` sent unencoded in a
 * query string arrives as a space and is read as `+`.
 */
export function parseW3cDate(v: string | undefined, field: string): Date | undefined {
  if (v === undefined || v === '') return undefined
  const m = W3C.exec(v.trim())
  if (!m) throw badRequest('INVALID_DATE', `Ngày giờ "${field}" không hợp lệ.`, `${field} must be a W3C date-time, e.g. 2026-03-02T14:30:00+07:00.`)
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m
  let tz = zone ? zone.toUpperCase() : '+07:00'
  if (tz !== 'Z') tz = `${tz[0] === ' ' ? '+' : tz[0]}${tz.slice(1, 3)}:${tz.slice(-2)}`
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${tz}`)
  if (Number.isNaN(date.getTime())) throw badRequest('INVALID_DATE', `Ngày giờ "${field}" không hợp lệ.`, `${field} is not a valid date-time.`)
  return date
}

/**
 * The time window of a query: both bounds as given; start only: up to now (at most `maxSpanMs`
 * after start); end only: `defaultSpanMs` before it; neither: the last `defaultSpanMs` up to
 * now. A range longer than `maxSpanMs` is refused.
 */
export function dateWindow(start: string | undefined, end: string | undefined, o: { now: Date; defaultSpanMs: number; maxSpanMs: number }): { from: Date; to: Date } {
  const s = parseW3cDate(start, 'start_date')
  const e = parseW3cDate(end, 'end_date')
  // "Since start_date": up to now, but no further than the longest range allowed.
  const to = e ?? (s ? new Date(Math.max(s.getTime(), Math.min(o.now.getTime(), s.getTime() + o.maxSpanMs))) : o.now)
  const from = s ?? new Date(to.getTime() - o.defaultSpanMs)
  if (from > to) throw badRequest('INVALID_DATE_RANGE', 'start_date phải trước end_date.', 'start_date must not be after end_date.')
  if (to.getTime() - from.getTime() > o.maxSpanMs) {
    const days = Math.round(o.maxSpanMs / 86_400_000)
    throw badRequest('DATE_RANGE_TOO_LONG', `Khoảng thời gian tối đa ${days} ngày.`, `The date range may not span more than ${days} days.`)
  }
  return { from, to }
}
