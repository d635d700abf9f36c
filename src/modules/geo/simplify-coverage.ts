import { M_PER_DEG } from './border-index.ts'
import type { Position, Ring } from './geojson.ts'

/** One area of a coverage (MultiPolygon coordinates) to simplify. */
export interface CoverageItem<K> {
  key: K
  polygons: Ring[][]
}

/** Exact-coordinate interning: identical positions (shared border vertices) get one id. */
class PointTable {
  xs: Float64Array
  ys: Float64Array
  n = 0
  private slots: Int32Array
  private mask: number
  private readonly f = new Float64Array(2)
  private readonly u = new Uint32Array(this.f.buffer)

  constructor(expected: number) {
    let cap = 1024
    while (cap < expected * 2) cap *= 2
    this.slots = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    this.xs = new Float64Array(Math.max(16, expected))
    this.ys = new Float64Array(Math.max(16, expected))
  }

  id(x: number, y: number): number {
    this.f[0] = x
    this.f[1] = y
    let h = Math.imul(this.u[0] ^ Math.imul(this.u[1], 0x9e3779b1), 0x85ebca6b) ^ Math.imul(this.u[2] ^ Math.imul(this.u[3], 0xc2b2ae35), 0x27d4eb2f)
    h ^= h >>> 15
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.slots[i]
      if (s < 0) {
        if (this.n === this.xs.length) this.grow()
        this.xs[this.n] = x
        this.ys[this.n] = y
        this.slots[i] = this.n
        return this.n++
      }
      if (this.xs[s] === x && this.ys[s] === y) return s
    }
  }

  private grow(): void {
    const xs = new Float64Array(this.xs.length * 2)
    const ys = new Float64Array(this.ys.length * 2)
    xs.set(this.xs)
    ys.set(this.ys)
    this.xs = xs
    this.ys = ys
    if (this.n * 2 > this.slots.length) {
      const slots = new Int32Array(this.slots.length * 2).fill(-1)
      const mask = slots.length - 1
      for (let k = 0; k < this.n; k++) {
        this.f[0] = this.xs[k]
        this.f[1] = this.ys[k]
        let h = Math.imul(this.u[0] ^ Math.imul(this.u[1], 0x9e3779b1), 0x85ebca6b) ^ Math.imul(this.u[2] ^ Math.imul(this.u[3], 0xc2b2ae35), 0x27d4eb2f)
        h ^= h >>> 15
        let i = h & mask
        while (slots[i] >= 0) i = (i + 1) & mask
        slots[i] = k
      }
      this.slots = slots
      this.mask = mask
    }
  }
}

/** Area of a ring of ids (not closed) in m², local equirectangular. */
function ringAreaM2(pts: PointTable, ids: number[]): number {
  const kx = M_PER_DEG * Math.cos((pts.ys[ids[0]] * Math.PI) / 180)
  const x0 = pts.xs[ids[0]], y0 = pts.ys[ids[0]]
  let a = 0
  for (let i = 1; i + 1 < ids.length; i++) {
    const ax = (pts.xs[ids[i]] - x0) * kx, ay = (pts.ys[ids[i]] - y0) * M_PER_DEG
    const bx = (pts.xs[ids[i + 1]] - x0) * kx, by = (pts.ys[ids[i + 1]] - y0) * M_PER_DEG
    a += ax * by - bx * ay
  }
  return Math.abs(a) / 2
}

/**
 * Douglas–Peucker over ids[from…to] (inclusive), keeping both ends; marks kept points in `keep`.
 * Distances in degrees with longitude scaled by cos(latitude), so the tolerance is isotropic.
 */
function douglasPeucker(pts: PointTable, ids: number[], from: number, to: number, tol: number, kx: number, keep: Uint8Array): void {
  const stack = [from, to]
  while (stack.length) {
    const b = stack.pop()!
    const a = stack.pop()!
    if (b - a < 2) continue
    const ax = pts.xs[ids[a]] * kx, ay = pts.ys[ids[a]]
    const dx = pts.xs[ids[b]] * kx - ax, dy = pts.ys[ids[b]] - ay
    const len2 = dx * dx + dy * dy
    let worst = -1, at = -1
    for (let i = a + 1; i < b; i++) {
      const px = pts.xs[ids[i]] * kx - ax, py = pts.ys[ids[i]] - ay
      let d: number
      if (len2 === 0) d = px * px + py * py
      else {
        const t = Math.max(0, Math.min(1, (px * dx + py * dy) / len2))
        const ex = px - t * dx, ey = py - t * dy
        d = ex * ex + ey * ey
      }
      if (d > worst) {
        worst = d
        at = i
      }
    }
    if (worst > tol * tol) {
      keep[at] = 1
      stack.push(a, at, at, b)
    }
  }
}

/**
 * Simplifies a coverage (units that share borders) so that shared borders stay shared: rings are
 * cut into arcs at junctions (vertices where the neighbourhood changes, as TopoJSON does), each
 * arc is simplified once with Douglas–Peucker and reused, reversed, by the unit on the other side.
 * Simplifying each unit on its own would open slivers and overlaps along every border. Rings that
 * collapse (< 3 distinct points, or under tolerance²/100 in area) are dropped; an item that would lose everything keeps its input.
 * Display quality only: the result is not checked for validity and is never used to locate.
 */
