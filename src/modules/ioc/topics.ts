import { normalizeSearchText } from '../../platform/vietnamese-text.ts'

/**
 * Recurring topics in Vietnamese report texts: each text is normalised (no tones, đ→d, lower
 * case), split into syllables, and described by its syllables and adjacent-syllable bigrams
 * (Vietnamese words are mostly one or two syllables); TF-IDF weights; texts grouped by cosine
 * similarity to the running cluster centroids.
 */

// Function words that carry no topic (normalised form).
const STOP = new Set(('va cua la co cho nay khi da dang duoc tai o tren duoi trong ngoai voi cac nhung mot hai rat qua lam bi de tu den nhu thi ma '
  + 'nen vi neu khong chua con se roi lai ra vao theo ve sau truoc gan xa day do kia ay gi nao ai the toi chung ta em anh chi ban xin vui long nhe a '
  + 'hay hon nhieu it moi cung van dang').split(' '))

export interface TopicDoc { id: string; text: string; category: string; unit_code: string; commune_code: string | null }
export interface Topic { size: number; terms: string[]; top_category: string; top_unit: string; top_commune: string | null; sample: string[] }

/** Terms of a text: syllables and bigrams, with the display form (with diacritics) of each. */
export function terms(text: string): { key: string; shown: string }[] {
  const raw = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)
  const toks = raw.map((t) => ({ key: normalizeSearchText(t), shown: t }))
  const out: { key: string; shown: string }[] = []
  for (let i = 0; i < toks.length; i++) {
    const a = toks[i]!
    if (a.key.length < 2 || STOP.has(a.key) || /^\d+$/.test(a.key)) continue
    out.push(a)
    const b = toks[i + 1]
    if (b && b.key.length >= 1 && !STOP.has(b.key)) out.push({ key: `${a.key} ${b.key}`, shown: `${a.shown} ${b.shown}` })
  }
  return out
}

type Vec = Map<string, number>

function cosine(a: Vec, b: Vec, bNorm: number, aNorm: number): number {
  let dot = 0
  const [small, large] = a.size < b.size ? [a, b] : [b, a]
  for (const [k, v] of small) { const w = large.get(k); if (w) dot += v * w }
  return aNorm && bNorm ? dot / (aNorm * bNorm) : 0
}
const norm = (v: Vec) => Math.sqrt([...v.values()].reduce((a, x) => a + x * x, 0))

export function findTopics(docs: TopicDoc[], opts: { threshold?: number; minSize?: number; maxTopics?: number } = {}): Topic[] {
  const threshold = opts.threshold ?? 0.3
  const minSize = opts.minSize ?? 3
  const docTerms = docs.map((d) => terms(d.text))
  const df = new Map<string, number>()
  const shown = new Map<string, Map<string, number>>()
  for (const ts of docTerms) {
    for (const k of new Set(ts.map((t) => t.key))) df.set(k, (df.get(k) ?? 0) + 1)
    for (const t of ts) { const m = shown.get(t.key) ?? new Map(); m.set(t.shown, (m.get(t.shown) ?? 0) + 1); shown.set(t.key, m) }
  }
  const N = docs.length
  const vecs: Vec[] = docTerms.map((ts) => {
    const tf = new Map<string, number>()
    for (const t of ts) tf.set(t.key, (tf.get(t.key) ?? 0) + 1)
    const v: Vec = new Map()
    for (const [k, f] of tf) { const d = df.get(k)!; if (d >= 2) v.set(k, (1 + Math.log(f)) * Math.log(1 + N / d)) }
    return v
  })
  const clusters: { centroid: Vec; members: number[] }[] = []
  vecs.forEach((v, i) => {
    const vn = norm(v)
    if (vn === 0) return
    let best = -1
    let bestSim = threshold
    clusters.forEach((c, ci) => { const s = cosine(v, c.centroid, norm(c.centroid), vn); if (s >= bestSim) { bestSim = s; best = ci } })
    if (best === -1) { clusters.push({ centroid: new Map(v), members: [i] }); return }
    const c = clusters[best]!
    for (const [k, w] of v) c.centroid.set(k, (c.centroid.get(k) ?? 0) + w)
    c.members.push(i)
  })
  const top = <T extends string | null>(xs: T[]): T => {
    const m = new Map<T, number>()
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
    return [...m.entries()].sort((a, b) => b[1] - a[1])[0]![0]
  }
  return clusters.filter((c) => c.members.length >= minSize)
    .sort((a, b) => b.members.length - a.members.length)
    .slice(0, opts.maxTopics ?? 10)
    .map((c) => {
      // Terms by weight summed over the cluster; bigrams first when strong, no term repeated inside another.
      const boost = (k: string, w: number) => (k.includes(' ') ? 1.5 * w : w)
      const ranked = [...c.centroid.entries()].sort((a, b) => boost(b[0], b[1]) - boost(a[0], a[1])).map(([k]) => k)
      const picked: string[] = []
      for (const k of ranked) {
        if (picked.length >= 5) break
        if (picked.some((p) => p.includes(k) || k.includes(p))) continue
        picked.push(k)
      }
      const display = picked.map((k) => [...(shown.get(k) ?? new Map([[k, 1]])).entries()].sort((a, b) => b[1] - a[1])[0]![0])
      const members = c.members.map((i) => docs[i]!)
      return {
        size: members.length, terms: display, top_category: top(members.map((d) => d.category)), top_unit: top(members.map((d) => d.unit_code)),
        top_commune: top(members.map((d) => d.commune_code)), sample: members.slice(0, 3).map((d) => d.id),
      }
    })
}
