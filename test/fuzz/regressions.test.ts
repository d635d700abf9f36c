// Minimal reproducers of failures the OpenAPI fuzzer found (test/fuzz/fuzz.test.ts), kept as
// regression tests. Each names the seed and run that found it.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Platform } from '../../src/platform/runtime.ts'
import { startTestPlatform } from '../../src/platform/testing/test-platform.ts'
import { calendarModule } from '../../src/modules/calendar/index.ts'
import { geoModule } from '../../src/modules/geo/index.ts'
import { identityModule } from '../../src/modules/identity/index.ts'

let platform: Platform
before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule] })
})
after(async () => {
  await platform?.close()
})

// FUZZ_SEED=20261128 FUZZ_REQUESTS=100000, request 20,140 (shrunk): GET /api/calendar/holidays?year=1e309
// answered 500: "1e309" coerces to Infinity, which passed the integer schema.
test('a number that overflows to Infinity in a query is a 400, never a 500', async () => {
  for (const url of ['/api/calendar/holidays?year=1e309', '/api/calendar/schedule?year=1e309', '/api/calendar/holidays?year=-1e309']) {
    const r = await platform.app.inject({ method: 'GET', url })
    assert.equal(r.statusCode, 400, `${url}: ${r.body}`)
    assert.ok(['NUMBER_OUT_OF_RANGE', 'VALIDATION_FAILED'].includes(r.json().error.code), r.body)
  }
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/calendar/holidays?year=2026' })).statusCode, 200)
})
