import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'

let platform: Platform
before(async () => {
  platform = await startTestPlatform()
})
after(async () => {
  await platform?.close()
})

let n = 0
/** A dossier row as the services module stores it (only what the indicators read matters). */
async function dossier(db: Db, d: { procedure: string; unit: string; channel: 'online' | 'in_person'; submitted: string; timeliness: 'early' | 'on_time' | 'late' | null }) {
  n++
  await sql`insert into dossiers (code, procedure_code, procedure_version, procedure, unit_code, channel, status, current_step, applicant_name, submitted_at, timeliness)
    values (${`P06-${process.pid}-${n}`}, ${d.procedure}, 1, '{}'::jsonb, ${d.unit}, ${d.channel}, ${d.timeliness ? 10 : 2}, 'x', 'Người nộp', ${d.submitted}, ${d.timeliness})`.execute(db)
}

test('Project 06 indicators per unit and year, against the year’s targets', async () => {
  const db = platform.ctx.db
  const flagged = (await sql<{ procedure_code: string }>`select procedure_code from project06_services`.execute(db)).rows.map((r) => r.procedure_code)
  assert.ok(flagged.includes('1.001193') && flagged.includes('1.000894') && !flagged.includes('2.000884'))
  const y = '2031-03-10T09:00:00+07:00'
  await dossier(db, { procedure: '1.001193', unit: '03127', channel: 'online', submitted: y, timeliness: 'on_time' })
  await dossier(db, { procedure: '1.001193', unit: '03127', channel: 'online', submitted: y, timeliness: 'early' })
  await dossier(db, { procedure: '1.001193', unit: '03127', channel: 'online', submitted: y, timeliness: 'late' })
  await dossier(db, { procedure: '1.000894', unit: '03127', channel: 'in_person', submitted: y, timeliness: null })
  await dossier(db, { procedure: '2.000884', unit: '03127', channel: 'in_person', submitted: y, timeliness: 'late' }) // not an essential service
  await dossier(db, { procedure: '1.001193', unit: '03127', channel: 'in_person', submitted: '2030-12-31T23:00:00+07:00', timeliness: 'late' }) // the year before (Vietnam time)
  await dossier(db, { procedure: '2.001610', unit: '11.STC', channel: 'online', submitted: y, timeliness: 'on_time' })
  await dossier(db, { procedure: '2.001610', unit: '11.STC', channel: 'online', submitted: '2031-12-31T23:30:00+07:00', timeliness: 'early' })
  await sql`insert into project06_targets (year, indicator, target_pct) values (2031, 'online_dossier_rate', 80), (2031, 'on_time_rate', 60)`.execute(db)

  const res = await platform.app.inject({ method: 'GET', url: '/api/services/project06?year=2031' })
  assert.equal(res.statusCode, 200, res.body)
  const r = res.json()
  const commune = r.units.find((u: { unit_code: string }) => u.unit_code === '03127')
  assert.deepEqual([commune.dossiers, commune.online_dossiers, commune.online_dossier_rate], [4, 3, 75])
  assert.deepEqual([commune.resolved, commune.resolved_on_time, commune.on_time_rate], [3, 2, 66.7])
  assert.deepEqual(commune.meets_target, { online_dossier_rate: false, on_time_rate: true })
  // Commune-level essential procedures apply to every commune; marriage registration is not fully online.
  const communeProcs = r.services.filter((s: { handling_unit: string }) => s.handling_unit === 'commune')
  assert.equal(commune.essential_procedures, communeProcs.length)
  assert.equal(commune.online_procedures, communeProcs.filter((s: { fully_online: boolean }) => s.fully_online).length)
  assert.ok(commune.online_availability < 100)
  const otherCommune = r.units.find((u: { unit_code: string }) => u.unit_code === '03334')
  assert.deepEqual([otherCommune.essential_procedures, otherCommune.dossiers, otherCommune.online_dossier_rate], [communeProcs.length, 0, null])
  const finance = r.units.find((u: { unit_code: string }) => u.unit_code === '11.STC')
  assert.deepEqual([finance.dossiers, finance.online_dossier_rate, finance.on_time_rate], [2, 100, 100])
  assert.deepEqual([r.province.dossiers, r.province.online_dossiers, r.province.resolved_on_time], [6, 5, 4])
  const one = (await platform.app.inject({ method: 'GET', url: '/api/services/project06?year=2031&unit_code=11.STC' })).json()
  assert.deepEqual(one.units.map((u: { unit_code: string }) => u.unit_code), ['11.STC'])
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/services/project06?year=1999' })).statusCode, 400)
})
