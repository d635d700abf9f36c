export { escapeLike, normalizeSearchText } from '../../platform/vietnamese-text.ts'

/** The calendar year in Vietnam (UTC+7) at an instant: registers restart on 1 January local time. */
export function vietnamYear(at: Date): number {
  return new Date(at.getTime() + 7 * 3600_000).getUTCFullYear()
}

/** The date (YYYY-MM-DD) in Vietnam at an instant. */
export function vietnamDate(at: Date): string {
  return new Date(at.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
}

/**
 * Symbol (ký hiệu) per Decree 30/2020: `<number>/<type>-<agency>`, numbers below 10 written
 * with a leading zero: 12/QĐ-UBND, 05/TB-SXD.
 */
export function formatSymbol(number: number, docType: string, agencyAbbr: string): string {
  return `${String(number).padStart(2, '0')}/${docType}-${agencyAbbr}`
}

/** Abbreviation of an issuing agency from its org unit: communes and the province are "UBND", departments their code ("11.SXD" → "SXD"). */
export function agencyAbbreviation(unit: { code: string; kind: string }): string {
  if (unit.kind === 'department') return unit.code.includes('.') ? unit.code.slice(unit.code.indexOf('.') + 1) : unit.code
  return 'UBND'
}
