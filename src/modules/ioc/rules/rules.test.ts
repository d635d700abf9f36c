import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import { publishEvent } from '../../../platform/events/outbox.ts'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { createTestUser, type TestUser } from '../../identity/test-factories.ts'
import { backtestRule, evaluateFactRules } from './engine.ts'
import { activeUnitFlags } from './index.ts'
import { getRule, listFirings, listRules, listTasks, type RuleRow } from './repository.ts'

/** Vietnam local time → instant. */
const vn = (local: string) => new Date(`${local}+07:00`)
let clock = vn('2026-03-02T08:00:00')
let platform: Platform
let communes: string[]
let admin: TestUser
const deps = { provinceCode: '11' }
const rule = async (code: string): Promise<RuleRow> => (await listRules(platform.ctx.db)).find((r) => r.code === code)!
const uniq = () => randomBytes(3).toString('hex').toUpperCase()

before(async () => {
  platform = await startTestPlatform({ clock: () => clock })
  const { rows } = await sql<{ code: string }>`select code from org_units where kind = 'commune' and parent_code = '11' order by code limit 6`.execute(platform.ctx.db)
  communes = rows.map((r) => r.code)
  assert.ok(communes.length >= 4)
  admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
})
after(async () => {
  await platform?.close()
})

async function insertReport(r: { code: string; unit: string; commune?: string; createdAt: Date; dueAt: Date; resolvedAt?: Date }): Promise<void> {
  const { rows } = await sql<{ code: string }>`select code from report_categories order by code limit 1`.execute(platform.ctx.db)
  await sql`insert into reports (code, category_code, description, channel, location_source, commune_code, locate_status, unit_code, status, created_at, state_entered_at, due_at, resolved_at)
    values (${r.code}, ${rows[0].code}, 'Đường hỏng', 'app', 'manual', ${r.commune ?? r.unit}, 'manual', ${r.unit}, ${r.resolvedAt ? 'resolved' : 'received'},
      ${r.createdAt.toISOString()}, ${r.createdAt.toISOString()}, ${r.dueAt.toISOString()}, ${r.resolvedAt?.toISOString() ?? null})`.execute(platform.ctx.db)
}

/** A dossier being processed; warn_at is one working day before the due time, as the services module sets it. */
async function insertDossier(d: { code: string; unit: string; receivedAt: Date; dueAt: Date; warnAt: Date }): Promise<void> {
  await sql`insert into dossiers (code, procedure_code, procedure_version, procedure, unit_code, channel, status, current_step, applicant_name, submitted_at, received_at, clock_started_at, due_at, warn_at)
    values (${d.code}, 'TEST.01', 1, '{}'::jsonb, ${d.unit}, 'online', 4, 'handle', 'Lò Văn A', ${d.receivedAt.toISOString()}, ${d.receivedAt.toISOString()}, ${d.receivedAt.toISOString()},
      ${d.dueAt.toISOString()}, ${d.warnAt.toISOString()})`.execute(platform.ctx.db)
}

const firingsOf = async (code: string) => listFirings(platform.ctx.db, (await rule(code)).id, { limit: 200 })

