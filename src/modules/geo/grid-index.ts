import type { PackedLayer } from './packed-layer.ts'

/** Tuning of the containment index; the defaults suit both Điện Biên and the nationwide layer. */
export interface GridIndexOptions {
  /** A node is split while it holds more edges than this (and maxDepth is not reached). */
  maxEdgesPerLeaf?: number
  /** Quadtree depth below a top-level cell. */
  maxDepth?: number
  /** Top-level cells per edge of the layer (sets the uniform grid's resolution). */
  topCellsPerEdge?: number
}

export interface GridIndexStats {
  edges: number
  topCells: number
  topCellSizeDeg: number
  nodes: number
  leaves: number
  /** Leaves with no edge: answered without any geometry. */
  uniformLeaves: number
  leafEdgeEntries: number
  maxLeafEdges: number
  bytes: number
}

// Edges are registered in every cell their (slightly grown) box touches, so a query point that
// floating-point rounding puts a hair outside its cell still sees every edge near it.
const EPS = 1e-9
// Cell edges and centres sit at irrational offsets from the data's decimal coordinates (5 or 6
// decimals), so a reference point never coincides with a vertex.
const OFFSET_X = 0.3819660112501051
const OFFSET_Y = 0.6180339887498949

class GrowInt32 {
  a: Int32Array
  n = 0
  constructor(cap: number) {
    this.a = new Int32Array(Math.max(16, cap))
  }
  reserve(extra: number): void {
    if (this.n + extra <= this.a.length) return
    let cap = this.a.length * 2
    while (cap < this.n + extra) cap *= 2
    const b = new Int32Array(cap)
    b.set(this.a.subarray(0, this.n))
    this.a = b
  }
  push(v: number): void {
    if (this.n === this.a.length) this.reserve(1)
    this.a[this.n++] = v
  }
  done(): Int32Array {
    return this.a.slice(0, this.n)
  }
}

/** True when segment a–b meets the closed box [x0,x1]×[y0,y1]. */
function segmentMeetsBox(ax: number, ay: number, bx: number, by: number, x0: number, y0: number, x1: number, y1: number): boolean {
  if ((ax < bx ? bx : ax) < x0 || (ax < bx ? ax : bx) > x1 || (ay < by ? by : ay) < y0 || (ay < by ? ay : by) > y1) return false
  const dx = bx - ax, dy = by - ay
  const s1 = dx * (y0 - ay) - dy * (x0 - ax)
  const s2 = dx * (y0 - ay) - dy * (x1 - ax)
  const s3 = dx * (y1 - ay) - dy * (x0 - ax)
  const s4 = dx * (y1 - ay) - dy * (x1 - ax)
  return !((s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0) || (s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0))
}

/**
 * Point-in-polygon index over a whole layer of units (a partition such as the communes): which
 * unit contains a point, by the even-odd rule, holes and multipolygons included.
 *
 * A uniform grid over the layer's box, each cell refined as a quadtree until a leaf holds at most
 * `maxEdgesPerLeaf` edges. Every leaf knows which unit contains its centre (computed at build, by
 * sweeping each grid row from the left, where nothing is inside). A lookup walks to the leaf and,
 * when the leaf has edges, counts only the leaf's edges crossed by the path point → (centre x,
 * point y) → centre: every edge that can cross that path lies in the leaf. A leaf with no edges is
 * entirely inside one unit (or none) and answers at once.
 *
 * Exactness: the horizontal leg uses the same half-open test and the same floating-point formula
 * as even-odd ray casting (`lon < (bx-ax)*(lat-ay)/(by-ay)+ax`, a = ring[i], b = ring[i+1]); the
 * vertical leg breaks ties the way that ray rule does (the rule equals moving the point by an
 * infinitesimal right and a smaller one up). So the answer is the ray-casting answer for every
 * point, including points on an edge or a vertex; the only theoretical difference would be an edge
 * passing within ~1e-15° of the (irrational) centre line at the point's exact latitude.
 * Where units overlap (bad data) the lowest unit index (code order) wins.
 */
export class GridIndex {
  private readonly coords: Float64Array
  private readonly vunit: Uint16Array | Uint32Array
  private readonly ox: number
  private readonly oy: number
  private readonly s: number
  private readonly nx: number
  private readonly ny: number
  private readonly minX: number
  private readonly minY: number
  private readonly maxX: number
  private readonly maxY: number
  /**
   * node[k] ≥ 0: internal, children at node[k]…node[k]+3 (SW, SE, NW, NE). -(units+1) ≤ node[k]
   * ≤ -1: a leaf without edges, wholly in unit -node[k]-2 (-1: none), answered from the node itself
   * (most leaves: the sea, commune interiors). Lower: a leaf with edges, number -node[k]-(units+2).
   */
  private readonly node: Int32Array
  private readonly leafBase: number
  private readonly leafOffset: Int32Array
  /** Unit containing the leaf centre: ≥ 0 a unit, -1 none, ≤ -2 several (overlap) at refOverflow[-ref-2]. */
  private readonly leafRef: Int32Array
  private readonly leafEdges: Int32Array
  private readonly refOverflow: Int32Array
  private readonly parity: Uint8Array
  private touched: Int32Array
  readonly stats: GridIndexStats

