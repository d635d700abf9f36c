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
