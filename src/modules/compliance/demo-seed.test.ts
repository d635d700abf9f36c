import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { calendarModule } from '../calendar/index.ts'
import { exchangeModule } from '../exchange/index.ts'
import { geoModule } from '../geo/index.ts'
import { identityModule } from '../identity/index.ts'
import { createTestUser } from '../identity/test-factories.ts'
import { seedDemoCompliance } from './demo-seed.ts'
import { complianceByUnit, complianceModule, suspendedSubjects } from './index.ts'

// What `npm start` shows the IOC on a fresh data folder: five departments' security duties,
// played by the real evaluator over three weeks. Wednesday 18 November 2026, 10:00 in Điện Biên.
const now = new Date('2026-11-18T03:00:00Z')
let platform: Platform
before(async () => {
  platform = await startTestPlatform({
    modules: [geoModule, identityModule, calendarModule, exchangeModule, complianceModule],
    clock: () => now,
    config: { seedDemo: true, env: { EXCHANGE_DIR: mkdtempSync(join(tmpdir(), 'hb-compliance-demo-')), EXCHANGE_NODE: 'gw-compliance-demo' } } as never,
  })
})
after(async () => {
  await platform?.close()
})

test('first start: demo departments with their duties, two cut off after their warning, two warned (old signatures, silent agents)', async () => {
  const db = platform.ctx.db
  const units = await complianceByUnit(db, now)
  assert.deepEqual(units.map((u) => u.unit_code), ['11.SGDDT', '11.SKHCN', '11.STC', '11.SXD', '11.SYT'])
  const byCode = new Map(units.map((u) => [u.unit_code, u]))
  assert.deepEqual(byCode.get('11.SGDDT')!.antimalware, { ...byCode.get('11.SGDDT')!.antimalware, registered: 15, healthy: 13 })
  assert.equal(byCode.get('11.SKHCN')!.compliant, true)
  assert.equal(byCode.get('11.SKHCN')!.systems[0].approved_level, 3)

  const open = await suspendedSubjects(db, { includeWarnings: true })
  const brief = open.map((f) => `${f.status} ${f.subject_kind}:${f.subject_ref} ${f.rule_code}`).sort()
  assert.deepEqual(brief, [
    'suspended system:SXD/cap-phep NO_APPROVED_LEVEL',
    'suspended unit:11.STC MONITORING_CONTRACT_EXPIRED',
    // its two silent computers last reported three weeks ago, with the signatures of that day
    'warned unit:11.SGDDT AGENT_SIGNATURES_STALE',
    'warned unit:11.SYT AGENT_SIGNATURES_STALE',
  ])
  const sxd = open.find((f) => f.subject_ref === 'SXD/cap-phep')!
  assert.equal(sxd.unit_code, '11.SXD')
  assert.equal(sxd.warned_at, new Date(now.getTime() - 21 * 86_400_000).toISOString(), 'warned three weeks ago')
  assert.equal(sxd.suspended_at, now.toISOString(), 'cut off today, when its grace period had ended')

  // Every step is in the audit log, whose chain holds.
  const audited = await sql<{ action: string; n: number }>`select action, count(*)::int as n from audit_log where action like 'compliance.%' group by action order by action`.execute(db)
  assert.deepEqual(Object.fromEntries(audited.rows.map((r) => [r.action, r.n])), {
    'compliance.agents.heartbeat': 10, 'compliance.suspended': 2, 'compliance.system.approval_recorded': 4, 'compliance.system.classified': 5,
    'compliance.unit.evidence_recorded': 5, 'compliance.warned': 4,
  })
  assert.equal((await verifyAuditChain(db)).ok, true)

  // Seeding again (a restart) changes nothing.
  const out = { accounts: [], notes: [] }
  await seedDemoCompliance(platform.ctx, out)
  assert.deepEqual(out.notes, [])
  assert.equal((await suspendedSubjects(db, { includeWarnings: true })).length, 4)
  assert.ok(platform.demo!.notes.some((n) => /compliance: 5 demo departments .* 2 cut off/.test(n)), platform.demo!.notes.join('\n'))
})

test('the IOC viewer reads the demo through the compliance API; a citizen may not', async () => {
  const ioc = await createTestUser(platform.ctx.db, 'ioc_viewer')
  const citizen = await createTestUser(platform.ctx.db, 'citizen')
  const res = await platform.app.inject({ method: 'GET', url: '/api/compliance/suspensions', headers: ioc.headers })
  assert.equal(res.statusCode, 200)
  const body = res.json() as { suspended: { subject_ref: string }[]; warned: { subject_ref: string }[] }
  assert.deepEqual(body.suspended.map((f) => f.subject_ref).sort(), ['11.STC', 'SXD/cap-phep'])
  assert.deepEqual(body.warned.map((f) => f.subject_ref).sort(), ['11.SGDDT', '11.SYT'])
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/compliance/units', headers: citizen.headers })).statusCode, 403)
})
