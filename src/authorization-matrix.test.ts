import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { createApiClient } from './modules/identity/index.ts'
import { createTestUser, type TestUser } from './modules/identity/test-factories.ts'
import type { RoutePolicy } from './platform/module.ts'
import type { Platform } from './platform/runtime.ts'
import { startTestPlatform } from './platform/testing/test-platform.ts'
import { PARAMS, POLICY } from './route-policy.ts'

/**
 * The authorization matrix, generated from the OpenAPI route table: every documented route ×
 * every role (anonymous, citizen, officer of the object's unit, officer of another unit, unit
 * admin, IOC viewer, province admin, gateway API client), on an object of the own unit.
 * Each route's expectation comes from its `routePolicy` entry; a route without one fails.
 * Asserted: no 2xx where the policy forbids the role, never a 5xx, and no internal data of
 * unit 11 (a document registered there with a unique marker) in any answer to a caller
 * outside that unit.
 */
type Role = 'anonymous' | 'citizen' | 'own officer' | 'other officer' | 'unit admin' | 'ioc viewer' | 'province admin' | 'gateway'
const ROLES: Role[] = ['anonymous', 'citizen', 'own officer', 'other officer', 'unit admin', 'ioc viewer', 'province admin', 'gateway']

/** Roles that must never get a 2xx from a route of this policy. */
const DENIED: Record<RoutePolicy, Role[]> = {
  public: [],
  'signed-in': ['anonymous'],
  staff: ['anonymous', 'citizen'],
  admin: ['anonymous', 'citizen', 'own officer', 'other officer', 'ioc viewer'],
  'api-key': ['anonymous'],
}
/** Callers outside unit 11: its internal documents must never reach them. */
const OUTSIDERS: Role[] = ['anonymous', 'citizen', 'other officer', 'gateway']

let platform: Platform
let routes: string[]
const headers = {} as Record<Role, Record<string, string>>
const marker = `MATRIX-SECRET-${process.pid}-${Date.now()}`
let docId: string

before(async () => {
  platform = await startTestPlatform()
  const db = platform.ctx.db
  const otherUnit = (await sql<{ code: string }>`select code from org_units where code <> '11' order by code limit 1`.execute(db)).rows[0].code
  const users: Partial<Record<Role, TestUser>> = {
    citizen: await createTestUser(db, 'citizen'),
    'own officer': await createTestUser(db, 'officer', '11'),
    'other officer': await createTestUser(db, 'officer', otherUnit),
    'unit admin': await createTestUser(db, 'unit_admin', '11'),
    'ioc viewer': await createTestUser(db, 'ioc_viewer'),
    'province admin': await createTestUser(db, 'province_admin', '11'),
  }
  for (const r of ROLES) headers[r] = users[r]?.headers ?? {}
  const gateway = await createApiClient(db, users['province admin']!.principal as never, { name: 'matrix gateway', unitCode: null, scopes: ['registries:write'] })
  headers.gateway = { 'x-api-key': gateway.apiKey }
  const doc = await platform.app.inject({
    method: 'POST', url: '/api/documents/incoming', headers: headers['own officer'],
    payload: { doc_type: 'CV', issuer: 'Sở Nội vụ', issued_at: '2026-11-20', summary: `Công văn nội bộ ${marker}`, symbol: `12/${marker}` },
  })
  assert.equal(doc.statusCode, 201, doc.body)
  docId = doc.json().id
  const openapi = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json()
  routes = Object.entries<Record<string, unknown>>(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
  // Ending a session last, so the other rows keep their callers signed in.
  routes.sort((a, b) => Number(a === 'POST /api/auth/logout') - Number(b === 'POST /api/auth/logout'))
})
after(async () => {
  await platform?.close()
})

test('every route in the table has a policy (a new route without one fails here)', () => {
  assert.ok(routes.length > 50, `only ${routes.length} routes documented`)
  assert.deepEqual(routes.filter((r) => !(r in POLICY)), [])
})

test('the own unit sees its document; another unit gets 403/404 for it', async () => {
  const own = await platform.app.inject({ method: 'GET', url: `/api/documents/${docId}`, headers: headers['own officer'] })
  assert.equal(own.statusCode, 200)
  assert.ok(own.body.includes(marker), 'the positive control: the marker is visible where it is allowed')
  const other = await platform.app.inject({ method: 'GET', url: `/api/documents/${docId}`, headers: headers['other officer'] })
  assert.ok([403, 404].includes(other.statusCode), String(other.statusCode))
})

test('route × role × own unit: no 2xx where the policy forbids, no 5xx, no other-unit data', async () => {
  const leaks: string[] = []
  let requests = 0
  for (const route of routes) {
    const policy = POLICY[route]
    if (!policy) continue
    const [method, path] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', string]
    const url = path.replace(/\{(\w+)\}/g, (_, k: string) => (k === 'id' && path.startsWith('/api/documents') ? docId : PARAMS[k] ?? 'x'))
    for (const role of ROLES) {
      const payload = method === 'GET' || method === 'DELETE' ? undefined : {}
      const res = await platform.app.inject({ method, url, payload, headers: headers[role] })
      requests++
      const ok = res.statusCode >= 200 && res.statusCode < 300
      if (res.statusCode >= 500) leaks.push(`${route} as ${role}: ${res.statusCode} ${res.body.slice(0, 160)}`)
      if (ok && DENIED[policy].includes(role)) leaks.push(`${route} (${policy}) as ${role}: ${res.statusCode}, must be refused`)
      if (ok && OUTSIDERS.includes(role) && res.rawPayload.includes(marker)) leaks.push(`${route} as ${role}: answer contains unit 11's internal document`)
    }
  }
  assert.ok(requests >= routes.length * ROLES.length)
  assert.deepEqual(leaks, [])
})
