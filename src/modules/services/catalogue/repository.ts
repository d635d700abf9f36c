import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { AppContext } from '../../../platform/module.ts'
import type { Duration, ProcedureComponent, ProcedureStep, ProcedureVersion } from './index.ts'
import { escapeLike, normalizeSearchText, vietnamDate } from './text.ts'

export const DATA_FILE = fileURLToPath(new URL('../data/procedures-dien-bien.json', import.meta.url))

export interface FeeQuote { amount_vnd: number; policy_code: string | null; policy_name_vi: string | null }

export interface FeePolicy {
  code: string
  name_vi: string
  name_en: string
  legal_basis: string | null
  channel: 'online' | 'in_person' | 'any'
  percent_off: number | null
  fixed_vnd: number | null
  valid_from: string
  valid_to: string | null
  procedure_code: string | null
  field: string | null
}

export interface ProcedureSummary {
  code: string
  version: number
  name_vi: string
  name_en: string
  field: string
  field_name_vi: string
  level: 'commune' | 'province'
  handling_unit: string
  fully_online: boolean
  priority: boolean
  duration: { online: Duration; in_person: Duration }
  priority_duration: Duration | null
  fee_vnd: number
}

export interface SearchQuery {
  text?: string
  field?: string
  level?: string
  fully_online?: boolean
  limit: number
  offset: number
  /** The instant whose versions are searched; now by default. */
  at?: Date
}

export interface SearchResult { items: ProcedureSummary[]; total: number }

export interface FieldCount { code: string; name_vi: string; name_en: string; count: number }

const VERSION_COLUMNS = sql`v.procedure_code, v.version, to_char(v.valid_from, 'YYYY-MM-DD') as valid_from, to_char(v.valid_to, 'YYYY-MM-DD') as valid_to,
  v.name_vi, v.name_en, p.field, p.level, v.handling_unit, v.components, v.legal_basis, v.duration, v.priority, v.priority_duration,
  v.fee_vnd::float8 as fee_vnd, v.fully_online, v.steps`

/** Versions in force on a Vietnam date: valid_from ≤ date ≤ valid_to (inclusive, open-ended when null). */
const inForce = (date: string) => sql`v.valid_from <= ${date}::date and (v.valid_to is null or v.valid_to >= ${date}::date)`

/** The version of a procedure in force at `at` (its Vietnam date); the latest valid_from wins if periods overlap. */
export async function getProcedureVersion(db: Db, code: string, at: Date): Promise<ProcedureVersion | undefined> {
  const date = vietnamDate(at)
  const { rows } = await sql<ProcedureVersion>`select ${VERSION_COLUMNS}
    from procedure_versions v join procedures p on p.code = v.procedure_code
    where v.procedure_code = ${code} and p.active and ${inForce(date)}
    order by v.valid_from desc, v.version desc limit 1`.execute(db)
  return rows[0]
}

/** Every version of a procedure, newest first (for browsing its history). */
export async function listProcedureVersions(db: Db, code: string): Promise<{ version: number; valid_from: string; valid_to: string | null }[]> {
  const { rows } = await sql<{ version: number; valid_from: string; valid_to: string | null }>`select version,
      to_char(valid_from, 'YYYY-MM-DD') as valid_from, to_char(valid_to, 'YYYY-MM-DD') as valid_to
    from procedure_versions where procedure_code = ${code} order by valid_from desc, version desc`.execute(db)
  return rows
}

/**
 * The fee for a procedure version on a channel at an instant. Rule: among the policies in force
 * on that Vietnam date (valid_from ≤ date ≤ valid_to) for this channel (or 'any') and matching
 * the procedure (all procedures, its field, or the procedure itself), the one giving the LOWEST
 * fee applies — policies never stack. Ties go to the most specific policy (procedure, then
 * field, then all), then the latest valid_from, then the code. A policy that would not lower the
 * fee is ignored, and a free procedure has no policy. percent_off amounts round to whole đồng.
 */
