import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Platform } from './platform/runtime.ts'
import { PARAMS, POLICY } from './route-policy.ts'
import { startTestPlatform } from './platform/testing/test-platform.ts'

let platform: Platform
let routes: string[]
before(async () => {
  platform = await startTestPlatform()
  const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json()
  routes = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
})
after(async () => {
  await platform?.close()
})

test('every documented route has an authorization policy', () => {
  const missing = routes.filter((r) => !(r in POLICY))
  assert.deepEqual(missing, [], 'add these routes to POLICY (and an authorization test in their module)')
})

test('no protected route answers an anonymous caller', async () => {
  const { createTestUser } = await import('./modules/identity/test-factories.ts')
  const citizen = await createTestUser(platform.ctx.db, 'citizen')
  const wrong: string[] = []
  for (const route of routes) {
    const policy = POLICY[route]
    if (policy === 'public') continue
    const [method, path] = route.split(' ')
    const url = path.replace(/\{(\w+)\}/g, (_, k) => PARAMS[k] ?? 'x')
    const payload = method === 'GET' || method === 'DELETE' ? undefined : {}
    const anon = await platform.app.inject({ method: method as 'GET', url, payload })
    const expected = policy === 'api-key' ? [401, 403] : [401]
    if (!expected.includes(anon.statusCode)) wrong.push(`${route} anonymously: ${anon.statusCode}, expected ${expected}`)
    if (policy === 'staff' || policy === 'admin') {
      const asCitizen = await platform.app.inject({ method: method as 'GET', url, payload, headers: citizen.headers })
      if (asCitizen.statusCode !== 403) wrong.push(`${route} as a citizen: ${asCitizen.statusCode}, expected 403`)
    }
  }
  // Authorization comes before validation: a caller without the right learns nothing about the body.
  assert.deepEqual(wrong, [])
})
