import { sql, type RawBuilder } from 'kysely'
import { canonicalJson } from '../canonical-json.ts'
import type { Db } from '../db/database.ts'

/** Who made a change, as written in the audit log: 'user:<id>', 'client:<id>', 'system' or 'anonymous'. */
export type Actor = string

export interface AuditEntry {
  actor: Actor
  action: string
  entityType: string
  entityId: string
  data?: Record<string, unknown>
}

const GENESIS = '0'.repeat(64)

/**
 * Appends one entry to the hash-chained audit log. Call it inside the transaction that makes the
 * change, so the entry exists exactly when the change does. The chain is kept by the database
 * function `audit_append` (migration 002): it takes a transaction-scoped lock, so two writers
 * never share a predecessor; call it last in a transaction to hold that lock briefly.
 */
export async function appendAudit(tx: Db, entry: AuditEntry, now: Date = new Date()): Promise<string> {
  const { rows } = await sql<{ hash: string }>`select ${auditAppendCall(entry, now)} as hash`.execute(tx)
  return rows[0].hash
}

/**
 * The same append as an SQL expression, for a hot path that folds the audit entry into the
 * statement making the change (one round trip instead of two).
 */
export function auditAppendCall(entry: AuditEntry, now: Date = new Date()): RawBuilder<string> {
  return sql<string>`audit_append(${now.toISOString()}::timestamptz, ${entry.actor}, ${entry.action},
    ${entry.entityType}, ${entry.entityId}, ${canonicalJson(entry.data ?? {})}::jsonb)`
}

export interface ChainResult {
  ok: boolean
  rows: number
  /** The first row whose stored hashes do not match its content or its predecessor. */
  firstBroken?: { id: string; reason: string }
}

export interface VerifyResult extends ChainResult {
  /** Rows verified in all chains (up to and including a broken row). */
  rows: number
  /** The first broken row of the first broken province (in province order). */
  firstBroken?: { id: string; reason: string; province: string }
  /** One chain per province (platform/008_audit_province.sql), each verified on its own. */
  provinces: Array<ChainResult & { province: string }>
}

/**
 * Verifies every province's chain (the log holds one chain per province_code, see
 * platform/008_audit_province.sql): for each, walks its rows in id order, recomputing each row's
 * hash, and names the first broken row. Every chain is walked even when an earlier one is broken.
 */
export async function verifyAuditChain(db: Db, batch = 5000): Promise<VerifyResult> {
  // The provinces present, by a skip scan of the primary key (province_code, id, at): one index
  // probe per province instead of reading the whole log.
  const { rows: codes } = await sql<{ code: string }>`
    with recursive p(code) as (
      select min(province_code) from audit_log
      union all
      select (select min(a.province_code) from audit_log a where a.province_code > p.code) from p where p.code is not null)
    select code from p where code is not null order by code`.execute(db)
  const provinces: VerifyResult['provinces'] = []
  for (const { code } of codes) provinces.push({ province: code, ...(await verifyProvinceChain(db, code, batch)) })
  const broken = provinces.find((p) => !p.ok)
  return {
    ok: !broken,
    rows: provinces.reduce((n, p) => n + p.rows, 0),
    ...(broken ? { firstBroken: { ...broken.firstBroken!, province: broken.province } } : {}),
    provinces,
  }
}

/** Walks one province's chain in id order, recomputing each row's hash. */
export async function verifyProvinceChain(db: Db, province: string, batch = 5000): Promise<ChainResult> {
  let prev = GENESIS
  let afterId = '0'
  let count = 0
  for (;;) {
    const { rows } = await sql<{ id: string; prev_hash: string; hash: string; recomputed: string }>`
      select a.id::text as id, a.prev_hash, a.hash,
        audit_row_hash(a.prev_hash, a.at, a.actor, a.action, a.entity_type, a.entity_id, a.data) as recomputed
      from audit_log a where a.province_code = ${province} and a.id > ${afterId}::bigint order by a.id limit ${batch}`.execute(db)
    if (rows.length === 0) return { ok: true, rows: count }
    for (const r of rows) {
      count++
      if (r.prev_hash !== prev) return { ok: false, rows: count, firstBroken: { id: r.id, reason: 'prev_hash does not match the previous row (a row was removed or reordered)' } }
      if (r.recomputed !== r.hash) return { ok: false, rows: count, firstBroken: { id: r.id, reason: 'hash does not match the row content (the row was altered)' } }
      prev = r.hash
      afterId = r.id
    }
  }
}
