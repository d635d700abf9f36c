import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser } from '../identity/test-factories.ts'
import { refreshPlatformDatasets } from './index.ts'

let platform: Platform
before(async () => { platform = await startTestPlatform() })
after(async () => { await platform?.close() })

test('smoke', async () => {
  const r = await refreshPlatformDatasets(platform.ctx, new Date())
  console.log(r)
  const res = await platform.app.inject({ method: 'GET', url: '/api/3/action/package_search?q=thu tuc&facet.field=["tags"]' })
  console.log(res.statusCode, res.body.slice(0, 1500))
  const s = res.json()
  const rid = s.result.results[0]?.resources[0]?.id
  const ds = await platform.app.inject({ method: 'GET', url: `/api/3/action/datastore_search?resource_id=${rid}&limit=2` })
  console.log(ds.statusCode, ds.body.slice(0, 1500))
  const admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
  const html = await platform.app.inject({ method: 'GET', url: '/data/dataset/don-vi-hanh-chinh', headers: admin.headers })
  console.log(html.statusCode, html.body.slice(0, 300))
  assert.equal(res.statusCode, 200)
})
