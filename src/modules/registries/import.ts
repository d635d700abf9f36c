import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import type { Db } from '../../platform/db/database.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { createRecord, updateRecord, type WriteOptions } from './records.ts'
import { getRecord } from './repository.ts'
import { recordKeyOf, validateObject, type FieldError, type RegistrySchema } from './schema.ts'
import { AppError } from '../../platform/http/errors.ts'

export interface RowError {
  /** 1-based row number in the file, the header being row 1. */
  row: number
  key: string | null
  errors: FieldError[]
}

export interface ImportReport {
  rows: number
  created: number
  updated: number
  unchanged: number
  rejected: number
  /** all_or_nothing: nothing was written because some row was wrong. */
  applied: boolean
  errors: RowError[]
}

/** Reads a CSV (comma or semicolon, UTF-8 with or without BOM) into header-keyed rows. */
export function readCsv(text: string, maxRows: number): Record<string, string>[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? ''
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ','
  try {
    const rows = parse(text, { columns: (h: string[]) => h.map((x) => x.trim()), bom: true, delimiter, skip_empty_lines: true, relax_column_count: true, to: maxRows + 1 }) as Record<string, string>[]
    if (rows.length > maxRows) throw badRequest('IMPORT_TOO_MANY_ROWS', `Tệp có quá ${maxRows} dòng.`, `The file has more than ${maxRows} rows.`)
    return rows
  } catch (e) {
    if (e instanceof AppError) throw e
    throw badRequest('INVALID_CSV', 'Tệp CSV không đọc được.', `The CSV file cannot be read: ${(e as Error).message}`)
  }
}

/** Reads the first worksheet of an XLSX file; the first row holds the field names. */
export async function readXlsx(bytes: Buffer, maxRows: number): Promise<Record<string, unknown>[]> {
  const wb = new ExcelJS.Workbook()
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer)
  } catch (e) {
    throw badRequest('INVALID_XLSX', 'Tệp Excel không đọc được.', `The XLSX file cannot be read: ${(e as Error).message}`)
  }
  const ws = wb.worksheets[0]
  if (!ws) throw badRequest('INVALID_XLSX', 'Tệp Excel không có trang tính.', 'The XLSX file has no worksheet.')
  if (ws.rowCount > maxRows + 1) throw badRequest('IMPORT_TOO_MANY_ROWS', `Tệp có quá ${maxRows} dòng.`, `The file has more than ${maxRows} rows.`)
  const header: string[] = []
  ws.getRow(1).eachCell((c, col) => (header[col] = String(c.text ?? '').trim()))
  const out: Record<string, unknown>[] = []
  for (let r = 2; r <= ws.rowCount; r++) {
    const row = ws.getRow(r)
    const rec: Record<string, unknown> = {}
    let any = false
    row.eachCell((c, col) => {
      const name = header[col]
      if (!name) return
      const v = c.value
      rec[name] = v instanceof Date ? v : typeof v === 'number' || typeof v === 'boolean' ? v : c.text
      any = true
    })
    if (any) out.push(rec)
  }
  return out
}

/**
 * Imports rows into a registry: each row is validated on its own; a row whose key exists
 * updates that record (a new version), otherwise creates one. Errors are reported per row.
 * Mode all_or_nothing writes nothing if any row is wrong; valid_rows writes the good rows.
 * Runs in the caller's transaction.
 */
export async function importRows(tx: Db, schema: RegistrySchema, rows: Record<string, unknown>[], mode: 'all_or_nothing' | 'valid_rows', o: WriteOptions): Promise<ImportReport> {
  const report: ImportReport = { rows: rows.length, created: 0, updated: 0, unchanged: 0, rejected: 0, applied: false, errors: [] }
  const valid: { row: number; key: string; data: Record<string, unknown> }[] = []
  const seen = new Map<string, number>()
  rows.forEach((raw, i) => {
    const rowNo = i + 2
    const cleaned = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== ''))
    const { data, errors } = validateObject(schema.fields, cleaned)
    const key = errors.some((e) => schema.key_fields.includes(e.field)) ? null : recordKeyOf(schema, data)
    if (key && seen.has(key)) errors.push({ field: schema.key_fields.join('~'), code: 'DUPLICATE_KEY', message_vi: `Trùng khoá với dòng ${seen.get(key)}.`, message_en: `Same key as row ${seen.get(key)}.` })
    if (key) seen.set(key, rowNo)
    if (errors.length > 0) report.errors.push({ row: rowNo, key, errors })
    else valid.push({ row: rowNo, key: key!, data })
  })
  report.rejected = report.errors.length
  if (mode === 'all_or_nothing' && report.errors.length > 0) return report
  for (const v of valid) {
    if (await getRecord(tx, schema.name, v.key)) {
      const r = await updateRecord(tx, schema, v.key, v.data, { ...o, action: 'imported' })
      if (r.changed) report.updated++
      else report.unchanged++
    } else {
      await createRecord(tx, schema, v.data, { ...o, action: 'imported' })
      report.created++
    }
  }
  report.applied = true
  return report
}
