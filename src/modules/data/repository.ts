import { sql, type RawBuilder } from 'kysely'
import type { Principal } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { normalizeSearchText } from '../../platform/vietnamese-text.ts'
import { visibleSql, type AccessLevel } from './access.ts'
import type { DatastoreField, LoadReport } from './datastore.ts'

export const FREQUENCIES = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular'] as const
export type Frequency = (typeof FREQUENCIES)[number]

export interface NewDataset {
  name: string
  title: string
  notes: string
  owner_org: string
  license_id: string
  tags: string[]
  access_level: AccessLevel
  update_frequency: Frequency
  author: string
  maintainer_email: string
  spatial_coverage: string
  source_system: string | null
}

/** A dataset as stored: what was given plus identity, version and times. */
export interface DatasetRow extends NewDataset {
  id: string
  version: number
  created_at: Date
  modified_at: Date
  data_updated_at: Date | null
}

export interface ResourceRow {
  id: string
  dataset_id: string
  position: number
  name: string
  description: string
  format: string
  url: string | null
  file_sha256: string | null
  file_name: string | null
  size: string | number | null
  mimetype: string | null
  datastore_active: boolean
  datastore_table: string | null
  fields: DatastoreField[]
  row_count: string | number
  load_report: LoadReport | null
  version: number
  created_at: Date
  modified_at: Date
}

const DATASET_COLS = sql.raw(`d.id, d.name, d.title, d.notes, d.owner_org, d.license_id, d.tags, d.access_level, d.update_frequency, d.author,
  d.maintainer_email, d.spatial_coverage, d.source_system, d.version, d.created_at, d.modified_at, d.data_updated_at`)

export function datasetSearchText(d: { title: string; notes: string; tags: string[]; name: string }, orgName: string): string {
  return normalizeSearchText([d.title, d.name, d.notes, d.tags.join(' '), orgName].join(' ')).slice(0, 50_000)
}


export async function insertDataset(tx: Db, d: NewDataset, searchText: string, now: Date): Promise<DatasetRow> {
  const { rows } = await sql<DatasetRow>`insert into data_datasets as d (name, title, notes, owner_org, license_id, tags, access_level, update_frequency, author,
      maintainer_email, spatial_coverage, source_system, search_text, created_at, modified_at)
    values (${d.name}, ${d.title}, ${d.notes}, ${d.owner_org}, ${d.license_id}, ${d.tags}, ${d.access_level}, ${d.update_frequency}, ${d.author},
      ${d.maintainer_email}, ${d.spatial_coverage}, ${d.source_system}, ${searchText}, ${now.toISOString()}, ${now.toISOString()})
    returning ${DATASET_COLS}`.execute(tx)
  return rows[0]
}

export async function updateDataset(tx: Db, id: string, d: Omit<NewDataset, 'name' | 'source_system'>, searchText: string, now: Date): Promise<DatasetRow> {
  const { rows } = await sql<DatasetRow>`update data_datasets as d set title = ${d.title}, notes = ${d.notes}, owner_org = ${d.owner_org}, license_id = ${d.license_id},
      tags = ${d.tags}, access_level = ${d.access_level}, update_frequency = ${d.update_frequency}, author = ${d.author}, maintainer_email = ${d.maintainer_email},
      spatial_coverage = ${d.spatial_coverage}, search_text = ${searchText}, version = d.version + 1, modified_at = ${now.toISOString()}
    where d.id = ${id} returning ${DATASET_COLS}`.execute(tx)
  return rows[0]
}

