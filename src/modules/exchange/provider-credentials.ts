import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest } from '../../platform/http/errors.ts'

/** Header carrying the provider credential from the gateway to the provider. */
export const PROVIDER_CREDENTIAL_HEADER = 'x-hoaban-provider-credential'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/**
 * The AES-256 key that encrypts provider credentials at rest: `EXCHANGE_CREDENTIAL_KEY` (32 bytes
 * in base64 or hex) or a key generated once in the exchange folder with mode 0600.
 */
export function loadCredentialKey(configured: string | undefined, dir: string): Buffer {
  if (configured) {
    const k = /^[0-9a-fA-F]{64}$/.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'base64')
    if (k.length !== 32) throw new Error('EXCHANGE_CREDENTIAL_KEY must be 32 bytes (64 hex digits or base64)')
    return k
  }
  const file = join(dir, 'credential-key')
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  mkdirSync(dir, { recursive: true })
  const k = randomBytes(32)
  try {
    writeFileSync(file, `${k.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(file, 0o600)
    return k
  } catch (e) {
    // Another process on this data folder wrote it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
    throw e
  }
}

/** `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encryptCredential(key: Buffer, plain: string): string {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()])
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.')
}

export function decryptCredential(key: Buffer, sealed: string): string {
  const [v, iv, tag, body] = sealed.split('.')
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown credential format')
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
  d.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8')
}

/** A new random credential, for providers that let the gateway choose it. */
export const newProviderCredential = () => `pc_${randomBytes(32).toString('base64url')}`

/**
 * Sets (or replaces) the credential the gateway presents to a service's provider. Audited with
 * its hash prefix only; the value itself is never logged or answered back.
 */
export async function setProviderCredential(tx: Db, key: Buffer, serviceId: string, credential: string, actor: string, now: Date): Promise<{ sha256_prefix: string }> {
  if (credential.length < 24 || credential.length > 400 || /[\r\n\0]/.test(credential)) {
    throw badRequest('INVALID_CREDENTIAL', 'Khoá cho nhà cung cấp phải dài 24–400 ký tự, không xuống dòng.', 'The provider credential must be 24–400 characters without line breaks.')
  }
  const hash = sha256(credential)
  const { rows } = await sql<{ id: string }>`update exchange_services set provider_credential_enc = ${encryptCredential(key, credential)}, provider_credential_sha256 = ${hash}
    where id = ${serviceId}::uuid returning id`.execute(tx)
  if (!rows[0]) throw badRequest('UNKNOWN_SERVICE', 'Không có dịch vụ này.', 'Unknown service.')
  await publishEvent(tx, 'exchange.service.credential_set', { id: serviceId })
  await appendAudit(tx, { actor, action: 'exchange.service.credential_set', entityType: 'exchange_service', entityId: serviceId, data: { sha256_prefix: hash.slice(0, 12) } }, now)
  return { sha256_prefix: hash.slice(0, 12) }
}

/**
 * For providers inside the platform: which gateway service does a presented credential belong
 * to? Looked up by its SHA-256 (the value is not kept in clear anywhere in the database).
 */
export async function serviceForProviderCredential(db: Db, presented: string | undefined): Promise<{ id: string; member_code: string; code: string } | undefined> {
  if (!presented || presented.length > 400) return undefined
  const { rows } = await sql<{ id: string; member_code: string; code: string }>`select id::text as id, member_code, code from exchange_services
    where provider_credential_sha256 = ${sha256(presented)}`.execute(db)
  return rows[0]
}
