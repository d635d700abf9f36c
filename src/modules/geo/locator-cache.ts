import type { Db } from '../../platform/db/database.ts'
import type { BoundaryFeature } from './geojson.ts'
import { Locator, type LocatorOptions } from './locator.ts'
import { boundaryRows, layerSignature, vietnamToday } from './repository.ts'

// Bumped by every import in this process: the next getLocator rebuilds at once. Imports made by
// another process (another node, the CLI) are noticed by the signature check below.
let generation = 0

/** Marks cached Locators stale (called after an import commits). */
export function bumpLayerGeneration(): void {
  generation++
}

interface Entry {
  generation: number
  signature: string
  checkedAt: number
  locator: Promise<Locator>
}

const cache = new WeakMap<Db, Entry>()

/** How often a cached Locator re-checks the database for a changed layer (another node's import, a new day). */
export const LOCATOR_RECHECK_MS = 30_000

/** Builds a Locator over the commune boundaries in force on a date (default: today in Vietnam). */
export async function loadLocator(db: Db, opts: LocatorOptions & { asOf?: string } = {}): Promise<Locator> {
  const rows = await boundaryRows(db, { level: 'commune', asOf: opts.asOf })
  const features: BoundaryFeature[] = rows.map((r) => ({
    type: 'Feature',
    properties: { code: r.code, name: r.name, full_name: r.full_name, level: 'commune', boundary_version: r.version },
    geometry: JSON.parse(r.geojson),
  }))
  return Locator.fromFeatures(features, opts)
}

/**
 * The Locator over today's commune boundaries, built once per database handle and shared.
 * Rebuilt after an import in this process, and when the layer's signature in the database has
 * changed (checked at most every 30 s). Concurrent callers share one build.
 */
export async function getLocator(db: Db, opts: { recheckMs?: number; now?: () => number } = {}): Promise<Locator> {
  const now = opts.now ?? Date.now
  const recheck = opts.recheckMs ?? LOCATOR_RECHECK_MS
  const entry = cache.get(db)
  if (entry && entry.generation === generation && now() - entry.checkedAt < recheck) return entry.locator
  const asOf = vietnamToday(new Date(now()))
  const signature = await layerSignature(db, { level: 'commune', asOf })
  const current = cache.get(db)
  if (current && current.signature === signature) {
    current.generation = generation
    current.checkedAt = now()
    return current.locator
  }
  const fresh: Entry = { generation, signature, checkedAt: now(), locator: loadLocator(db, { asOf }) }
  cache.set(db, fresh)
  fresh.locator.catch(() => {
    if (cache.get(db) === fresh) cache.delete(db)
  })
  return fresh.locator
}
