import { distance } from 'fastest-levenshtein'
import { matchPlaceAt, searchToken, type Gazetteer, type Place } from '../../geo/index.ts'

/**
 * The SMS syntax (cú pháp tin nhắn):
 *   PA <category code> <commune or village> <text>   send a field report (phản ánh)
 *   TT <tracking code>                               status of a report (tra cứu)
 *   HD                                               help (hướng dẫn)
 * Tolerant of missing diacritics, lower case, extra spaces and punctuation, small typos in
 * place and category names, and place before category when that is unambiguous.
 */

/** Short SMS codes of the report categories (the rest use their code in capitals). */
export const SMS_CATEGORY_CODES: Record<string, { sms: string; words: string[] }> = {
  traffic: { sms: 'GT', words: ['giaothong'] },
  environment: { sms: 'MT', words: ['moitruong', 'rac', 'racthai'] },
  urban_order: { sms: 'DT', words: ['dothi', 'trattu'] },
  electricity: { sms: 'DI', words: ['dien', 'chieusang'] },
  water: { sms: 'NU', words: ['nuoc', 'capnuoc'] },
  security: { sms: 'AN', words: ['anninh'] },
  land: { sms: 'DD', words: ['datdai', 'xaydung'] },
  health: { sms: 'YT', words: ['yte'] },
  education: { sms: 'GD', words: ['giaoduc', 'truonghoc'] },
  other: { sms: 'KH', words: ['khac'] },
}

export interface SmsCategory {
  code: string
  /** Short code people type, e.g. GT. */
  sms: string
  /** Vietnamese name (shown without diacritics in replies). */
  name_vi: string
  words: string[]
}

/** Builds the SMS category list from the active report categories. */
export function smsCategories(categories: { code: string; name_vi: string }[]): SmsCategory[] {
  return categories.map((c) => {
    const known = SMS_CATEGORY_CODES[c.code]
    return { code: c.code, sms: known?.sms ?? c.code.toUpperCase(), name_vi: c.name_vi, words: [searchToken(c.code), ...(known?.words ?? [])] }
  })
}

export interface SmsDictionary {
  categories: SmsCategory[]
  gazetteer: Gazetteer
}

export type SmsErrorCode = 'EMPTY' | 'UNKNOWN_COMMAND' | 'MISSING_CATEGORY' | 'UNKNOWN_PLACE' | 'AMBIGUOUS_PLACE' | 'MISSING_TEXT' | 'INVALID_CODE'

export type SmsCommand =
  | { kind: 'report'; category: string; place: Pick<Place, 'kind' | 'id' | 'name' | 'commune_code' | 'commune_name' | 'lat' | 'lon'>; description: string }
  | { kind: 'status'; code: string }
  | { kind: 'help' }
  | { kind: 'error'; error: SmsErrorCode; reply: string }

/** Longest text read from one message (10 concatenated segments); the rest is ignored. */
export const MAX_SMS_TEXT = 1600
/** Replies fit one SMS (160 GSM-7 characters) except help and category hints: at most two concatenated segments. */
export const SMS_SINGLE = 160
export const SMS_REPLY_MAX = 306

const REPORT_WORDS = new Set(['pa', 'phananh'])
const STATUS_WORDS = new Set(['tt', 'tracuu', 'trangthai'])
const HELP_WORDS = new Set(['hd', 'huongdan', 'help', 'trogiup'])

/**
 * Text safe for one GSM-7 SMS: no diacritics (đ → d), only printable ASCII without the
 * characters of the GSM extension table (they cost two), single spaces.
 */
