import { distance } from 'fastest-levenshtein'
import { normalizeSearchText } from '../../../platform/vietnamese-text.ts'

/**
 * A named place people use to say where something is: a commune (xã, phường) or a village
 * (thôn, bản, tổ dân phố). Communes also answer to the names of the old communes merged into
 * them on 2025-07-01 (people keep using them).
 */
export interface Place {
  kind: 'commune' | 'village'
  /** Commune: its GSO code; village: its id. */
  id: string
  name: string
  commune_code: string
  commune_name: string
  lat: number | null
  lon: number | null
  /** Other names (village aliases, old commune names). */
  aliases: string[]
}

interface IndexedPlace {
  place: Place
  /** Search keys: normalized, administrative prefix removed, no spaces; [0] is the main name. */
  keys: string[]
}

export interface Gazetteer {
  places: IndexedPlace[]
}

// Longest first, so "thi tran" wins over "thi", "to dan pho" over "to".
const PREFIXES = ['to dan pho', 'thi tran', 'dac khu', 'phuong', 'thon', 'ban', 'tdp', 'xa', 'khu', 'to', 'p', 'x']
const VILLAGE_PREFIXES = new Set(['ban', 'thon', 'to dan pho', 'tdp', 'to', 'khu'])
const COMMUNE_PREFIXES = new Set(['xa', 'phuong', 'thi tran', 'dac khu', 'p', 'x'])

/** Search form of one word: normalized, only letters and digits. */
export function searchToken(word: string): string {
  return normalizeSearchText(word).replace(/[^a-z0-9]/g, '')
}

/** Splits off an administrative prefix ("Bản Mển" → prefix "ban", rest "men"). */
export function splitPrefix(normalized: string): { prefix: string | null; rest: string } {
  for (const p of PREFIXES) {
    if (normalized.startsWith(`${p} `)) return { prefix: p, rest: normalized.slice(p.length + 1) }
  }
  return { prefix: null, rest: normalized }
}

function keyOf(name: string): string {
  const n = normalizeSearchText(name).replace(/[^a-z0-9 ]/g, ' ').replace(/\s+/g, ' ').trim()
  return splitPrefix(n).rest.replace(/ /g, '')
}

export function buildGazetteer(places: Place[]): Gazetteer {
  return {
    places: places.map((place) => ({ place, keys: [...new Set([keyOf(place.name), ...place.aliases.map(keyOf)].filter((k) => k.length > 0))] })),
  }
}

/** Typos allowed for a name of this length: none for short names, one up to 6 letters, then two. */
export function allowedTypos(keyLength: number): number {
  return keyLength <= 3 ? 0 : keyLength <= 6 ? 1 : 2
}

export interface PlaceMatch {
  place: Place
  /** Edit distance to the closest key (0 = exact after normalization). */
  typos: number
  /** The main name matched (not an alias). */
  mainName: boolean
}

/** Places whose name matches `query` (any prefix removed) within the allowed typos, best first. */
export function matchPlaceName(g: Gazetteer, query: string, kind?: 'commune' | 'village'): PlaceMatch[] {
  const q = keyOf(query)
  if (q.length < 2) return []
  const out: PlaceMatch[] = []
  for (const ip of g.places) {
    if (kind && ip.place.kind !== kind) continue
    let best: PlaceMatch | null = null
    ip.keys.forEach((k, i) => {
      if (Math.abs(k.length - q.length) > 2) return
      const d = k === q ? 0 : distance(k, q)
      if (d > allowedTypos(k.length)) return
      if (!best || d < best.typos || (d === best.typos && i === 0)) best = { place: ip.place, typos: d, mainName: i === 0 }
    })
    if (best) out.push(best)
  }
  return out.sort((a, b) => a.typos - b.typos || Number(b.mainName) - Number(a.mainName))
}

export interface SpanMatch {
  /** Tokens consumed from `start`. */
  length: number
  /** The chosen place, or null when the best candidates are in different communes. */
  place: Place | null
  candidates: Place[]
  typos: number
}

/**
 * The place named by the words starting at `start` (1–6 words, e.g. "xa muong nhe", "ban men",
 * "Muong Nhe"), tolerating missing diacritics and typos. Among equally good matches in one
 * commune the village wins (more precise); matches in several communes are ambiguous, unless
 * the next words name the commune ("Ban Na Pen xa Thanh Nua").
 */
