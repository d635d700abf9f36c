/**
 * A short per-process cache of indicator answers (a few seconds, `IOC_INDICATOR_CACHE_MS`,
 * default 5000; 0 turns it off). A wall of dashboards asking the same question many times a
 * second gets one database query per key and TTL; an answer may thus be up to TTL old. Concurrent
 * requests for the same key share one computation; a failed computation is not kept.
 */
export class AnswerCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>()

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
    private readonly now: () => number = () => performance.now(),
  ) {
    caches.add(this as AnswerCache<unknown>)
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return compute()
    const t = this.now()
    const hit = this.entries.get(key)
    if (hit && t - hit.at < this.ttlMs) return hit.value
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (t - e.at >= this.ttlMs) this.entries.delete(k)
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    }
    const value = compute()
    this.entries.set(key, { at: t, value })
    value.catch(() => { if (this.entries.get(key)?.value === value) this.entries.delete(key) })
    return value
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}

const caches = new Set<AnswerCache<unknown>>()

/** Empties every indicator cache of this process (the bench measures uncached answers with it). */
export function clearAnswerCaches(): void {
  for (const c of caches) c.clear()
}
