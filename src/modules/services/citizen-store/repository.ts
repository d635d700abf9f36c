import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'

/**
 * One item of a citizen's store: a direct upload ('u…'), a file of one of their dossiers ('f…'),
 * or the result of one of their returned dossiers ('r<dossier id>').
 */
export interface StoreItem {
  id: string
  source: 'upload' | 'dossier' | 'result'
  title: string
  original_name: string
  /** null only for a result notice not rendered yet (see results.ts `withRenderedResult`). */
  stored_name: string | null
  mime: string
  bytes: number | null
  sha256: string | null
  dossier_code: string | null
  component_key: string | null
  /** For a result: the number and symbol of the issued document (số, ký hiệu). */
  document_symbol: string | null
  created_at: Date
}

export const STORE_ITEM_ID = '^[ufr][0-9]{1,18}$'

const RESULT_COLUMNS = sql.raw(`'r' || r.dossier_id as id, 'result' as source, r.title, r.original_name, r.stored_name, r.mime, r.bytes, r.sha256,
  d.code as dossier_code, null::text as component_key, r.document_symbol, r.returned_at as created_at`)

/*
 * The files of dossiers and their results are distributed on province_code with the dossiers
 * (docs/scaling.md, "Distribution key (Citus)"): they are read in the node's province
 * (`province`, config.provinceCode) and joined to their dossier on it (colocated).
 */

/** The owner's items, newest first: their uploads and the files of their own dossiers (in this province). */
export async function listStoreItems(db: Db, province: string, ownerUserId: string, limit: number, offset: number): Promise<StoreItem[]> {
  const { rows } = await sql<StoreItem>`select * from (
      select 'u' || i.id as id, 'upload' as source, i.title, i.original_name, i.stored_name, i.mime, i.bytes, i.sha256,
        null::text as dossier_code, null::text as component_key, null::text as document_symbol, i.created_at
      from citizen_store_items i where i.owner_user_id = ${ownerUserId}::uuid and i.deleted_at is null
      union all
      select 'f' || f.id, 'dossier', f.original_name, f.original_name, f.stored_name, f.mime, f.bytes, f.sha256, d.code, f.component_key, null, f.uploaded_at
      from dossiers d join dossier_files f on f.dossier_id = d.id and f.province_code = d.province_code
      where d.province_code = ${province} and d.applicant_user_id = ${ownerUserId}::uuid and f.reused_from is null
      union all
      select ${RESULT_COLUMNS}
      from dossier_results r join dossiers d on d.id = r.dossier_id and d.province_code = r.province_code
      where r.province_code = ${province} and r.owner_user_id = ${ownerUserId}::uuid and r.returned_at is not null
    ) x order by created_at desc, id limit ${limit} offset ${offset}`.execute(db)
  return rows
}

/** One item, only when it belongs to `ownerUserId` (else undefined: the caller answers 404). */
export async function getStoreItem(db: Db, province: string, ownerUserId: string, id: string): Promise<StoreItem | undefined> {
  if (!new RegExp(STORE_ITEM_ID).test(id)) return undefined
  const n = id.slice(1)
  const { rows } = id[0] === 'u'
    ? await sql<StoreItem>`select 'u' || i.id as id, 'upload' as source, i.title, i.original_name, i.stored_name, i.mime, i.bytes, i.sha256,
        null::text as dossier_code, null::text as component_key, null::text as document_symbol, i.created_at
        from citizen_store_items i where i.id = ${n}::bigint and i.owner_user_id = ${ownerUserId}::uuid and i.deleted_at is null`.execute(db)
    : id[0] === 'r'
      ? await sql<StoreItem>`select ${RESULT_COLUMNS} from dossier_results r join dossiers d on d.id = r.dossier_id and d.province_code = r.province_code
        where r.dossier_id = ${n}::bigint and r.province_code = ${province} and r.owner_user_id = ${ownerUserId}::uuid and r.returned_at is not null`.execute(db)
      : await sql<StoreItem>`select 'f' || f.id as id, 'dossier' as source, f.original_name as title, f.original_name, f.stored_name, f.mime, f.bytes, f.sha256,
        d.code as dossier_code, f.component_key, null::text as document_symbol, f.uploaded_at as created_at
        from dossier_files f join dossiers d on d.id = f.dossier_id and d.province_code = f.province_code
        where f.id = ${n}::bigint and f.province_code = ${province} and d.applicant_user_id = ${ownerUserId}::uuid`.execute(db)
  return rows[0]
}

export async function insertStoreItem(tx: Db, i: { owner: string; title: string; original_name: string; stored_name: string; mime: string; bytes: number; sha256: string; at: Date }): Promise<string> {
  const { rows } = await sql<{ id: string }>`insert into citizen_store_items (owner_user_id, title, original_name, stored_name, mime, bytes, sha256, created_at)
    values (${i.owner}::uuid, ${i.title}, ${i.original_name}, ${i.stored_name}, ${i.mime}, ${i.bytes}, ${i.sha256}, ${i.at.toISOString()})
    returning 'u' || id as id`.execute(tx)
  return rows[0].id
}

/** Soft-deletes an upload (dossiers that reused it keep their own copy of the reference). */
export async function deleteStoreItem(tx: Db, ownerUserId: string, id: string, at: Date): Promise<boolean> {
  const { rows } = await sql`update citizen_store_items set deleted_at = ${at.toISOString()}
    where id = ${id.slice(1)}::bigint and owner_user_id = ${ownerUserId}::uuid and deleted_at is null returning id`.execute(tx)
  return rows.length > 0
}

/**
 * Components of dossiers submitted in [from, to) that reused an item of the citizen's store
 * instead of a new upload (Decision 766/QĐ-TTg indicator 4.3), optionally for one handling unit.
 */
export async function countReusedComponents(db: Db, province: string, f: { unitCode?: string; from: Date; to: Date }): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from dossier_files df join dossiers d on d.id = df.dossier_id and d.province_code = df.province_code
    where df.province_code = ${province} and df.reused_from is not null and d.submitted_at >= ${f.from.toISOString()} and d.submitted_at < ${f.to.toISOString()}
      ${f.unitCode ? sql`and d.unit_code = ${f.unitCode}` : sql``}`.execute(db)
  return rows[0].n
}
