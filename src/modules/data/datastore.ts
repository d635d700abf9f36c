import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import { normalizeSearchText } from '../../platform/vietnamese-text.ts'
import { cleanHeaders, FIELD_TYPES, parseCell, PG_TYPE, TypeInferrer, type FieldType, type InferredField } from './infer.ts'
import { readSourceRows, type TabularFormat } from './sources.ts'

/** A field of a DataStore table: its name (as published), type and physical column f1..fN. */
export interface DatastoreField {
  id: string
  type: FieldType
  column: string
}

export interface RejectedRow {
  line: number
  field?: string
  value?: string
  reason: string
}

export interface LoadReport {
  rows_loaded: number
  rows_rejected: number
  /** The first rejected rows with their line numbers (all are counted in rows_rejected). */
  rejected: RejectedRow[]
  /** Columns that were inferred as text because a few values broke a narrower type. */
  hints: { field: string; would_be: FieldType; lines: number[] }[]
  inferred: boolean
}

export class DatastoreLoadError extends Error {
  constructor(public readonly code: string, public readonly vi: string, public readonly en: string) {
    super(en)
  }
}

const MAX_REPORTED = 1000
const BATCH = 2000
/** Columns indexed for filters (btree), the first N. */
const MAX_INDEXED = 32
const TABLE = /^r_[0-9a-f]{32}(_[0-9]+)?$/
const COLUMN = /^f[0-9]{1,4}$/
const RESOURCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The only way a table name reaches SQL: checked against the generated pattern. */
export function tableRef(table: string): RawBuilder<unknown> {
  if (!TABLE.test(table)) throw new Error(`not a datastore table name: ${table}`)
  return sql.raw(`datastore."${table}"`)
}

function col(c: string): RawBuilder<unknown> {
  if (!COLUMN.test(c)) throw new Error(`not a datastore column: ${c}`)
  return sql.raw(`"${c}"`)
}

