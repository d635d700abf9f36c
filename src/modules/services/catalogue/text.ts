export { escapeLike, normalizeSearchText } from '../../../platform/vietnamese-text.ts'

/** The date (YYYY-MM-DD) in Vietnam (UTC+7, no DST) at an instant. */
export function vietnamDate(at: Date): string {
  return new Date(at.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
}

/** Noon in Vietnam on a 'YYYY-MM-DD' date; undefined when it is not a real date. */
export function instantOfVietnamDate(s: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined
  const d = new Date(`${s}T12:00:00+07:00`)
  if (Number.isNaN(d.getTime()) || vietnamDate(d) !== s) return undefined
  return d
}
