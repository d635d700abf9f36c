import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser } from '../identity/test-factories.ts'
import { registriesConfig } from './config.ts'
import { sendPendingNationalChanges } from './national-sync.ts'

let platform: Platform
before(async () => {
  platform = await startTestPlatform()
})
after(async () => {
  await platform?.close()
})

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) => platform.app.inject({ method: method as 'GET', url, headers, payload: payload as object })
let seq = 0
const person = (unit: string, extra: Record<string, unknown> = {}) => ({
  code: `CB-${process.pid % 1000}-${++seq}`,
  full_name: 'Lò Văn Thành',
  date_of_birth: '1985-03-12',
  gender: 'nam',
  id_number: '011085001234',
  category: 'cong_chuc',
  unit_code: unit,
  position: 'Chuyên viên',
  rank_code: '01.003',
  rank_name: 'Chuyên viên',
  rank_since: '2012-07-01',
  salary_grade: 4,
  salary_coefficient: 3.33,
  grade_since: '2021-07-01',
  qualifications: [{ level: 'Đại học', major: 'Quản lý đất đai', institution: 'Đại học Nông Lâm Thái Nguyên', year: 2008 }],
  appraisals: [{ year: 2024, result: 'tot' }],
  ...extra,
})

describe('civil-servant registry: access', () => {
  test('the unit admin manages their own staff; officers see shared fields; other units and citizens see nothing', async () => {
    const adminA = await createTestUser(platform.ctx.db, 'unit_admin', '03127')
    const officerA = await createTestUser(platform.ctx.db, 'officer', '03127')
    const officerB = await createTestUser(platform.ctx.db, 'officer', '03334')
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const p = person('03127')
    assert.equal((await inject('POST', '/api/civil-servants', {}, { data: p })).statusCode, 401)
    assert.equal((await inject('POST', '/api/civil-servants', citizen.headers, { data: p })).statusCode, 403)
    assert.equal((await inject('POST', '/api/civil-servants', officerA.headers, { data: p })).statusCode, 403)
    const adminB = await createTestUser(platform.ctx.db, 'unit_admin', '03334')
    assert.equal((await inject('POST', '/api/civil-servants', adminB.headers, { data: p })).statusCode, 403)
    const r = await inject('POST', '/api/civil-servants', adminA.headers, { data: p })
    assert.equal(r.statusCode, 201, r.body)
    const asOfficer = (await inject('GET', `/api/civil-servants/${p.code}`, officerA.headers)).json()
    assert.equal(asOfficer.data.rank_code, '01.003')
    assert.equal(asOfficer.data.salary_grade, undefined)
    assert.equal(asOfficer.data.date_of_birth, undefined)
    assert.equal((await inject('GET', `/api/civil-servants/${p.code}`, officerB.headers)).statusCode, 404)
    assert.equal((await inject('GET', `/api/civil-servants/${p.code}`, citizen.headers)).statusCode, 404)
    assert.equal((await inject('GET', '/api/civil-servants', citizen.headers)).statusCode, 403)
    assert.equal((await inject('GET', '/api/civil-servants?unit_code=03127', officerB.headers)).statusCode, 403)
    const listA = (await inject('GET', '/api/civil-servants', officerA.headers)).json()
    assert.ok(listA.items.some((x: { key: string }) => x.key === p.code))
    assert.ok(!JSON.stringify(listA).includes('011085001234'))
    assert.equal((await inject('PATCH', `/api/civil-servants/${p.code}`, officerA.headers, { data: { salary_grade: 5 } })).statusCode, 403)
    const up = await inject('PATCH', `/api/civil-servants/${p.code}`, adminA.headers, { data: { salary_grade: 5, grade_since: '2024-07-01', appraisals: [{ year: 2024, result: 'tot' }, { year: 2025, result: 'xuat_sac' }] } })
    assert.equal(up.statusCode, 200, up.body)
    assert.equal((await inject('PATCH', `/api/civil-servants/${p.code}`, adminA.headers, { data: { unit_code: '03334' } })).statusCode, 409)
    const hist = (await inject('GET', `/api/civil-servants/${p.code}/history`, adminA.headers)).json()
    assert.deepEqual(hist.versions[1].changed.salary_grade, { before: 4, after: 5 })
    const histOfficer = (await inject('GET', `/api/civil-servants/${p.code}/history`, officerA.headers)).json()
    assert.equal(histOfficer.versions[1].changed.salary_grade, undefined)
    // The generic registry routes do not write civil servants (their unit logic lives here)...
    const snv = await createTestUser(platform.ctx.db, 'officer', '11.SNV')
    assert.equal((await inject('PATCH', `/api/registries/civil_servants/records/${p.code}`, snv.headers, { data: { salary_grade: 6 } })).statusCode, 409)
    // ...but agencies read them there at their level, and the public not at all.
    assert.equal((await inject('GET', `/api/registries/civil_servants/records/${p.code}`)).statusCode, 401)
    const viaRegistry = (await inject('GET', `/api/registries/civil_servants/records/${p.code}`, officerB.headers)).json()
    assert.equal(viaRegistry.data.full_name, 'Lò Văn Thành')
    assert.equal(viaRegistry.data.id_number, undefined)
  })

  test('moving a civil servant to another unit moves their account’s access at once', async () => {
    const snv = await createTestUser(platform.ctx.db, 'unit_admin', '11.SNV')
    const adminA = await createTestUser(platform.ctx.db, 'unit_admin', '03127')
    const me = await createTestUser(platform.ctx.db, 'officer', '03127')
    const p = person('03127', { full_name: 'Quàng Thị Hương' })
    assert.equal((await inject('POST', '/api/civil-servants', adminA.headers, { data: p, user_id: me.id })).statusCode, 201)
    assert.equal((await inject('GET', '/api/civil-servants/me', me.headers)).json().data.salary_grade, 4)
    assert.equal((await inject('GET', '/api/reports/queue', me.headers)).statusCode, 200)
    assert.equal((await inject('GET', '/api/reports/queue?unit_code=03334', me.headers)).statusCode, 403)
    assert.equal((await inject('POST', `/api/civil-servants/${p.code}/transfer`, adminA.headers, { to_unit: '03334', effective_date: '2026-01-01' })).statusCode, 403)
    const t = await inject('POST', `/api/civil-servants/${p.code}/transfer`, snv.headers, { to_unit: '03334', position: 'Phó Chủ tịch UBND xã', effective_date: '2026-01-01', decision: '123/QĐ-UBND' })
    assert.equal(t.statusCode, 200, t.body)
    // The same session now works for the new unit and not the old one.
    const who = (await inject('GET', '/api/auth/me', me.headers)).json()
    assert.equal(who.unit_code ?? who.user?.unit_code, '03334')
    assert.equal((await inject('GET', '/api/reports/queue?unit_code=03334', me.headers)).statusCode, 200)
    assert.equal((await inject('GET', '/api/reports/queue?unit_code=03127', me.headers)).statusCode, 403)
    assert.equal((await inject('GET', `/api/civil-servants/${p.code}`, adminA.headers)).statusCode, 404)
    const adminB = await createTestUser(platform.ctx.db, 'unit_admin', '03334')
    const rec = (await inject('GET', `/api/civil-servants/${p.code}`, adminB.headers)).json()
    assert.deepEqual([rec.data.unit_code, rec.data.position], ['03334', 'Phó Chủ tịch UBND xã'])
    const audit = await sql<{ action: string }>`select action from audit_log where entity_id in (${me.id}, ${p.code}) order by id`.execute(platform.ctx.db)
    assert.ok(audit.rows.some((r) => r.action === 'user.unit_changed'))
    assert.ok(audit.rows.some((r) => r.action === 'civil_servant.transferred'))
  })
})