/** Quotes a field id for the per-resource view, after the FIELD_ID whitelist (no quotes possible). */
function fieldAlias(id: string): string {
  if (/["\u0000-\u001f]/.test(id)) throw new Error('bad field id')
  return `"${id}"`
}

export function tableNameFor(resourceId: string, version: number): string {
  return `r_${resourceId.replace(/-/g, '')}_${version}`
}

/**
 * Loads a tabular file into a new DataStore table, in two streaming passes: (1) read the header
 * and, when no schema is declared, infer every column's type over the WHOLE file; (2) parse and
 * insert in batches, setting aside every row that does not fit with its line number. Rows are
 * inserted outside any long transaction into a fresh table; the caller swaps it in.
 */
export async function loadIntoNewTable(
  db: Db,
  opts: { path: string; format: TabularFormat; table: string; declared?: { id: string; type: FieldType }[] },
): Promise<{ fields: DatastoreField[]; report: LoadReport }> {
  let headers: string[] | undefined
  let inferred: InferredField[]
  if (opts.declared) {
    for await (const r of readSourceRows(opts.path, opts.format)) {
      headers = cleanHeaders(r.cells).headers
      break
    }
    if (!headers) throw new DatastoreLoadError('EMPTY_FILE', 'Tệp không có dữ liệu.', 'The file has no header row.')
    const byId = new Map(opts.declared.map((f) => [f.id.normalize('NFC'), f.type]))
    const missing = opts.declared.filter((f) => !headers!.includes(f.id.normalize('NFC'))).map((f) => f.id)
    if (missing.length) throw new DatastoreLoadError('SCHEMA_MISMATCH', `Tệp thiếu cột: ${missing.join(', ')}.`, `The file lacks declared columns: ${missing.join(', ')}.`)
    inferred = headers.map((id) => ({ id, type: byId.get(id) ?? 'text' }))
  } else {
    let inferrer: TypeInferrer | undefined
    for await (const r of readSourceRows(opts.path, opts.format)) {
      if (!headers) {
        const h = cleanHeaders(r.cells)
        if (h.invalid.length) throw new DatastoreLoadError('INVALID_FIELD_NAME', `Tên cột không hợp lệ: ${h.invalid.join(', ')}.`, `Invalid column names: ${h.invalid.join(', ')}.`)
        headers = h.headers
        inferrer = new TypeInferrer(headers)
        continue
      }
      inferrer!.add(r.cells, r.line)
    }
    if (!headers || !inferrer) throw new DatastoreLoadError('EMPTY_FILE', 'Tệp không có dữ liệu.', 'The file has no header row.')
    inferred = inferrer.result()
  }
  if (headers.length === 0) throw new DatastoreLoadError('EMPTY_FILE', 'Tệp không có cột nào.', 'The file has no columns.')
  if (headers.length > 500) throw new DatastoreLoadError('TOO_MANY_COLUMNS', 'Tệp có quá 500 cột.', 'At most 500 columns.')
  const fields: DatastoreField[] = inferred.map((f, i) => ({ id: f.id, type: f.type, column: `f${i + 1}` }))
  const report: LoadReport = {
    rows_loaded: 0, rows_rejected: 0, rejected: [], inferred: !opts.declared,
    hints: inferred.filter((f) => f.almost).map((f) => ({ field: f.id, would_be: f.almost!.type, lines: f.almost!.lines })),
  }

  const t = tableRef(opts.table)
  const columnsDdl = fields.map((f) => `${f.column} ${PG_TYPE[f.type]}`).join(', ')
  await sql`drop table if exists ${t}`.execute(db)
  await sql`create table ${t} (_id bigint primary key, ${sql.raw(columnsDdl)}, _full_text tsvector)`.execute(db)
  const recordDef = sql.raw(`${fields.map((f) => `${f.column} ${PG_TYPE[f.type]}`).join(', ')}, _id bigint, _ft text`)
  const colList = sql.raw(fields.map((f) => f.column).join(', '))
  const textCols = fields.filter((f) => f.type === 'text').map((f, _i) => fields.indexOf(f))

  let batch: Record<string, unknown>[] = []
  let nextId = 1
  const flush = async () => {
    if (!batch.length) return
    const json = JSON.stringify(batch)
    batch = []
    await sql`insert into ${t} (_id, ${colList}, _full_text)
      select _id, ${colList}, to_tsvector('simple', _ft) from jsonb_to_recordset(${json}::jsonb) as x(${recordDef})`.execute(db)
  }
  const reject = (r: RejectedRow) => {
    report.rows_rejected++
    if (report.rejected.length < MAX_REPORTED) report.rejected.push(r)
  }
  let first = true
  for await (const r of readSourceRows(opts.path, opts.format)) {
    if (first) {
      first = false
      continue
    }
    const cells = r.cells
    if (cells.length > fields.length && cells.slice(fields.length).some((c) => c.trim() !== '')) {
      reject({ line: r.line, reason: `${cells.length} cells, the header has ${fields.length}` })
      continue
    }
    if (cells.length < fields.length && opts.format === 'CSV') {
      reject({ line: r.line, reason: `${cells.length} cells, the header has ${fields.length}` })
      continue
    }
    const rec: Record<string, unknown> = {}
    let bad: RejectedRow | undefined
    for (let i = 0; i < fields.length; i++) {
      const raw = cells[i] ?? ''
      const v = parseCell(fields[i].type, raw)
      if (v === undefined) {
        bad = { line: r.line, field: fields[i].id, value: raw.slice(0, 200), reason: `not a ${fields[i].type}` }
        break
      }
      rec[fields[i].column] = v
    }
    if (bad) {
      reject(bad)
      continue
    }
    rec._id = nextId++
    rec._ft = normalizeSearchText(textCols.map((i) => cells[i] ?? '').join(' ')).slice(0, 20_000)
    batch.push(rec)
    if (batch.length >= BATCH) await flush()
  }
  await flush()
  report.rows_loaded = nextId - 1
  // Indexes after the load (faster than maintaining them row by row).
  for (const f of fields.slice(0, MAX_INDEXED)) {
    await sql`create index ${sql.raw(`"${opts.table}_${f.column}"`)} on ${t} (${col(f.column)})`.execute(db)
  }
  await sql`create index ${sql.raw(`"${opts.table}_ft"`)} on ${t} using gin (_full_text)`.execute(db)
  // VACUUM sets the visibility map so counts run as index-only scans (outside any transaction here).
  await sql`vacuum (analyze) ${t}`.execute(db)
  return { fields, report }
}

/** (Re)creates the per-resource view datastore."<resource id>" with the field names as columns; grants it to the SQL reader when open. */
export async function publishView(tx: Db, resourceId: string, table: string, fields: DatastoreField[], open: boolean): Promise<void> {
  if (!RESOURCE_ID.test(resourceId)) throw new Error('bad resource id')
  const view = sql.raw(`datastore."${resourceId}"`)
  await sql`drop view if exists ${view}`.execute(tx)
  const cols = ['_id', ...fields.map((f) => `${f.column} as ${fieldAlias(f.id)}`)].join(', ')
  await sql`create view ${view} as select ${sql.raw(cols)} from ${tableRef(table)}`.execute(tx)
  await setViewAccess(tx, resourceId, open)
}

export async function setViewAccess(tx: Db, resourceId: string, open: boolean): Promise<void> {
  if (!RESOURCE_ID.test(resourceId)) throw new Error('bad resource id')
  const view = sql.raw(`datastore."${resourceId}"`)
  const exists = await sql<{ n: number }>`select count(*)::int as n from pg_views where schemaname = 'datastore' and viewname = ${resourceId}`.execute(tx)
  if (!exists.rows[0].n) return
  if (open) await sql`grant select on ${view} to hoaban_datastore_reader`.execute(tx)
  else await sql`revoke select on ${view} from hoaban_datastore_reader`.execute(tx)
}

export async function dropTable(db: Db, table: string): Promise<void> {
  await sql`drop table if exists ${tableRef(table)}`.execute(db)
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface SearchParams {
  filters?: Record<string, unknown>
  q?: string | Record<string, string>
  fields?: string[]
  sort?: string
  limit: number
  offset: number
  includeTotal: boolean
  distinct?: boolean
}

export class DatastoreQueryError extends Error {
  constructor(public readonly field: string, message: string) {
    super(message)
  }
}

function fieldByName(fields: DatastoreField[], name: string): DatastoreField | '_id' {
  if (name === '_id') return '_id'
  const f = fields.find((x) => x.id === name.normalize('NFC'))
  if (!f) throw new DatastoreQueryError('fields', `field "${name}" not in the resource`)
  return f
}

/** Output expression of a column, so every value comes back as JSON-friendly text or boolean. */
function outExpr(f: DatastoreField): RawBuilder<unknown> {
  const c = col(f.column)
  switch (f.type) {
    case 'timestamp':
      return sql`to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
    case 'bool':
    case 'text':
      return c
    default:
      return sql`${c}::text`
  }
}

export function outValue(f: { type: FieldType }, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (f.type === 'int' || f.type === 'numeric') {
    const n = Number(v)
    return f.type === 'int' && !Number.isSafeInteger(n) ? String(v) : n
  }
  return v
}

/** A query word for to_tsquery: only letters and digits of the normalized text, as a prefix. */
export function tsQueryOf(q: string): string | undefined {
  const words = normalizeSearchText(q).split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 16)
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : undefined
}

function whereOf(fields: DatastoreField[], p: SearchParams): RawBuilder<unknown> {
  const conds: RawBuilder<unknown>[] = [sql`true`]
  for (const [name, value] of Object.entries(p.filters ?? {})) {
    const f = fieldByName(fields, name)
    const type: FieldType = f === '_id' ? 'int' : f.type
    const c = f === '_id' ? sql.raw('_id') : col(f.column)
    const values = Array.isArray(value) ? value : [value]
    if (values.length === 0 || values.length > 1000) throw new DatastoreQueryError('filters', `filter on "${name}" needs 1 to 1000 values`)
    const parsed = values.map((v) => {
      if (v === null) return null
      if (typeof v === 'object') throw new DatastoreQueryError('filters', `filter values of "${name}" must be scalars`)
      const x = type === 'text' ? String(v) : parseCell(type, String(v))
      if (x === undefined) throw new DatastoreQueryError('filters', `"${String(v)}" is not a ${type} (field "${name}")`)
      return x
    })
    const nonNull = parsed.filter((x) => x !== null)
    const hasNull = nonNull.length < parsed.length
    const pgType = sql.raw(PG_TYPE[type])
    const parts: RawBuilder<unknown>[] = []
    if (nonNull.length === 1) parts.push(sql`${c} = ${nonNull[0]}::${pgType}`)
    else if (nonNull.length > 1) parts.push(sql`${c} = any(${sql.raw('array[')}${sql.join(nonNull.map((x) => sql`${x}::${pgType}`))}])`)
    if (hasNull) parts.push(sql`${c} is null`)
    conds.push(sql`(${sql.join(parts, sql` or `)})`)
  }
  if (typeof p.q === 'string' && p.q.trim()) {
    const tsq = tsQueryOf(p.q)
    if (tsq) conds.push(sql`_full_text @@ to_tsquery('simple', ${tsq})`)
  } else if (p.q && typeof p.q === 'object') {
    for (const [name, text] of Object.entries(p.q)) {
      const f = fieldByName(fields, name)
      if (f === '_id' || f.type !== 'text') throw new DatastoreQueryError('q', `q by field works on text fields only ("${name}")`)
      if (typeof text !== 'string') throw new DatastoreQueryError('q', 'q values must be strings')
      conds.push(sql`${col(f.column)} ilike ${`%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`}`)
    }
  }
  return sql.join(conds, sql` and `)
}

export function parseSort(fields: DatastoreField[], sort: string | undefined): { sql: RawBuilder<unknown>; text: string } {
  // Qualified with the table alias: an unqualified ORDER BY name would pick the (text) output column.
  if (!sort || !sort.trim()) return { sql: sql.raw('t._id'), text: '_id' }
  const parts = sort.split(',').map((s) => s.trim()).filter(Boolean)
  if (parts.length > 5) throw new DatastoreQueryError('sort', 'at most 5 sort fields')
  const out = parts.map((part) => {
    const m = /^"?(.+?)"?(?:\s+(asc|desc))?$/i.exec(part)
    if (!m) throw new DatastoreQueryError('sort', `cannot parse sort "${part}"`)
    const f = fieldByName(fields, m[1])
    const dir = (m[2] ?? 'asc').toLowerCase() === 'desc' ? 'desc' : 'asc'
    return sql`${f === '_id' ? sql.raw('t._id') : sql`t.${col(f.column)}`} ${sql.raw(dir)}`
  })
  return { sql: sql.join([...out, sql.raw('t._id')]), text: parts.join(', ') }
}

export interface SearchResult {
  fields: { id: string; type: FieldType }[]
  rows: unknown[][]
  total?: number
}

export async function searchDatastore(db: Db, table: string, allFields: DatastoreField[], rowCount: number, p: SearchParams): Promise<SearchResult> {
  const chosen = p.fields?.length ? p.fields.map((n) => fieldByName(allFields, n)) : ['_id' as const, ...allFields]
  const outFields = chosen.map((f) => (f === '_id' ? { id: '_id', type: 'int' as FieldType } : { id: f.id, type: f.type }))
  const select = sql.join(chosen.map((f) => (f === '_id' ? sql.raw('_id::text') : outExpr(f))))
  const where = whereOf(allFields, p)
  const order = parseSort(allFields, p.sort)
  const t = tableRef(table)
  const { rows } = await sql<Record<string, unknown>>`select ${p.distinct ? sql.raw('distinct') : sql.raw('')} ${select} from ${t} as t where ${where}
    order by ${p.distinct ? sql.raw('1') : order.sql} limit ${p.limit} offset ${p.offset}`.execute(db)
  const data = rows.map((r) => Object.values(r).map((v, i) => outValue(outFields[i], v)))
  let total: number | undefined
  if (p.includeTotal) {
    const unfiltered = !Object.keys(p.filters ?? {}).length && !(typeof p.q === 'string' ? p.q.trim() : p.q && Object.keys(p.q).length)
    total = unfiltered && !p.distinct ? rowCount : Number((await sql<{ n: string }>`select count(*) as n from ${t} where ${where}`.execute(db)).rows[0].n)
  }
  return { fields: outFields, rows: data, total }
}

/** Full export by keyset paging on _id (no cap, flat memory): yields batches of rows. */
export async function* exportRows(db: Db, table: string, fields: DatastoreField[], batch = 5000): AsyncGenerator<unknown[][]> {
  let after = 0
  const select = sql.join([sql.raw('_id'), ...fields.map(outExpr)])
  const t = tableRef(table)
  for (;;) {
    const { rows } = await sql<Record<string, unknown>>`select ${select} from ${t} where _id > ${after} order by _id limit ${batch}`.execute(db)
    if (!rows.length) return
    const out = rows.map((r) => Object.values(r))
    after = Number(out[out.length - 1][0])
    yield out.map((r) => r.slice(1).map((v, i) => outValue(fields[i], v)))
    if (rows.length < batch) return
  }
}

export function csvLine(values: unknown[], delimiter = ','): string {
  return values.map((v) => {
    if (v === null || v === undefined) return ''
    const s = String(v)
    return /[",\n\r;\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }).join(delimiter) + '\r\n'
}

// ---------------------------------------------------------------------------------------------
// datastore_search_sql

const FORBIDDEN_SQL = /\b(set_config|query_to_xml\w*|table_to_xml\w*|cursor_to_xml\w*|schema_to_xml\w*|database_to_xml\w*|dblink\w*|lo_\w+|pg_read\w*|pg_ls_\w+|pg_stat_file|pg_terminate_backend|pg_cancel_backend|pg_advisory\w*|pg_notify|txid_\w+|nextval|setval|copy|into|insert|update|delete|merge|truncate|drop|alter|create|grant|revoke|lock|vacuum|call|do)\b/i

export class SqlRefused extends Error {
  constructor(public readonly reason: 'syntax' | 'forbidden', message: string) {
    super(message)
  }
}

/** Checks the text of datastore_search_sql: ONE SELECT (or WITH … SELECT), no comments, no side-effect functions. */
export function checkReadOnlySelect(text: string): string {
  let s = text.trim().replace(/;\s*$/, '')
  if (!s) throw new SqlRefused('syntax', 'empty sql')
  if (s.length > 20_000) throw new SqlRefused('syntax', 'sql longer than 20,000 characters')
  if (s.includes(';')) throw new SqlRefused('syntax', 'only one statement is allowed')
  if (/--|\/\*/.test(s)) throw new SqlRefused('syntax', 'comments are not allowed')
  if (!/^(select|with)\b/i.test(s)) throw new SqlRefused('syntax', 'only SELECT statements are allowed')
  const withoutStrings = s.replace(/'(?:[^']|'')*'/g, "''")
  if (FORBIDDEN_SQL.test(withoutStrings)) throw new SqlRefused('forbidden', `not allowed in datastore_search_sql: ${FORBIDDEN_SQL.exec(withoutStrings)![0]}`)
  s = s.trim()
  return s
}

/**
 * Runs one checked SELECT in a READ ONLY transaction, under statement_timeout, as the login-less
 * role that may read only the views of open resources (search_path = datastore), wrapped in a
 * sub-select with a row cap so it can never be more than one statement.
 */
export async function runSearchSql(db: Db, text: string, opts: { timeoutMs: number; maxRows: number }): Promise<{ fields: { id: string; type: string }[]; records: Record<string, unknown>[] }> {
  const checked = checkReadOnlySelect(text)
  return db.transaction().execute(async (tx) => {
    await sql`set transaction read only`.execute(tx)
    await sql.raw(`set local statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))}`).execute(tx)
    await sql`set local search_path = datastore`.execute(tx)
    await sql`set local role hoaban_datastore_reader`.execute(tx)
    const r = await sql<Record<string, unknown>>`select * from (${sql.raw(checked)}) as _q limit ${opts.maxRows}`.execute(tx)
    const names = r.rows.length ? Object.keys(r.rows[0]) : []
    return { fields: names.map((id) => ({ id, type: typeof r.rows[0][id] === 'number' ? 'numeric' : 'text' })), records: r.rows }
  })
}

export { FIELD_TYPES }
