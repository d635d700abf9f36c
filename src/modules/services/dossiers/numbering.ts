import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'

const VN_OFFSET_MS = 7 * 3_600_000

/** yyMMdd of the instant in Vietnam (UTC+7). */
export function vietnamDay(at: Date): string {
  const d = new Date(at.getTime() + VN_OFFSET_MS)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`
}

/** `{agency code}-{yyMMdd}-{NNNN}` (at least four digits). */
export function formatDossierCode(agency: string, day: string, n: number): string {
  return `${agency}-${day}-${String(n).padStart(4, '0')}`
}

export const DOSSIER_CODE_PATTERN = '^[0-9A-Za-z.]{1,32}-[0-9]{6}-[0-9]{4,}$'

/**
 * Takes the next number of the agency's day. Call it inside the transaction that inserts the
 * dossier: the counter row stays locked until commit and rolls back with it, so numbers are
 * gapless and two submissions never share one.
 */
export async function nextDossierCode(tx: Db, agency: string, at: Date): Promise<string> {
  const day = vietnamDay(at)
  const { rows } = await sql<{ last: number }>`insert into dossier_counters (agency_code, day, last) values (${agency}, ${day}, 1)
    on conflict (agency_code, day, province_code) do update set last = dossier_counters.last + 1 returning last`.execute(tx)
  return formatDossierCode(agency, day, rows[0].last)
}
