import type { RoutePolicy } from './platform/module.ts'
import { allModules } from './modules/index.ts'

/**
 * Every documented route and who may call it. A route missing here fails this test: add it
 * with its policy, and give it an authorization test in its module (the module tests check
 * roles and units in detail; this file checks that nothing is left open by accident).
 *   public: anyone, including anonymous callers
 *   signed-in: any signed-in user (401 anonymously)
 *   staff / admin: 401 anonymously, 403 for a citizen
 *   api-key: machine clients (Open311 answers 403 in its own format without a key)
 */
export const CORE_POLICY: Record<string, RoutePolicy> = {
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
export const POLICY: Record<string, RoutePolicy> = Object.assign({}, CORE_POLICY, ...allModules.map((m) => m.routePolicy ?? {}))

// Concrete values for path parameters, valid enough to pass validation.
export const PARAMS: Record<string, string> = { code: 'PA-2026-999999', seq: '0', action: 'assign', date: '2026-12-26', service_code: 'traffic', service_request_id: 'PA-2026-999999', token: 'PA-2026-999999', id: '00000000-0000-0000-0000-000000000000', kind: 'receipt', ...Object.assign({}, ...allModules.map((m) => m.examplePathParams ?? {})) }