  constructor(layer: PackedLayer, opts: GridIndexOptions = {}) {
    const maxEdges = opts.maxEdgesPerLeaf ?? 16
    const maxDepth = opts.maxDepth ?? 16
    const c = (this.coords = layer.coords)
    this.vunit = layer.vertexUnit
    this.parity = new Uint8Array(Math.max(1, layer.units.length))
    this.touched = new Int32Array(64)
    const leafBase = (this.leafBase = layer.units.length + 2)

    // Edges: every non-degenerate segment v → v+1 inside a ring.
    const edgeList = new GrowInt32(layer.vertexCount)
    const rs = layer.ringStart
    for (let r = 0; r < layer.ringCount; r++) {
      for (let v = rs[r]; v < rs[r + 1] - 1; v++) {
        if (c[2 * v] !== c[2 * v + 2] || c[2 * v + 1] !== c[2 * v + 3]) edgeList.push(v)
      }
    }
    const edges = edgeList.done()
    const [minX, minY, maxX, maxY] = layer.bbox
    this.minX = minX
    this.minY = minY
    this.maxX = maxX
    this.maxY = maxY
    const w = Math.max(maxX - minX, 1e-6)
    const h = Math.max(maxY - minY, 1e-6)
    const target = Math.max(64, Math.min(1 << 22, Math.ceil(edges.length * (opts.topCellsPerEdge ?? 0.25))))
    const s = (this.s = Math.sqrt((w * h) / target))
    const ox = (this.ox = minX - s * OFFSET_X)
    const oy = (this.oy = minY - s * OFFSET_Y)
    const nx = (this.nx = Math.floor((maxX - ox) / s) + 1)
    const ny = (this.ny = Math.floor((maxY - oy) / s) + 1)
    const nTop = nx * ny

    // Bucket edges into top cells (CSR: count, prefix sum, fill).
    const cellStart = new Int32Array(nTop + 1)
    const forEachCell = (v: number, fn: (cell: number) => void) => {
      const ax = c[2 * v], ay = c[2 * v + 1], bx = c[2 * v + 2], by = c[2 * v + 3]
      const i0 = Math.max(0, Math.floor(((ax < bx ? ax : bx) - EPS - ox) / s))
      const i1 = Math.min(nx - 1, Math.floor(((ax < bx ? bx : ax) + EPS - ox) / s))
      const j0 = Math.max(0, Math.floor(((ay < by ? ay : by) - EPS - oy) / s))
      const j1 = Math.min(ny - 1, Math.floor(((ay < by ? by : ay) + EPS - oy) / s))
      const exact = (i1 - i0 + 1) * (j1 - j0 + 1) > 2
      for (let j = j0; j <= j1; j++) {
        for (let i = i0; i <= i1; i++) {
          if (exact && !segmentMeetsBox(ax, ay, bx, by, ox + i * s - EPS, oy + j * s - EPS, ox + (i + 1) * s + EPS, oy + (j + 1) * s + EPS)) continue
          fn(j * nx + i)
        }
      }
    }
    for (let t = 0; t < edges.length; t++) forEachCell(edges[t], (cell) => cellStart[cell + 1]++)
    for (let k = 0; k < nTop; k++) cellStart[k + 1] += cellStart[k]
    const cellEdges = new Int32Array(cellStart[nTop])
    const fill = cellStart.slice(0, nTop)
    for (let t = 0; t < edges.length; t++) {
      const v = edges[t]
      forEachCell(v, (cell) => (cellEdges[fill[cell]++] = v))
    }

    const node = new GrowInt32(nTop * 1.4)
    node.reserve(nTop)
    node.n = nTop
    const leafOffset = new GrowInt32(nTop)
    const leafRef = new GrowInt32(nTop)
    const leafEdges = new GrowInt32(cellEdges.length * 1.5)
    const overflow = new GrowInt32(16)
    let maxLeaf = 0
    let uniform = 0
    leafOffset.push(0)

    let maxRef = 1
    const encodeRef = (units: number[]): number => {
      if (units.length > maxRef) maxRef = units.length
      if (units.length === 0) return -1
      if (units.length === 1) return units[0]
      const at = overflow.n
      overflow.push(units.length)
      for (const u of units) overflow.push(u)
      return -at - 2
    }
    const makeLeaf = (k: number, es: Int32Array, ref: number[]) => {
      if (es.length === 0 && ref.length <= 1) {
        node.a[k] = -(ref.length ? ref[0] : -1) - 2
        uniform++
        return
      }
      const leaf = leafRef.n
      node.a[k] = -leaf - leafBase
      leafRef.push(encodeRef(ref))
      leafEdges.reserve(es.length)
      leafEdges.a.set(es, leafEdges.n)
      leafEdges.n += es.length
      leafOffset.push(leafEdges.n)
      if (es.length > maxLeaf) maxLeaf = es.length
    }
    // Units containing a point, given the units containing the centre of a box that holds it and
    // the box's edges: the same path walk as a lookup.
    const unitsAt = (es: Int32Array, px: number, py: number, cx: number, cy: number, ref: number[]): number[] => {
      this.ensureTouched(es.length + ref.length)
      let nt = 0
      for (const u of ref) {
        this.parity[u] ^= 1
        this.touched[nt++] = u
      }
      nt = this.scan(es, 0, es.length, px, py, cx, cy, nt)
      const out: number[] = []
      for (let t = 0; t < nt; t++) {
        const u = this.touched[t]
        if (this.parity[u] === 1 && !out.includes(u)) out.push(u)
      }
      for (let t = 0; t < nt; t++) this.parity[this.touched[t]] = 0
      return out.sort((a, b) => a - b)
    }
    const build = (k: number, x0: number, y0: number, x1: number, y1: number, es: Int32Array, ref: number[], depth: number): void => {
      if (es.length <= maxEdges || depth >= maxDepth) return makeLeaf(k, es, ref)
      const first = node.n
      node.reserve(4)
      node.n += 4
      node.a[k] = first
      const mx = (x0 + x1) / 2
      const my = (y0 + y1) / 2
      for (let q = 0; q < 4; q++) {
        const cx0 = q & 1 ? mx : x0
        const cx1 = q & 1 ? x1 : mx
        const cy0 = q & 2 ? my : y0
        const cy1 = q & 2 ? y1 : my
        const sub = new GrowInt32(es.length)
        for (let t = 0; t < es.length; t++) {
          const v = es[t]
          if (segmentMeetsBox(c[2 * v], c[2 * v + 1], c[2 * v + 2], c[2 * v + 3], cx0 - EPS, cy0 - EPS, cx1 + EPS, cy1 + EPS)) sub.push(v)
        }
        // The child's centre, located from this node's centre with this node's edges.
        const childRef = unitsAt(es, (cx0 + cx1) / 2, (cy0 + cy1) / 2, mx, my, ref)
        build(first + q, cx0, cy0, cx1, cy1, sub.done(), childRef, depth + 1)
      }
    }

    // Row sweep: the state at each top cell's centre, walking east from the grid's west edge,
    // where every ring is crossed an even number of times (nothing inside). An edge toggles a
    // unit between two points of the row when its crossing x lies in (previous, next].
    const rowParity = new Uint8Array(Math.max(1, layer.units.length))
    const active = new Set<number>()
    const toggle = (u: number) => {
      rowParity[u] ^= 1
      if (rowParity[u]) active.add(u)
      else active.delete(u)
    }
    for (let j = 0; j < ny; j++) {
      const y0 = oy + j * s
      const y1 = oy + (j + 1) * s
      const cy = (y0 + y1) / 2
      for (const u of active) rowParity[u] = 0
      active.clear()
      for (let i = 0; i < nx; i++) {
        const x0 = ox + i * s
        const x1 = ox + (i + 1) * s
        const cx = (x0 + x1) / 2
        const es = cellEdges.subarray(cellStart[j * nx + i], cellStart[j * nx + i + 1])
        for (let t = 0; t < es.length; t++) {
          const v = es[t]
          const ax = c[2 * v], ay = c[2 * v + 1], bx = c[2 * v + 2], by = c[2 * v + 3]
          if (ay > cy !== by > cy) {
            const xint = ((bx - ax) * (cy - ay)) / (by - ay) + ax
            if (x0 < xint !== cx < xint) toggle(this.vunit[v])
          }
        }
        build(j * nx + i, x0, y0, x1, y1, es, [...active].sort((a, b) => a - b), 0)
        for (let t = 0; t < es.length; t++) {
          const v = es[t]
          const ax = c[2 * v], ay = c[2 * v + 1], bx = c[2 * v + 2], by = c[2 * v + 3]
          if (ay > cy !== by > cy) {
            const xint = ((bx - ax) * (cy - ay)) / (by - ay) + ax
            if (cx < xint !== x1 < xint) toggle(this.vunit[v])
          }
        }
      }
    }

    this.node = node.done()
    this.leafOffset = leafOffset.done()
    this.leafRef = leafRef.done()
    this.leafEdges = leafEdges.done()
    this.refOverflow = overflow.done()
    this.ensureTouched(maxLeaf + maxRef)
    this.stats = {
      edges: edges.length,
      topCells: nTop,
      topCellSizeDeg: s,
      nodes: this.node.length,
      leaves: this.leafRef.length + uniform,
      uniformLeaves: uniform,
      leafEdgeEntries: this.leafEdges.length,
      maxLeafEdges: maxLeaf,
      bytes: this.node.byteLength + this.leafOffset.byteLength + this.leafRef.byteLength + this.leafEdges.byteLength + this.refOverflow.byteLength,
    }
  }

