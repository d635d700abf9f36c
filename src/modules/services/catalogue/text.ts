/**
 * Search text for Vietnamese: decompose (NFD), drop combining marks (tones and vowel marks),
 * map đ/Đ to d, lower-case, collapse whitespace. "Đăng ký khai sinh" and "dang ky khai sinh"
 * become equal. Done in JS because PGlite has neither unaccent nor pg_trgm.
 */
export function normalizeSearchText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
}

/** Escapes LIKE wildcards (backslash is the default escape character). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`)
}

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
