import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'
import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { badRequest } from '../../platform/http/errors.ts'

/** Provincial digital-transformation indicators (chỉ số chuyển đổi số): registry and history. */

export const DX_SEED_FILE = fileURLToPath(new URL('./data/dx-indicators.csv', import.meta.url))
export const MAX_DX_ROWS = 5000

export interface DxRow {
  code: string; name_vi?: string; name_en?: string; unit?: string; direction?: string
  period: string; value: number; target: number | null; source: string; method: string | null
}

const CODE = /^[a-z0-9_]{2,64}$/
const PERIOD = /^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/

/** Parses and checks a CSV (header: code,name_vi,name_en,unit,direction,period,value,target,source,method). */
export function parseDxCsv(text: string): DxRow[] {
  let records: Record<string, string>[]
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true, to: MAX_DX_ROWS + 1 })
  } catch (err) {
    throw badRequest('INVALID_CSV', 'Tệp CSV không đọc được.', `The CSV could not be parsed: ${(err as Error).message}`)
  }
  if (records.length > MAX_DX_ROWS) throw badRequest('TOO_MANY_ROWS', `Tối đa ${MAX_DX_ROWS} dòng.`, `At most ${MAX_DX_ROWS} rows.`)
  return records.map((r, i) => {
    const line = i + 2
    const bad = (field: string) => badRequest('INVALID_DX_ROW', `Dòng ${line}: giá trị "${field}" không hợp lệ.`, `Line ${line}: invalid "${field}".`, { line, field })
    if (!CODE.test(r.code ?? '')) throw bad('code')
    if (!PERIOD.test(r.period ?? '')) throw bad('period')
    const value = Number(r.value)
    if (r.value === undefined || r.value === '' || !Number.isFinite(value)) throw bad('value')
    const target = r.target ? Number(r.target) : null
    if (target !== null && !Number.isFinite(target)) throw bad('target')
    if (!r.source) throw bad('source')
    if (r.direction && !['up', 'down'].includes(r.direction)) throw bad('direction')
    return { code: r.code!, name_vi: r.name_vi || undefined, name_en: r.name_en || undefined, unit: r.unit || undefined, direction: r.direction || undefined, period: r.period!, value, target, source: r.source, method: r.method || null }
  })
}

/** Writes rows: new indicators need their names, unit and direction; a value per period replaces the earlier one. */
export async function importDx(tx: Db, rows: DxRow[]): Promise<{ indicators_created: number; values_written: number }> {
  let created = 0
  for (const [i, r] of rows.entries()) {
    const exists = (await sql`select 1 from ioc_dx_indicators where code = ${r.code}`.execute(tx)).rows.length > 0
    if (!exists) {
      if (!r.name_vi || !r.name_en || !r.unit || !r.direction) {
        throw badRequest('UNKNOWN_DX_INDICATOR', `Dòng ${i + 2}: chỉ số mới "${r.code}" cần tên, đơn vị và chiều.`, `Line ${i + 2}: new indicator "${r.code}" needs name_vi, name_en, unit and direction.`, { line: i + 2 })
      }
      await sql`insert into ioc_dx_indicators (code, name_vi, name_en, unit, direction, method) values (${r.code}, ${r.name_vi}, ${r.name_en}, ${r.unit}, ${r.direction}, ${r.method ?? ''})`.execute(tx)
      created++
    }
    await sql`insert into ioc_dx_values (indicator_code, period, value, target, source, method) values (${r.code}, ${r.period}, ${r.value}, ${r.target}, ${r.source}, ${r.method})
      on conflict (indicator_code, period) do update set value = excluded.value, target = excluded.target, source = excluded.source, method = excluded.method, recorded_at = now()`.execute(tx)
  }
  return { indicators_created: created, values_written: rows.length }
}

/** Seeds the registry from the province report (idempotent: only missing indicators and values). */
export async function seedDx(db: Db): Promise<void> {
  const rows = parseDxCsv(readFileSync(DX_SEED_FILE, 'utf8'))
  await db.transaction().execute(async (tx) => {
    for (const r of rows) {
      await sql`insert into ioc_dx_indicators (code, name_vi, name_en, unit, direction, method) values (${r.code}, ${r.name_vi!}, ${r.name_en!}, ${r.unit!}, ${r.direction!}, ${r.method ?? ''}) on conflict do nothing`.execute(tx)
      await sql`insert into ioc_dx_values (indicator_code, period, value, target, source, method) values (${r.code}, ${r.period}, ${r.value}, ${r.target}, ${r.source}, ${r.method}) on conflict do nothing`.execute(tx)
    }
  })
}

/** Every indicator with its latest value, progress towards the target and its history. */
export async function listDx(db: Db) {
  const { rows: inds } = await sql<{ code: string; name_vi: string; name_en: string; unit: string; direction: 'up' | 'down'; method: string }>`
    select code, name_vi, name_en, unit, direction, method from ioc_dx_indicators order by code`.execute(db)
  const { rows: vals } = await sql<{ indicator_code: string; period: string; value: number; target: number | null; source: string; method: string | null; recorded_at: Date }>`
    select indicator_code, period, value, target, source, method, recorded_at from ioc_dx_values order by indicator_code, period`.execute(db)
  return inds.map((i) => {
    const history = vals.filter((v) => v.indicator_code === i.code).map((v) => ({ period: v.period, value: Number(v.value), target: v.target === null ? null : Number(v.target), source: v.source, method: v.method, recorded_at: v.recorded_at.toISOString() }))
    const latest = history.at(-1) ?? null
    const met = latest && latest.target !== null ? (i.direction === 'up' ? latest.value >= latest.target : latest.value <= latest.target) : null
    return { ...i, latest, target_met: met, history }
  })
}
