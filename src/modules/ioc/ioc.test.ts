import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { DomainEvent } from '../../platform/events/outbox.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser } from '../identity/test-factories.ts'
import { submitReport } from '../reports/index.ts'
import { runAnalysis } from './analysis.ts'
import { AnswerCache, clearAnswerCaches } from './answer-cache.ts'
import { rebuildRollups } from './backfill.ts'
import { loadIocConfig } from './config.ts'
import { parseFormula, splitPeriod } from './indicators.ts'
import { dossierStatusHandler, medianFromBuckets, onReportCreated, durationBucket, type DossierFactLike } from './rollups.ts'
import { prepareAnalysis } from './service.ts'
import { addMonths, forecastNext, scoreLast } from './stats.ts'
import { findTopics } from './topics.ts'

let platform: Platform
// Phường Điện Biên Phủ (03127): the planted hot spot is here.
const DBP = { lat: 21.3856, lon: 103.0167 }
const PERIOD = '2026-09'
const NOW = new Date('2026-10-01T00:30:00Z') // 07:30 on the 1st in Hanoi
const SPIKE = { commune: '03158', category: 'environment' }
const SLOW = { unit: '03160', procedure: '1.001193', step: 'review' }

before(async () => {
  platform = await startTestPlatform({ clock: () => NOW })
})
after(async () => {
  await platform?.close()
})

let nextEventId = 50_000_000
const ev = (topic: string, payload: Record<string, unknown>, createdAt: Date): DomainEvent => ({ id: String(nextEventId++), topic, payload, createdAt })

/** A deterministic pseudo-random generator, so the planted data is the same every run. */
function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

const day = (month: string, d: number, hour = 3) => new Date(`${month}-${String(d).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`)

/**
 * Generated history: 24 months of report events in four communes × three categories (seasonal,
 * noisy), resolved in 1–3 days; the planted spike triples environment reports in 03130 in the
 * analysed month. Dossiers: procedure 1.001193 in three communes, where 03133's 'review' step
 * takes ten days instead of one, so most of its dossiers end late.
 */
async function plantHistory() {
  const r = rng(7)
  const db = platform.ctx.db
  const communes = ['03127', '03158', '03162', '03163']
  const cats = ['environment', 'traffic', 'water']
  let n = 0
  for (let k = 23; k >= 0; k--) {
    const month = addMonths(PERIOD, -k)
    const season = 1 + 0.3 * Math.sin(((Number(month.slice(5)) - 1) / 12) * 2 * Math.PI)
    for (const c of communes) {
      for (const cat of cats) {
        let count = Math.round(6 * season + r() * 3)
        if (k === 0 && c === SPIKE.commune && cat === SPIKE.category) count = 30
        for (let i = 0; i < count; i++) {
          const at = day(month, 1 + Math.floor(r() * 27), Math.floor(r() * 10))
          const code = `GEN-${n++}`
          await db.transaction().execute(async (tx) => {
            await onReportCreated(tx, ev('report.created', { code, unit_code: c, commune_code: c, category: cat, channel: 'app', received_at: at.toISOString(), due_at: new Date(at.getTime() + 3 * 86_400_000).toISOString() }, at))
            const done = new Date(at.getTime() + (1 + r() * 2) * 86_400_000)
            const { onReportStatusChanged } = await import('./rollups.ts')
            await onReportStatusChanged(tx, ev('report.status_changed', { code, from: 'in_progress', to: 'resolved', unit_code: c, action: 'resolve', at: done.toISOString() }, done))
          })
        }
      }
    }
  }
  // Dossiers, generated: the facts a dossier would show, read by the handler like the real reader.
  const facts = new Map<string, DossierFactLike>()
  const handle = dossierStatusHandler(async (_db, code) => facts.get(code))
  let d = 0
  for (let k = 2; k >= 0; k--) {
    const month = addMonths(PERIOD, -k)
    for (const unit of ['03127', '03158', SLOW.unit]) {
      for (let i = 0; i < 12; i++) {
        const code = `GEN-HS-${d++}`
        const submitted = day(month, 1 + i, 2)
        const reviewDays = unit === SLOW.unit ? 10 : 1
        const due = new Date(submitted.getTime() + 5 * 86_400_000)
        const times = { handle: 1, review: reviewDays, sign: 0.5, issue: 0.5 }
        let t = submitted.getTime()
        const fact: DossierFactLike = { procedure_code: SLOW.procedure, unit_code: unit, commune_code: unit, channel: unit === '03127' ? 'in_person' : 'online', received_at: null, submitted_at: submitted, due_at: null, resolved_at: null, timeliness: null, fee_vnd: 8000, payment_status: 'paid_online', digitised_result: true }
        facts.set(code, fact)
        const step = async (from: number | null, to: number, stepKey: string, at: number) => {
          await db.transaction().execute((tx) => handle(tx, ev('dossier.status_changed', { code, from, to, unit_code: unit, step: stepKey, at: new Date(at).toISOString() }, new Date(at))))
        }
        await step(null, 1, 'reception', t)
        t += 3600_000
        Object.assign(fact, { received_at: new Date(t), due_at: due })
        await step(1, 2, 'handle', t)
        for (const [prev, next] of [['handle', 'review'], ['review', 'sign'], ['sign', 'issue']] as const) {
          t += times[prev] * 86_400_000
          await step(4, 4, next, t)
        }
        t += times.issue * 86_400_000
        Object.assign(fact, { resolved_at: new Date(t), timeliness: t > due.getTime() ? 'late' : 'on_time' })
        await step(4, 9, 'result', t)
        await step(9, 10, 'result', t + 3600_000)
      }
    }
  }
}

