import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { RegistrySchema } from './schema.ts'

export interface RecordRow {
  registry: string
  record_key: string
  data: Record<string, unknown>
  unit_code: string | null
  linked_user_id: string | null
  version: number
  created_at: Date
  created_by: string
  updated_at: Date
  updated_by: string
}

export interface VersionRow {
  version: number
  at: Date
  actor: string
  action: string
  diff: Record<string, [unknown, unknown]>
  data: Record<string, unknown>
  unit_code: string | null
}

export async function listSchemas(db: Db): Promise<RegistrySchema[]> {
  const { rows } = await sql<RegistrySchema>`select name, title_vi, title_en, description, owner_unit, access, key_fields, fields, schema_version
    from registry_schemas order by name`.execute(db)
  return rows
}

export async function getSchema(db: Db, name: string): Promise<RegistrySchema | undefined> {
  const { rows } = await sql<RegistrySchema>`select name, title_vi, title_en, description, owner_unit, access, key_fields, fields, schema_version
    from registry_schemas where name = ${name}`.execute(db)
  return rows[0]
}

/** Inserts a schema, or replaces it (bumping its version) when `replace` is set. */
export async function upsertSchema(db: Db, s: RegistrySchema, opts: { replace: boolean }): Promise<boolean> {
  const { rows } = await sql<{ name: string }>`insert into registry_schemas (name, title_vi, title_en, description, owner_unit, access, key_fields, fields)
    values (${s.name}, ${s.title_vi}, ${s.title_en}, ${s.description}, ${s.owner_unit}, ${s.access}, ${s.key_fields}::text[], ${JSON.stringify(s.fields)}::jsonb)
    on conflict (name) do ${opts.replace
      ? sql`update set title_vi = excluded.title_vi, title_en = excluded.title_en, description = excluded.description, owner_unit = excluded.owner_unit,
          access = excluded.access, key_fields = excluded.key_fields, fields = excluded.fields, schema_version = registry_schemas.schema_version + 1, updated_at = now()`
      : sql`nothing`}
    returning name`.execute(db)
  return rows.length > 0
}

export async function getRecord(db: Db, registry: string, key: string, opts: { forUpdate?: boolean } = {}): Promise<RecordRow | undefined> {
  const { rows } = await sql<RecordRow>`select * from registry_records where registry = ${registry} and record_key = ${key} ${opts.forUpdate ? sql`for update` : sql``}`.execute(db)
  return rows[0]
}

export async function findRecordByLinkedUser(db: Db, registry: string, userId: string): Promise<RecordRow | undefined> {
  const { rows } = await sql<RecordRow>`select * from registry_records where registry = ${registry} and linked_user_id = ${userId}::uuid`.execute(db)
  return rows[0]
}

export interface RecordFilter {
  /** Field equality conditions, matched with jsonb containment (uses the GIN index). */
  equals: Record<string, unknown>
  unitCode?: string
  afterKey?: string
  limit: number
}

export async function listRecords(db: Db, registry: string, f: RecordFilter): Promise<RecordRow[]> {
  const { rows } = await sql<RecordRow>`select * from registry_records
    where registry = ${registry}
      ${Object.keys(f.equals).length > 0 ? sql`and data @> ${JSON.stringify(f.equals)}::jsonb` : sql``}
      ${f.unitCode ? sql`and unit_code = ${f.unitCode}` : sql``}
      ${f.afterKey !== undefined ? sql`and record_key > ${f.afterKey}` : sql``}
    order by record_key limit ${f.limit}`.execute(db)
  return rows
}

export async function countRecords(db: Db, registry: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from registry_records where registry = ${registry}`.execute(db)
  return Number(rows[0].n)
}

export async function insertRecord(db: Db, r: Omit<RecordRow, 'created_at' | 'updated_at' | 'updated_by'> & { at: Date }): Promise<boolean> {
  const { rows } = await sql<{ k: string }>`insert into registry_records (registry, record_key, data, unit_code, linked_user_id, version, created_at, created_by, updated_at, updated_by)
    values (${r.registry}, ${r.record_key}, ${JSON.stringify(r.data)}::jsonb, ${r.unit_code}, ${r.linked_user_id}, ${r.version}, ${r.at.toISOString()}, ${r.created_by}, ${r.at.toISOString()}, ${r.created_by})
    on conflict (registry, record_key) do nothing returning record_key as k`.execute(db)
  return rows.length > 0
}

export async function updateRecordRow(db: Db, r: { registry: string; record_key: string; data: Record<string, unknown>; unit_code: string | null; linked_user_id: string | null; version: number; at: Date; actor: string }): Promise<void> {
  await sql`update registry_records set data = ${JSON.stringify(r.data)}::jsonb, unit_code = ${r.unit_code}, linked_user_id = ${r.linked_user_id},
      version = ${r.version}, updated_at = ${r.at.toISOString()}, updated_by = ${r.actor}
    where registry = ${r.registry} and record_key = ${r.record_key}`.execute(db)
}

export async function insertVersion(db: Db, v: VersionRow & { registry: string; record_key: string }): Promise<void> {
  await sql`insert into registry_record_versions (registry, record_key, version, at, actor, action, diff, data, unit_code)
    values (${v.registry}, ${v.record_key}, ${v.version}, ${v.at.toISOString()}, ${v.actor}, ${v.action}, ${JSON.stringify(v.diff)}::jsonb, ${JSON.stringify(v.data)}::jsonb, ${v.unit_code})`.execute(db)
}

export async function listVersions(db: Db, registry: string, key: string): Promise<VersionRow[]> {
  const { rows } = await sql<VersionRow>`select version, at, actor, action, diff, data, unit_code from registry_record_versions
    where registry = ${registry} and record_key = ${key} order by version`.execute(db)
  return rows
}
