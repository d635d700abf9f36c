import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Fastify from 'fastify'
import { writeFileAtomic } from '../storage/atomic-write.ts'
import { installErrorHandling, toAppError } from './error-handler.ts'

// What a dropped or refused database connection looks like from pg, node and PGlite.
const outages: [string, unknown][] = [
  ['refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
  ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ['admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
  ['too many connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
  ['terminated', new Error('Connection terminated unexpectedly')],
  ['pool timeout', new Error('timeout exceeded when trying to connect')],
  ['pglite closed', new Error('PGlite is closed')],
]

for (const [name, err] of outages) {
  test(`database outage (${name}) maps to 503 SERVICE_UNAVAILABLE with Retry-After`, () => {
    const e = toAppError(err)
    assert.equal(e.statusCode, 503)
    assert.equal(e.code, 'SERVICE_UNAVAILABLE')
    assert.ok(Number(e.headers?.['retry-after']) > 0)
    const body = e.toBody()
    assert.ok(body.error.message_vi && body.error.message_en)
  })
}

test('serialization failure and deadlock map to 503 RETRY with Retry-After', () => {
  for (const code of ['40001', '40P01']) {
    const e = toAppError(Object.assign(new Error('could not serialize'), { code }))
    assert.equal(e.statusCode, 503)
    assert.equal(e.code, 'RETRY')
    assert.equal(e.headers?.['retry-after'], '1')
  }
})

test('an unknown error stays 500 INTERNAL and does not leak its message', () => {
  const e = toAppError(new Error('secret detail'))
  assert.equal(e.statusCode, 500)
  assert.equal(e.code, 'INTERNAL')
  assert.doesNotMatch(JSON.stringify(e.toBody()), /secret detail/)
})

test('the installed handler sends the Retry-After header and the bilingual body on an outage', async () => {
  const app = Fastify()
  installErrorHandling(app)
  app.get('/x', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  })
  const res = await app.inject({ method: 'GET', url: '/x' })
  assert.equal(res.statusCode, 503)
  assert.equal(res.headers['retry-after'], '5')
  assert.equal(res.json().error.code, 'SERVICE_UNAVAILABLE')
  await app.close()
})

test('a full disk (real ENOSPC from /dev/full) maps to 507 STORAGE_FULL with Retry-After and bilingual messages', { skip: !existsSync('/dev/full') && 'no /dev/full on this system' }, async () => {
  const err = await writeFile('/dev/full', Buffer.alloc(64 * 1024)).then(() => undefined, (e: unknown) => e)
  assert.equal((err as { code?: string }).code, 'ENOSPC')
  const e = toAppError(err)
  assert.equal(e.statusCode, 507)
  assert.equal(e.code, 'STORAGE_FULL')
  assert.equal(e.headers?.['retry-after'], '300')
  assert.match(e.messageVi, /đầy/)
  assert.match(e.messageEn, /full/)
})

test('an unwritable upload folder (real ENOTDIR: a file where a folder is expected) maps to 503 STORAGE_UNAVAILABLE; writeFileAtomic leaves no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-storage-'))
  try {
    writeFileSync(join(dir, 'dossiers'), 'not a folder')
    const err = await writeFileAtomic(join(dir, 'dossiers', 'a.pdf'), Buffer.from('%PDF-1.4')).then(() => undefined, (e: unknown) => e)
    assert.equal((err as { code?: string }).code, 'ENOTDIR')
    const e = toAppError(err)
    assert.equal(e.statusCode, 503)
    assert.equal(e.code, 'STORAGE_UNAVAILABLE')
    assert.equal(e.headers?.['retry-after'], '60')
    assert.deepEqual(readdirSync(dir), ['dossiers'])
    // Content-addressed: an existing file of the same size is kept, not rewritten.
    const ok = join(dir, 'ok.bin')
    assert.equal(await writeFileAtomic(ok, Buffer.from('abc'), { contentAddressed: true }), 'written')
    assert.equal(await writeFileAtomic(ok, Buffer.from('abc'), { contentAddressed: true }), 'existed')
    assert.deepEqual(readdirSync(dir).sort(), ['dossiers', 'ok.bin'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an error code alone (no file-system call) is not taken for a storage failure; a missing file on read is not either', () => {
  assert.equal(toAppError(Object.assign(new Error('x'), { code: 'EACCES' })).statusCode, 500)
  assert.equal(toAppError(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'open' })).statusCode, 500)
  // What node's recursive mkdir reports on a read-only file system.
  assert.equal(toAppError(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'mkdir' })).code, 'STORAGE_UNAVAILABLE')
})
