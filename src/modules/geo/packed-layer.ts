import { polygonsOf, type BoundaryFeature } from './geojson.ts'

/** A unit of a located layer, as callers see it. */
export interface LayerUnit {
  code: string
  name: string
  full_name: string
  /** Boundary version id the geometry came from (DB layers), or null (a file built straight into a Locator). */
  boundary_version: string | null
}

/**
 * A polygon layer packed into flat typed arrays: one Float64Array of interleaved lon/lat for every
 * ring of every unit (rings closed, last position = first), the unit of each vertex, and ring
 * offsets. Edge `v` is the segment from vertex v to v+1 when both are in the same ring. Flat arrays
 * keep the nationwide layer (6.9 M vertices) at ~140 MB instead of gigabytes of JS arrays, and let
 * the indexes refer to edges by one int.
 */
export class PackedLayer {
  private constructor(
    /** Units sorted by code: the unit index order is the tie-break order everywhere. */
    readonly units: LayerUnit[],
    readonly coords: Float64Array,
    readonly vertexUnit: Uint16Array | Uint32Array,
    /** ringStart[r] … ringStart[r+1]-1 are the vertices of ring r. */
    readonly ringStart: Int32Array,
    readonly bbox: [number, number, number, number],
  ) {}

  get vertexCount(): number {
    return this.ringStart[this.ringStart.length - 1]
  }

  get ringCount(): number {
    return this.ringStart.length - 1
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    return this.coords.byteLength + this.vertexUnit.byteLength + this.ringStart.byteLength
  }

  /**
   * Packs features (any iterable, so a large file can be streamed feature by feature). Each
   * feature needs properties code and name; full_name and boundary_version are optional.
   * Unclosed rings are closed; a duplicate code or a non-finite coordinate is an error.
   */
  static fromFeatures(features: Iterable<BoundaryFeature>): PackedLayer {
    let coords = new Float64Array(1 << 16)
    let vunit = new Uint32Array(1 << 15)
    let rings = new Int32Array(1 << 10)
    let nv = 0
    let nr = 0
    const units: LayerUnit[] = []
    const codes = new Set<string>()
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
    const push = (x: number, y: number, u: number) => {
      if (2 * nv + 2 > coords.length) {
        const c = new Float64Array(coords.length * 2)
        c.set(coords)
        coords = c
        const w = new Uint32Array(vunit.length * 2)
        w.set(vunit)
        vunit = w
      }
      coords[2 * nv] = x
      coords[2 * nv + 1] = y
      vunit[nv++] = u
      if (x < minX) minX = x
      if (x > maxX) maxX = x
      if (y < minY) minY = y
      if (y > maxY) maxY = y
    }
    for (const f of features) {
      const p = f.properties
      if (codes.has(p.code)) throw new Error(`Locator: unit ${p.code} appears twice in the layer`)
      codes.add(p.code)
      const u = units.length
      units.push({ code: p.code, name: p.name, full_name: p.full_name ?? p.name, boundary_version: p.boundary_version ?? null })
      for (const poly of polygonsOf(f.geometry)) {
        for (const ring of poly) {
          if (ring.length === 0) continue
          if (nr + 2 > rings.length) {
            const r = new Int32Array(rings.length * 2)
            r.set(rings)
            rings = r
          }
          rings[nr++] = nv
          for (const pos of ring) {
            const x = pos[0], y = pos[1]
            if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`Locator: unit ${p.code} has a non-finite coordinate`)
            push(x, y, u)
          }
          const first = ring[0], last = ring[ring.length - 1]
          if (first[0] !== last[0] || first[1] !== last[1]) push(first[0], first[1], u)
        }
      }
    }
    rings[nr] = nv
    // Sort units by code and renumber, so ties (overlapping data) resolve the same way whatever
    // the input order.
    const order = units.map((_, i) => i).sort((a, b) => (units[a].code < units[b].code ? -1 : units[a].code > units[b].code ? 1 : 0))
    const rank = new Uint32Array(units.length)
    order.forEach((old, i) => (rank[old] = i))
    const vu = units.length <= 0xffff ? new Uint16Array(nv) : new Uint32Array(nv)
    for (let v = 0; v < nv; v++) vu[v] = rank[vunit[v]]
    return new PackedLayer(
      order.map((i) => units[i]),
      coords.slice(0, 2 * nv),
      vu,
      rings.slice(0, nr + 1),
      nv ? [minX, minY, maxX, maxY] : [0, 0, 0, 0],
    )
  }
}