export async function computeFee(db: Db, version: ProcedureVersion, channel: 'online' | 'in_person', at: Date): Promise<FeeQuote> {
  const base = Number(version.fee_vnd)
  const none: FeeQuote = { amount_vnd: base, policy_code: null, policy_name_vi: null }
  if (base <= 0) return { ...none, amount_vnd: 0 }
  const date = vietnamDate(at)
  const { rows } = await sql<{ code: string; name_vi: string; percent_off: number | null; fixed_vnd: number | null; specificity: number; valid_from: string }>`
    select code, name_vi, percent_off::float8 as percent_off, fixed_vnd::float8 as fixed_vnd,
      case when procedure_code is not null then 2 when field is not null then 1 else 0 end as specificity,
      to_char(valid_from, 'YYYY-MM-DD') as valid_from
    from fee_policies
    where channel in (${channel}, 'any') and valid_from <= ${date}::date and (valid_to is null or valid_to >= ${date}::date)
      and (procedure_code is null or procedure_code = ${version.procedure_code})
      and (field is null or field = ${version.field})`.execute(db)
  let best: (FeeQuote & { specificity: number; valid_from: string }) | undefined
  for (const r of rows) {
    const amount = r.percent_off !== null ? Math.round((base * (100 - Number(r.percent_off))) / 100) : Number(r.fixed_vnd)
    if (!(amount < base)) continue
    const cand = { amount_vnd: amount, policy_code: r.code, policy_name_vi: r.name_vi, specificity: r.specificity, valid_from: r.valid_from }
    if (
      !best ||
      cand.amount_vnd < best.amount_vnd ||
      (cand.amount_vnd === best.amount_vnd &&
        (cand.specificity > best.specificity ||
          (cand.specificity === best.specificity && (cand.valid_from > best.valid_from || (cand.valid_from === best.valid_from && cand.policy_code < best.policy_code!)))))
    ) best = cand
  }
  return best ? { amount_vnd: best.amount_vnd, policy_code: best.policy_code, policy_name_vi: best.policy_name_vi } : none
}

/** The current version of every active procedure at a Vietnam date, as a CTE body. */
const currentVersions = (date: string) => sql`select distinct on (v.procedure_code) ${VERSION_COLUMNS}, v.search_text
  from procedure_versions v join procedures p on p.code = v.procedure_code
  where p.active and ${inForce(date)}
  order by v.procedure_code, v.valid_from desc, v.version desc`

/**
 * Citizen search: every word of `text` must appear in the name, field name or code, ignoring
 * case and diacritics. Results whose text starts with, then contains, the whole phrase come first.
 */
export async function searchProcedures(db: Db, q: SearchQuery): Promise<SearchResult> {
  const date = vietnamDate(q.at ?? new Date())
  const phrase = normalizeSearchText(q.text ?? '')
  const conds: RawBuilder<unknown>[] = [sql`true`]
  for (const word of phrase.split(' ').filter(Boolean)) conds.push(sql`c.search_text like ${`%${escapeLike(word)}%`}`)
  if (q.field) conds.push(sql`c.field = ${q.field}`)
  if (q.level) conds.push(sql`c.level = ${q.level}`)
  if (q.fully_online !== undefined) conds.push(sql`c.fully_online = ${q.fully_online}`)
  const where = sql.join(conds, sql` and `)
  const orderBy = phrase
    ? sql`case when c.search_text like ${`${escapeLike(phrase)}%`} then 0 when c.search_text like ${`%${escapeLike(phrase)}%`} then 1 else 2 end, c.search_text, c.procedure_code`
    : sql`c.search_text, c.procedure_code`
  const { rows } = await sql<ProcedureSummary>`with c as (${currentVersions(date)})
    select c.procedure_code as code, c.version, c.name_vi, c.name_en, c.field, f.name_vi as field_name_vi, c.level, c.handling_unit,
      c.fully_online, c.priority, c.duration, c.priority_duration, c.fee_vnd
    from c join procedure_fields f on f.code = c.field
    where ${where}
    order by ${orderBy}
    limit ${q.limit} offset ${q.offset}`.execute(db)
  const total = (await sql<{ n: number }>`with c as (${currentVersions(date)}) select count(*)::int as n from c where ${where}`.execute(db)).rows[0].n
  return { items: rows.map((r) => ({ ...r, fee_vnd: Number(r.fee_vnd) })), total }
}

/** Fields (lĩnh vực) with the number of procedures in force in each. */
export async function listProcedureFields(db: Db, at: Date): Promise<FieldCount[]> {
  const date = vietnamDate(at)
  const { rows } = await sql<FieldCount>`with c as (${currentVersions(date)})
    select f.code, f.name_vi, f.name_en, count(c.procedure_code)::int as count
    from procedure_fields f left join c on c.field = f.code
    group by f.code, f.name_vi, f.name_en, f.sort_order
    order by f.sort_order, f.code`.execute(db)
  return rows
}

function checkVersion(v: ProcedureVersion): void {
  const where = `procedure ${v.procedure_code} v${v.version}`
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v.valid_from) || (v.valid_to !== null && !/^\d{4}-\d{2}-\d{2}$/.test(v.valid_to))) throw new Error(`${where}: dates must be YYYY-MM-DD`)
  const sum = v.steps.reduce((s, x) => s + x.share, 0)
  if (v.steps.length === 0 || Math.abs(sum - 1) > 1e-6) throw new Error(`${where}: step shares sum to ${sum}, not 1`)
  if (v.priority !== (v.priority_duration !== null)) throw new Error(`${where}: a priority procedure needs priority_duration (and only then)`)
  const keys = new Set<string>()
  for (const c of v.components) {
    if (keys.has(c.key)) throw new Error(`${where}: duplicate component ${c.key}`)
    keys.add(c.key)
    if (c.formats.some((f) => f !== f.toLowerCase() || f.startsWith('.'))) throw new Error(`${where}: formats are lower-case extensions without a dot`)
  }
}

