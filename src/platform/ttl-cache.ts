import type { Db } from './db/database.ts'

/**
 * Memoises a lookup of rarely changing reference data (categories, unit names) per database
 * handle for `ttlMs`. Saves round trips on hot paths; an edit is seen everywhere within the TTL.
 */
export function cachedLookup<K, V>(load: (db: Db, key: K) => Promise<V>, ttlMs = 30_000): (db: Db, key: K) => Promise<V> {
  const perDb = new WeakMap<Db, Map<K, { at: number; value: Promise<V> }>>()
  return (db, key) => {
    let m = perDb.get(db)
    if (!m) perDb.set(db, (m = new Map()))
    const hit = m.get(key)
    if (hit && Date.now() - hit.at < ttlMs) return hit.value
    const value = load(db, key)
    m.set(key, { at: Date.now(), value })
    value.catch(() => m!.delete(key))
    return value
  }
}
