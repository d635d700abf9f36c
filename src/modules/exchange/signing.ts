import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The gateway's Ed25519 key pair: signs every message-log record. */
export interface SigningKey {
  privateKey: KeyObject
  publicKey: KeyObject
  /** First 16 hex of the SHA-256 of the public key (DER), written into every record. */
  keyId: string
  publicKeyPem: string
  /**
   * HMAC-SHA256 key derived from the private key: seals each batch of the message-log journal
   * (see message-log.ts). Whoever holds the private key can derive it; nobody else can.
   */
  journalMacKey: Buffer
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)
}

function fromPrivatePem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem)
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('EXCHANGE_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM)')
  const publicKey = createPublicKey(privateKey)
  const journalMacKey = createHash('sha256').update('hoaban exchange journal seal v1\n').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest()
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), journalMacKey }
}

/**
 * The key from EXCHANGE_SIGNING_KEY, or else the one stored in `<dir>/signing-key.pem`, generated
 * on first use with mode 0600 (created exclusively, so two processes starting at once agree).
 * The public key is written next to it for offline verification.
 */
export function loadSigningKey(pem: string | undefined, dir: string): SigningKey {
  if (pem) return fromPrivatePem(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'signing-key.pem')
  let key: SigningKey
  try {
    key = fromPrivatePem(readFileSync(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const { privateKey } = generateKeyPairSync('ed25519')
    try {
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    key = fromPrivatePem(readFileSync(file, 'utf8'))
  }
  writeFileSync(join(dir, 'signing-key.pub.pem'), key.publicKeyPem, { mode: 0o644 })
  return key
}

export function signHash(key: SigningKey, hashHex: string): string {
  return sign(null, Buffer.from(hashHex, 'hex'), key.privateKey).toString('base64')
}

export function verifyHashSignature(publicKey: KeyObject, hashHex: string, signatureB64: string): boolean {
  try {
    return verify(null, Buffer.from(hashHex, 'hex'), publicKey, Buffer.from(signatureB64, 'base64'))
  } catch {
    return false
  }
}

/** The journal seal of a record hash: HMAC-SHA256 (base64) under the key's journal MAC key. */
export function sealHash(key: SigningKey, hashHex: string): string {
  return createHmac('sha256', key.journalMacKey).update(hashHex).digest('base64')
}

export function sealMatches(key: SigningKey, hashHex: string, sealB64: string): boolean {
  // compared as text: base64 decoding is lenient (characters after the padding are ignored)
  const want = Buffer.from(sealHash(key, hashHex), 'latin1')
  const got = Buffer.from(sealB64, 'latin1')
  return got.length === want.length && timingSafeEqual(got, want)
}