/** Real reports through intake in the analysed month: 12 within ~100 m (the hot spot) about broken street lights. */
async function plantHotSpot() {
  const r = rng(11)
  const texts = ['Đèn chiếu sáng công cộng bị hỏng, đường tối', 'Đèn đường hỏng nhiều ngày, buổi tối rất tối', 'Cột đèn chiếu sáng không sáng, đèn đường hỏng', 'Đèn chiếu sáng hỏng gây mất an toàn', 'Đèn đường hỏng không ai sửa']
  const codes: string[] = []
  for (let i = 0; i < 12; i++) {
    const at = day(PERIOD, 3 + i, 2)
    const res = await submitReport(
      { db: platform.ctx.db, uploadDir: platform.ctx.config.uploadDir, provinceCode: platform.ctx.config.provinceCode, now: at },
      { category: 'traffic', description: `${texts[i % texts.length]} (${i})`, channel: 'app', lat: DBP.lat + (r() - 0.5) * 0.0015, lon: DBP.lon + (r() - 0.5) * 0.0015 },
      null, { scope: 'test', key: undefined },
    )
    codes.push(res.body.code)
  }
  return codes
}

let hotSpotCodes: string[] = []

describe('roll-ups', () => {
  test('a real report is folded once even when its event is delivered twice', async () => {
    const db = platform.ctx.db
    const before = await sql<{ n: number }>`select coalesce(sum(received), 0)::int as n from ioc_daily_facts where source = 'report' and unit_code = '03127' and day = '2026-01-15'`.execute(db)
    const at = new Date('2026-01-15T03:00:00Z')
    const res = await submitReport({ db, uploadDir: platform.ctx.config.uploadDir, provinceCode: platform.ctx.config.provinceCode, now: at }, { category: 'water', description: 'Vỡ ống nước', channel: 'web', ...DBP }, null, { scope: 'test', key: undefined })
    assert.equal(res.statusCode, 201)
    await platform.ctx.events.dispatchPending(db, 1000)
    const count = async () => (await sql<{ n: number }>`select coalesce(sum(received), 0)::int as n from ioc_daily_facts where source = 'report' and unit_code = '03127' and day = '2026-01-15'`.execute(db)).rows[0]!.n
    assert.equal(await count(), before.rows[0]!.n + 1)
    // Deliver the same event again.
    await sql`update outbox_events set dispatched_at = null where topic = 'report.created' and payload ->> 'code' = ${res.body.code}`.execute(db)
    assert.equal(await platform.ctx.events.dispatchPending(db, 1000), 1)
    assert.equal(await count(), before.rows[0]!.n + 1)
    const open = await sql<{ n: number }>`select count(*)::int as n from ioc_open_items where code = ${res.body.code}`.execute(db)
    assert.equal(open.rows[0]!.n, 1)
  })

  test('property: any sequence of duplicated deliveries counts each event once', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 12 }), async (picks) => {
      const db = platform.ctx.db
      const unit = `P${nextEventId}`
      const events = Array.from({ length: 5 }, (_, i) => ev('report.created', { code: `PROP-${unit}-${i}`, unit_code: unit, commune_code: unit, category: 'other', channel: 'sms', received_at: '2025-03-03T03:00:00Z' }, new Date('2025-03-03T03:00:00Z')))
      for (const i of picks) await db.transaction().execute((tx) => onReportCreated(tx, events[i]!))
      const { rows } = await sql<{ n: number }>`select coalesce(sum(received), 0)::int as n from ioc_daily_facts where unit_code = ${unit}`.execute(db)
      assert.equal(rows[0]!.n, new Set(picks).size)
    }), { numRuns: 15 })
  })

  test('duration buckets give a median within the right bucket', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 1, maxLength: 200 }), (hours) => {
      const counts = new Map<number, number>()
      for (const h of hours) counts.set(durationBucket(h), (counts.get(durationBucket(h)) ?? 0) + 1)
      const m = medianFromBuckets(counts)!
      const sorted = [...hours].sort((a, b) => a - b)
      const lo = sorted[Math.floor((sorted.length - 1) / 2)]!
      const hi = sorted[Math.ceil((sorted.length - 1) / 2)]!
      // The estimate lies in the bucket range spanning the true median(s).
      assert.ok(durationBucket(m) >= durationBucket(lo) - 1 && durationBucket(m) <= durationBucket(hi) + 1, `${m} vs ${lo}..${hi}`)
    }))
  })
})

