import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
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
