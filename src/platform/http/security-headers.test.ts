import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { installSecurityHeaders } from './security-headers.ts'

test('security headers: built once, the same on every answer (404 included), none on a route declared helmet: false', async () => {
  const app = Fastify()
  installSecurityHeaders(app, { contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"] } }, crossOriginEmbedderPolicy: false })
  app.get('/a', async () => ({ ok: true }))
  await app.register(async (scope) => {
    scope.get('/raw', { helmet: false }, async () => ({ raw: true }))
  })
  try {
    const first = await app.inject({ method: 'GET', url: '/a' })
    const second = await app.inject({ method: 'GET', url: '/a' })
    const missing = await app.inject({ method: 'GET', url: '/nope' })
    assert.equal(first.statusCode, 200)
    assert.match(String(first.headers['content-security-policy']), /default-src 'self'/)
    assert.match(String(first.headers['content-security-policy']), /object-src 'none'/)
    assert.equal(first.headers['x-content-type-options'], 'nosniff')
    assert.match(String(first.headers['strict-transport-security']), /max-age=\d+/)
    assert.equal(first.headers['cross-origin-embedder-policy'], undefined)
    const security = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'content-length', 'content-type', 'connection'].includes(k)))
    assert.deepEqual(security(second.headers), security(first.headers))
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.headers['content-security-policy'], first.headers['content-security-policy'])
    const raw = await app.inject({ method: 'GET', url: '/raw' })
    assert.equal(raw.statusCode, 200)
    assert.equal(raw.headers['content-security-policy'], undefined)
    assert.equal(raw.headers['x-content-type-options'], undefined)
  } finally {
    await app.close()
  }
})