describe('statistics', () => {
  test('a planted spike scores high against a seasonal baseline; a flat month does not', () => {
    const base = Array.from({ length: 24 }, (_, i) => 10 + 4 * Math.sin((i / 12) * 2 * Math.PI) + (i % 3))
    const spiked = [...base.slice(0, 23), 40]
    assert.ok(scoreLast(spiked)!.score > 3.5)
    assert.ok(Math.abs(scoreLast(base)!.score) < 3.5)
  })
  test('the forecast interval contains the next value of a steady series', () => {
    const months = Array.from({ length: 18 }, (_, i) => addMonths('2025-01', i))
    const values = months.map((_, i) => 20 + i)
    const f = forecastNext(months, values)!
    assert.equal(f.month, '2026-07')
    assert.ok(f.lower <= 38 && 38 <= f.upper, JSON.stringify(f))
  })
  test('topics group texts on the same subject, with diacritics shown', () => {
    const docs = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `a${i}`, text: `Đèn chiếu sáng hỏng ở ngõ ${i}`, category: 'electricity', unit_code: 'U', commune_code: 'C' })),
      ...Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, text: `Rác thải đổ trộm bên suối số ${i}`, category: 'environment', unit_code: 'V', commune_code: 'D' })),
    ]
    const topics = findTopics(docs, { minSize: 5 })
    assert.equal(topics.length, 2)
    assert.ok(topics.some((t) => t.terms.some((x) => x.includes('chiếu sáng') || x.includes('đèn'))))
    assert.ok(topics.some((t) => t.terms.some((x) => x.includes('rác'))))
  })
  test('766 formulas parse only known variables', () => {
    assert.deepEqual(parseFormula('early + on_time / resolved'), { numerator: ['early', 'on_time'], denominator: ['resolved'] })
    assert.throws(() => parseFormula('drop_table / resolved'))
  })
})

