/**
 * Civil (calendar) dates as whole day numbers: days since 1970-01-01 in a zone-free calendar.
 * The working calendar steps over day numbers instead of Date objects, which keeps the
 * arithmetic exact (no DST in Asia/Ho_Chi_Minh, so a local day is always 24 hours).
 */

export const DAY_MS = 86_400_000

/** 'YYYY-MM-DD'. */
export type IsoDate = string

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** The day number of a proleptic Gregorian date (month 1–12). */
export function dayNumOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS
}

/** Parses 'YYYY-MM-DD' strictly (rejects 2026-02-30); undefined when it is not a real date. */
export function parseIsoDate(s: string): number | undefined {
  const m = ISO_DATE.exec(s)
  if (!m) return undefined
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined
  const n = dayNumOf(y, mo, d)
  // Date.UTC rolls 30 February over into March; a real date survives the round trip.
  return isoFromDayNum(n) === s ? n : undefined
}

export function isoFromDayNum(n: number): IsoDate {
  return new Date(n * DAY_MS).toISOString().slice(0, 10)
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(n: number): number {
  return (((n + 4) % 7) + 7) % 7
}

export function yearOfDayNum(n: number): number {
  return new Date(n * DAY_MS).getUTCFullYear()
}

/** 'dd/mm', the way Vietnamese notices write dates. */
export function ddmm(n: number): string {
  const iso = isoFromDayNum(n)
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}`
}

/** ISO 8601 with a fixed offset, e.g. '2026-04-29T16:00:00.000+07:00'. */
export function formatWithOffset(d: Date, offsetMinutes: number): string {
  const local = new Date(d.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2}))$/i

/**
 * Parses an ISO 8601 instant that states its offset ('Z' or '±HH:MM'). A local time without an
 * offset is refused rather than guessed: a deadline off by seven hours is worse than an error.
 */
export function parseIsoInstant(s: string): Date | undefined {
  const m = ISO_INSTANT.exec(s)
  if (!m) return undefined
  if (parseIsoDate(m[1]) === undefined) return undefined
  if (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) return undefined
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return undefined
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? undefined : d
}
