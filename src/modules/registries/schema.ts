import type { Principal } from '../../platform/auth/principal.ts'

/** How widely a registry or a field may be seen: public, agencies, the owner agency. */
export const ACCESS_LEVELS = ['open', 'shared', 'restricted'] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]
const RANK: Record<AccessLevel, number> = { open: 0, shared: 1, restricted: 2 }

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'enum', 'list'] as const
export type FieldType = (typeof FIELD_TYPES)[number]

/** One typed field of a registry, with its validation rules and access level. */
export interface FieldDef {
  name: string
  type: FieldType
  label_vi: string
  label_en: string
  access: AccessLevel
  required?: boolean
  min?: number
  max?: number
  max_length?: number
  pattern?: string
  values?: string[]
  /** For a list: the fields of each item (one level, no nested lists). */
  item_fields?: FieldDef[]
  max_items?: number
}

export interface RegistrySchema {
  name: string
  title_vi: string
  title_en: string
  description: string
  owner_unit: string
  access: AccessLevel
  key_fields: string[]
  fields: FieldDef[]
  schema_version: number
}

export interface FieldError {
  field: string
  code: string
  message_vi: string
  message_en: string
}

const err = (field: string, code: string, vi: string, en: string): FieldError => ({ field, code, message_vi: vi, message_en: en })

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

/**
 * Turns one raw value (from JSON, or a CSV/XLSX cell as text) into the field's type, or an
 * error. Empty strings count as absent.
 */
export function coerceValue(f: FieldDef, raw: unknown, path = f.name): { value?: unknown; error?: FieldError } {
  if (raw === undefined || raw === null || raw === '') return { value: undefined }
  switch (f.type) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { error: err(path, 'TYPE', 'Phải là chuỗi ký tự.', 'Must be text.') }
      const s = String(raw).trim()
      if (f.max_length !== undefined && s.length > f.max_length) return { error: err(path, 'TOO_LONG', `Dài quá ${f.max_length} ký tự.`, `Longer than ${f.max_length} characters.`) }
      if (f.pattern && !new RegExp(`^(?:${f.pattern})$`).test(s)) return { error: err(path, 'PATTERN', 'Không đúng định dạng.', `Does not match ${f.pattern}.`) }
      return { value: s }
    }
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim().replace(',', '.')) : Number.NaN
      if (!Number.isFinite(n) || (f.type === 'integer' && !Number.isInteger(n))) return { error: err(path, 'TYPE', f.type === 'integer' ? 'Phải là số nguyên.' : 'Phải là số.', f.type === 'integer' ? 'Must be an integer.' : 'Must be a number.') }
      if (f.min !== undefined && n < f.min) return { error: err(path, 'MIN', `Nhỏ hơn ${f.min}.`, `Less than ${f.min}.`) }
      if (f.max !== undefined && n > f.max) return { error: err(path, 'MAX', `Lớn hơn ${f.max}.`, `Greater than ${f.max}.`) }
      return { value: n }
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw }
      const s = String(raw).trim().toLowerCase()
      if (['true', '1', 'có', 'co', 'x', 'yes'].includes(s)) return { value: true }
      if (['false', '0', 'không', 'khong', 'no'].includes(s)) return { value: false }
      return { error: err(path, 'TYPE', 'Phải là có/không.', 'Must be true or false.') }
    }
    case 'date': {
      const s = raw instanceof Date ? raw.toISOString().slice(0, 10) : String(raw).trim()
      const dmy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s)
      const iso = dmy ? `${dmy[3]}-${dmy[2].padStart(2, '0')}-${dmy[1].padStart(2, '0')}` : s
      if (!isIsoDate(iso)) return { error: err(path, 'DATE', 'Ngày không hợp lệ (YYYY-MM-DD hoặc DD/MM/YYYY).', 'Invalid date (YYYY-MM-DD or DD/MM/YYYY).') }
      if (f.min !== undefined || f.max !== undefined) {
        const y = Number(iso.slice(0, 4))
        if ((f.min !== undefined && y < f.min) || (f.max !== undefined && y > f.max)) return { error: err(path, 'DATE_RANGE', 'Năm ngoài khoảng cho phép.', 'Year out of range.') }
      }
      return { value: iso }
    }
    case 'enum': {
      const s = String(raw).trim()
      if (!f.values?.includes(s)) return { error: err(path, 'ENUM', `Giá trị phải thuộc: ${(f.values ?? []).join(', ')}.`, `Must be one of: ${(f.values ?? []).join(', ')}.`) }
      return { value: s }
    }
    case 'list': {
      let arr = raw
      if (typeof raw === 'string') {
        try {
          arr = JSON.parse(raw)
        } catch {
          return { error: err(path, 'TYPE', 'Phải là danh sách (JSON).', 'Must be a list (JSON array).') }
        }
      }
      if (!Array.isArray(arr)) return { error: err(path, 'TYPE', 'Phải là danh sách.', 'Must be a list.') }
      if (arr.length > (f.max_items ?? 200)) return { error: err(path, 'TOO_MANY', 'Danh sách quá dài.', `More than ${f.max_items ?? 200} items.`) }
      const items: Record<string, unknown>[] = []
      for (let i = 0; i < arr.length; i++) {
        const r = validateObject(f.item_fields ?? [], arr[i], `${path}[${i}]`)
        if (r.errors.length > 0) return { error: r.errors[0] }
        items.push(r.data)
      }
      return { value: items }
    }
  }
}