describe('monthly analysis finds the planted effects', () => {
  before(async () => {
    await plantHistory()
    hotSpotCodes = await plantHotSpot()
    await platform.ctx.events.dispatchPending(platform.ctx.db, 1000)
  })

  test('spike, hot spot, slow step and topic are found and named in the recommendations', async () => {
    const a = await runAnalysis(platform.ctx.db, PERIOD, NOW)
    
    const spike = a.anomalies.find((x) => x.commune_code === SPIKE.commune && x.category === SPIKE.category)
    assert.ok(spike, JSON.stringify(a.anomalies))
    assert.equal(spike.value, 30)
    assert.ok(spike.baseline > 3 && spike.baseline < 12, `baseline ${spike.baseline}`)
    assert.ok(!a.anomalies.some((x) => x.commune_code !== SPIKE.commune && x.score > 6), 'no other strong anomaly')

    const spot = a.hotspots[0]
    assert.ok(spot, 'a hot spot')
    assert.ok(spot.size >= 12 && hotSpotCodes.every((c) => spot.codes.includes(c)), JSON.stringify(spot))
    assert.ok(Math.abs(spot.lat - DBP.lat) < 0.002 && Math.abs(spot.lon - DBP.lon) < 0.002)

    const late = a.late_dossiers[0]
    assert.ok(late)
    assert.equal(late.unit_code, SLOW.unit)
    assert.equal(late.procedure_code, SLOW.procedure)
    assert.equal(late.slowest_step, SLOW.step)
    assert.ok(late.step_share! > 0.7, String(late.step_share))
    assert.ok(a.late_dossiers.every((d) => d.unit_code === SLOW.unit), 'only the slow unit is late')

    assert.ok(a.topics.some((t) => t.top_unit === '03127' && t.terms.some((x) => /đèn|chiếu|sáng/.test(x))), JSON.stringify(a.topics))

    const recs = a.recommendations
    const spikeRec = recs.find((r) => r.kind === 'spike' && r.unit_code === SPIKE.commune)
    assert.ok(spikeRec && spikeRec.title_vi.includes('Môi trường, rác thải') && spikeRec.title_vi.includes('30'), JSON.stringify(spikeRec))
    const stepRec = recs.find((r) => r.kind === 'slow_step')
    assert.ok(stepRec && stepRec.unit_code === SLOW.unit && stepRec.title_vi.includes('bước "Kiểm tra, trình ký"') && stepRec.title_vi.includes('Đăng ký khai sinh'), stepRec?.title_vi)
    assert.ok(recs.some((r) => r.kind === 'hotspot' && r.unit_code === '03127' && r.title_vi.includes(String(spot.size))))
    assert.ok(recs[0]!.rank === 1 && recs.every((r, i) => i === 0 || recs[i - 1]!.weight >= r.weight), 'ranked')
    assert.ok(a.province.reports.forecast && a.province.reports.forecast.lower <= a.province.reports.forecast.value)
    assert.equal(a.province.reports.months.at(-1), PERIOD)
  })

  test('a low online rate where villages have no community team becomes a campaign naming those villages', async () => {
    const db = platform.ctx.db
    const { importVillagesCsv, listVillages } = await import('../geo/index.ts')
    const { createTeam, addMember, recordActivity } = await import('../community/community.ts')
    const csv = 'name,commune_code,lon,lat,aliases\nBản Noong Bua (kiểm thử),03127,103.0507,21.4174,\nBản Phiêng Lơi (kiểm thử),03127,103.0634,21.4312,\nBản Pá Khoang (kiểm thử),03127,103.0480,21.4294,\n'
    const imp = await importVillagesCsv(db, csv, { source: 'test', actor: 'system', now: NOW })
    assert.ok(imp.imported, JSON.stringify(imp.errors))
    const noongBua = (await listVillages(db, { communeCode: '03127' })).find((v) => v.name.startsWith('Bản Noong Bua'))!
    const team = await createTeam(db, 'user:test', { name: 'Tổ CNS bản Noong Bua', commune_code: '03127', village_id: noongBua.id, partners: ['Viettel Điện Biên'] }, NOW)
    const member = await addMember(db, 'user:test', { team_id: team.id, full_name: 'Quàng Văn Nam', role: 'leader', organisation: 'youth_union' }, NOW)
    await recordActivity(db, 'user:test', { team_id: team.id, member_id: member.id, kind: 'app_install', platform: 'Điện Biên Smart', occurred_at: day(PERIOD, 10).toISOString() }, NOW)
    const a = await runAnalysis(db, PERIOD, NOW)
    // 03127 takes all its dossiers in person (see plantHistory): far under the province's online rate.
    const low = a.online.find((o) => o.unit_code === '03127')
    assert.ok(low?.community, JSON.stringify(a.online))
    assert.deepEqual(low.community.without_team, ['Bản Pá Khoang (kiểm thử)', 'Bản Phiêng Lơi (kiểm thử)'])
    const rec = a.recommendations.find((r) => r.kind === 'online_rate' && r.unit_code === '03127')!
    assert.match(rec.action_vi, /chiến dịch/)
    assert.ok(rec.action_vi.includes('Bản Phiêng Lơi (kiểm thử)') && rec.action_vi.includes('Bản Pá Khoang (kiểm thử)') && !rec.action_vi.includes('Noong Bua'), rec.action_vi)
    assert.match(rec.title_vi, /1\/3 thôn, bản có tổ công nghệ số/)
    // The month's community figures are in the analysis: coverage now, help given in the month.
    assert.equal(a.community.villages_with_team, 1)
    assert.equal(a.community.teams, 1)
    assert.equal(a.community.activities.app_install, 1)
    assert.equal(a.community.by_platform['Điện Biên Smart'], 1)
  })

  test('the optional narrative comes from an OpenAI-compatible endpoint (local server)', async () => {
    const seen: { model?: string; messages?: { role: string; content: string }[] }[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen.push(JSON.parse(body))
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Tháng 9: phản ánh môi trường tăng mạnh tại 03130.' }, finish_reason: 'stop' }] }))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`
      const p = await prepareAnalysis(platform.ctx.db, loadIocConfig({ IOC_LLM_URL: url, IOC_LLM_MODEL: 'local-test' }), PERIOD, NOW)
      assert.equal(p.narrative, 'Tháng 9: phản ánh môi trường tăng mạnh tại 03130.')
      assert.equal(seen[0]!.model, 'local-test')
      assert.ok(seen[0]!.messages!.some((m) => m.content.includes('Môi trường, rác thải')), 'the prompt carries the findings')
      // Off by default; a dead endpoint leaves the report complete without a narrative.
      const off = await prepareAnalysis(platform.ctx.db, loadIocConfig({}), PERIOD, NOW)
      assert.equal(off.narrative, null)
      const dead = await prepareAnalysis(platform.ctx.db, loadIocConfig({ IOC_LLM_URL: 'http://127.0.0.1:1/v1/chat/completions' }), PERIOD, NOW)
      assert.equal(dead.narrative, null)
      assert.match(dead.narrativeError!, /failed/)
      assert.ok(dead.result.recommendations.length > 0)
    } finally {
      server.close()
    }
  })

  test('routes: run on demand, JSON / HTML / PDF, unit scoping, authorization', async () => {
    const db = platform.ctx.db
    const admin = await createTestUser(db, 'province_admin')
    const officerSpike = await createTestUser(db, 'officer', SPIKE.commune)
    const officerOther = await createTestUser(db, 'officer', '03151')
    const viewer = await createTestUser(db, 'ioc_viewer')
    const citizen = await createTestUser(db, 'citizen')
    const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: object) => platform.app.inject({ method, url, headers, payload })

    assert.equal((await inject('POST', '/api/ioc/analyses', {}, { period: PERIOD })).statusCode, 401)
    assert.equal((await inject('POST', '/api/ioc/analyses', citizen.headers, { period: PERIOD })).statusCode, 403)
    assert.equal((await inject('POST', '/api/ioc/analyses', officerSpike.headers, { period: PERIOD })).statusCode, 403)
    assert.equal((await inject('POST', '/api/ioc/analyses', admin.headers, { period: '2026-13' })).statusCode, 400)
    const created = await inject('POST', '/api/ioc/analyses', { ...admin.headers, 'idempotency-key': 'run-1' }, { period: PERIOD })
    assert.equal(created.statusCode, 201, created.body)
    const again = await inject('POST', '/api/ioc/analyses', { ...admin.headers, 'idempotency-key': 'run-1' }, { period: PERIOD })
    assert.equal(again.json().id, created.json().id)
    const id = created.json().id as string

    assert.equal((await inject('GET', '/api/ioc/analyses')).statusCode, 401)
    assert.equal((await inject('GET', '/api/ioc/analyses', citizen.headers)).statusCode, 403)
    const list = await inject('GET', '/api/ioc/analyses', officerSpike.headers)
    assert.equal(list.statusCode, 200)
    assert.ok(list.json().items.some((x: { id: string }) => x.id === id))

    const full = (await inject('GET', `/api/ioc/analyses/${id}`, viewer.headers)).json()
    assert.ok(full.recommendations.some((r: { unit_code: string }) => r.unit_code === SLOW.unit))
    const own = (await inject('GET', `/api/ioc/analyses/${id}`, officerSpike.headers)).json()
    assert.ok(own.recommendations.length >= 1 && own.recommendations.every((r: { unit_code: string }) => r.unit_code === SPIKE.commune))
    assert.equal(own.province.reports.trend.value, full.province.reports.trend.value)
    const other = (await inject('GET', `/api/ioc/analyses/${id}`, officerOther.headers)).json()
    assert.equal(other.recommendations.length, 0)
    assert.equal((await inject('GET', `/api/ioc/analyses/${id}`, citizen.headers)).statusCode, 403)
    assert.equal((await inject('GET', `/api/ioc/analyses/${id}`)).statusCode, 401)
    assert.equal((await inject('GET', '/api/ioc/analyses/00000000-0000-4000-8000-000000000000', admin.headers)).statusCode, 404)
    assert.equal((await inject('GET', '/api/ioc/analyses/not-a-uuid', admin.headers)).statusCode, 400)

    const pdf = await inject('GET', `/api/ioc/analyses/${id}.pdf`, admin.headers)
    assert.equal(pdf.statusCode, 200)
    assert.equal(pdf.headers['content-type'], 'application/pdf')
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-')
    assert.ok(pdf.rawPayload.includes(Buffer.from('DejaVuSans')), 'DejaVu embedded for diacritics')
    assert.equal((await inject('GET', `/api/ioc/analyses/${id}.pdf`, citizen.headers)).statusCode, 403)
    const html = await inject('GET', `/api/ioc/analyses/${id}.html`, officerSpike.headers)
    assert.equal(html.statusCode, 200)
    assert.match(html.body, /Khuyến nghị/)
    assert.match(html.body, /<svg/)
    assert.equal((await inject('GET', `/api/ioc/analyses/${id}.html`)).statusCode, 401)
    assert.equal((await verifyAuditChain(db)).ok, true)
  })

  test('the monthly job runs on the 1st (Asia/Ho_Chi_Minh) through the job runner', async () => {
    const db = platform.ctx.db
    await platform.ctx.jobs.installSchedules(new Date('2026-09-30T12:00:00Z'))
    const { rows: sched } = await sql<{ next_run_at: Date }>`select next_run_at from job_schedules where name = 'ioc.monthly-analysis'`.execute(db)
    assert.equal(sched[0]!.next_run_at.toISOString(), '2026-09-30T23:00:00.000Z') // 06:00 on 1 October in Hanoi
    const before = (await sql<{ n: number }>`select count(*)::int as n from ioc_analyses where trigger = 'schedule'`.execute(db)).rows[0]!.n
    await platform.ctx.jobs.tick(new Date('2026-09-30T23:01:00Z'))
    const { rows } = await sql<{ n: number; period: string }>`select count(*)::int as n, max(period) as period from ioc_analyses where trigger = 'schedule'`.execute(db)
    assert.equal(rows[0]!.n, before + 1)
    assert.equal(rows[0]!.period, PERIOD)
  })
})