describe('national sync connector', () => {
  test('under a failing national endpoint: retried with back-off, every change delivered once, in order, every attempt recorded', async () => {
    const received: { key: string; body: { record_key: string; version: number } }[] = []
    const applied = new Set<string>()
    let calls = 0
    // The national side: fails the first three calls (503, a dropped connection, then a 500 after
    // applying the change, as when the answer is lost), then answers; it applies each key once.
    const server: Server = createServer((req, res) => {
      let text = ''
      req.on('data', (c) => (text += c))
      req.on('end', () => {
        calls++
        const key = String(req.headers['idempotency-key'])
        if (calls === 1) return void res.writeHead(503).end('busy')
        if (calls === 2) return void req.socket.destroy()
        const body = JSON.parse(text)
        if (!applied.has(key)) {
          applied.add(key)
          received.push({ key, body })
        }
        if (calls === 3) return void res.writeHead(500).end('oops')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const port = (server.address() as AddressInfo).port
      const cfg = registriesConfig({ NATIONAL_CSVC_URL: `http://127.0.0.1:${port}/api/v1/can-bo`, NATIONAL_CSVC_BACKOFF_SECONDS: '10', NATIONAL_CSVC_TIMEOUT_MS: '2000' }).national
      const db = platform.ctx.db
      // Earlier tests' changes are in the outbox too: count everything not yet sent.
      await sql`update national_sync_changes set next_attempt_at = now() - interval '1 second' where status <> 'sent'`.execute(db)
      const snv = await createTestUser(db, 'unit_admin', '11.SNV')
      const p = person('03127')
      assert.equal((await inject('POST', '/api/civil-servants', snv.headers, { data: p })).statusCode, 201)
      assert.equal((await inject('PATCH', `/api/civil-servants/${p.code}`, snv.headers, { data: { salary_grade: 5 } })).statusCode, 200)
      assert.equal((await inject('PATCH', `/api/civil-servants/${p.code}`, snv.headers, { data: { position: 'Trưởng phòng' } })).statusCode, 200)
      const total = Number((await sql<{ n: string }>`select count(*)::text as n from national_sync_changes`.execute(db)).rows[0].n)
      let now = new Date(Date.now() + 1000)
      for (let round = 0; round < 30; round++) {
        await sendPendingNationalChanges(db, cfg, now)
        const pending = Number((await sql<{ n: string }>`select count(*)::text as n from national_sync_changes where status <> 'sent'`.execute(db)).rows[0].n)
        if (pending === 0) break
        now = new Date(now.getTime() + 3600_000)
      }
      const status = (await inject('GET', '/api/civil-servants/national-sync', snv.headers)).json()
      assert.equal(status.pending, 0)
      assert.equal(status.sent, total)
      // Not lost: every change arrived; not duplicated: each key applied once, and never re-sent after success.
      assert.equal(received.length, total)
      assert.equal(new Set(received.map((r) => r.key)).size, total)
      const mine = received.filter((r) => r.body.record_key === p.code).map((r) => r.body.version)
      assert.deepEqual(mine, [1, 2, 3])
      const attempts = await sql<{ ok: boolean; n: string }>`select ok, count(*)::text as n from national_sync_attempts group by ok order by ok`.execute(db)
      assert.deepEqual(attempts.rows.map((r) => [r.ok, Number(r.n)]), [[false, 3], [true, total]])
      assert.equal(calls, total + 3)
      // A further run sends nothing.
      assert.deepEqual(await sendPendingNationalChanges(db, cfg, new Date(now.getTime() + 86_400_000)), { sent: 0, failed: 0 })
      // The first failure was retried only after its back-off.
      const first = await sql<{ at: Date }>`select at from national_sync_attempts where change_id = (select change_id from national_sync_attempts order by id limit 1) order by id limit 2`.execute(db)
      assert.ok(new Date(first.rows[1].at).getTime() - new Date(first.rows[0].at).getTime() >= 10_000)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })

  test('with no national URL configured, changes wait in the outbox', async () => {
    const cfg = registriesConfig({}).national
    assert.equal(cfg.url, null)
    assert.deepEqual(await sendPendingNationalChanges(platform.ctx.db, cfg, new Date()), { sent: 0, failed: 0 })
  })

  test('sync status and manual run are for Home Affairs and province admins only', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    assert.equal((await inject('GET', '/api/civil-servants/national-sync')).statusCode, 401)
    assert.equal((await inject('GET', '/api/civil-servants/national-sync', officer.headers)).statusCode, 403)
    assert.equal((await inject('POST', '/api/civil-servants/national-sync/run', officer.headers)).statusCode, 403)
    const admin = await createTestUser(platform.ctx.db, 'province_admin')
    assert.equal((await inject('POST', '/api/civil-servants/national-sync/run', admin.headers)).json().sent, 0)
  })
})

test('the connector speaks the configured format: XML with escaped values', async () => {
  const { encodeChange } = await import('./national-sync.ts')
  const x = encodeChange('xml', { change_id: 'k1', record: { full_name: 'Lò Văn <A> & B', qualifications: [{ level: 'Đại học' }] } })
  assert.equal(x.contentType, 'application/xml; charset=utf-8')
  assert.match(x.body, /<full_name>Lò Văn &lt;A&gt; &amp; B<\/full_name>/)
  assert.match(x.body, /<qualifications><item><level>Đại học<\/level><\/item><\/qualifications>/)
  assert.equal(JSON.parse(encodeChange('json', { a: 1 }).body).a, 1)
})

test('only staff accounts can be linked to a record and moved between units', async () => {
  const snv = await createTestUser(platform.ctx.db, 'unit_admin', '11.SNV')
  const citizen = await createTestUser(platform.ctx.db, 'citizen')
  const p = person('03127')
  const r = await inject('POST', '/api/civil-servants', snv.headers, { data: p, user_id: citizen.id })
  assert.equal(r.statusCode, 400)
  assert.equal(r.json().error.code, 'NOT_UNIT_STAFF')
  assert.equal((await inject('GET', `/api/civil-servants/${p.code}`, snv.headers)).statusCode, 404, 'nothing was written')
})