describe('fact rules, with the clock under test control', () => {
  test('report overdue by more than 1 working day: fires once, escalates, notifies and flags the unit', async () => {
    const unit = communes[0]
    const late = `PA-T-${uniq()}`
    const resolved = `PA-T-${uniq()}`
    await insertReport({ code: late, unit, createdAt: vn('2026-02-25T09:00:00'), dueAt: vn('2026-03-02T09:00:00') })
    await insertReport({ code: resolved, unit, createdAt: vn('2026-02-25T09:00:00'), dueAt: vn('2026-03-02T09:00:00'), resolvedAt: vn('2026-03-02T15:00:00') })
    const key = (c: string) => (f: { fact_key: string }) => f.fact_key.startsWith(`report:${c}:`)

    await evaluateFactRules(platform.ctx.db, deps, vn('2026-03-03T08:00:00')) // less than one working day late
    assert.equal((await firingsOf('report-overdue-1wd')).filter(key(late)).length, 0)
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-03-04T08:00:00'))
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-03-04T09:00:00'))
    const fired = (await firingsOf('report-overdue-1wd')).filter(key(late))
    assert.equal(fired.length, 1, 'nothing fires twice for the same fact')
    assert.equal((await firingsOf('report-overdue-1wd')).filter(key(resolved)).length, 0, 'a report resolved in time never fires')
    const f = fired[0]
    assert.equal(f.unit_code, unit)
    assert.equal((f.inputs.fact as Record<string, unknown>).code, late)
    assert.equal(f.inputs.as_of, vn('2026-03-04T08:00:00').toISOString())
    assert.deepEqual(f.outcome.map((o) => o.type), ['escalate', 'notify', 'flag_unit'])
    assert.equal(f.outcome[0].to_unit_code, '11')

    const flags = await activeUnitFlags(platform.ctx.db, unit)
    assert.ok(flags.some((x) => x.firing_id === f.id && x.level === 'warning' && x.reason_vi.includes(late)))
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = 'ioc.escalation_requested' and payload->>'fact_key' = ${f.fact_key}`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1)
    // The reports module handles the request: the report is escalated once, however often the event comes.
    await platform.ctx.events.dispatchPending(platform.ctx.db, 10_000)
    const { getReportByCode } = await import('../../reports/index.ts')
    const escalated = await getReportByCode(platform.ctx.db, platform.ctx.config.provinceCode, late)
    assert.equal(escalated?.escalation_level, 1, 'the report was escalated by the rule')
    const { rows: hist } = await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = 'report.escalated' and payload->>'code' = ${late}`.execute(platform.ctx.db)
    assert.equal(hist[0].n, 1)
    const officer = await createTestUser(platform.ctx.db, 'officer', unit)
    const inbox = (await platform.app.inject({ method: 'GET', url: '/api/notifications?limit=100', headers: officer.headers })).json().items as { text: string }[]
    assert.ok(inbox.some((m) => m.text.includes(late)), 'the unit got the in-app notice')
    const province = (await platform.app.inject({ method: 'GET', url: '/api/notifications?limit=100', headers: admin.headers })).json().items as { text: string }[]
    assert.ok(province.some((m) => m.text.includes(late)), 'the parent unit got the escalation')
  })

  test('dossier will miss its deadline tomorrow: task for the unit, apology letter drafted by the services module', async () => {
    const unit = communes[1]
    const code = `HS-T-${uniq()}`
    await insertDossier({ code, unit, receivedAt: vn('2026-03-02T08:00:00'), dueAt: vn('2026-03-05T16:00:00'), warnAt: vn('2026-03-04T16:00:00') })
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-03-03T10:00:00')) // due in more than one working day
    assert.equal((await firingsOf('dossier-due-tomorrow')).filter((f) => f.fact_key.startsWith(`dossier:${code}:`)).length, 0)
    clock = vn('2026-03-04T17:00:00')
    await evaluateFactRules(platform.ctx.db, deps, clock)
    await evaluateFactRules(platform.ctx.db, deps, clock)
    const fired = (await firingsOf('dossier-due-tomorrow')).filter((f) => f.fact_key.startsWith(`dossier:${code}:`))
    assert.equal(fired.length, 1)
    const tasks = await listTasks(platform.ctx.db, { unitCode: unit, limit: 50 })
    const task = tasks.find((t) => t.firing_id === fired[0].id)
    assert.ok(task)
    assert.match(task.title, new RegExp(code))
    assert.ok(task.due_at)
    // The queued job calls the services module, which drafts the apology letter.
    for (let i = 0; i < 50 && (await platform.ctx.jobs.runOne(clock)); i++);
    const { rows } = await sql<{ kind: string; status: string }>`select l.kind, l.status from dossier_letters l join dossiers d on d.id = l.dossier_id where d.code = ${code}`.execute(platform.ctx.db)
    assert.deepEqual(rows, [{ kind: 'apology', status: 'pending' }])
  })

  test('a commune silent for 30 days after 20+ reports the month before is flagged once; an active one is not', async () => {
    const silent = communes[2]
    const active = communes[3]
    const t = vn('2026-05-10T12:00:00')
    for (let i = 0; i < 22; i++) {
      const at = new Date(t.getTime() - (35 + (i % 20)) * 86_400_000)
      await insertReport({ code: `PA-S-${uniq()}${i}`, unit: silent, createdAt: at, dueAt: new Date(at.getTime() + 86_400_000), resolvedAt: new Date(at.getTime() + 3600_000) })
      await insertReport({ code: `PA-A-${uniq()}${i}`, unit: active, createdAt: at, dueAt: new Date(at.getTime() + 86_400_000), resolvedAt: new Date(at.getTime() + 3600_000) })
    }
    await insertReport({ code: `PA-A-${uniq()}`, unit: active, createdAt: new Date(t.getTime() - 3 * 86_400_000), dueAt: new Date(t.getTime() + 86_400_000), resolvedAt: new Date(t.getTime() - 2 * 86_400_000) })
    await evaluateFactRules(platform.ctx.db, deps, t)
    await evaluateFactRules(platform.ctx.db, deps, new Date(t.getTime() + 86_400_000))
    const fired = await firingsOf('commune-silent-30d')
    assert.equal(fired.filter((f) => f.unit_code === silent).length, 1)
    assert.equal(fired.filter((f) => f.unit_code === active).length, 0)
    const f = fired.find((x) => x.unit_code === silent)!
    assert.equal((f.inputs.fact as Record<string, unknown>).previous, 22)
    assert.ok((await activeUnitFlags(platform.ctx.db, silent)).some((x) => x.firing_id === f.id))
  })

  test('a data feed not updated for 2 days (seen through data.feed_updated events) fires for the province', async () => {
    const feed = `feed-${uniq()}`
    await platform.ctx.db.transaction().execute((tx) => publishEvent(tx, 'data.feed_updated', { feed_code: feed, updated_at: vn('2026-06-01T06:00:00').toISOString() }))
    await platform.ctx.events.dispatchPending(platform.ctx.db)
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-06-02T12:00:00'))
    const key = (f: { fact_key: string }) => f.fact_key.startsWith(`feed:${feed}:`)
    assert.equal((await firingsOf('feed-stale-2d')).filter(key).length, 0)
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-06-03T07:00:00'))
    await evaluateFactRules(platform.ctx.db, deps, vn('2026-06-04T07:00:00'))
    const fired = (await firingsOf('feed-stale-2d')).filter(key)
    assert.equal(fired.length, 1)
    assert.ok((await activeUnitFlags(platform.ctx.db, '11')).some((x) => x.firing_id === fired[0].id && x.level === 'critical'))
  })
})