/**
 * Inserts a procedure (if new) and one of its versions (replacing that version number's row).
 * The search text is the normalised name, field name and code.
 */
export async function saveProcedureVersion(db: Db, v: ProcedureVersion): Promise<void> {
  checkVersion(v)
  await db.transaction().execute(async (tx) => {
    await sql`insert into procedures (code, field, level) values (${v.procedure_code}, ${v.field}, ${v.level})
      on conflict (code) do update set field = excluded.field, level = excluded.level`.execute(tx)
    const field = (await sql<{ name_vi: string }>`select name_vi from procedure_fields where code = ${v.field}`.execute(tx)).rows[0]
    if (!field) throw new Error(`Unknown procedure field ${v.field}`)
    const searchText = normalizeSearchText(`${v.name_vi} | ${field.name_vi} | ${v.procedure_code}`)
    await sql`insert into procedure_versions (procedure_code, version, valid_from, valid_to, name_vi, name_en, handling_unit, components,
        legal_basis, duration, priority, priority_duration, fee_vnd, fully_online, steps, search_text)
      values (${v.procedure_code}, ${v.version}, ${v.valid_from}::date, ${v.valid_to}::date, ${v.name_vi}, ${v.name_en}, ${v.handling_unit},
        ${JSON.stringify(v.components)}::jsonb, ${JSON.stringify(v.legal_basis)}::jsonb, ${JSON.stringify(v.duration)}::jsonb, ${v.priority},
        ${v.priority_duration === null ? null : JSON.stringify(v.priority_duration)}::jsonb, ${v.fee_vnd}, ${v.fully_online},
        ${JSON.stringify(v.steps)}::jsonb, ${searchText})
      on conflict (procedure_code, version) do update set valid_from = excluded.valid_from, valid_to = excluded.valid_to,
        name_vi = excluded.name_vi, name_en = excluded.name_en, handling_unit = excluded.handling_unit, components = excluded.components,
        legal_basis = excluded.legal_basis, duration = excluded.duration, priority = excluded.priority,
        priority_duration = excluded.priority_duration, fee_vnd = excluded.fee_vnd, fully_online = excluded.fully_online,
        steps = excluded.steps, search_text = excluded.search_text`.execute(tx)
  })
}

export async function saveFeePolicy(db: Db, p: FeePolicy): Promise<void> {
  await sql`insert into fee_policies (code, name_vi, name_en, legal_basis, channel, percent_off, fixed_vnd, valid_from, valid_to, procedure_code, field)
    values (${p.code}, ${p.name_vi}, ${p.name_en}, ${p.legal_basis}, ${p.channel}, ${p.percent_off}, ${p.fixed_vnd}, ${p.valid_from}::date,
      ${p.valid_to}::date, ${p.procedure_code}, ${p.field})
    on conflict (code) do update set name_vi = excluded.name_vi, name_en = excluded.name_en, legal_basis = excluded.legal_basis,
      channel = excluded.channel, percent_off = excluded.percent_off, fixed_vnd = excluded.fixed_vnd, valid_from = excluded.valid_from,
      valid_to = excluded.valid_to, procedure_code = excluded.procedure_code, field = excluded.field`.execute(db)
}

// ---- The data file -------------------------------------------------------------------------

type ComponentEntry = string | (Omit<ProcedureComponent, 'template_url' | 'formats' | 'max_bytes'> & Partial<Pick<ProcedureComponent, 'template_url' | 'formats' | 'max_bytes'>>)

interface DataProcedure extends Omit<ProcedureVersion, 'procedure_code' | 'components' | 'steps' | 'version' | 'valid_from' | 'valid_to'> {
  code: string
  version?: number
  valid_from?: string
  valid_to?: string | null
  components: ComponentEntry[]
  /** A profile name from step_profiles, or the steps themselves. */
  steps: string | ProcedureStep[]
}

/** The shape of data/procedures-dien-bien.json (see data/README.md). */
export interface CatalogueData {
  defaults: { valid_from: string; formats: string[]; max_bytes: number }
  fields: { code: string; name_vi: string; name_en: string }[]
  step_profiles: Record<string, ProcedureStep[]>
  common_components: Record<string, Omit<ProcedureComponent, 'key' | 'template_url' | 'formats' | 'max_bytes'> & Partial<ProcedureComponent>>
  fee_policies: (Omit<FeePolicy, 'legal_basis' | 'percent_off' | 'fixed_vnd' | 'procedure_code' | 'field' | 'valid_to'> & Partial<FeePolicy>)[]
  procedures: DataProcedure[]
}