export function simplifyCoverage<K>(items: CoverageItem<K>[], toleranceM: number): Map<K, Ring[][]> {
  const tol = toleranceM / M_PER_DEG
  // Rings smaller than a hundredth of a tolerance square are invisible at this tolerance: the
  // source's ST_MakeValid slivers (a hole and the matching island, dropped together).
  const minAreaM2 = (toleranceM * toleranceM) / 100
  let total = 0
  for (const it of items) for (const poly of it.polygons) for (const r of poly) total += r.length
  const pts = new PointTable(total)

  // Rings as cyclic id lists: consecutive duplicates and the closing repeat removed.
  type RingIds = number[]
  const itemRings: RingIds[][][] = items.map((it) =>
    it.polygons.map((poly) =>
      poly.map((ring) => {
        const ids: number[] = []
        for (const p of ring) {
          const id = pts.id(p[0], p[1])
          if (ids.length === 0 || ids[ids.length - 1] !== id) ids.push(id)
        }
        while (ids.length > 1 && ids[0] === ids[ids.length - 1]) ids.pop()
        return ids
      }),
    ),
  )

  // A junction is a vertex whose neighbours differ between two of its occurrences.
  const prev = new Int32Array(pts.n).fill(-1)
  const next = new Int32Array(pts.n).fill(-1)
  const junction = new Uint8Array(pts.n)
  for (const polys of itemRings)
    for (const rings of polys)
      for (const ids of rings) {
        const n = ids.length
        if (n < 3) continue
        for (let i = 0; i < n; i++) {
          const v = ids[i], p = ids[(i + n - 1) % n], q = ids[(i + 1) % n]
          if (prev[v] < 0) {
            prev[v] = p
            next[v] = q
          } else if (!((prev[v] === p && next[v] === q) || (prev[v] === q && next[v] === p))) junction[v] = 1
        }
      }

  const arcCache = new Map<string, number[]>()
  const simplifyArc = (arc: number[], closed: boolean): number[] => {
    const kx = Math.cos((pts.ys[arc[0]] * Math.PI) / 180)
    const keep = new Uint8Array(arc.length)
    keep[0] = keep[arc.length - 1] = 1
    if (closed) {
      // Split a closed ring at its farthest point from the start and keep a point on each side,
      // so a small island survives as a quadrilateral rather than collapsing.
      let far = 1, best = -1
      for (let i = 1; i < arc.length - 1; i++) {
        const dx = (pts.xs[arc[i]] - pts.xs[arc[0]]) * kx, dy = pts.ys[arc[i]] - pts.ys[arc[0]]
        if (dx * dx + dy * dy > best) {
          best = dx * dx + dy * dy
          far = i
        }
      }
      keep[far] = 1
      douglasPeucker(pts, arc, 0, far, tol, kx, keep)
      douglasPeucker(pts, arc, far, arc.length - 1, tol, kx, keep)
      if (far > 1) keep[(far / 2) | 0] = 1
      if (arc.length - 1 - far > 1) keep[(far + arc.length - 1) >> 1] = 1
    } else douglasPeucker(pts, arc, 0, arc.length - 1, tol, kx, keep)
    return arc.filter((_, i) => keep[i] === 1)
  }
  // The same arc, met from either side, must simplify to the same points: key it by a canonical
  // direction.
  const arcOf = (arc: number[]): number[] => {
    const n = arc.length
    const reversed = arc[0] > arc[n - 1] || (arc[0] === arc[n - 1] && n > 2 && arc[1] > arc[n - 2])
    const canon = reversed ? [...arc].reverse() : arc
    const key = `${canon[0]},${canon[1]},${canon[n - 2]},${canon[n - 1]},${n}`
    let out = arcCache.get(key)
    if (!out) {
      out = simplifyArc(canon, false)
      arcCache.set(key, out)
    }
    return reversed ? [...out].reverse() : out
  }
  const closedRing = (ids: number[]): number[] => {
    // Canonical start (lowest id) and direction, so a hole and the island filling it agree.
    const n = ids.length
    let m = 0
    for (let i = 1; i < n; i++) if (ids[i] < ids[m]) m = i
    const fwd = ids[(m + 1) % n] < ids[(m + n - 1) % n]
    const canon: number[] = []
    for (let k = 0; k <= n; k++) canon.push(ids[(m + (fwd ? k : n - k) + n) % n])
    const key = `c${canon[0]},${canon[1]},${n}`
    let out = arcCache.get(key)
    if (!out) {
      out = simplifyArc(canon, true)
      arcCache.set(key, out)
    }
    // Keep the ring's own orientation.
    return fwd ? out : [...out].reverse()
  }

  const result = new Map<K, Ring[][]>()
  items.forEach((it, idx) => {
    const polys: Ring[][] = []
    for (const rings of itemRings[idx]) {
      const outRings: Ring[] = []
      for (let r = 0; r < rings.length; r++) {
        const ids = rings[r]
        let simplified: number[] = []
        if (ids.length >= 3) {
          const cuts: number[] = []
          for (let i = 0; i < ids.length; i++) if (junction[ids[i]]) cuts.push(i)
          if (cuts.length === 0) simplified = closedRing(ids)
          else {
            for (let c = 0; c < cuts.length; c++) {
              const a = cuts[c], b = cuts[(c + 1) % cuts.length]
              const arc: number[] = []
              for (let i = a; ; i = (i + 1) % ids.length) {
                arc.push(ids[i])
                if (i === b && arc.length > 1) break
              }
              const s = arcOf(arc)
              for (let i = simplified.length ? 1 : 0; i < s.length; i++) simplified.push(s[i])
            }
          }
        }
        if (simplified.length > 1 && simplified[0] === simplified[simplified.length - 1]) simplified.pop()
        if (new Set(simplified).size < 3 || ringAreaM2(pts, simplified) < minAreaM2) {
          if (r === 0) break // outer ring gone: the polygon goes
          continue
        }
        const ring: Position[] = simplified.map((id) => [pts.xs[id], pts.ys[id]])
        ring.push([...ring[0]])
        outRings.push(ring)
      }
      if (outRings.length) polys.push(outRings)
    }
    result.set(it.key, polys.length ? polys : it.polygons)
  })
  return result
}
