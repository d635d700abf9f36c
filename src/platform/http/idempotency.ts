import { createHash } from 'node:crypto'
import { sql } from 'kysely'
import { canonicalJson } from '../canonical-json.ts'
import type { Db } from '../db/database.ts'
import { AppError, badRequest, conflict } from './errors.ts'

export interface IdempotentResult<T> {
  statusCode: number
  body: T
  /** True when this answer is the stored answer of an earlier request with the same key. */
  replayed: boolean
}

/** Validates an `Idempotency-Key` header value (absent is allowed). */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  const key = Array.isArray(header) ? header[0] : header
  if (!key || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw badRequest('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key không hợp lệ (1–200 ký tự ASCII in được).', 'Idempotency-Key must be 1–200 printable ASCII characters.')
  }
  return key
}

/** A stable fingerprint of what a request asks for, to tell a retry from a different request. */
export function requestFingerprint(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex')
}

/**
 * Runs a write in one transaction together with recording its answer under the idempotency key.
 * Same key and same request: the first answer is returned again and nothing is written.
 * Same key, different request: 409. Two concurrent requests with one key: the second waits on
 * the key's row and then replays the first's answer. Without a key, the work simply runs in a
 * transaction. The answer is committed with the change, so a 2xx is never replayed for a write
 * that was lost, nor lost for a write that was committed.
 */
export async function runIdempotent<T>(
  db: Db,
  opts: { scope: string; key: string | undefined; fingerprint: string },
  work: (tx: Db) => Promise<{ statusCode: number; body: T }>,
): Promise<IdempotentResult<T>> {
  if (!opts.key) {
    const r = await db.transaction().execute(work)
    return { ...r, replayed: false }
  }
  const key = opts.key
  return db.transaction().execute(async (tx) => {
    const claimed = await sql`insert into idempotency_keys (scope, key, request_hash, status_code, response)
      values (${opts.scope}, ${key}, ${opts.fingerprint}, 0, 'null'::jsonb)
      on conflict (scope, key) do nothing returning key`.execute(tx)
    if (claimed.rows.length === 0) {
      const { rows } = await sql<{ request_hash: string; status_code: number; response: T }>`
        select request_hash, status_code, response from idempotency_keys where scope = ${opts.scope} and key = ${key}`.execute(tx)
      const prior = rows[0]
      if (!prior) throw new AppError(503, 'RETRY', 'Vui lòng thử lại.', 'Please retry.', undefined, { 'retry-after': '1' })
      if (prior.request_hash !== opts.fingerprint) {
        throw conflict('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key này đã dùng cho một yêu cầu khác.', 'This Idempotency-Key was already used for a different request.')
      }
      return { statusCode: prior.status_code, body: prior.response, replayed: true }
    }
    const r = await work(tx)
    await sql`update idempotency_keys set status_code = ${r.statusCode}, response = ${JSON.stringify(r.body)}::jsonb
      where scope = ${opts.scope} and key = ${key}`.execute(tx)
    return { ...r, replayed: false }
  })
}