describe('event rules', () => {
  test('report.escalated creates one province task per report, in the event handler', async () => {
    const code = `PA-E-${uniq()}`
    for (let i = 0; i < 2; i++) {
      await platform.ctx.db.transaction().execute((tx) => publishEvent(tx, 'report.escalated', { code, unit_code: communes[0], escalated_to: '11' }))
    }
    await platform.ctx.events.dispatchPending(platform.ctx.db)
    const fired = (await firingsOf('report-escalated-task')).filter((f) => f.fact_key === `event:report.escalated:${code}`)
    assert.equal(fired.length, 1)
    const tasks = await listTasks(platform.ctx.db, { unitCode: '11', limit: 200 })
    assert.equal(tasks.filter((t) => t.title.includes(code)).length, 1)
  })
})

describe('backtest', () => {
  test('answers what the rule would have fired, when, and whether it already did, without acting', async () => {
    const unit = communes[4]
    const code = `PA-B-${uniq()}`
    await insertReport({ code, unit, createdAt: vn('2026-07-01T09:00:00'), dueAt: vn('2026-07-06T09:00:00') })
    const r = await rule('report-overdue-1wd')
    const countFirings = async () => (await sql<{ n: number }>`select count(*)::int as n from ioc_rule_firings`.execute(platform.ctx.db)).rows[0].n
    const before = await countFirings()
    const res = await backtestRule(platform.ctx.db, deps, r, vn('2026-07-01T00:00:00'), vn('2026-07-15T00:00:00'))
    const hit = res.hits.find((h) => h.fact_key.startsWith(`report:${code}:`))
    assert.ok(hit)
    assert.equal(hit.first_seen_at, vn('2026-07-07T23:59:59').toISOString(), 'first day-end more than one working day after the due time')
    assert.equal(hit.already_fired, false)
    assert.deepEqual(hit.would.map((w) => w.type), ['escalate', 'notify:in_app', 'flag_unit'])
    assert.equal(res.instants, 15)
    assert.equal(await countFirings(), before, 'a backtest fires nothing')
    const early = await backtestRule(platform.ctx.db, deps, r, vn('2026-06-20T00:00:00'), vn('2026-07-06T00:00:00'))
    assert.ok(!early.hits.some((h) => h.fact_key.startsWith(`report:${code}:`)))

    // Over the route: an officer of the unit sees the hit, an officer of another unit does not.
    const own = await createTestUser(platform.ctx.db, 'officer', unit)
    const other = await createTestUser(platform.ctx.db, 'officer', communes[5])
    const url = `/api/ioc/rules/${r.id}/backtest?from=2026-07-01&to=2026-07-15`
    const a = await platform.app.inject({ method: 'POST', url, headers: own.headers })
    assert.equal(a.statusCode, 200)
    assert.ok((a.json().hits as { fact_key: string }[]).some((h) => h.fact_key.startsWith(`report:${code}:`)))
    const b = await platform.app.inject({ method: 'POST', url, headers: other.headers })
    assert.ok(!(b.json().hits as { fact_key: string }[]).some((h) => h.fact_key.startsWith(`report:${code}:`)))
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${r.id}/backtest?from=2026-01-01&to=2026-07-15`, headers: own.headers })).json().error.code, 'RANGE_TOO_LONG')
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${r.id}/backtest?from=2026-07-15&to=2026-07-01`, headers: own.headers })).json().error.code, 'INVALID_RANGE')
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${r.id}/backtest?from=yesterday-ish&to=2026-07-01`, headers: own.headers })).json().error.code, 'INVALID_DATE')
  })
})

describe('routes and authorization', () => {
  const newRule = (code: string) => ({
    code, name_vi: 'Phản ánh quá hạn 3 ngày ở xã', name_en: 'Report 3 working days late',
    condition: { fact: 'report_overdue', min_working_days: 3, where: [{ field: 'category_code', op: 'ne', value: 'khac' }] },
    actions: [{ type: 'notify', channel: 'sms', to: { phone: '+84912000333' }, text_vi: 'Phản ánh {code} quá hạn' }],
  })

  test('rules: staff and IOC viewers read; only province admins create, edit, enable and disable', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const officer = await createTestUser(platform.ctx.db, 'officer', communes[0])
    const viewer = await createTestUser(platform.ctx.db, 'ioc_viewer')
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/rules' })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/rules', headers: citizen.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/rules', headers: viewer.headers })).statusCode, 200)
    const list = await platform.app.inject({ method: 'GET', url: '/api/ioc/rules', headers: officer.headers })
    assert.ok((list.json().items as { code: string }[]).some((r) => r.code === 'commune-silent-30d'))

    const code = `r-${uniq().toLowerCase()}`
    assert.equal((await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: officer.headers, payload: newRule(code) })).statusCode, 403)
    const bad = await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: admin.headers, payload: { ...newRule(code), condition: { fact: 'report_overdue', min_working_days: -1 } } })
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.json().error.code, 'INVALID_RULE')
    const badAction = await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: admin.headers, payload: { ...newRule(code), actions: [{ type: 'apology_letter' }] } })
    assert.equal(badAction.json().error.code, 'INVALID_RULE')
    const created = await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: { ...admin.headers, 'idempotency-key': `k-${code}` }, payload: newRule(code) })
    assert.equal(created.statusCode, 201)
    const replay = await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: { ...admin.headers, 'idempotency-key': `k-${code}` }, payload: newRule(code) })
    assert.equal(replay.headers['idempotent-replayed'], 'true')
    assert.equal((await platform.app.inject({ method: 'POST', url: '/api/ioc/rules', headers: admin.headers, payload: newRule(code) })).json().error.code, 'RULE_CODE_TAKEN')
    const id = created.json().id as string

    const { code: _c, ...update } = { ...newRule(code), enabled: true, name_en: 'Report 3 working days late (edited)' }
    assert.equal((await platform.app.inject({ method: 'PUT', url: `/api/ioc/rules/${id}`, headers: officer.headers, payload: update })).statusCode, 403)
    const put = await platform.app.inject({ method: 'PUT', url: `/api/ioc/rules/${id}`, headers: admin.headers, payload: update })
    assert.equal(put.statusCode, 200)
    assert.equal(put.json().version, 2)
    assert.equal((await platform.app.inject({ method: 'PUT', url: '/api/ioc/rules/999999999', headers: admin.headers, payload: update })).statusCode, 404)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${id}/disable`, headers: officer.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${id}/disable`, headers: admin.headers })).json().enabled, false)
    assert.equal((await getRule(platform.ctx.db, id))!.enabled, false)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/rules/${id}/enable`, headers: admin.headers })).json().enabled, true)
    const { rows } = await sql<{ action: string }>`select action from audit_log where entity_type = 'ioc_rule' and entity_id = ${id} order by id`.execute(platform.ctx.db)
    assert.deepEqual(rows.map((r) => r.action), ['ioc_rule.created', 'ioc_rule.updated', 'ioc_rule.disabled', 'ioc_rule.enabled'])
  })

  test('firings, tasks and unit flags: officers see their own unit only; tasks are closed by their unit', async () => {
    const unit = communes[0]
    const own = await createTestUser(platform.ctx.db, 'officer', unit)
    const other = await createTestUser(platform.ctx.db, 'officer', communes[5])
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const r = await rule('report-overdue-1wd')
    const url = `/api/ioc/rules/${r.id}/firings`
    assert.equal((await platform.app.inject({ method: 'GET', url })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url, headers: citizen.headers })).statusCode, 403)
    const mine = (await platform.app.inject({ method: 'GET', url, headers: own.headers })).json().items as { unit_code: string }[]
    assert.ok(mine.length > 0 && mine.every((f) => f.unit_code === unit))
    assert.equal((await platform.app.inject({ method: 'GET', url: `${url}?unit_code=${unit}`, headers: other.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url, headers: other.headers })).json().items.length, 0)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/rules/999999999/firings', headers: admin.headers })).statusCode, 404)

    const flags = await platform.app.inject({ method: 'GET', url: '/api/ioc/unit-flags', headers: own.headers })
    assert.ok((flags.json().items as { unit_code: string }[]).every((f) => f.unit_code === unit))
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/unit-flags', headers: citizen.headers })).statusCode, 403)
    assert.ok(((await platform.app.inject({ method: 'GET', url: '/api/ioc/unit-flags', headers: admin.headers })).json().items as unknown[]).length > 0)

    const provinceTasks = (await platform.app.inject({ method: 'GET', url: '/api/ioc/tasks?unit_code=11&status=open', headers: admin.headers })).json().items as { id: string }[]
    assert.ok(provinceTasks.length > 0)
    const taskId = provinceTasks[0].id
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/tasks', headers: citizen.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/tasks?unit_code=11', headers: own.headers })).statusCode, 403)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/ioc/tasks/${taskId}/done`, headers: own.headers })).statusCode, 404)
    const done = await platform.app.inject({ method: 'POST', url: `/api/ioc/tasks/${taskId}/done`, headers: admin.headers })
    assert.equal(done.statusCode, 200)
    assert.equal(done.json().status, 'done')
  })
})
