import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'

// What `npm start` does on a fresh data folder: demo accounts and reports, printed once.
let platform: Platform
before(async () => {
  platform = await startTestPlatform({ config: { seedDemo: true } })
})
after(async () => {
  await platform?.close()
})

test('first start seeds demo accounts with generated passwords, and a year of demo reports', async () => {
  const accounts = platform.demo!.accounts
  assert.deepEqual(accounts.map((a) => a.role).sort(), ['citizen', 'ioc_viewer', 'officer', 'province_admin', 'unit_admin'])
  assert.ok(accounts.every((a) => a.password.length >= 12))
  assert.equal(new Set(accounts.map((a) => a.password)).size, accounts.length, 'one password per role')
  const login = await platform.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'demo.officer.03127', password: accounts.find((a) => a.role === 'officer')!.password } })
  assert.equal(login.statusCode, 200, login.body)
  const officers = await sql<{ n: number }>`select count(*)::int as n from users where role = 'officer' and is_demo`.execute(platform.ctx.db)
  assert.equal(officers.rows[0].n, 45, 'an officer for each commune')

  const reports = await sql<{ n: number; demo: number; statuses: number; communes: number; oldest: Date }>`
    select count(*)::int as n, count(*) filter (where is_demo)::int as demo, count(distinct status)::int as statuses,
      count(distinct commune_code)::int as communes, min(created_at) as oldest from reports`.execute(platform.ctx.db)
  const r = reports.rows[0]
  assert.ok(r.n >= 300)
  assert.equal(r.demo, r.n, 'every demo report is marked')
  assert.ok(r.statuses >= 5)
  assert.ok(r.communes >= 30, `spread over the communes (${r.communes})`)
  assert.ok(Date.now() - new Date(r.oldest).getTime() > 200 * 86_400_000, 'over the past year')
  assert.equal((await verifyAuditChain(platform.ctx.db)).ok, true)
})
