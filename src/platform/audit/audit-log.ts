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

export interface VerifyResult {
  ok: boolean
  rows: number
  /** The first row whose stored hashes do not match its content or its predecessor. */
  firstBroken?: { id: string; reason: string }
}

/** Walks the whole chain in id order, recomputing each row's hash, and names the first broken row. */
export async function verifyAuditChain(db: Db, batch = 5000): Promise<VerifyResult> {
  let prev = GENESIS
  let afterId = '0'
  let count = 0
  for (;;) {
    const { rows } = await sql<{ id: string; prev_hash: string; hash: string; recomputed: string }>`
      select a.id::text as id, a.prev_hash, a.hash,
        audit_row_hash(a.prev_hash, a.at, a.actor, a.action, a.entity_type, a.entity_id, a.data) as recomputed
      from audit_log a where a.id > ${afterId}::bigint order by a.id limit ${batch}`.execute(db)
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
