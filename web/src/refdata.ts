import { cached } from './api.ts'
import { lang, pick } from './i18n.ts'

export interface Category {
  code: string
  name_vi: string
  name_en: string
  icon: string
  handling: 'commune' | 'department'
  department_code: string | null
}
export interface Commune {
  code: string
  name: string
  full_name: string
  name_en?: string | null
}
export interface OrgUnit {
  code: string
  name_vi: string
  name_en: string
  kind: string
  parent_code: string | null
}

export async function categories(): Promise<Category[]> {
  return (await cached<{ items: Category[] }>('/api/reports/categories')).items
}

export const categoryName = (list: Category[], code: string): string => {
  const c = list.find((x) => x.code === code)
  return c ? pick(c.name_vi, c.name_en) : code
}

/** Accepts `{items}`, a bare array, or a FeatureCollection, whichever the units endpoint answers. */
function unitList(r: unknown): Commune[] {
  const o = r as { items?: unknown[]; units?: unknown[]; features?: { properties: unknown }[] }
  const raw = Array.isArray(r) ? r : (o.items ?? o.units ?? o.features?.map((f) => f.properties) ?? [])
  return (raw as Commune[]).filter((u) => u && u.code)
}

let sortedCommunes: Promise<Commune[]> | undefined
export function communes(): Promise<Commune[]> {
  sortedCommunes ??= cached<unknown>('/api/geo/units?level=commune').then((r) =>
    unitList(r).sort((a, b) => (a.name || '').localeCompare(b.name || '', 'vi')),
  )
  sortedCommunes.catch(() => (sortedCommunes = undefined))
  return sortedCommunes
}

export const communeLabel = (c: Commune): string => (lang === 'en' && c.name_en ? `${c.full_name} (${c.name_en})` : c.full_name || c.name)

export async function orgUnits(): Promise<OrgUnit[]> {
  return (await cached<{ items: OrgUnit[] }>('/api/identity/units')).items
}

export const unitName = (list: OrgUnit[], code: string | null | undefined): string => {
  if (!code) return '—'
  const u = list.find((x) => x.code === code)
  return u ? pick(u.name_vi, u.name_en) : code
}

/** The GeoJSON of commune boundaries (simplified), for the SVG map. */
export interface BoundaryFeature {
  type: 'Feature'
  properties: { code: string; name: string; full_name?: string; [k: string]: unknown }
  geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'MultiPolygon'; coordinates: number[][][][] } | null
}
export const boundaries = () => cached<{ type: 'FeatureCollection'; features: BoundaryFeature[] }>('/api/geo/boundaries?simplified=true')