/** Rows where the monthly level differs from the daily level summed per month (none expected). */
async function monthlyMismatches(): Promise<number> {
  const db = platform.ctx.db
  const c = 'received, resolved, early, on_time, late, rating_count, rating_sum, satisfied, fee_required, paid_online, digitised, reused'
  const sums = c.split(', ').map((x) => `sum(${x})::int`).join(', ')
  const facts = await sql<{ n: number }>`select count(*)::int as n from (
    (select month, source, unit_code, category, channel, commune_code, ${sql.raw(c)} from ioc_monthly_facts
     except select date_trunc('month', day)::date, source, unit_code, category, channel, commune_code, ${sql.raw(sums)} from ioc_daily_facts group by 1, 2, 3, 4, 5, 6)
    union all
    (select date_trunc('month', day)::date, source, unit_code, category, channel, commune_code, ${sql.raw(sums)} from ioc_daily_facts group by 1, 2, 3, 4, 5, 6
     except select month, source, unit_code, category, channel, commune_code, ${sql.raw(c)} from ioc_monthly_facts)) d`.execute(db)
  const buckets = await sql<{ n: number }>`select count(*)::int as n from (
    (select month, source, unit_code, category, bucket, n from ioc_monthly_duration_buckets
     except select date_trunc('month', day)::date, source, unit_code, category, bucket, sum(n)::int from ioc_duration_buckets group by 1, 2, 3, 4, 5)
    union all
    (select date_trunc('month', day)::date, source, unit_code, category, bucket, sum(n)::int from ioc_duration_buckets group by 1, 2, 3, 4, 5
     except select month, source, unit_code, category, bucket, n from ioc_monthly_duration_buckets)) d`.execute(db)
  return facts.rows[0]!.n + buckets.rows[0]!.n
}

