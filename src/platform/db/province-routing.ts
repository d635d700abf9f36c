/**
 * The rule that keeps statements on distributed tables routable to one Citus shard (a "router
 * query"), checked on the SQL text actually sent: province-routing.test.ts captures every
 * statement of a dossier lifecycle, a report's submission and workflow and a document's
 * registration and handling, and fails on any statement that breaks it. docs/scaling.md,
 * "Distribution key (Citus)".
 *
 * The rule, on the statement's text (string literals and comments removed, lower-cased):
 *
 * - A *reference* is a distributed table named after `from`, `join`, `update` or `delete from`
 *   (an `insert into` is not one: Citus routes an insert by the value the column default gives
 *   on the coordinator, see database.ts).
 * - A *province comparison* is an equality with `province_code` on one side
 *   (`d.province_code = $3`, `f.province_code = d.province_code`).
 * - A statement *by key* compares an id, a code or a parent id (`id`, `code`, `report_id`,
 *   `dossier_id`, `document_id`) with a bound parameter (`= $1`, `in ($1, …)`, `= any($1)`).
 * - A statement by key needs at least one province comparison per reference: the table read or
 *   changed by key is pinned to the province, and every other distributed table it joins or
 *   reads in a subquery is joined on (or pinned to) the province as well.
 * - Any other statement with several references needs one fewer: every join between distributed
 *   tables is on `province_code` (a colocated join), even in a scan over all shards.
 *
 * The parts of a `union` are checked each on its own (a union is not a join).
 *
 * It counts, it does not parse: a comparison is not matched to its table. That is enough to fail
 * a new query that forgets the province (the usual mistake), and simple to read.
 */
import { DISTRIBUTED } from './distribution.ts'

const TABLES = DISTRIBUTED.map((t) => t.table)
const REFERENCE = new RegExp(String.raw`\b(?:from|join|update|delete\s+from)\s+(?:only\s+)?(${TABLES.join('|')})\b(?!\s*\()`, 'g')
const PROVINCE_COMPARISON = /(?:\w+\.)?province_code\s*=\s*[^\s,)]+|[^\s=(,]+\s*=\s*(?:\w+\.)?province_code\b/g
const BY_KEY = /\b(?:\w+\.)?(?:id|code|report_id|dossier_id|document_id)\s*(?:=\s*|=\s*any\s*\(\s*|in\s*\(\s*)\$\d+/

/** The statement without string literals, quoted identifiers' quotes and comments, lower-cased. */
function normalize(text: string): string {
  return text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(\w+)"/g, '$1')
    .toLowerCase()
}

export interface RoutingCheck {
  /** Distributed tables read or changed (from/join/update/delete), in order, repeated as named. */
  references: string[]
  provinceComparisons: number
  byKey: boolean
  /** Why the statement is not routable, or undefined when it obeys the rule. */
  violation?: string
}

/** Checks one SQL statement against the rule above. */
export function checkProvinceRouting(text: string): RoutingCheck {
  const parts = normalize(text).split(/\bunion(?:\s+all)?\b/)
  if (parts.length > 1) {
    const checks = parts.map(checkPart)
    const violation = checks.map((c) => c.violation).filter(Boolean).join('; ') || undefined
    return { references: checks.flatMap((c) => c.references), provinceComparisons: checks.reduce((n, c) => n + c.provinceComparisons, 0), byKey: checks.some((c) => c.byKey), violation }
  }
  return checkPart(parts[0])
}

function checkPart(s: string): RoutingCheck {
  const references = [...s.matchAll(REFERENCE)].map((m) => m[1])
  const provinceComparisons = (s.match(PROVINCE_COMPARISON) ?? []).length
  const byKey = BY_KEY.test(s)
  const needed = byKey ? references.length : references.length - 1
  const violation = references.length && provinceComparisons < needed
    ? `${byKey ? 'reads or changes a distributed table by key' : 'joins distributed tables'} (${references.join(', ')}) with ${provinceComparisons} province_code comparison(s), needs ${needed}`
    : undefined
  return { references, provinceComparisons, byKey, violation }
}
