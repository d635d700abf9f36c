import { createReadStream } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { parse } from 'csv-parse'
import ExcelJS from 'exceljs'
import { badRequest } from '../../platform/http/errors.ts'

/** Formats the DataStore can load. */
export const TABULAR_FORMATS = ['CSV', 'XLSX', 'JSON', 'GeoJSON'] as const
export type TabularFormat = (typeof TABULAR_FORMATS)[number]

/** One row of a source file with the line (CSV, 1-based, of the row's first line) or row number (XLSX) or record index + 1 (JSON). */
export interface SourceRow {
  line: number
  cells: string[]
}

/** The format of an uploaded file from its name and first bytes; undefined when not tabular. */
export function detectFormat(fileName: string, head: Buffer): TabularFormat | undefined {
  const ext = fileName.toLowerCase().split('.').pop() ?? ''
  if (ext === 'geojson') return 'GeoJSON'
  if (ext === 'xlsx') return head.subarray(0, 2).toString('latin1') === 'PK' ? 'XLSX' : undefined
  if (ext === 'json') {
    const text = head.toString('utf8')
    return /"type"\s*:\s*"FeatureCollection"/.test(text) ? 'GeoJSON' : 'JSON'
  }
  if (ext === 'csv' || ext === 'tsv' || ext === 'txt') return 'CSV'
  return undefined
}

/** Sniffs the CSV delimiter from the first line: comma, semicolon or tab (most frequent outside quotes). */
async function sniffDelimiter(path: string): Promise<string> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(64 * 1024)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    const first = buf.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0].replace(/"[^"]*"/g, '')
    const counts = [',', ';', '\t'].map((d) => ({ d, n: first.split(d).length - 1 }))
    counts.sort((a, b) => b.n - a.n)
    return counts[0].n > 0 ? counts[0].d : ','
  } finally {
    await fh.close()
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Date) {
    const iso = v.toISOString()
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso
  }
  if (typeof v === 'object') {
    const o = v as { text?: unknown; richText?: { text: string }[]; result?: unknown; hyperlink?: string; error?: string }
    if (o.richText) return o.richText.map((r) => r.text).join('')
    if (o.result !== undefined) return cellText(o.result)
    if (o.text !== undefined) return cellText(o.text)
    if (o.error) return ''
    return JSON.stringify(v)
  }
  return String(v)
}

/** Streams the rows of a tabular file; the first row yielded is the header. Memory stays flat for CSV and XLSX. */
export async function* readSourceRows(path: string, format: TabularFormat): AsyncGenerator<SourceRow> {
  if (format === 'CSV') {
    const delimiter = await sniffDelimiter(path)
    const parser = createReadStream(path).pipe(parse({ delimiter, bom: true, info: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true }))
    try {
      for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number; records: number } }>) {
        yield { line: rec.info.lines - countNewlines(rec.record), cells: rec.record }
      }
    } catch (err) {
      const e = err as { code?: string; lines?: number; message?: string }
      throw badRequest('CSV_MALFORMED', `Tệp CSV lỗi ở dòng ${e.lines ?? '?'}.`, `Malformed CSV at line ${e.lines ?? '?'}: ${e.message ?? ''}`.trim())
    }
    return
  }
  if (format === 'XLSX') {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' })
    try {
      for await (const sheet of reader) {
        for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
          const values = (row.values as unknown[]).slice(1)
          yield { line: row.number, cells: values.map(cellText) }
        }
        break // the first worksheet only
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode) throw err
      throw badRequest('XLSX_MALFORMED', 'Tệp Excel không đọc được.', `The XLSX file cannot be read: ${(err as Error).message}`)
    }
    return
  }
  // JSON (array of objects or {records|data: [...]}) and GeoJSON (feature properties): size-limited at upload.
  let doc: unknown
  try {
    doc = JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''))
  } catch {
    throw badRequest('JSON_MALFORMED', 'Tệp JSON không hợp lệ.', 'The JSON file is not valid JSON.')
  }
  let records: unknown[]
  if (format === 'GeoJSON') {
    const fc = doc as { type?: string; features?: { properties?: Record<string, unknown> | null }[] }
    if (fc?.type !== 'FeatureCollection' || !Array.isArray(fc.features)) throw badRequest('GEOJSON_MALFORMED', 'Tệp GeoJSON phải là FeatureCollection.', 'A GeoJSON resource must be a FeatureCollection.')
    records = fc.features.map((f) => f?.properties ?? {})
  } else {
    const d = doc as { records?: unknown; data?: unknown }
    records = Array.isArray(doc) ? doc : Array.isArray(d?.records) ? (d.records as unknown[]) : Array.isArray(d?.data) ? (d.data as unknown[]) : []
    if (!records.length && !Array.isArray(doc)) throw badRequest('JSON_NOT_TABULAR', 'Tệp JSON phải là một mảng các đối tượng.', 'A JSON resource must be an array of objects (or {"records": [...]}).')
  }
  const keys: string[] = []
  const seen = new Set<string>()
  for (const r of records) {
    if (r && typeof r === 'object' && !Array.isArray(r)) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), keys.push(k))
  }
  yield { line: 0, cells: keys }
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    const obj = r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : {}
    yield { line: i + 1, cells: keys.map((k) => (typeof obj[k] === 'object' && obj[k] !== null ? JSON.stringify(obj[k]) : cellText(obj[k]))) }
  }
}

function countNewlines(cells: string[]): number {
  let n = 0
  for (const c of cells) for (let i = c.indexOf('\n'); i !== -1; i = c.indexOf('\n', i + 1)) n++
  return n
}