describe('monthly roll-up level', () => {
  test('property: whole months plus edge days cover a period exactly once', () => {
    const dayMs = 86_400_000
    const iso = (t: number) => new Date(t).toISOString().slice(0, 10)
    const start = Date.parse('2023-01-01T00:00:00Z')
    fc.assert(fc.property(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 1100 }), (a, len) => {
      const from = iso(start + a * dayMs)
      const to = iso(start + (a + len) * dayMs)
      const split = splitPeriod({ from, to })
      const covered: string[] = []
      if (split.months) {
        assert.ok(split.months.start.endsWith('-01') && split.months.end.endsWith('-01'))
        for (let t = Date.parse(`${split.months.start}T00:00:00Z`); t < Date.parse(`${split.months.end}T00:00:00Z`); t += dayMs) covered.push(iso(t))
      }
      const edgeDaysPerMonth = new Map<string, number>()
      for (const d of split.days) {
        for (let t = Date.parse(`${d.start}T00:00:00Z`); t < Date.parse(`${d.end}T00:00:00Z`); t += dayMs) {
          covered.push(iso(t))
          edgeDaysPerMonth.set(iso(t).slice(0, 7), (edgeDaysPerMonth.get(iso(t).slice(0, 7)) ?? 0) + 1)
        }
      }
      // Edge days never make up a whole month (those are read from the monthly level).
      for (const [m, n] of edgeDaysPerMonth) {
        const daysInMonth = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)), 0)).getUTCDate()
        assert.ok(n < daysInMonth, `${m}: ${n} edge days`)
      }
      covered.sort()
      const expected: string[] = []
      for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += dayMs) expected.push(iso(t))
      assert.deepEqual(covered, expected)
    }), { numRuns: 300 })
  })

  test('the monthly level always equals the daily level summed per month', async () => {
    assert.equal(await monthlyMismatches(), 0)
  })

  test('indicators over whole and partial months equal the sums of the daily level', async () => {
    const db = platform.ctx.db
    clearAnswerCaches()
    for (const [from, to] of [['2025-08-17', '2026-09-12'], ['2025-01-01', '2026-09-30'], ['2026-09-03', '2026-09-21'], ['2025-10-31', '2025-12-01']] as const) {
      const reports = (await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/reports?from=${from}&to=${to}&group=category` })).json()
      const daily = await sql<{ received: number; resolved: number; late: number }>`select coalesce(sum(received), 0)::int as received, coalesce(sum(resolved), 0)::int as resolved, coalesce(sum(late), 0)::int as late
        from ioc_daily_facts where source = 'report' and day between ${from}::date and ${to}::date`.execute(db)
      assert.deepEqual({ received: reports.total.received, resolved: reports.total.resolved, late: reports.total.late }, daily.rows[0])
      const hist = await sql<{ bucket: number; n: number }>`select bucket, sum(n)::int as n from ioc_duration_buckets where source = 'report' and day between ${from}::date and ${to}::date group by 1`.execute(db)
      assert.equal(reports.total.median_hours_to_resolve, medianFromBuckets(new Map(hist.rows.map((r) => [r.bucket, r.n]))))
      const i766 = (await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/766?from=${from}&to=${to}` })).json()
      const dossiers = await sql<{ received: number; online_received: number; digitised: number }>`select coalesce(sum(received), 0)::int as received,
        coalesce(sum(case when channel = 'online' then received else 0 end), 0)::int as online_received, coalesce(sum(digitised), 0)::int as digitised
        from ioc_daily_facts where source = 'dossier' and day between ${from}::date and ${to}::date`.execute(db)
      const v = i766.province.variables
      assert.deepEqual({ received: v.received, online_received: v.online_received, digitised: v.digitised }, dossiers.rows[0])
    }
    assert.ok((await sql<{ n: number }>`select count(*)::int as n from ioc_monthly_facts`.execute(db)).rows[0]!.n > 0)
  })
})