  private ensureTouched(n: number): void {
    if (this.touched.length < n) this.touched = new Int32Array(n * 2)
  }

  /**
   * Toggles the parity of every unit with an edge (from `es[from…to)`) crossed by the path
   * p → (cx, py) → (cx, cy); pushes those units on `touched`. Returns the new touched count.
   */
  private scan(es: Int32Array, from: number, to: number, px: number, py: number, cx: number, cy: number, nt: number): number {
    const c = this.coords, vu = this.vunit, par = this.parity, touched = this.touched
    const lo = py < cy ? py : cy
    const hi = py < cy ? cy : py
    const vertical = py !== cy
    for (let t = from; t < to; t++) {
      const v = es[t]
      const ax = c[2 * v], ay = c[2 * v + 1], bx = c[2 * v + 2], by = c[2 * v + 3]
      let flip = false
      // Horizontal leg, exactly the ray-casting test at the point and at (cx, py).
      if (ay > py !== by > py) {
        const xint = ((bx - ax) * (py - ay)) / (by - ay) + ax
        if (px < xint !== cx < xint) flip = true
      }
      // Vertical leg along x = cx (+ε), from py (+δ) to cy (+δ), δ ≪ ε: a crossing exactly at an
      // end counts at the lower end when the edge rises to the right, at the upper end when not.
      if (vertical && ax > cx !== bx > cx) {
        const yint = ay + ((cx - ax) * (by - ay)) / (bx - ax)
        const rising = (by - ay) * (bx - ax) > 0
        if ((yint > lo || (yint === lo && rising)) && (yint < hi || (yint === hi && !rising))) flip = !flip
      }
      if (flip) {
        const u = vu[v]
        par[u] ^= 1
        touched[nt++] = u
      }
    }
    return nt
  }

