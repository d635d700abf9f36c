/** JSON with object keys sorted at every depth, so equal values give equal text (and hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return v.map(sortKeys)
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v as object).sort()) {
    const x = (v as Record<string, unknown>)[k]
    if (x !== undefined) out[k] = sortKeys(x)
  }
  return out
}