describe('indicator answer cache', () => {
  test('an answer is reused within the TTL only, failures are not kept, size is bounded, 0 turns it off', async () => {
    let t = 0
    let computed = 0
    const compute = async () => ++computed
    const cache = new AnswerCache<number>(5000, 3, () => t)
    assert.equal(await cache.get('a', compute), 1)
    t = 4999
    assert.equal(await cache.get('a', compute), 1)
    t = 5000
    assert.equal(await cache.get('a', compute), 2)
    await assert.rejects(cache.get('b', async () => { throw new Error('db down') }))
    await Promise.resolve()
    assert.equal(await cache.get('b', compute), 3, 'a failure is computed again')
    for (const k of ['c', 'd', 'e', 'f']) await cache.get(k, compute)
    assert.ok(cache.size <= 3)
    const off = new AnswerCache<number>(0, 3, () => t)
    const before = computed
    assert.equal(await off.get('a', compute), before + 1)
    assert.equal(await off.get('a', compute), before + 2, 'no cache when the TTL is 0')
  })

  test('the route serves the cached answer until the cache is cleared', async () => {
    const db = platform.ctx.db
    clearAnswerCaches()
    const url = '/api/ioc/indicators/reports?from=2024-04-01&to=2024-04-30&group=unit&unit=CACHE1'
    assert.equal((await platform.app.inject({ method: 'GET', url })).json().total.received, 0)
    await db.transaction().execute((tx) => onReportCreated(tx, ev('report.created', { code: 'CACHE-1', unit_code: 'CACHE1', commune_code: 'CACHE1', category: 'other', channel: 'sms', received_at: '2024-04-10T03:00:00Z' }, new Date('2024-04-10T03:00:00Z'))))
    assert.equal((await platform.app.inject({ method: 'GET', url })).json().total.received, 0, 'within the TTL')
    clearAnswerCaches()
    assert.equal((await platform.app.inject({ method: 'GET', url })).json().total.received, 1)
  })
})