  /** Index (in the layer's code order) of the unit containing lon/lat, or -1. */
  unitAt(lon: number, lat: number): number {
    if (!(lon >= this.minX && lon <= this.maxX && lat >= this.minY && lat <= this.maxY)) return -1
    const s = this.s
    let i = Math.floor((lon - this.ox) / s)
    let j = Math.floor((lat - this.oy) / s)
    if (i >= this.nx) i = this.nx - 1
    if (j >= this.ny) j = this.ny - 1
    let x0 = this.ox + i * s
    let x1 = this.ox + (i + 1) * s
    let y0 = this.oy + j * s
    let y1 = this.oy + (j + 1) * s
    const node = this.node
    let n = node[j * this.nx + i]
    while (n >= 0) {
      const mx = (x0 + x1) / 2
      const my = (y0 + y1) / 2
      let q = 0
      if (lon >= mx) {
        q = 1
        x0 = mx
      } else x1 = mx
      if (lat >= my) {
        q |= 2
        y0 = my
      } else y1 = my
      n = node[n + q]
    }
    if (n > -this.leafBase) return -n - 2
    const leaf = -n - this.leafBase
    const from = this.leafOffset[leaf]
    const to = this.leafOffset[leaf + 1]
    const ref = this.leafRef[leaf]
    if (from === to) return ref >= -1 ? ref : this.refOverflow[-ref - 2 + 1]
    const par = this.parity, touched = this.touched
    let nt = 0
    if (ref >= 0) {
      par[ref] = 1
      touched[nt++] = ref
    } else if (ref < -1) {
      const at = -ref - 2
      for (let t = 0; t < this.refOverflow[at]; t++) {
        const u = this.refOverflow[at + 1 + t]
        par[u] ^= 1
        touched[nt++] = u
      }
    }
    nt = this.scan(this.leafEdges, from, to, lon, lat, (x0 + x1) / 2, (y0 + y1) / 2, nt)
    let best = -1
    for (let t = 0; t < nt; t++) {
      const u = touched[t]
      if (par[u] === 1 && (best < 0 || u < best)) best = u
    }
    for (let t = 0; t < nt; t++) par[touched[t]] = 0
    return best
  }
}