/** Validates an object against fields: unknown fields, types, rules, required. */
export function validateObject(fields: FieldDef[], input: unknown, prefix = '', opts: { partial?: boolean } = {}): { data: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = []
  const data: Record<string, unknown> = {}
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return { data, errors: [err(prefix || '(record)', 'TYPE', 'Phải là một đối tượng.', 'Must be an object.')] }
  }
  const byName = new Map(fields.map((f) => [f.name, f]))
  for (const k of Object.keys(input)) {
    if (!byName.has(k)) errors.push(err(prefix ? `${prefix}.${k}` : k, 'UNKNOWN_FIELD', 'Trường không có trong lược đồ.', 'Not a field of this registry.'))
  }
  for (const f of fields) {
    const path = prefix ? `${prefix}.${f.name}` : f.name
    const present = Object.prototype.hasOwnProperty.call(input, f.name)
    if (opts.partial && !present) continue
    const r = coerceValue(f, (input as Record<string, unknown>)[f.name], path)
    if (r.error) errors.push(r.error)
    else if (r.value === undefined) {
      if (f.required) errors.push(err(path, 'REQUIRED', 'Bắt buộc.', 'Required.'))
      else if (opts.partial && present) data[f.name] = null
    } else data[f.name] = r.value
  }
  return { data, errors }
}

/** The record key: the key fields' values joined with `~` (a single key is its value). */
export function recordKeyOf(schema: RegistrySchema, data: Record<string, unknown>): string {
  return schema.key_fields.map((k) => String(data[k] ?? '')).join('~')
}

/**
 * The access level of a caller on a registry. The public: open. Staff: shared, restricted for
 * the owner agency and province admins. Machine clients: by scopes (`registries:<level>` or
 * `registry:<name>:<level>`), restricted for the owner agency's own systems.
 */
export function callerLevel(p: Principal | null, schema: Pick<RegistrySchema, 'name' | 'owner_unit'>): AccessLevel {
  if (!p) return 'open'
  if (p.kind === 'user') {
    if (p.role === 'province_admin') return 'restricted'
    if (p.role === 'officer' || p.role === 'unit_admin') return p.unitCode === schema.owner_unit ? 'restricted' : 'shared'
    if (p.role === 'ioc_viewer') return 'shared'
    return 'open'
  }
  if (p.unitCode && p.unitCode === schema.owner_unit) return 'restricted'
  let best: AccessLevel = 'open'
  for (const s of p.scopes) {
    const m = /^registries:(open|shared|restricted)$/.exec(s) ?? new RegExp(`^registry:${schema.name}:(open|shared|restricted)$`).exec(s)
    if (m && RANK[m[1] as AccessLevel] > RANK[best]) best = m[1] as AccessLevel
  }
  return best
}

