import Flatbush from 'flatbush'
import type { PackedLayer } from './packed-layer.ts'

/** Metres per degree of latitude (mean Earth radius 6,371,008.8 m). */
export const M_PER_DEG = (6_371_008.8 * Math.PI) / 180

export interface BorderHit {
  /** Unit index in the layer. */
  unit: number
  distanceM: number
}

/**
 * Distances from a point to unit borders, in metres. Borders are cut into runs of up to 8
 * consecutive edges, and a Flatbush R-tree indexes the runs' boxes: an eighth of the items of a
 * per-segment tree (the nationwide layer: ~0.9 M boxes, ~35 MB, instead of 6.9 M), at the cost of
 * measuring 8 segments per candidate. Distances use a local equirectangular projection around the
 * point (exact enough at the few-kilometre scales this is asked about).
 */
export class BorderIndex {
  private readonly coords: Float64Array
  private readonly vunit: Uint16Array | Uint32Array
  private readonly runStart: Int32Array
  /** Last vertex of the run (its edges are runStart … runEnd-1 → +1). */
  private readonly runEnd: Int32Array
  private readonly tree: Flatbush
  readonly runs: number

  constructor(layer: PackedLayer, runLength = 8) {
    const c = (this.coords = layer.coords)
    this.vunit = layer.vertexUnit
    const rs = layer.ringStart
    let n = 0
    for (let r = 0; r < layer.ringCount; r++) {
      const edges = rs[r + 1] - rs[r] - 1
      if (edges > 0) n += Math.ceil(edges / runLength)
    }
    this.runs = n
    this.runStart = new Int32Array(n)
    this.runEnd = new Int32Array(n)
    this.tree = new Flatbush(Math.max(1, n))
    let k = 0
    for (let r = 0; r < layer.ringCount; r++) {
      const last = rs[r + 1] - 1
      for (let v = rs[r]; v < last; v += runLength) {
        const end = Math.min(v + runLength, last)
        let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
        for (let w = v; w <= end; w++) {
          const x = c[2 * w], y = c[2 * w + 1]
          if (x < minX) minX = x
          if (x > maxX) maxX = x
          if (y < minY) minY = y
          if (y > maxY) maxY = y
        }
        this.runStart[k] = v
        this.runEnd[k] = end
        this.tree.add(minX, minY, maxX, maxY)
        k++
      }
    }
    if (n === 0) this.tree.add(0, 0, 0, 0)
    this.tree.finish()
  }

  get bytes(): number {
    return this.runStart.byteLength + this.runEnd.byteLength + this.tree.data.byteLength
  }

  private runDistance(k: number, lon: number, lat: number, kx: number, ky: number): number {
    const c = this.coords
    let best = Infinity
    let ax = (c[2 * this.runStart[k]] - lon) * kx
    let ay = (c[2 * this.runStart[k] + 1] - lat) * ky
    for (let w = this.runStart[k] + 1; w <= this.runEnd[k]; w++) {
      const bx = (c[2 * w] - lon) * kx
      const by = (c[2 * w + 1] - lat) * ky
      const dx = bx - ax, dy = by - ay
      const len2 = dx * dx + dy * dy
      let t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0
      if (t < 0) t = 0
      else if (t > 1) t = 1
      const px = ax + t * dx, py = ay + t * dy
      const d2 = px * px + py * py
      if (d2 < best) best = d2
      ax = bx
      ay = by
    }
    return Math.sqrt(best)
  }

  /**
   * The nearest border of a unit accepted by `accept` (all when omitted) within maxM metres:
   * the unit and the distance, ties to the lowest unit index; null when none is that close.
   */
  nearest(lon: number, lat: number, maxM = Infinity, accept?: (unit: number) => boolean): BorderHit | null {
    if (this.runs === 0) return null
    const ky = M_PER_DEG
    const kx = M_PER_DEG * Math.cos((lat * Math.PI) / 180)
    // Metres ≥ degrees × kx everywhere (kx ≤ ky), so a degree radius of m / kx finds every run
    // within m metres.
    const toDeg = (m: number) => (m / kx) * (1 + 1e-9) + 1e-12
    const filter = accept ? (i: number) => accept(this.vunit[this.runStart[i]]) : undefined
    const first = this.tree.neighbors(lon, lat, 1, toDeg(maxM), filter)
    if (first.length === 0) return null
    let best: BorderHit = { unit: this.vunit[this.runStart[first[0]]], distanceM: this.runDistance(first[0], lon, lat, kx, ky) }
    // The box-nearest run need not be the nearest in metres: measure all runs that could beat it.
    for (const k of this.tree.neighbors(lon, lat, Infinity, toDeg(Math.min(best.distanceM, maxM)), filter)) {
      const d = this.runDistance(k, lon, lat, kx, ky)
      const u = this.vunit[this.runStart[k]]
      if (d < best.distanceM || (d === best.distanceM && u < best.unit)) best = { unit: u, distanceM: d }
    }
    return best.distanceM <= maxM ? best : null
  }

  /** Every unit with a border within maxM metres, nearest first (ties by unit index). */
  unitsWithin(lon: number, lat: number, maxM: number): BorderHit[] {
    if (this.runs === 0) return []
    const ky = M_PER_DEG
    const kx = M_PER_DEG * Math.cos((lat * Math.PI) / 180)
    const byUnit = new Map<number, number>()
    for (const k of this.tree.neighbors(lon, lat, Infinity, (maxM / kx) * (1 + 1e-9) + 1e-12)) {
      const d = this.runDistance(k, lon, lat, kx, ky)
      if (d > maxM) continue
      const u = this.vunit[this.runStart[k]]
      const prev = byUnit.get(u)
      if (prev === undefined || d < prev) byUnit.set(u, d)
    }
    return [...byUnit].map(([unit, distanceM]) => ({ unit, distanceM })).sort((a, b) => a.distanceM - b.distanceM || a.unit - b.unit)
  }
}