/** Marks new data in a dataset (a resource loaded or replaced): version + 1, data_updated_at. */
export async function touchDatasetData(tx: Db, id: string, now: Date): Promise<number> {
  const { rows } = await sql<{ version: number }>`update data_datasets set version = version + 1, modified_at = ${now.toISOString()}, data_updated_at = ${now.toISOString()}
    where id = ${id} returning version`.execute(tx)
  return rows[0].version
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export async function getDataset(db: Db, idOrName: string, forUpdate = false): Promise<DatasetRow | undefined> {
  const cond = UUID.test(idOrName) ? sql`d.id = ${idOrName}` : sql`d.name = ${idOrName}`
  const { rows } = await sql<DatasetRow>`select ${DATASET_COLS} from data_datasets d where ${cond} ${forUpdate ? sql`for update` : sql``}`.execute(db)
  return rows[0]
}

export async function listDatasetNames(db: Db, p: Principal | null, limit: number, offset: number): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select d.name from data_datasets d where ${visibleSql(p)} order by d.name limit ${limit} offset ${offset}`.execute(db)
  return rows.map((r) => r.name)
}

export async function listDatasetsPage(db: Db, p: Principal | null, limit: number, offset: number): Promise<{ rows: DatasetRow[]; total: number }> {
  const { rows } = await sql<DatasetRow>`select ${DATASET_COLS} from data_datasets d where ${visibleSql(p)} order by d.name limit ${limit} offset ${offset}`.execute(db)
  const t = await sql<{ n: number }>`select count(*)::int as n from data_datasets d where ${visibleSql(p)}`.execute(db)
  return { rows, total: t.rows[0].n }
}

export interface DatasetQuery {
  tsquery?: string
  filters: { field: string; value: string }[]
  sort: RawBuilder<unknown>
  limit: number
  offset: number
  facets: string[]
  facetLimit: number
  facetMinCount: number
}

/** SQL of an fq / facet field over `d` (each is a fixed expression from a whitelist). */
export const SEARCH_FIELDS: Record<string, { filter: (v: string) => RawBuilder<unknown>; facet: RawBuilder<unknown> }> = {
  organization: { filter: (v) => sql`d.owner_org = ${v}`, facet: sql`select d.owner_org as v from d` },
  owner_org: { filter: (v) => sql`d.owner_org = ${v}`, facet: sql`select d.owner_org as v from d` },
  tags: { filter: (v) => sql`${v} = any(d.tags)`, facet: sql`select unnest(d.tags) as v from d` },
  license_id: { filter: (v) => sql`d.license_id = ${v}`, facet: sql`select d.license_id as v from d` },
  res_format: {
    filter: (v) => sql`exists (select 1 from data_resources r where r.dataset_id = d.id and lower(r.format) = lower(${v}))`,
    facet: sql`select distinct on (d.id, r.format) r.format as v from d join data_resources r on r.dataset_id = d.id`,
  },
  access_level: { filter: (v) => sql`d.access_level = ${v}`, facet: sql`select d.access_level as v from d` },
  update_frequency: { filter: (v) => sql`d.update_frequency = ${v}`, facet: sql`select d.update_frequency as v from d` },
  name: { filter: (v) => sql`d.name = ${v}`, facet: sql`select d.name as v from d` },
  id: { filter: (v) => (UUID.test(v) ? sql`d.id = ${v}::uuid` : sql`false`), facet: sql`select d.id::text as v from d` },
}

export async function searchDatasets(db: Db, p: Principal | null, q: DatasetQuery): Promise<{ count: number; rows: DatasetRow[]; facets: Record<string, { v: string; n: number }[]> }> {
  const conds: RawBuilder<unknown>[] = [visibleSql(p)]
  if (q.tsquery) conds.push(sql`d.search_tsv @@ to_tsquery('simple', ${q.tsquery})`)
  for (const f of q.filters) conds.push(SEARCH_FIELDS[f.field].filter(f.value))
  const where = sql.join(conds, sql` and `)
  const score = q.tsquery ? sql`ts_rank(d.search_tsv, to_tsquery('simple', ${q.tsquery}))` : sql`0`
  const { rows } = await sql<DatasetRow>`select ${DATASET_COLS}, ${score} as score,
      (select count(*) from data_resources r where r.dataset_id = d.id) as num_resources
    from data_datasets d where ${where} order by ${q.sort} limit ${q.limit} offset ${q.offset}`.execute(db)
  const total = await sql<{ n: number }>`select count(*)::int as n from data_datasets d where ${where}`.execute(db)
  const facets: Record<string, { v: string; n: number }[]> = {}
  for (const field of q.facets) {
    const r = await sql<{ v: string; n: number }>`with d as (select d.* from data_datasets d where ${where})
      select v, count(*)::int as n from (${SEARCH_FIELDS[field].facet}) x where v is not null group by v having count(*) >= ${q.facetMinCount}
      order by n desc, v limit ${q.facetLimit}`.execute(db)
    facets[field] = r.rows
  }
  return { count: total.rows[0].n, rows, facets }
}

export async function tagCounts(db: Db, p: Principal | null, query: string | undefined, limit: number): Promise<{ tag: string; n: number }[]> {
  const { rows } = await sql<{ tag: string; n: number }>`select tag, count(*)::int as n from (select unnest(d.tags) as tag from data_datasets d where ${visibleSql(p)}) t
    group by tag order by tag limit 100000`.execute(db)
  // Diacritics-insensitive match on the tag (normalised in JS, like the rest of search).
  const q = query ? normalizeSearchText(query) : ''
  return rows.filter((r) => !q || normalizeSearchText(r.tag).includes(q)).slice(0, limit)
}

export async function datasetCountsByOrg(db: Db, p: Principal | null): Promise<Map<string, number>> {
  const { rows } = await sql<{ owner_org: string; n: number }>`select d.owner_org, count(*)::int as n from data_datasets d where ${visibleSql(p)} group by d.owner_org`.execute(db)
  return new Map(rows.map((r) => [r.owner_org, r.n]))
}

// Resources ------------------------------------------------------------------------------------

const RESOURCE_COLS = sql.raw(`id, dataset_id, position, name, description, format, url, file_sha256, file_name, size, mimetype, datastore_active, datastore_table,
  fields, row_count, load_report, version, created_at, modified_at`)

export async function listResources(db: Db, datasetIds: string[]): Promise<ResourceRow[]> {
  if (!datasetIds.length) return []
  const { rows } = await sql<ResourceRow>`select ${RESOURCE_COLS} from data_resources where dataset_id in (${sql.join(datasetIds.map((id) => sql`${id}::uuid`))})
    order by dataset_id, position, created_at`.execute(db)
  return rows
}

export async function getResource(db: Db, id: string, forUpdate = false): Promise<ResourceRow | undefined> {
  if (!UUID.test(id)) return undefined
  const { rows } = await sql<ResourceRow>`select ${RESOURCE_COLS} from data_resources where id = ${id} ${forUpdate ? sql`for update` : sql``}`.execute(db)
  return rows[0]
}

export async function insertResource(tx: Db, r: { id: string; dataset_id: string; name: string; description: string; format: string; url: string | null; file_sha256: string | null; file_name: string | null; size: number | null; mimetype: string | null }, now: Date): Promise<ResourceRow> {
  const { rows } = await sql<ResourceRow>`insert into data_resources (id, dataset_id, position, name, description, format, url, file_sha256, file_name, size, mimetype, created_at, modified_at)
    values (${r.id}, ${r.dataset_id}, (select count(*) from data_resources where dataset_id = ${r.dataset_id}), ${r.name}, ${r.description}, ${r.format}, ${r.url},
      ${r.file_sha256}, ${r.file_name}, ${r.size}, ${r.mimetype}, ${now.toISOString()}, ${now.toISOString()})
    returning ${RESOURCE_COLS}`.execute(tx)
  return rows[0]
}

/** A new version of a resource's file and/or its DataStore table. */
export async function updateResourceData(tx: Db, id: string, r: { file_sha256?: string | null; file_name?: string | null; size?: number | null; mimetype?: string | null; format?: string; datastore_table: string | null; fields: DatastoreField[]; row_count: number; load_report: LoadReport | null }, now: Date): Promise<ResourceRow> {
  const { rows } = await sql<ResourceRow>`update data_resources set
      file_sha256 = coalesce(${r.file_sha256 ?? null}, file_sha256), file_name = coalesce(${r.file_name ?? null}, file_name), size = coalesce(${r.size ?? null}, size),
      mimetype = coalesce(${r.mimetype ?? null}, mimetype), format = coalesce(${r.format ?? null}, format),
      datastore_active = ${r.datastore_table !== null}, datastore_table = ${r.datastore_table}, fields = ${JSON.stringify(r.fields)}::jsonb,
      row_count = ${r.row_count}, load_report = ${r.load_report ? JSON.stringify(r.load_report) : null}::jsonb, version = version + 1, modified_at = ${now.toISOString()}
    where id = ${id} returning ${RESOURCE_COLS}`.execute(tx)
  return rows[0]
}

export async function addHistory(tx: Db, h: { datasetId: string; version: number; at: Date; actor: string; change: string; detail?: Record<string, unknown> }): Promise<void> {
  await sql`insert into data_dataset_history (dataset_id, version, at, actor, change, detail)
    values (${h.datasetId}, ${h.version}, ${h.at.toISOString()}, ${h.actor}, ${h.change}, ${JSON.stringify(h.detail ?? {})}::jsonb)`.execute(tx)
}

export async function listHistory(db: Db, datasetId: string, limit = 100): Promise<{ version: number; at: Date; actor: string; change: string; detail: Record<string, unknown> }[]> {
  const { rows } = await sql<{ version: number; at: Date; actor: string; change: string; detail: Record<string, unknown> }>`
    select version, at, actor, change, detail from data_dataset_history where dataset_id = ${datasetId} order by id desc limit ${limit}`.execute(db)
  return rows
}

// Reuses --------------------------------------------------------------------------------------

export interface ReuseRow { id: string; dataset_id: string; kind: string; title: string; url: string; description: string; created_at: Date }

export async function insertReuse(tx: Db, r: { dataset_id: string; kind: string; title: string; url: string; description: string }, now: Date): Promise<ReuseRow> {
  const { rows } = await sql<ReuseRow>`insert into data_reuses (dataset_id, kind, title, url, description, created_at)
    values (${r.dataset_id}, ${r.kind}, ${r.title}, ${r.url}, ${r.description}, ${now.toISOString()}) returning *`.execute(tx)
  return rows[0]
}

export async function listReuses(db: Db, datasetId: string): Promise<ReuseRow[]> {
  return (await sql<ReuseRow>`select * from data_reuses where dataset_id = ${datasetId} order by created_at desc limit 200`.execute(db)).rows
}

// Catalogue of shared databases and the publish plan ------------------------------------------

export interface SharedDatabaseRow {
  id: string
  code: string
  name: string
  owner_unit: string
  custodian: string
  description: string
  fields: { name: string; type: string; description?: string }[]
  update_frequency: Frequency
  access_level: AccessLevel
  legal_basis: string
  systems_using: string[]
  contact: string
  created_at: Date
  updated_at: Date
}

export type SharedDatabaseInput = Omit<SharedDatabaseRow, 'id' | 'created_at' | 'updated_at'>

export async function upsertSharedDatabase(tx: Db, s: SharedDatabaseInput, now: Date): Promise<SharedDatabaseRow> {
  const { rows } = await sql<SharedDatabaseRow>`insert into data_shared_databases (code, name, owner_unit, custodian, description, fields, update_frequency, access_level,
      legal_basis, systems_using, contact, created_at, updated_at)
    values (${s.code}, ${s.name}, ${s.owner_unit}, ${s.custodian}, ${s.description}, ${JSON.stringify(s.fields)}::jsonb, ${s.update_frequency}, ${s.access_level},
      ${s.legal_basis}, ${s.systems_using}, ${s.contact}, ${now.toISOString()}, ${now.toISOString()})
    on conflict (code) do update set name = excluded.name, owner_unit = excluded.owner_unit, custodian = excluded.custodian, description = excluded.description,
      fields = excluded.fields, update_frequency = excluded.update_frequency, access_level = excluded.access_level, legal_basis = excluded.legal_basis,
      systems_using = excluded.systems_using, contact = excluded.contact, updated_at = excluded.updated_at
    returning *`.execute(tx)
  return rows[0]
}

export async function listSharedDatabases(db: Db, p: Principal | null): Promise<SharedDatabaseRow[]> {
  const vis = visibleSql(p)
  const { rows } = await sql<SharedDatabaseRow>`select * from (select s.*, s.owner_unit as owner_org from data_shared_databases s) d where ${vis} order by d.code limit 1000`.execute(db)
  return rows
}

export async function getSharedDatabase(db: Db, code: string): Promise<SharedDatabaseRow | undefined> {
  return (await sql<SharedDatabaseRow>`select * from data_shared_databases where code = ${code}`.execute(db)).rows[0]
}

export interface PlanRow { id: string; title: string; shared_database_id: string | null; owner_unit: string; planned_date: string; dataset_name: string | null; published_date: string | null; note: string }

const PLAN_COLS = sql.raw(`id, title, shared_database_id, owner_unit, planned_date::text as planned_date, dataset_name, published_date::text as published_date, note`)

export async function insertPlanEntry(tx: Db, e: Omit<PlanRow, 'id' | 'published_date'>, now: Date): Promise<PlanRow> {
  const { rows } = await sql<PlanRow>`insert into data_publish_plan (title, shared_database_id, owner_unit, planned_date, dataset_name, note, created_at)
    values (${e.title}, ${e.shared_database_id}, ${e.owner_unit}, ${e.planned_date}::date, ${e.dataset_name}, ${e.note}, ${now.toISOString()}) returning ${PLAN_COLS}`.execute(tx)
  return rows[0]
}

export async function markPlanPublished(tx: Db, id: string, datasetName: string, publishedDate: string): Promise<PlanRow | undefined> {
  const { rows } = await sql<PlanRow>`update data_publish_plan set dataset_name = ${datasetName}, published_date = ${publishedDate}::date where id = ${id} returning ${PLAN_COLS}`.execute(tx)
  return rows[0]
}

export async function listPlan(db: Db): Promise<PlanRow[]> {
  return (await sql<PlanRow>`select ${PLAN_COLS} from data_publish_plan order by planned_date, title limit 2000`.execute(db)).rows
}

// Platform statistics (from outbox events) ----------------------------------------------------

export async function bumpStat(tx: Db, s: { month: string; source: string; metric: string; unit_code: string }): Promise<void> {
  await sql`insert into data_platform_stats (month, source, metric, unit_code, count) values (${s.month}, ${s.source}, ${s.metric}, ${s.unit_code}, 1)
    on conflict (month, source, metric, unit_code) do update set count = data_platform_stats.count + 1`.execute(tx)
}

export async function listStats(db: Db): Promise<{ month: string; source: string; metric: string; unit_code: string; count: string }[]> {
  return (await sql<{ month: string; source: string; metric: string; unit_code: string; count: string }>`
    select month, source, metric, unit_code, count::text as count from data_platform_stats order by month, source, metric, unit_code`.execute(db)).rows
}
