// Shared by the geo tests (and the bench): the shipped layer, a brute-force reference, and point
// helpers. Not used by the application.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { M_PER_DEG } from './border-index.ts'
import { polygonsOf, type BoundaryCollection, type BoundaryFeature, type Ring } from './geojson.ts'

export function loadShipped(name: 'dien-bien-communes.geojson' | 'dien-bien-province-from-communes.geojson'): BoundaryCollection {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./data/${name}`, import.meta.url)), 'utf8'))
}

/** Even-odd ray casting over every ring of every feature: the reference the Locator must equal. */
export class BruteForce {
  private readonly units: { code: string; rings: Ring[]; bbox: number[] }[]
  constructor(features: BoundaryFeature[]) {
    this.units = features
      .map((f) => {
        const rings = polygonsOf(f.geometry).flat()
        const bbox = [Infinity, Infinity, -Infinity, -Infinity]
        for (const r of rings)
          for (const p of r) {
            bbox[0] = Math.min(bbox[0], p[0])
            bbox[1] = Math.min(bbox[1], p[1])
            bbox[2] = Math.max(bbox[2], p[0])
            bbox[3] = Math.max(bbox[3], p[1])
          }
        return { code: f.properties.code, rings, bbox }
      })
      .sort((a, b) => (a.code < b.code ? -1 : 1))
  }

  /** Codes of every unit containing the point, in code order. */
  codesAt(lon: number, lat: number): string[] {
    const out: string[] = []
    for (const u of this.units) {
      if (lon < u.bbox[0] || lon > u.bbox[2] || lat < u.bbox[1] || lat > u.bbox[3]) continue
      let inside = false
      for (const r of u.rings) {
        for (let i = 0; i < r.length - 1; i++) {
          const ax = r[i][0], ay = r[i][1], bx = r[i + 1][0], by = r[i + 1][1]
          if (ay > lat !== by > lat && lon < ((bx - ax) * (lat - ay)) / (by - ay) + ax) inside = !inside
        }
      }
      if (inside) out.push(u.code)
    }
    return out
  }
}

/**
 * A point inside a feature by construction: on several horizontal lines across its box, the
 * even-odd inside intervals; the midpoint of the widest one.
 */
export function interiorPoint(f: BoundaryFeature): { lon: number; lat: number } {
  const rings = polygonsOf(f.geometry).flat()
  let y0 = Infinity, y1 = -Infinity
  for (const r of rings)
    for (const p of r) {
      y0 = Math.min(y0, p[1])
      y1 = Math.max(y1, p[1])
    }
  let best = { lon: NaN, lat: NaN, width: -1 }
  for (const frac of [0.5, 0.37, 0.63, 0.25, 0.75, 0.45, 0.55, 0.15, 0.85]) {
    const y = y0 + (y1 - y0) * frac + 1.234567e-7 // off the data's decimal grid
    const xs: number[] = []
    for (const r of rings)
      for (let i = 0; i < r.length - 1; i++) {
        const [ax, ay] = r[i], [bx, by] = r[i + 1]
        if (ay > y !== by > y) xs.push(((bx - ax) * (y - ay)) / (by - ay) + ax)
      }
    xs.sort((a, b) => a - b)
    for (let k = 0; k + 1 < xs.length; k += 2) {
      if (xs[k + 1] - xs[k] > best.width) best = { lon: (xs[k] + xs[k + 1]) / 2, lat: y, width: xs[k + 1] - xs[k] }
    }
  }
  return { lon: best.lon, lat: best.lat }
}

/** The point dx metres east and dy metres north of lat/lon (local equirectangular, as the Locator measures). */
export function offsetMetres(lat: number, lon: number, dxM: number, dyM: number): { lat: number; lon: number } {
  return { lat: lat + dyM / M_PER_DEG, lon: lon + dxM / (M_PER_DEG * Math.cos((lat * Math.PI) / 180)) }
}

/** A seeded PRNG (mulberry32), so tests and benches draw the same points every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