describe('indicators', () => {
  test('766 indicators for the province and each unit, public, with weights from the data file', async () => {
    const res = await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/766?from=${PERIOD}-01&to=${PERIOD}-30` })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json()
    const slow = body.units.find((u: { unit_code: string }) => u.unit_code === SLOW.unit)
    const progress = slow.indicators.find((i: { key: string }) => i.key === 'progress')
    assert.equal(progress.denominator, 12)
    assert.equal(progress.value, 0)
    const online = body.units.find((u: { unit_code: string }) => u.unit_code === '03127').indicators.find((i: { key: string }) => i.key === 'online_services')
    assert.equal(online.value, 0)
    assert.ok(body.province.total > 0 && body.province.total <= 100)
    assert.equal(body.province.indicators.reduce((a: number, i: { weight: number }) => a + i.weight, 0), 100)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/indicators/766?from=2026-02-30' })).statusCode, 400)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/indicators/766?from=2020-01-01&to=2026-01-01' })).json().error.code, 'PERIOD_TOO_LONG')
  })

  test('766 indicator 4.3: a dossier received with a component reused from the data store is counted once', async () => {
    const unit = 'REUSE1'
    const at = new Date(`${PERIOD}-12T02:00:00Z`)
    const facts = new Map<string, DossierFactLike>()
    const handle = dossierStatusHandler(async (_db, code) => facts.get(code))
    const base: DossierFactLike = { procedure_code: SLOW.procedure, unit_code: unit, commune_code: null, channel: 'online', received_at: at, submitted_at: at, due_at: null, resolved_at: null, timeliness: null, fee_vnd: 0, payment_status: 'none', digitised_result: false }
    facts.set('REUSE-A', { ...base, reused_components: 2 })
    facts.set('REUSE-B', { ...base, reused_components: 0 })
    for (const code of ['REUSE-A', 'REUSE-B']) {
      const e = ev('dossier.status_changed', { code, from: 1, to: 2, unit_code: unit, step: 'handle', at: at.toISOString() }, at)
      await platform.ctx.db.transaction().execute((tx) => handle(tx, e))
      await platform.ctx.db.transaction().execute((tx) => handle(tx, e)) // delivered twice: counted once
    }
    clearAnswerCaches()
    const body = (await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/766?from=${PERIOD}-01&to=${PERIOD}-28&unit=${unit}` })).json()
    const reuse = body.units[0].indicators.find((i: { key: string }) => i.key === 'data_reuse')
    assert.deepEqual([reuse.numerator, reuse.denominator, reuse.value], [1, 2, 0.5])
    assert.equal(await monthlyMismatches(), 0)
  })

  test('field-report indicators by unit and category with median time to resolve', async () => {
    const res = await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/reports?from=${PERIOD}-01&to=${PERIOD}-30&group=category&unit=${SPIKE.commune}` })
    assert.equal(res.statusCode, 200, res.body)
    const env = res.json().items.find((i: { key: string }) => i.key === 'environment')
    assert.ok(env.received >= 30)
    assert.ok(env.median_hours_to_resolve >= 24 && env.median_hours_to_resolve <= 96, String(env.median_hours_to_resolve))
    assert.equal(env.on_time_rate, 1)
    const byUnit = (await platform.app.inject({ method: 'GET', url: `/api/ioc/indicators/reports?from=${PERIOD}-01&to=${PERIOD}-30` })).json()
    const dbp = byUnit.items.find((i: { key: string }) => i.key === '03127')
    assert.ok(dbp.open >= 12, 'the hot-spot reports are open')
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/ioc/indicators/reports?group=village' })).statusCode, 400)
  })

  test('DX registry: seeded from the province report, CSV import by admins only, history kept', async () => {
    const db = platform.ctx.db
    const list = (await platform.app.inject({ method: 'GET', url: '/api/ioc/indicators/dx' })).json().items as { code: string; latest: { value: number; period: string; source: string }; history: unknown[]; target_met: boolean | null }[]
    const get = (c: string) => list.find((x) => x.code === c)!
    assert.equal(get('digital_economy_grdp').latest.value, 6.63)
    assert.equal(get('sme_digital_platforms').latest.value, 86)
    assert.equal(get('e_tax').latest.value, 97.9)
    assert.equal(get('e_payment_accounts').latest.value, 50)
    assert.equal(get('eid_activation').latest.value, 90)
    assert.equal(get('villages_no_broadband').latest.value, 165)
    assert.equal(get('villages_no_grid_power').latest.value, 128)
    assert.equal(get('villages_no_grid_power').target_met, false)
    assert.match(get('e_tax').latest.source, /Điện Biên/)

    const csv = 'code,name_vi,name_en,unit,direction,period,value,target,source,method\nvillages_no_broadband,,,,,2024,120,0,Sở TT&TT,Đếm thôn bản\nnew_indicator,Chỉ số mới,New indicator,%,up,2024,12.5,30,Thử nghiệm,Tính thử\n'
    const admin = await createTestUser(db, 'province_admin')
    const officer = await createTestUser(db, 'officer', '03127')
    const citizen = await createTestUser(db, 'citizen')
    const post = (headers: Record<string, string>, payload: object) => platform.app.inject({ method: 'POST', url: '/api/ioc/indicators/dx/import', headers, payload })
    assert.equal((await post({}, { csv })).statusCode, 401)
    assert.equal((await post(citizen.headers, { csv })).statusCode, 403)
    assert.equal((await post(officer.headers, { csv })).statusCode, 403)
    const bad = await post(admin.headers, { csv: 'code,period,value,source\nx y,2024,1,s\n' })
    assert.equal(bad.statusCode, 400)
    assert.equal(bad.json().error.code, 'INVALID_DX_ROW')
    const unknown = await post(admin.headers, { csv: 'code,period,value,source\nnever_seen,2024,1,s\n' })
    assert.equal(unknown.json().error.code, 'UNKNOWN_DX_INDICATOR')
    const ok = await post({ ...admin.headers, 'idempotency-key': 'dx-1' }, { csv })
    assert.equal(ok.statusCode, 200, ok.body)
    assert.deepEqual(ok.json(), { indicators_created: 1, values_written: 2 })
    const after = (await platform.app.inject({ method: 'GET', url: '/api/ioc/indicators/dx' })).json().items as typeof list
    const vb = after.find((x) => x.code === 'villages_no_broadband')!
    assert.equal(vb.history.length, 2)
    assert.equal(vb.latest.value, 120)
    assert.ok(after.some((x) => x.code === 'new_indicator'))
  })
})

describe('backfill', () => {
  test('rebuilding from the owning modules gives the same counts for real reports, and pending events are not counted twice', async () => {
    const db = platform.ctx.db
    const real = async () => (await sql<{ n: number }>`select coalesce(sum(received), 0)::int as n from ioc_daily_facts where source = 'report' and unit_code = '03127'`.execute(db)).rows[0]!.n
    // Another real report whose event is still pending when the rebuild runs.
    await submitReport({ db, uploadDir: platform.ctx.config.uploadDir, provinceCode: platform.ctx.config.provinceCode, now: NOW }, { category: 'traffic', description: 'Sạt lở taluy', channel: 'app', ...DBP }, null, { scope: 'test', key: undefined })
    const result = await rebuildRollups(db)
    assert.ok(result.reports >= 14)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from reports where unit_code = '03127'`.execute(db)
    assert.equal(await real(), rows[0]!.n)
    await platform.ctx.events.dispatchPending(db, 1000)
    assert.equal(await real(), rows[0]!.n)
    const open = await sql<{ n: number }>`select count(*)::int as n from ioc_open_items where source = 'report'`.execute(db)
    const openReports = await sql<{ n: number }>`select count(*)::int as n from reports where status in ('received', 'assigned', 'in_progress')`.execute(db)
    assert.equal(open.rows[0]!.n, openReports.rows[0]!.n)
    assert.equal(await monthlyMismatches(), 0)
  })
})