export function matchPlaceAt(g: Gazetteer, words: string[], start: number): SpanMatch | null {
  let best: { length: number; typos: number; matches: PlaceMatch[] } | null = null
  for (let len = 1; len <= 6 && start + len <= words.length; len++) {
    const span = words.slice(start, start + len).map(searchToken).filter(Boolean).join(' ')
    if (!span) continue
    const { prefix } = splitPrefix(span)
    // A bare prefix ("ban", "xa") names nothing on its own.
    if (PREFIXES.includes(span)) continue
    const kind = prefix && VILLAGE_PREFIXES.has(prefix) ? 'village' : prefix && COMMUNE_PREFIXES.has(prefix) ? 'commune' : undefined
    let matches = matchPlaceName(g, span, kind)
    // "To" / "Khu" may be plain words: retry without the hint.
    if (matches.length === 0 && kind) matches = matchPlaceName(g, span)
    if (matches.length === 0) continue
    const typos = matches[0].typos
    // Prefer fewer typos; for equal typos the longer span (it is more specific).
    if (!best || typos < best.typos || (typos === best.typos && len > best.length)) {
      best = { length: len, typos, matches: matches.filter((m) => m.typos === typos) }
    }
  }
  if (!best) return null
  const candidates = dedupe(best.matches.map((m) => m.place))
  let place = pickWithinOneCommune(candidates)
  let length = best.length
  // "<village> <commune>": the commune names which village was meant, and is consumed.
  const next = start + best.length < words.length ? matchCommuneAfter(g, words, start + best.length) : null
  if (next) {
    const inCommune = candidates.filter((c) => c.commune_code === next.code)
    if (inCommune.length > 0) {
      place = pickWithinOneCommune(inCommune) ?? place
      length += next.length
    }
  }
  return { length, place, candidates, typos: best.typos }
}

function matchCommuneAfter(g: Gazetteer, words: string[], start: number): { code: string; length: number } | null {
  for (let len = Math.min(5, words.length - start); len >= 1; len--) {
    const span = words.slice(start, start + len).map(searchToken).filter(Boolean).join(' ')
    if (!span || PREFIXES.includes(span)) continue
    const m = matchPlaceName(g, span, 'commune')
    if (m.length > 0 && m.every((x) => x.place.commune_code === m[0].place.commune_code) && m[0].typos <= 1) return { code: m[0].place.commune_code, length: len }
  }
  return null
}

function dedupe(places: Place[]): Place[] {
  const seen = new Set<string>()
  return places.filter((p) => {
    const k = `${p.kind}:${p.id}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** One place when the candidates all lie in one commune: its single village, else the commune. */
function pickWithinOneCommune(candidates: Place[]): Place | null {
  if (candidates.length === 0) return null
  if (candidates.length === 1) return candidates[0]
  const communes = new Set(candidates.map((c) => c.commune_code))
  if (communes.size > 1) return null
  const villages = candidates.filter((c) => c.kind === 'village')
  if (villages.length === 1) return villages[0]
  return candidates.find((c) => c.kind === 'commune') ?? null
}

export interface SearchHit {
  place: Place
  /** Lower is better: 0 exact, 1 starts with the query, 2 contains it, 3+ typos. */
  rank: number
}

/**
 * Search-box lookup (hotline operators, the places API): exact, prefix, substring, then
 * typo-tolerant matches, diacritics-insensitive.
 */
export function searchGazetteer(g: Gazetteer, query: string, opts: { kind?: 'commune' | 'village'; communeCode?: string; limit: number }): SearchHit[] {
  const q = keyOf(query)
  if (q.length === 0) return []
  const hits: SearchHit[] = []
  for (const ip of g.places) {
    const p = ip.place
    if (opts.kind && p.kind !== opts.kind) continue
    if (opts.communeCode && p.commune_code !== opts.communeCode) continue
    let rank = Infinity
    for (const k of ip.keys) {
      if (k === q) rank = Math.min(rank, 0)
      else if (k.startsWith(q)) rank = Math.min(rank, 1)
      else if (q.length >= 3 && k.includes(q)) rank = Math.min(rank, 2)
      else if (Math.abs(k.length - q.length) <= 2) {
        const d = distance(k, q)
        if (d <= allowedTypos(k.length)) rank = Math.min(rank, 2 + d)
      }
    }
    if (rank !== Infinity) hits.push({ place: p, rank })
  }
  return hits.sort((a, b) => a.rank - b.rank || (a.place.kind === b.place.kind ? 0 : a.place.kind === 'commune' ? -1 : 1) || a.place.name.localeCompare(b.place.name, 'vi')).slice(0, opts.limit)
}
