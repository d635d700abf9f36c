import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { RoutePolicy } from './platform/module.ts'
import type { Platform } from './platform/runtime.ts'
import { allModules } from './modules/index.ts'
import { startTestPlatform } from './platform/testing/test-platform.ts'

/**
 * Every documented route and who may call it. A route missing here fails this test: add it
 * with its policy, and give it an authorization test in its module (the module tests check
 * roles and units in detail; this file checks that nothing is left open by accident).
 *   public: anyone, including anonymous callers
 *   signed-in: any signed-in user (401 anonymously)
 *   staff / admin: 401 anonymously, 403 for a citizen
 *   api-key: machine clients (Open311 answers 403 in its own format without a key)
 */
const CORE_POLICY: Record<string, RoutePolicy> = {
  'GET /api/geo/locate': 'public',
  'GET /api/geo/units': 'public',
  'GET /api/geo/units/{code}': 'public',
  'GET /api/geo/units/{code}/boundary': 'public',
  'GET /api/geo/boundaries': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'signed-in',
  'GET /api/auth/me': 'signed-in',
  'POST /api/auth/register': 'public',
  'POST /api/identity/users': 'admin',
  'GET /api/identity/users': 'admin',
  'POST /api/identity/clients': 'admin',
  'GET /api/identity/units': 'public',
  'GET /api/calendar/holidays': 'public',
  'GET /api/calendar/add': 'public',
  'GET /api/calendar/working-time': 'public',
  'GET /api/calendar/schedule': 'public',
  'PUT /api/calendar/schedule/{date}': 'admin',
  'DELETE /api/calendar/schedule/{date}': 'admin',
  'GET /api/reports/categories': 'public',
  'PUT /api/reports/categories/{code}': 'admin',
  'POST /api/reports': 'public',
  'GET /api/reports': 'public',
  'GET /api/reports.geojson': 'public',
  'GET /api/reports/nearby': 'public',
  'GET /api/reports/queue': 'staff',
  'GET /api/reports/mine': 'signed-in',
  'GET /api/reports/{code}': 'public',
  'POST /api/reports/{code}/support': 'public',
  'POST /api/reports/{code}/{action}': 'signed-in',
  'GET /api/reports/{code}/photos/{seq}': 'public',
  'GET /api/reports/{code}/photos/{seq}/thumb': 'public',
  'GET /api/documents/registers': 'staff',
  'POST /api/documents/incoming': 'staff',
  'POST /api/documents/outgoing': 'staff',
  'GET /api/documents': 'staff',
  'GET /api/documents/{id}': 'staff',
  'GET /api/documents/{id}/file': 'staff',
  'POST /api/documents/{id}/assign': 'staff',
  'POST /api/documents/{id}/direct': 'staff',
  'POST /api/documents/{id}/handling': 'staff',
  'GET /api/procedures': 'public',
  'GET /api/procedures/fields': 'public',
  'GET /api/procedures/{code}': 'public',
  'POST /api/dossiers': 'signed-in',
  'GET /api/dossiers': 'signed-in',
  'GET /api/dossiers/{code}': 'signed-in',
  'POST /api/dossiers/{code}/{action}': 'signed-in',
  'GET /api/dossiers/{code}/slips/{kind}.pdf': 'signed-in',
  'GET /open311/v2/discovery.json': 'public',
  'GET /open311/v2/services.json': 'public',
  'POST /open311/v2/requests.json': 'api-key',
  'GET /open311/v2/requests.json': 'public',
  'GET /open311/v2/servicerequestupdates.json': 'public',
  'GET /open311/v2/discovery.xml': 'public',
  'GET /open311/v2/services.xml': 'public',
  'POST /open311/v2/requests.xml': 'api-key',
  'GET /open311/v2/requests.xml': 'public',
  'GET /open311/v2/servicerequestupdates.xml': 'public',
  'GET /open311/v2/services/{service_code}': 'public',
  'GET /open311/v2/requests/{service_request_id}': 'public',
  'GET /open311/v2/tokens/{token}': 'public',
}

/** The table above plus what each module declares in its own `routePolicy`. */
const POLICY: Record<string, RoutePolicy> = Object.assign({}, CORE_POLICY, ...allModules.map((m) => m.routePolicy ?? {}))

// Concrete values for path parameters, valid enough to pass validation.
const PARAMS: Record<string, string> = { code: 'PA-2026-999999', seq: '0', action: 'assign', date: '2026-12-26', service_code: 'traffic', service_request_id: 'PA-2026-999999', token: 'PA-2026-999999', id: '00000000-0000-0000-0000-000000000000', kind: 'receipt', ...Object.assign({}, ...allModules.map((m) => m.examplePathParams ?? {})) }

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