/** Reads the data file and expands it into full versions and policies (throws on malformed data). */
export function loadCatalogueData(file = DATA_FILE): { fields: CatalogueData['fields']; versions: ProcedureVersion[]; policies: FeePolicy[] } {
  const data = JSON.parse(readFileSync(file, 'utf8')) as CatalogueData
  const d = data.defaults
  const versions = data.procedures.map((p): ProcedureVersion => {
    const components = p.components.map((c): ProcedureComponent => {
      const base = typeof c === 'string' ? { key: c, ...data.common_components[c] } : c
      if (!base || !base.name_vi) throw new Error(`procedure ${p.code}: unknown component ${String(c)}`)
      return {
        key: base.key ?? String(c),
        name_vi: base.name_vi,
        name_en: base.name_en,
        required: base.required ?? true,
        template_url: base.template_url ?? null,
        formats: base.formats ?? d.formats,
        max_bytes: base.max_bytes ?? d.max_bytes,
      }
    })
    const steps = typeof p.steps === 'string' ? data.step_profiles[p.steps] : p.steps
    if (!steps) throw new Error(`procedure ${p.code}: unknown step profile ${String(p.steps)}`)
    return {
      procedure_code: p.code,
      version: p.version ?? 1,
      valid_from: p.valid_from ?? d.valid_from,
      valid_to: p.valid_to ?? null,
      name_vi: p.name_vi,
      name_en: p.name_en,
      field: p.field,
      level: p.level,
      handling_unit: p.handling_unit,
      components,
      legal_basis: p.legal_basis,
      duration: p.duration,
      priority: p.priority,
      priority_duration: p.priority_duration ?? null,
      fee_vnd: p.fee_vnd,
      fully_online: p.fully_online,
      steps,
    }
  })
  const policies = data.fee_policies.map((p): FeePolicy => ({
    code: p.code,
    name_vi: p.name_vi,
    name_en: p.name_en,
    legal_basis: p.legal_basis ?? null,
    channel: p.channel,
    percent_off: p.percent_off ?? null,
    fixed_vnd: p.fixed_vnd ?? null,
    valid_from: p.valid_from,
    valid_to: p.valid_to ?? null,
    procedure_code: p.procedure_code ?? null,
    field: p.field ?? null,
  }))
  return { fields: data.fields, versions, policies }
}

/**
 * Loads the Điện Biên catalogue when the procedures table is empty, and the fee policies when
 * that table is empty; later edits in the tables are kept. Fields are added if missing.
 */
export async function seedProcedures(ctx: AppContext): Promise<void> {
  const db = ctx.db
  const hasProcedures = (await sql<{ n: number }>`select count(*)::int as n from procedures`.execute(db)).rows[0].n > 0
  const hasPolicies = (await sql<{ n: number }>`select count(*)::int as n from fee_policies`.execute(db)).rows[0].n > 0
  const hasFields = (await sql<{ n: number }>`select count(*)::int as n from procedure_fields`.execute(db)).rows[0].n > 0
  if (hasProcedures && hasPolicies && hasFields) return
  const { fields, versions, policies } = loadCatalogueData()
  let i = 0
  for (const f of fields) {
    await sql`insert into procedure_fields (code, name_vi, name_en, sort_order) values (${f.code}, ${f.name_vi}, ${f.name_en}, ${i++})
      on conflict (code) do nothing`.execute(db)
  }
  if (!hasProcedures) {
    for (const v of versions) {
      const exists = (await sql`select 1 from procedure_versions where procedure_code = ${v.procedure_code} and version = ${v.version}`.execute(db)).rows.length > 0
      if (!exists) await saveProcedureVersion(db, v)
    }
  }
  if (!hasPolicies) {
    for (const p of policies) {
      await sql`insert into fee_policies (code, name_vi, name_en, legal_basis, channel, percent_off, fixed_vnd, valid_from, valid_to, procedure_code, field)
        values (${p.code}, ${p.name_vi}, ${p.name_en}, ${p.legal_basis}, ${p.channel}, ${p.percent_off}, ${p.fixed_vnd}, ${p.valid_from}::date,
          ${p.valid_to}::date, ${p.procedure_code}, ${p.field})
        on conflict (code) do nothing`.execute(db)
    }
  }
  ctx.log.info({ procedures: versions.length, policies: policies.length }, 'procedure catalogue seeded')
}
