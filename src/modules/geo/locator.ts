import { BorderIndex } from './border-index.ts'
import type { BoundaryFeature } from './geojson.ts'
import { GridIndex, type GridIndexOptions, type GridIndexStats } from './grid-index.ts'
import { PackedLayer, type LayerUnit } from './packed-layer.ts'

export type { LayerUnit } from './packed-layer.ts'

/** The unit a point was placed in, as stored with a report. */
export interface LocatedUnit {
  code: string
  name: string
  full_name: string
}

/**
 * Where a point is, for routing:
 * - `inside`: in `unit`; `distance_to_border_m` is the distance to that unit's own border;
 *   `near_border` when it is within 30 m (a GPS fix could belong to the neighbour, named in `nearest`).
 * - `nearest`: in no unit, but within 500 m of `unit` (GPS drift at the province edge, a gap
 *   between communes); `distance_to_border_m` is the distance to it.
 * - `outside`: farther than that; `unit` is null. Callers refuse, or queue the item as unlocated.
 *   `nearest`/`distance_to_border_m` name the closest unit when one is within 5 km.
 */
export interface LocateResult {
  status: 'inside' | 'nearest' | 'outside'
  unit: LocatedUnit | null
  distance_to_border_m: number | null
  near_border: boolean
  /** Id of the boundary version of `unit` that answered (store it with the located item). */
  boundary_version: string | null
  nearest?: { code: string; name: string; distance_m: number }
}

export interface LocatorOptions extends GridIndexOptions {
  /** Within this many metres of a border a point is flagged near_border (default 30). */
  nearBorderM?: number
  /** Outside every unit but within this many metres of one: status 'nearest' (default 500). */
  nearestM?: number
  /** How far an 'outside' point looks for the closest unit to mention (default 5,000). */
  outsideSearchM?: number
}

export interface LocatorStats {
  units: number
  rings: number
  vertices: number
  grid: GridIndexStats
  borderRuns: number
  /** Typed-array bytes held: coordinates, grid, border R-tree. */
  bytes: number
  buildMs: number
}

const round1 = (m: number) => Math.round(m * 10) / 10

/**
 * In-memory point location over one layer of units (the communes). Built once from the current
 * boundary versions (see getLocator) or straight from GeoJSON features; every method is
 * synchronous and allocation-light, so a request handler can call it inline.
 */
export class Locator {
  readonly units: readonly LayerUnit[]
  readonly stats: LocatorStats
  private readonly grid: GridIndex
  private readonly border: BorderIndex
  private readonly nearBorderM: number
  private readonly nearestM: number
  private readonly outsideSearchM: number

  constructor(layer: PackedLayer, opts: LocatorOptions = {}) {
    const t0 = performance.now()
    this.units = layer.units
    this.grid = new GridIndex(layer, opts)
    this.border = new BorderIndex(layer)
    this.nearBorderM = opts.nearBorderM ?? 30
    this.nearestM = opts.nearestM ?? 500
    this.outsideSearchM = Math.max(opts.outsideSearchM ?? 5000, this.nearestM)
    this.stats = {
      units: layer.units.length,
      rings: layer.ringCount,
      vertices: layer.vertexCount,
      grid: this.grid.stats,
      borderRuns: this.border.runs,
      bytes: layer.bytes + this.grid.stats.bytes + this.border.bytes,
      buildMs: Math.round(performance.now() - t0),
    }
  }

  /** Builds a Locator from features with properties code, name (full_name, boundary_version optional). */
  static fromFeatures(features: Iterable<BoundaryFeature>, opts: LocatorOptions = {}): Locator {
    return new Locator(PackedLayer.fromFeatures(features), opts)
  }

  /** Index in `units` of the unit containing the point (even-odd rule), or -1. The fast path. */
  unitIndexAt(lat: number, lon: number): number {
    return this.grid.unitAt(lon, lat)
  }

  /** The unit containing the point, or null: containment only, no distances. */
  unitAt(lat: number, lon: number): LayerUnit | null {
    const u = this.grid.unitAt(lon, lat)
    return u < 0 ? null : this.units[u]
  }

  /** Locates a point (WGS 84 degrees) with the rules of LocateResult. Throws RangeError on non-finite or out-of-range input. */
  locate(lat: number, lon: number): LocateResult {
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new RangeError(`locate: lat/lon must be finite degrees in range, got ${lat}, ${lon}`)
    }
    const u = this.grid.unitAt(lon, lat)
    if (u >= 0) {
      const own = this.border.nearest(lon, lat, Infinity, (x) => x === u)
      const d = own ? own.distanceM : 0
      const near = d <= this.nearBorderM
      const result: LocateResult = {
        status: 'inside',
        unit: this.located(u),
        distance_to_border_m: round1(d),
        near_border: near,
        boundary_version: this.units[u].boundary_version,
      }
      if (near) {
        const other = this.border.nearest(lon, lat, this.nearBorderM, (x) => x !== u)
        if (other) result.nearest = this.nearestOf(other.unit, other.distanceM)
      }
      return result
    }
    const hit = this.border.nearest(lon, lat, this.outsideSearchM)
    if (hit && hit.distanceM <= this.nearestM) {
      return {
        status: 'nearest',
        unit: this.located(hit.unit),
        distance_to_border_m: round1(hit.distanceM),
        near_border: hit.distanceM <= this.nearBorderM,
        boundary_version: this.units[hit.unit].boundary_version,
        nearest: this.nearestOf(hit.unit, hit.distanceM),
      }
    }
    const result: LocateResult = { status: 'outside', unit: null, distance_to_border_m: hit ? round1(hit.distanceM) : null, near_border: false, boundary_version: null }
    if (hit) result.nearest = this.nearestOf(hit.unit, hit.distanceM)
    return result
  }

  /** Units whose border is within maxM metres of the point (default 500 m, 5 units), nearest first. */
  nearestUnits(lat: number, lon: number, opts: { maxM?: number; limit?: number } = {}): (LocatedUnit & { distance_m: number })[] {
    return this.border
      .unitsWithin(lon, lat, opts.maxM ?? this.nearestM)
      .slice(0, opts.limit ?? 5)
      .map((h) => ({ ...this.located(h.unit), distance_m: round1(h.distanceM) }))
  }

  private located(u: number): LocatedUnit {
    const x = this.units[u]
    return { code: x.code, name: x.name, full_name: x.full_name }
  }

  private nearestOf(u: number, d: number): { code: string; name: string; distance_m: number } {
    return { code: this.units[u].code, name: this.units[u].name, distance_m: round1(d) }
  }
}
