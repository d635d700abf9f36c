import { createHash } from 'node:crypto'
import { sql } from 'kysely'
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
// One chain: appends take this transaction-scoped lock so two writers never share a predecessor.
const AUDIT_LOCK = 727274002

function rowHash(prevHash: string, at: string, e: { actor: string; action: string; entity_type: string; entity_id: string; data: unknown }): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson({ at, actor: e.actor, action: e.action, entity_type: e.entity_type, entity_id: e.entity_id, data: e.data }))
    .digest('hex')
}

/**
 * Appends one entry to the hash-chained audit log. Call it inside the transaction that makes the
 * change, so the entry exists exactly when the change does.
 */
export async function appendAudit(tx: Db, entry: AuditEntry, now: Date = new Date()): Promise<string> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(tx)
  const last = await sql<{ hash: string }>`select hash from audit_log order by id desc limit 1`.execute(tx)
  const prevHash = last.rows[0]?.hash ?? GENESIS
  const at = new Date(Math.floor(now.getTime())).toISOString()
  const data = JSON.parse(canonicalJson(entry.data ?? {}))
  const row = { actor: entry.actor, action: entry.action, entity_type: entry.entityType, entity_id: entry.entityId, data }
  const hash = rowHash(prevHash, at, row)
  await sql`insert into audit_log (at, actor, action, entity_type, entity_id, data, prev_hash, hash)
    values (${at}, ${row.actor}, ${row.action}, ${row.entity_type}, ${row.entity_id}, ${JSON.stringify(data)}::jsonb, ${prevHash}, ${hash})`.execute(tx)
  return hash
}

export interface VerifyResult {
  ok: boolean
  rows: number
  /** The first row whose stored hashes do not match its content or its predecessor. */
  firstBroken?: { id: string; reason: string }
}

/** Walks the whole chain in id order and names the first broken row. */
export async function verifyAuditChain(db: Db, batch = 5000): Promise<VerifyResult> {
  let prev = GENESIS
  let afterId = '0'
  let count = 0
  for (;;) {
    const { rows } = await sql<{ id: string; at: Date | string; actor: string; action: string; entity_type: string; entity_id: string; data: unknown; prev_hash: string; hash: string }>`
      select id::text as id, at, actor, action, entity_type, entity_id, data, prev_hash, hash
      from audit_log where audit_log.id > ${afterId}::bigint order by audit_log.id limit ${batch}`.execute(db)
    if (rows.length === 0) return { ok: true, rows: count }
    for (const r of rows) {
      count++
      if (r.prev_hash !== prev) return { ok: false, rows: count, firstBroken: { id: r.id, reason: 'prev_hash does not match the previous row (a row was removed or reordered)' } }
      const at = new Date(r.at).toISOString()
      const data = typeof r.data === 'string' ? JSON.parse(r.data) : r.data
      if (rowHash(r.prev_hash, at, { ...r, data }) !== r.hash) return { ok: false, rows: count, firstBroken: { id: r.id, reason: 'hash does not match the row content (the row was altered)' } }
      prev = r.hash
      afterId = r.id
    }
  }
}
