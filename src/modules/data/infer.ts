/**
 * Column types of the DataStore and how text cells become typed values. Types are CKAN's names:
 * int (bigint), numeric, date, timestamp, bool, text. Inference looks at EVERY value of the file
 * (not the first rows) and picks, per column, the narrowest type that fits all of its values;
 * a column that would have been numeric or a date but for a few cells is reported with the
 * line numbers of those cells, so the publisher can fix them or declare the type.
 */
export const FIELD_TYPES = ['int', 'numeric', 'date', 'timestamp', 'bool', 'text'] as const
export type FieldType = (typeof FIELD_TYPES)[number]

/** PostgreSQL type of each field type (only these strings are ever put into DDL). */
export const PG_TYPE: Record<FieldType, string> = { int: 'bigint', numeric: 'numeric', date: 'date', timestamp: 'timestamptz', bool: 'boolean', text: 'text' }

const LEADING_ZERO = /^[+-]?0\d/
const INT = /^[+-]?\d{1,18}$/
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const DMY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/
const DMY_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(:(\d{2}))?$/
const TRUE = new Set(['true', 'đúng', 'có', 'yes'])
const FALSE = new Set(['false', 'sai', 'không', 'no'])

function validYmd(y: number, m: number, d: number): string | undefined {
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1 || y > 9999) return undefined
  const t = new Date(Date.UTC(y, m - 1, d))
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return undefined
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

/**
 * The typed value of a cell, or undefined when it does not fit. Empty cells are null for every
 * type. Dates: dd/mm/yyyy (Vietnamese) or yyyy-mm-dd; timestamps without a zone are Vietnam time.
 */
export function parseCell(type: FieldType, raw: string): string | number | boolean | null | undefined {
  const v = raw.trim()
  if (v === '') return null
  switch (type) {
    case 'text':
      return raw
    case 'int':
      return INT.test(v) ? (Number.isSafeInteger(Number(v)) ? Number(v) : v) : undefined
    case 'numeric':
      return NUMERIC.test(v) && Number.isFinite(Number(v)) ? v.replace(/^\+/, '') : undefined
    case 'bool': {
      const l = v.toLowerCase()
      return TRUE.has(l) ? true : FALSE.has(l) ? false : undefined
    }
    case 'date': {
      let m = DMY.exec(v)
      if (m) return validYmd(+m[3], +m[2], +m[1])
      m = ISO_DATE.exec(v)
      return m ? validYmd(+m[1], +m[2], +m[3]) : undefined
    }
    case 'timestamp': {
      let m = TIMESTAMP.exec(v)
      if (m) {
        const day = validYmd(+m[1], +m[2], +m[3])
        if (!day || +m[4] > 23 || +m[5] > 59 || (m[7] !== undefined && +m[7] > 59)) return undefined
        const zone = m[9] ? (m[9] === 'Z' ? 'Z' : m[9].length === 5 ? `${m[9].slice(0, 3)}:${m[9].slice(3)}` : m[9]) : '+07:00'
        const t = new Date(`${day}T${m[4]}:${m[5]}:${m[7] ?? '00'}${m[8] ?? ''}${zone}`)
        return Number.isNaN(t.getTime()) ? undefined : t.toISOString()
      }
      m = DMY_TIME.exec(v)
      if (m) {
        const day = validYmd(+m[3], +m[2], +m[1])
        if (!day || +m[4] > 23 || +m[5] > 59 || (m[7] !== undefined && +m[7] > 59)) return undefined
        return new Date(`${day}T${m[4].padStart(2, '0')}:${m[5]}:${m[7] ?? '00'}+07:00`).toISOString()
      }
      return undefined
    }
  }
}

/** Candidate types from narrowest to widest; text always fits. */
const CANDIDATES: FieldType[] = ['int', 'numeric', 'bool', 'date', 'timestamp']

/** How many misfits per candidate type we remember (their line numbers) before giving up on it. */
const MAX_MISFITS = 20

interface ColumnState {
  nonEmpty: number
  /** candidate -> line numbers of values that did not fit (undefined once it has too many). */
  misfits: Map<FieldType, number[] | undefined>
}

export interface InferredField {
  id: string
  type: FieldType
  /** Set when a narrower type fitted all but a few values: which type, and the lines that broke it. */
  almost?: { type: FieldType; lines: number[] }
}

/** Whole-file type inference, fed one row at a time (constant memory per column). */
export class TypeInferrer {
  #cols: ColumnState[]
  constructor(private readonly headers: string[]) {
    this.#cols = headers.map(() => ({ nonEmpty: 0, misfits: new Map(CANDIDATES.map((c) => [c, []])) }))
  }

  add(cells: string[], line: number): void {
    for (let i = 0; i < this.#cols.length; i++) {
      const raw = cells[i] ?? ''
      if (raw.trim() === '') continue
      const col = this.#cols[i]
      col.nonEmpty++
      // A leading zero (03127) makes a code, not a number: inferred as text so it keeps its zero.
      const code = LEADING_ZERO.test(raw.trim())
      for (const [type, lines] of col.misfits) {
        if (lines === undefined) continue
        if (parseCell(type, raw) === undefined || (code && (type === 'int' || type === 'numeric'))) {
          if (lines.length >= MAX_MISFITS) col.misfits.set(type, undefined)
          else lines.push(line)
        }
      }
    }
  }

  result(): InferredField[] {
    return this.headers.map((id, i) => {
      const col = this.#cols[i]
      if (col.nonEmpty === 0) return { id, type: 'text' as FieldType }
      const fits = CANDIDATES.find((c) => col.misfits.get(c)?.length === 0)
      if (fits) return { id, type: fits }
      // Text it is; say so when a narrower type failed on only a handful of values.
      const near = CANDIDATES.map((c) => ({ type: c, lines: col.misfits.get(c) }))
        .filter((x): x is { type: FieldType; lines: number[] } => !!x.lines && x.lines.length > 0 && x.lines.length <= Math.max(1, col.nonEmpty * 0.01))
        .sort((a, b) => a.lines.length - b.lines.length)[0]
      return near ? { id, type: 'text' as FieldType, almost: near } : { id, type: 'text' as FieldType }
    })
  }
}

/** Field names become column labels (never SQL identifiers): letters, digits and a few signs, ≤ 63 chars. */
export const FIELD_ID = /^[\p{L}\p{N}_][\p{L}\p{N}\p{M} _.,()%/+-]{0,62}$/u

/** Cleans header cells: trimmed, empty → field_N, duplicates suffixed. Returns undefined for an invalid name. */
export function cleanHeaders(cells: string[]): { headers: string[]; invalid: string[] } {
  const seen = new Set<string>()
  const invalid: string[] = []
  const headers = cells.map((c, i) => {
    let h = c.normalize('NFC').trim() || `field_${i + 1}`
    if (h === '_id' || h === '_full_text') h = `${h}_${i + 1}`
    if (!FIELD_ID.test(h)) invalid.push(h)
    let name = h
    for (let k = 2; seen.has(name); k++) name = `${h}_${k}`
    seen.add(name)
    return name
  })
  return { headers, invalid }
}
