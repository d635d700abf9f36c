import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { loadSigningKey, sealHash, sealMatches, signHash, verifyHashSignature } from './signing.ts'

const key = loadSigningKey(undefined, mkdtempSync(join(tmpdir(), 'hb-signing-')))
const other = loadSigningKey(undefined, mkdtempSync(join(tmpdir(), 'hb-signing-')))
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))

test('a seal matches only its own hash under its own key; malformed seals are refused, not thrown', () => {
  fc.assert(fc.property(hex64, hex64, (a, b) => {
    fc.pre(a !== b)
    assert.ok(sealMatches(key, a, sealHash(key, a)))
    assert.equal(sealMatches(key, b, sealHash(key, a)), false)
    assert.equal(sealMatches(other, a, sealHash(key, a)), false)
  }))
  const h = 'ab'.repeat(32)
  for (const bad of ['', 'not base64!', sealHash(key, h).slice(0, 20), `${sealHash(key, h)}AA==`]) assert.equal(sealMatches(key, h, bad), false)
  // two keys derive two MAC keys; the MAC key is not the signing key's bytes
  assert.notDeepEqual(key.journalMacKey, other.journalMacKey)
})

test('signatures verify with the public key only', () => {
  const h = 'cd'.repeat(32)
  const sig = signHash(key, h)
  assert.ok(verifyHashSignature(key.publicKey, h, sig))
  assert.equal(verifyHashSignature(other.publicKey, h, sig), false)
  assert.equal(verifyHashSignature(key.publicKey, 'ce'.repeat(32), sig), false)
  assert.equal(verifyHashSignature(key.publicKey, h, 'garbage'), false)
})
