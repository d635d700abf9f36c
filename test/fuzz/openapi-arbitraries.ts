import fc from 'fast-check'

/** A JSON schema as found in the OpenAPI document (the subset TypeBox emits). */
export interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  enum?: unknown[]
  const?: unknown
  anyOf?: Schema[]
  oneOf?: Schema[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  format?: string
}

/** Hostile strings: injection, markup, traversal, control and odd Unicode, huge numbers as text. */
export const HOSTILE_STRINGS = [
  `' OR '1'='1`, `'; DROP TABLE users; --`, `"><script>alert(1)</script>`, '../../../../etc/passwd', '%00', '\u0000', '\uFFFF', '\uD800',
  '𝕳𝖔𝖆 𝕭𝖆𝖓', 'Điện Biên Phủ', '', ' ', '-1', '1e309', 'NaN', 'null', 'true', '{}', '[]', '2026-02-30', '9999-12-31T23:59:59Z',
  'x'.repeat(5000), '${jndi:ldap://x}', '{{7*7}}', '__proto__', 'constructor',
]

export const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }))
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, -(2 ** 63), Number.MAX_SAFE_INTEGER))
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 3 }))

/** Values valid (or nearly) for the schema, mixed with hostile ones. */
export function arbitraryFor(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return anyJson
  if (s.const !== undefined) return fc.oneof({ weight: 4, arbitrary: fc.constant(s.const) }, { weight: 1, arbitrary: anyJson })
  if (s.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...s.enum) }, { weight: 1, arbitrary: anyJson })
  const alts = s.anyOf ?? s.oneOf
  if (alts?.length) return fc.oneof(...alts.map((a) => arbitraryFor(a, depth + 1)))
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  let valid: fc.Arbitrary<unknown>
  switch (type) {
    case 'string':
      valid = s.format === 'date-time' ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
        : s.format === 'date' || s.pattern?.includes('\\d{4}') ? fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
        : s.format === 'uuid' ? fc.uuid()
        : s.format === 'email' ? fc.emailAddress()
        : s.pattern ? fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= (s.maxLength ?? 200))
        : fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 60, 60) })
      break
    case 'integer':
      valid = fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000 })
      break
    case 'number':
      valid = fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true })
      break
    case 'boolean':
      valid = fc.boolean()
      break
    case 'array':
      valid = fc.array(arbitraryFor(s.items, depth + 1), { maxLength: 4 })
      break
    case 'object': {
      const props = s.properties ?? {}
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [k, v] of Object.entries(props)) record[k] = arbitraryFor(v, depth + 1)
      valid = fc.record(record, { requiredKeys: (s.required ?? []).filter((k) => k in props) })
      break
    }
    default:
      return anyJson
  }
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyJson })
}