export function toGsm(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/[^A-Za-z0-9 .,:;!?()'"+\-/=#%&*@<>_]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}

/** GSM-7 text cut to `max` characters (with ".." when cut). */
export function fitSms(text: string, max = SMS_SINGLE): string {
  const t = toGsm(text)
  return t.length <= max ? t : `${t.slice(0, max - 2).trimEnd()}..`
}

export function helpReply(d: SmsDictionary): string {
  const codes = d.categories.map((c) => `${c.sms}=${toGsm(shortName(c.name_vi)).toLowerCase()}`).join(' ')
  return fitSms(`Phan anh: PA <ma> <xa/ban> <noi dung>. VD: PA GT Ban Men duong sat lo. Ma: ${codes}. Tra cuu: TT <ma phan anh>`, SMS_REPLY_MAX)
}

function codesHint(d: SmsDictionary): string {
  return d.categories.map((c) => c.sms).join(',')
}

function shortName(nameVi: string): string {
  return nameVi.split(/[,(]/)[0].trim()
}

function error(error: SmsErrorCode, reply: string, max = SMS_SINGLE): SmsCommand {
  return { kind: 'error', error, reply: fitSms(reply, max) }
}

/** The category named by the words at `start` (one word, or two for "giao thong"): its code and how many words. */
function matchCategory(d: SmsDictionary, words: string[], start: number): { code: string; length: number; exactCode: boolean } | null {
  for (const len of [2, 1]) {
    if (start + len > words.length) continue
    const w = words.slice(start, start + len).map(searchToken).join('')
    if (!w) continue
    for (const c of d.categories) {
      if (len === 1 && w === c.sms.toLowerCase()) return { code: c.code, length: 1, exactCode: true }
    }
    for (const c of d.categories) {
      for (const k of c.words) {
        if (k === w || (k.length >= 5 && Math.abs(k.length - w.length) <= 1 && distance(k, w) <= 1)) return { code: c.code, length: len, exactCode: false }
      }
    }
  }
  return null
}

/** A tracking code written loosely: "PA-2026-000123", "pa 2026 123", "PA2026000123". */
export function parseTrackingCode(text: string): string | null {
  const t = text.toUpperCase()
  const m = /P\s*A\W*(\d{4})\W*(\d{1,9})\b/.exec(t) ?? /\b(\d{4})\W*(\d{6,9})\b/.exec(t) ?? /\b(20\d{2})(\d{6})\b/.exec(t)
  if (!m) return null
  return `PA-${m[1]}-${m[2].padStart(6, '0')}`
}

type Located = { place: Place; length: number }

function placeAt(d: SmsDictionary, words: string[], start: number): { ok: Located } | { ambiguous: Place[] } | null {
  const m = matchPlaceAt(d.gazetteer, words, start)
  if (!m) return null
  if (!m.place) return { ambiguous: m.candidates }
  return { ok: { place: m.place, length: m.length } }
}

function ambiguousReply(candidates: Place[]): SmsCommand {
  const list = candidates.slice(0, 3).map((p) => `${p.kind === 'village' ? `${p.name} (${p.commune_name})` : p.name}`).join('; ')
  return error('AMBIGUOUS_PLACE', `Co nhieu noi trung ten: ${list}. Gui lai kem ten xa, VD: PA GT ${candidates[0].name} ${candidates[0].commune_name} <noi dung>`)
}

/**
 * Parses one inbound SMS. Never throws; an unusable message gives `kind: 'error'` with the
 * correction hint to send back (Vietnamese without diacritics, ≤ 160 GSM-7 characters, or
 * ≤ 306 when it lists the category codes).
 */
export function parseSms(input: string, d: SmsDictionary): SmsCommand {
  const text = String(input ?? '').normalize('NFC').slice(0, MAX_SMS_TEXT).replace(/\s+/g, ' ').trim()
  // Words as written (for the description) and their search forms; punctuation-only words dropped.
  const words = text.split(' ').filter((w) => searchToken(w).length > 0)
  if (words.length === 0) return error('EMPTY', 'Tin nhan trong. ' + helpReply(d), SMS_REPLY_MAX)
  const first = searchToken(words[0])
  const firstTwo = words.length > 1 ? first + searchToken(words[1]) : ''

  if (HELP_WORDS.has(first) || HELP_WORDS.has(firstTwo)) return { kind: 'help' }
  if (STATUS_WORDS.has(first) || STATUS_WORDS.has(firstTwo)) {
    const code = parseTrackingCode(words.slice(STATUS_WORDS.has(first) ? 1 : 2).join(' '))
    return code ? { kind: 'status', code } : error('INVALID_CODE', 'Ma phan anh khong hop le. Gui: TT PA-2026-000123 (ma trong tin xac nhan).')
  }
  let rest: string[]
  if (REPORT_WORDS.has(first)) rest = words.slice(1)
  else if (firstTwo === 'phananh') rest = words.slice(2)
  else if (first.startsWith('pa') && first.length > 2 && matchCategory(d, [first.slice(2)], 0)?.exactCode) {
    // "PAGT ...": PA glued to the category code.
    rest = [first.slice(2), ...words.slice(1)]
  } else if (matchCategory(d, words, 0)?.exactCode) {
    // Starts with a category code: the PA was forgotten.
    rest = words
  } else {
    return error('UNKNOWN_COMMAND', `Sai cu phap. Gui: PA <ma> <xa/ban> <noi dung>, VD: PA GT Ban Men duong sat lo. Ma: ${codesHint(d)}. HD: huong dan`, SMS_REPLY_MAX)
  }
  if (rest.length === 0) return error('MISSING_CATEGORY', `Thieu noi dung. Gui: PA <ma> <xa/ban> <noi dung>. Ma: ${codesHint(d)}`, SMS_REPLY_MAX)

  // Order A: category, then place. Order B: place, then category.
  const catA = matchCategory(d, rest, 0)
  const placeA = catA ? placeAt(d, rest, catA.length) : null
  if (catA && placeA && 'ok' in placeA && catA.exactCode) return report(catA.code, placeA.ok, rest, catA.length)
  const placeB = placeAt(d, rest, 0)
  const catB = placeB && 'ok' in placeB ? matchCategory(d, rest, placeB.ok.length) : null
  if (placeB && 'ok' in placeB && catB) return report(catB.code, placeB.ok, rest, 0, catB.length)
  if (catA && placeA && 'ok' in placeA) return report(catA.code, placeA.ok, rest, catA.length)
  if (catA && placeA && 'ambiguous' in placeA) return ambiguousReply(placeA.ambiguous)
  if (!catA && placeB && 'ambiguous' in placeB) return ambiguousReply(placeB.ambiguous)
  if (!catA) {
    const wrote = placeB && 'ok' in placeB ? '' : ` "${toGsm(rest[0]).slice(0, 20)}"`
    return error('MISSING_CATEGORY', `Khong hieu ma linh vuc${wrote}. Gui: PA <ma> <xa/ban> <noi dung>. Ma: ${codesHint(d)}`, SMS_REPLY_MAX)
  }
  // A category but no place right after it: look for a place named exactly later in the text.
  for (let i = catA.length + 1; i < rest.length; i++) {
    const m = placeAt(d, rest, i)
    if (m && 'ok' in m && matchPlaceAt(d.gazetteer, rest, i)?.typos === 0) return report(catA.code, m.ok, rest, catA.length, 0, true)
  }
  const wrote = toGsm(rest.slice(catA.length, catA.length + 3).join(' ')).slice(0, 30)
  return error('UNKNOWN_PLACE', `Khong tim thay xa/ban "${wrote}". Ghi ten xa hoac ban ngay sau ma, VD: PA GT Ban Men duong sat lo. HD: huong dan`)
}

function report(category: string, at: Located, rest: string[], placeStart: number, categoryLength = 0, placeInText = false): SmsCommand {
  // Words used for category and place are not part of the description, unless the place was found inside the text.
  const used = new Set<number>()
  if (placeInText) {
    for (let i = 0; i < placeStart; i++) used.add(i)
  } else if (categoryLength > 0) {
    // Order B: place (from 0) then category.
    for (let i = 0; i < at.length + categoryLength; i++) used.add(i)
  } else {
    for (let i = 0; i < placeStart + at.length; i++) used.add(i)
  }
  const description = rest.filter((_, i) => !used.has(i)).join(' ').trim()
  if (searchToken(description).length < 3) {
    return error('MISSING_TEXT', `Thieu noi dung phan anh. VD: PA ${category === 'traffic' ? 'GT' : '<ma>'} ${toGsm(at.place.name)} duong bi sat lo`)
  }
  const p = at.place
  return { kind: 'report', category, place: { kind: p.kind, id: p.id, name: p.name, commune_code: p.commune_code, commune_name: p.commune_name, lat: p.lat, lon: p.lon }, description }
}

const STATUS_VI: Record<string, string> = {
  received: 'Da tiep nhan',
  assigned: 'Da giao xu ly',
  in_progress: 'Dang xu ly',
  resolved: 'Da giai quyet',
  rejected: 'Khong tiep nhan',
  closed: 'Da dong',
}

export function createdReply(code: string, categorySms: string, placeName: string, communeName: string): string {
  const where = placeName === communeName ? placeName : `${placeName}, ${communeName}`
  const tail = `. Tra cuu: TT ${code}`
  const head = `Da nhan phan anh ${code} (${categorySms})`
  const room = SMS_SINGLE - toGsm(head).length - toGsm(tail).length - 6
  return fitSms(`${head} tai ${toGsm(where).slice(0, Math.max(0, room))}${tail}`)
}

export function statusReply(code: string, r: { status: string; unit_name: string; public_answer: string | null; updated_vn_date: string } | null): string {
  if (!r) return fitSms(`Khong tim thay phan anh ${code}. Kiem tra lai ma trong tin xac nhan.`)
  const answer = r.public_answer ? ` Tra loi: ${r.public_answer}` : ''
  return fitSms(`${code}: ${STATUS_VI[r.status] ?? r.status} (${r.unit_name}), ${r.updated_vn_date}.${answer}`)
}

export const RATE_LIMITED_REPLY = fitSms('Ban da gui qua nhieu tin nhan. Vui long thu lai sau 1 gio hoac goi duong day nong.')