export const atLeast = (have: AccessLevel, need: AccessLevel) => RANK[have] >= RANK[need]

/** May this caller see the registry at all (its existence and visible fields)? */
export function canSeeRegistry(level: AccessLevel, schema: Pick<RegistrySchema, 'access'>): boolean {
  return atLeast(level, schema.access)
}

/** The fields a caller at this level sees. */
export function visibleFields(schema: RegistrySchema, level: AccessLevel): FieldDef[] {
  return schema.fields.filter((f) => atLeast(level, f.access))
}

/** A record's data with only the fields the level allows. */
export function projectData(schema: RegistrySchema, level: AccessLevel, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of visibleFields(schema, level)) if (data[f.name] !== undefined) out[f.name] = data[f.name]
  return out
}

/** The schema as a caller at this level may read it (restricted fields left out). */
export function presentSchema(schema: RegistrySchema, level: AccessLevel) {
  return { ...schema, fields: visibleFields(schema, level) }
}

/** Field-by-field difference between two versions of a record: {field: [before, after]}. */
export function diffData(before: Record<string, unknown> | null, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const d: Record<string, [unknown, unknown]> = {}
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)])
  for (const k of keys) {
    const a = before?.[k] ?? null
    const b = after[k] ?? null
    if (JSON.stringify(a) !== JSON.stringify(b)) d[k] = [a, b]
  }
  return d
}

/** Checks a schema definition itself (names, types, keys) before it is stored. */
export function checkSchemaDefinition(s: RegistrySchema): FieldError[] {
  const errors: FieldError[] = []
  const names = new Set<string>()
  const checkFields = (fields: FieldDef[], prefix: string, nested: boolean) => {
    for (const f of fields) {
      const path = `${prefix}${f.name}`
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(f.name)) errors.push(err(path, 'FIELD_NAME', 'Tên trường không hợp lệ.', 'Field names are lower-case letters, digits and _.'))
      if (!FIELD_TYPES.includes(f.type)) errors.push(err(path, 'FIELD_TYPE', 'Kiểu trường không hợp lệ.', 'Unknown field type.'))
      if (f.type === 'enum' && !(f.values && f.values.length > 0)) errors.push(err(path, 'ENUM_VALUES', 'Trường liệt kê cần danh sách giá trị.', 'An enum field needs values.'))
      if (f.type === 'list' && (nested || !f.item_fields?.length)) errors.push(err(path, 'LIST_ITEMS', 'Danh sách cần các trường con (một cấp).', 'A list needs item fields (one level).'))
      if (f.pattern) {
        try {
          new RegExp(f.pattern)
        } catch {
          errors.push(err(path, 'PATTERN', 'Biểu thức không hợp lệ.', 'Invalid pattern.'))
        }
      }
      if (f.item_fields) checkFields(f.item_fields, `${path}.`, true)
    }
  }
  for (const f of s.fields) {
    if (names.has(f.name)) errors.push(err(f.name, 'DUPLICATE_FIELD', 'Trùng tên trường.', 'Duplicate field.'))
    names.add(f.name)
  }
  checkFields(s.fields, '', false)
  for (const k of s.key_fields) {
    const f = s.fields.find((x) => x.name === k)
    if (!f) errors.push(err(k, 'KEY_FIELD', 'Trường khoá không có trong lược đồ.', 'Key field is not a field.'))
    else if (!f.required || f.type === 'list') errors.push(err(k, 'KEY_FIELD', 'Trường khoá phải bắt buộc và không là danh sách.', 'Key fields must be required scalars.'))
  }
  return errors
}
