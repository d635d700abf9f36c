import { request } from 'undici'
import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { NationalSyncConfig } from './config.ts'

/**
 * The connector to the national database of cadres, civil servants and public employees
 * (CSDL quốc gia về cán bộ, công chức, viên chức, Bộ Nội vụ). Every change of a civil-servant
 * record is written to `national_sync_changes` in the transaction of the change (so none is
 * lost), and a job sends them in order, one record's changes never overtaking each other. Each
 * change carries its own idempotency key (registry, record, version), so a resend after a lost
 * answer is applied once by the national side; a change is never sent again once acknowledged.
 * Failed sends are retried with exponential back-off; every attempt is recorded.
 */
export async function enqueueNationalChange(tx: Db, c: { registry: string; recordKey: string; version: number; action: string; data: Record<string, unknown>; unitCode: string | null; at: Date }): Promise<void> {
  const key = `hoaban-${c.registry}-${c.recordKey}-v${c.version}`
  const payload = { change_id: key, action: c.action, record_key: c.recordKey, version: c.version, unit_code: c.unitCode, changed_at: c.at.toISOString(), record: c.data }
  await sql`insert into national_sync_changes (registry, record_key, version, idempotency_key, payload, created_at, next_attempt_at)
    values (${c.registry}, ${c.recordKey}, ${c.version}, ${key}, ${JSON.stringify(payload)}::jsonb, ${c.at.toISOString()}, ${c.at.toISOString()})
    on conflict (idempotency_key) do nothing`.execute(tx)
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)
}

function toXml(name: string, v: unknown): string {
  if (v === null || v === undefined) return `<${name}/>`
  if (Array.isArray(v)) return `<${name}>${v.map((x) => toXml('item', x)).join('')}</${name}>`
  if (typeof v === 'object') return `<${name}>${Object.entries(v).map(([k, x]) => toXml(k, x)).join('')}</${name}>`
  return `<${name}>${xmlEscape(String(v))}</${name}>`
}

/** The request body in the configured format. */
export function encodeChange(format: NationalSyncConfig['format'], payload: Record<string, unknown>): { body: string; contentType: string } {
  if (format === 'xml') return { body: `<?xml version="1.0" encoding="UTF-8"?>${toXml('thay_doi_can_bo', payload)}`, contentType: 'application/xml; charset=utf-8' }
  return { body: JSON.stringify(payload), contentType: 'application/json; charset=utf-8' }
}

export function backoffSeconds(cfg: NationalSyncConfig, attempts: number): number {
  return Math.min(cfg.maxBackoffSeconds, cfg.backoffBaseSeconds * 2 ** Math.max(0, attempts - 1))
}

interface Claimed {
  id: string
  idempotency_key: string
  payload: Record<string, unknown>
  attempts: number
}

/**
 * Sends due changes. A change is claimed with a lease (so two nodes never send it at once, and
 * one whose node died is taken again), sent outside any transaction, then marked sent or
 * rescheduled. Only the oldest unsent change of each record is due, so changes of one record
 * arrive in order. Returns what happened.
 */
export async function sendPendingNationalChanges(db: Db, cfg: NationalSyncConfig, now: Date): Promise<{ sent: number; failed: number }> {
  const result = { sent: 0, failed: 0 }
  if (!cfg.url) return result
  const leaseSeconds = Math.ceil(cfg.timeoutMs / 1000) + 30
  for (let i = 0; i < cfg.batchSize; i++) {
    const { rows } = await sql<Claimed>`update national_sync_changes set status = 'sending', attempts = attempts + 1,
        locked_until = ${now.toISOString()}::timestamptz + make_interval(secs => ${leaseSeconds})
      where id = (
        select c.id from national_sync_changes c
        where c.status <> 'sent' and c.next_attempt_at <= ${now.toISOString()}
          and (c.status = 'pending' or c.locked_until < ${now.toISOString()})
          and not exists (select 1 from national_sync_changes e where e.registry = c.registry and e.record_key = c.record_key and e.status <> 'sent' and e.id < c.id)
        order by c.next_attempt_at, c.id limit 1 for update skip locked)
      returning id::text as id, idempotency_key, payload, attempts`.execute(db)
    const change = rows[0]
    if (!change) break
    const { body, contentType } = encodeChange(cfg.format, change.payload)
    let statusCode: number | null = null
    let error: string | null = null
    let excerpt: string | null = null
    try {
      const res = await request(cfg.url, {
        method: 'POST',
        headers: { 'content-type': contentType, 'idempotency-key': change.idempotency_key, ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}) },
        body,
        headersTimeout: cfg.timeoutMs,
        bodyTimeout: cfg.timeoutMs,
      })
      statusCode = res.statusCode
      excerpt = (await res.body.text()).slice(0, 500)
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`
    } catch (e) {
      error = String((e as Error)?.message ?? e).slice(0, 500)
    }
    const ok = error === null
    await db.transaction().execute(async (tx) => {
      await sql`insert into national_sync_attempts (change_id, at, url, status_code, ok, error, response_excerpt)
        values (${change.id}::bigint, ${now.toISOString()}, ${cfg.url}, ${statusCode}, ${ok}, ${error}, ${excerpt})`.execute(tx)
      if (ok) {
        await sql`update national_sync_changes set status = 'sent', sent_at = ${now.toISOString()}, locked_until = null, last_error = null where id = ${change.id}::bigint`.execute(tx)
      } else {
        await sql`update national_sync_changes set status = 'pending', locked_until = null, last_error = ${error},
            next_attempt_at = ${now.toISOString()}::timestamptz + make_interval(secs => ${backoffSeconds(cfg, change.attempts)})
          where id = ${change.id}::bigint`.execute(tx)
      }
    })
    if (ok) result.sent++
    else result.failed++
  }
  return result
}

export interface NationalSyncStatus {
  pending: number
  sent: number
  oldest_pending_at: string | null
  recent: { change_id: string; record_key: string; version: number; status: string; attempts: number; last_error: string | null; sent_at: string | null }[]
}

export async function nationalSyncStatus(db: Db, limit = 50): Promise<NationalSyncStatus> {
  const { rows: counts } = await sql<{ pending: string; sent: string; oldest: Date | null }>`select
      count(*) filter (where status <> 'sent')::text as pending, count(*) filter (where status = 'sent')::text as sent,
      min(created_at) filter (where status <> 'sent') as oldest from national_sync_changes`.execute(db)
  const { rows } = await sql<{ idempotency_key: string; record_key: string; version: number; status: string; attempts: number; last_error: string | null; sent_at: Date | null }>`
    select idempotency_key, record_key, version, status, attempts, last_error, sent_at from national_sync_changes order by id desc limit ${limit}`.execute(db)
  return {
    pending: Number(counts[0].pending),
    sent: Number(counts[0].sent),
    oldest_pending_at: counts[0].oldest ? new Date(counts[0].oldest).toISOString() : null,
    recent: rows.map((r) => ({ change_id: r.idempotency_key, record_key: r.record_key, version: r.version, status: r.status, attempts: r.attempts, last_error: r.last_error, sent_at: r.sent_at ? new Date(r.sent_at).toISOString() : null })),
  }
}
