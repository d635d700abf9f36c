/** The slice of GeoJSON (RFC 7946) the geo module reads and writes: polygonal features in lon/lat. */

export type Position = number[]
export type Ring = Position[]

export interface PolygonGeometry {
  type: 'Polygon'
  coordinates: Ring[]
}

export interface MultiPolygonGeometry {
  type: 'MultiPolygon'
  coordinates: Ring[][]
}

export type AreaGeometry = PolygonGeometry | MultiPolygonGeometry

/** Properties an administrative-boundary feature carries (the shipped files and the nationwide layer). */
export interface BoundaryProperties {
  code: string
  name: string
  level: 'province' | 'district' | 'commune'
  full_name?: string
  name_en?: string | null
  unit_type?: string | null
  parent_code?: string | null
  /** Pre-merger units: codes, or objects with at least a `code`. */
  merged_from?: (string | { code: string; [k: string]: unknown })[]
  /** Set by the Locator's DB loader: the boundary version the geometry comes from. */
  boundary_version?: string | null
  [k: string]: unknown
}

export interface BoundaryFeature {
  type: 'Feature'
  id?: string | number
  properties: BoundaryProperties
  geometry: AreaGeometry
  bbox?: number[]
}

export interface BoundaryCollection {
  type: 'FeatureCollection'
  features: BoundaryFeature[]
  metadata?: Record<string, unknown>
}

/** The polygons of a Polygon or MultiPolygon, as MultiPolygon coordinates. */
export function polygonsOf(g: AreaGeometry): Ring[][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates
}
