// Two server processes on one PostgreSQL database, under load from clients spread over both:
// - scheduled jobs run once per due time (a due schedule becomes one job, run by one node, once);
// - dossier codes (per agency per day) and outgoing document numbers (per agency per year) stay
//   gapless and unique, report codes unique;
// - an idempotent retry sent to the OTHER node (after the answer, or at the same moment) returns
//   the first answer and writes nothing more;
// - the audit chain verifies afterwards.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createTestUser, type TestUser } from '../../src/modules/identity/test-factories.ts'
import { verifyAuditChain } from '../../src/platform/audit/audit-log.ts'
import { openDatabase } from '../../src/platform/db/database.ts'
import { createScratchDatabase } from '../../src/platform/testing/scratch-database.ts'
import { startServerProcess, type ServerProcess } from '../../src/platform/testing/server-process.ts'

const PG_URL = process.env.TEST_DATABASE_URL
const DBP = { lat: 21.3856, lon: 103.0167 }
/** Birth registration: commune level, no fee, online; needs to_khai and giay_chung_sinh. */
const PROCEDURE = '1.001193'
const PDF = Buffer.from('%PDF-1.4\n% two-nodes\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

type Kind = 'report' | 'dossier' | 'document'
interface Req { kind: Kind; key: string; user?: TestUser; n: number }

test('two-nodes: two servers on one database; jobs once per due time, gapless registers, cross-node idempotent retries, audit chain verifies', { timeout: 240_000 }, async () => {
  assert.ok(PG_URL, 'TEST_DATABASE_URL is required (npm run test:resilience sets it)')
  const scratch = await createScratchDatabase(PG_URL, `hb_res_2nodes_${process.pid}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-res-2nodes-'))
  const nodes: ServerProcess[] = []
  const env = { DATABASE_URL: scratch.url, DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_CLIENT: '100000000', LOG_LEVEL: 'warn' }
  let database: Awaited<ReturnType<typeof openDatabase>> | undefined
  try {
    // Node A migrates; node B starts on the migrated database (both run jobs).
    nodes.push(await startServerProcess(env))
    assert.equal(nodes[0].child.exitCode, null, nodes[0].output())
    nodes.push(await startServerProcess(env))
    assert.equal(nodes[1].child.exitCode, null, nodes[1].output())
    database = await openDatabase({ databaseUrl: scratch.url, dataDir, poolSize: 2 })
    const db = database.db
    const { rows: units } = await sql<{ code: string }>`select code from org_units where kind = 'commune' order by code limit 1`.execute(db)
    const commune = units[0].code
    const citizens = await Promise.all(Array.from({ length: 4 }, () => createTestUser(db, 'citizen')))
    const clerk = await createTestUser(db, 'officer', commune)

    const send = (node: ServerProcess, r: Req): Promise<Response> => {
      if (r.kind === 'report') {
        return fetch(`${node.url}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': r.key }, body: JSON.stringify({ category: 'traffic', description: `two-nodes report ${r.n}`, ...DBP }) })
      }
      if (r.kind === 'document') {
        return fetch(`${node.url}/api/documents/outgoing`, { method: 'POST', headers: { ...clerk.headers, 'content-type': 'application/json', 'idempotency-key': r.key }, body: JSON.stringify({ doc_type: 'CV', summary: `two-nodes document ${r.n}` }) })
      }
      const form = new FormData()
      form.set('procedure_code', PROCEDURE)
      form.set('commune_code', commune)
      form.set('applicant_name', `Lò Thị Hai Nút ${r.n}`)
      form.set('applicant_phone', '0912345678')
      form.set('to_khai', new Blob([PDF], { type: 'application/pdf' }), 'to-khai.pdf')
      form.set('giay_chung_sinh', new Blob([PDF], { type: 'application/pdf' }), 'giay-chung-sinh.pdf')
      return fetch(`${node.url}/api/dossiers`, { method: 'POST', headers: { ...r.user!.headers, 'idempotency-key': r.key }, body: form })
    }
    const idOf = (kind: Kind, body: { code?: string; number?: number; symbol?: string }) => (kind === 'document' ? `${body.number}|${body.symbol}` : String(body.code))

    const kinds: Kind[] = ['report', 'dossier', 'document']
    const requests: Req[] = Array.from({ length: 180 }, (_, n) => ({ kind: kinds[n % 3], key: randomUUID(), user: citizens[n % citizens.length], n }))
    const answers = new Map<string, string>()
    const problems: string[] = []
    let sameAnswerRetries = 0
    let raced = 0
    let next = 0
    const started = Date.now()
    const worker = async (w: number) => {
      while (next < requests.length) {
        const i = next++
        const r = requests[i]
        const home = nodes[i % 2]
        const other = nodes[(i + 1) % 2]
        if (i % 10 === 3) {
          // The same request to both nodes at the same moment (a client retrying on timeout via a
          // load balancer): one write, both answers the same.
          raced++
          const [a, b] = await Promise.all([send(home, r), send(other, r)])
          const [ta, tb] = [await a.text(), await b.text()]
          if (a.status !== 201 || b.status !== 201) { problems.push(`race ${r.kind} ${a.status} ${ta} / ${b.status} ${tb}`); continue }
          const [ia, ib] = [idOf(r.kind, JSON.parse(ta)), idOf(r.kind, JSON.parse(tb))]
          if (ia !== ib) problems.push(`race ${r.kind}: ${ia} != ${ib}`)
          answers.set(r.key, ia)
          continue
        }
        const res = await send(home, r)
        const text = await res.text()
        if (res.status !== 201) { problems.push(`${r.kind} ${res.status} ${text}`); continue }
        const id = idOf(r.kind, JSON.parse(text))
        answers.set(r.key, id)
        if ((i + w) % 4 === 0) {
          // The client did not see the answer and retries on the other node.
          const again = await send(other, r)
          const t2 = await again.text()
          if (again.status !== 201 || idOf(r.kind, JSON.parse(t2)) !== id) problems.push(`retry ${r.kind} on the other node: ${again.status} ${t2} (first ${id})`)
          else sameAnswerRetries++
        }
      }
    }
    // Meanwhile, make every schedule due twice, in two different minutes (a due schedule is queued
    // under the key name@minute, so a real cron's due times are always distinct); both nodes poll
    // the schedules every 2 s and race to claim them.
    const ROUNDS = 2
    const forced: string[] = []
    const scheduling = (async () => {
      let lastMinute = ''
      for (let round = 0; round < ROUNDS; round++) {
        // Force in seconds 5..40 of a minute not used before, so the claims fall in that minute.
        for (;;) {
          const d = new Date()
          const minute = d.toISOString().slice(0, 16)
          if (minute !== lastMinute && d.getUTCSeconds() >= 5 && d.getUTCSeconds() <= 40) { lastMinute = minute; break }
          await new Promise((r) => setTimeout(r, 500))
        }
        forced.push(new Date().toISOString())
        await sql`update job_schedules set next_run_at = now() - interval '1 second'`.execute(db)
        // Both nodes see it within a poll; one claims each schedule (its next_run_at moves on).
        const end = Date.now() + 15_000
        while (Date.now() < end) {
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from job_schedules where next_run_at <= now()`.execute(db)
          if (rows[0].n === 0) break
          await new Promise((r) => setTimeout(r, 200))
        }
        await new Promise((r) => setTimeout(r, 4500)) // both nodes tick at least twice more: nothing is queued again
      }
    })()
    await Promise.all([...Array.from({ length: 8 }, (_, w) => worker(w)), scheduling])
    const loadMs = Date.now() - started
    assert.deepEqual(problems, [], 'every request and every cross-node retry answered 201 with the first answer')
    assert.equal(answers.size, requests.length)

    // Jobs: each schedule was queued once per forced due time and each job ran exactly once.
    const schedules = (await sql<{ name: string }>`select name from job_schedules order by name`.execute(db)).rows.map((r) => r.name)
    assert.ok(schedules.length >= 5, `schedules installed: ${schedules.join(', ')}`)
    const jobs = (await sql<{ name: string; status: string; attempts: number; last_error: string | null; dedupe_key: string }>`
      select name, status, attempts, last_error, dedupe_key from jobs
      where name in (select name from job_schedules) and created_at >= ${forced[0]}::timestamptz - interval '1 minute'`.execute(db)).rows
    // Each forced due time was queued for every schedule under its minute's key, once (a natural
    // due time in the same minute is the same key, so it is merged, never run twice).
    for (const name of schedules) {
      for (const at of forced) {
        const key = `${name}@${at.slice(0, 16)}`
        assert.equal(jobs.filter((j) => j.dedupe_key === key).length, 1, `${key} queued once: ${JSON.stringify(jobs.filter((j) => j.name === name))}`)
      }
    }
    // A job that succeeded was claimed once (a second claim would count a second attempt); a job
    // that failed is retried later with back-off, by design, and is left out of this check.
    const ranTwice = jobs.filter((j) => j.last_error === null && (j.status !== 'done' || j.attempts !== 1))
    assert.deepEqual(ranTwice, [], 'every scheduled job that succeeded ran exactly once')
    const failed = jobs.filter((j) => j.last_error !== null)

    // Registers: dossier codes of the commune today 1..n, outgoing numbers of the year 1..n.
    const dossierCodes = (await sql<{ code: string }>`select code from dossiers where unit_code = ${commune} order by code`.execute(db)).rows.map((r) => r.code)
    const dossierAnswers = requests.filter((r) => r.kind === 'dossier').map((r) => answers.get(r.key)!)
    assert.equal(dossierCodes.length, dossierAnswers.length, 'one dossier per submission, none doubled by retries')
    assert.deepEqual([...dossierAnswers].sort(), dossierCodes, 'the stored dossiers are exactly the acknowledged ones')
    const seqs = dossierCodes.map((c) => Number(c.split('-').pop())).sort((a, b) => a - b)
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'dossier codes of the day are gapless from 1')
    const docNumbers = (await sql<{ number: number }>`select number from documents where agency_code = ${commune} and direction = 'outgoing' order by number`.execute(db)).rows.map((r) => Number(r.number))
    assert.deepEqual(docNumbers, Array.from({ length: requests.filter((r) => r.kind === 'document').length }, (_, i) => i + 1), 'outgoing register numbers gapless from 1, none doubled')
    const reportCodes = (await sql<{ code: string; description: string }>`select code, description from reports where description like 'two-nodes report %'`.execute(db)).rows
    assert.equal(reportCodes.length, requests.filter((r) => r.kind === 'report').length, 'one report per request')
    assert.equal(new Set(reportCodes.map((r) => r.code)).size, reportCodes.length, 'report codes unique')
    assert.equal(new Set(reportCodes.map((r) => r.description)).size, reportCodes.length, 'no report doubled')

    const v = await verifyAuditChain(db)
    assert.ok(v.ok, `audit chain broken: ${JSON.stringify(v.firstBroken)}`)
    console.log(`# two-nodes: ${requests.length} writes (${dossierCodes.length} dossiers, ${docNumbers.length} documents, ${reportCodes.length} reports) over 2 nodes in ${loadMs} ms; ${sameAnswerRetries} retries on the other node, ${raced} simultaneous pairs; ${jobs.length} scheduled jobs for ${schedules.length} schedules x ${ROUNDS} due times; audit rows ${v.rows}; ${failed.length} jobs failed on this bare database (${[...new Set(failed.map((j) => j.name))].join(', ')})`)
  } finally {
    await database?.close()
    for (const n of nodes) {
      n.child.kill('SIGTERM')
      await n.exited
    }
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
