import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import argon2 from 'argon2'

/** argon2id with the library's defaults (64 MiB, t=3), as OWASP recommends. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id })
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

// Verifying against a fixed hash when the user does not exist keeps response times alike,
// so timing does not tell which usernames exist.
let dummyHash: Promise<string> | undefined
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('not-a-real-password')
  await verifyPassword(await dummyHash, password)
}

export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** API keys look like `hb_<prefix>_<secret>`; the prefix finds the row, the secret's hash is compared. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('hex')
  const secret = randomBytes(24).toString('base64url')
  const key = `hb_${prefix}_${secret}`
  return { key, prefix, hash: sha256(key) }
}

export function parseApiKey(key: string): { prefix: string; hash: string } | undefined {
  const m = /^hb_([0-9a-f]{12})_[A-Za-z0-9_-]{20,64}$/.exec(key)
  if (!m) return undefined
  return { prefix: m[1], hash: sha256(key) }
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** A readable random password for generated (demo) accounts. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url')
}
