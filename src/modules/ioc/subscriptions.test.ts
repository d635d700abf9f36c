import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startSmtpServer } from '../../platform/notifications/test-servers.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'

// The monthly analysis sent to its subscribers: e-mail with the PDF attached (to a real local
// SMTP server) and the in-app inbox, each with the view the subscriber's role allows, once.
let platform: Platform
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let admin: TestUser, officer: TestUser, viewer: TestUser, citizen: TestUser, leaver: TestUser
let clockMs = Date.parse('2026-06-10T03:00:00Z')

before(async () => {
  smtp = await startSmtpServer()
  platform = await startTestPlatform({
    clock: () => new Date(clockMs),
    config: { env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMTP_FROM: 'IOC Điện Biên <ioc@dienbien.gov.vn>', IOC_PUBLIC_URL: 'https://ioc.dienbien.example' } } as never,
  })
  const db = platform.ctx.db
  ;[admin, officer, viewer, citizen, leaver] = await Promise.all([createTestUser(db, 'province_admin'), createTestUser(db, 'officer', '03127'), createTestUser(db, 'ioc_viewer'), createTestUser(db, 'citizen'), createTestUser(db, 'officer', '03158')])
})
after(async () => {
  await platform?.close()
  await smtp?.close()
})

const inject = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, user: TestUser | null, payload?: unknown) =>
  platform.app.inject({ method, url, headers: user?.headers ?? {}, ...(payload !== undefined ? { payload: payload as object } : {}) })

async function drain(): Promise<void> {
  await platform.ctx.events.dispatchPending(platform.ctx.db)
  clockMs += 2 * 3600_000
  for (let i = 0; i < 100 && (await platform.ctx.jobs.runOne(new Date(clockMs))); i++);
}

test('who may subscribe: staff and IOC viewers; citizens and anonymous may not; bad input is a 400', async () => {
  assert.equal((await inject('GET', '/api/ioc/subscription', null)).statusCode, 401)
  assert.equal((await inject('PUT', '/api/ioc/subscription', citizen, { channels: ['in_app'] })).statusCode, 403)
  const noEmail = await inject('PUT', '/api/ioc/subscription', officer, { channels: ['email'] })
  assert.equal(noEmail.statusCode, 400)
  assert.equal(noEmail.json().error.code, 'EMAIL_REQUIRED')
  assert.equal((await inject('PUT', '/api/ioc/subscription', officer, { channels: ['sms'] })).statusCode, 400)
  assert.equal((await inject('GET', '/api/ioc/subscription', officer)).json().subscribed, false)
})

test('an analysis reaches each subscriber once: the PDF attached by e-mail, the inbox, the view their role allows', async () => {
  const sub = async (u: TestUser, body: unknown) => {
    const r = await inject('PUT', '/api/ioc/subscription', u, body)
    assert.equal(r.statusCode, 200, r.body)
    return r.json()
  }
  assert.deepEqual((await sub(admin, { channels: ['email', 'in_app'], email: 'chutich@dienbien.example' })).channels, ['email', 'in_app'])
  await sub(officer, { channels: ['email'], email: 'canbo.thanhbinh@dienbien.example' })
  await sub(viewer, { channels: ['in_app'] })
  await sub(leaver, { channels: ['email'], email: 'leaver@dienbien.example' })
  assert.equal((await inject('DELETE', '/api/ioc/subscription', leaver)).json().subscribed, false)

  const run = await inject('POST', '/api/ioc/analyses', admin, { period: '2026-05' })
  assert.equal(run.statusCode, 201, run.body)
  const id = run.json().id as string
  await drain()
  await drain() // a second pass delivers nothing twice

  const mails = smtp.mails.filter((m) => m.data.includes('2026-05'))
  assert.deepEqual(mails.map((m) => m.to[0]).sort(), ['canbo.thanhbinh@dienbien.example', 'chutich@dienbien.example'])
  for (const m of mails) {
    assert.match(m.data, /Content-Type: application\/pdf/i)
    assert.match(m.data, /phan-tich-ioc-2026-05\.pdf/)
    // The text part is quoted-printable: join its soft line breaks before looking for the link.
    assert.ok(m.data.replace(/=\r?\n/g, '').includes(`https://ioc.dienbien.example/api/ioc/analyses/${id}.html`), 'the link to the web page')
    // The attachment is a real PDF: decode its base64 part.
    const part = m.data.split(/Content-Type: application\/pdf/i)[1]!
    const b64 = part.split(/\r?\n\r?\n/)[1]!.split(/\r?\n--/)[0]!.replace(/\s+/g, '')
    assert.equal(Buffer.from(b64, 'base64').subarray(0, 5).toString(), '%PDF-')
  }
  const deliveries = (await sql<{ user_id: string; scope: string }>`select user_id::text as user_id, scope from ioc_analysis_deliveries where analysis_id = ${id}::uuid order by scope`.execute(platform.ctx.db)).rows
  const uid = (u: TestUser) => (u.principal as { userId: string }).userId
  assert.deepEqual(deliveries.map((d) => [d.user_id, d.scope]).sort(), [[uid(admin), 'province'], [uid(officer), 'unit:03127'], [uid(viewer), 'province']].sort())
  // The inbox: the admin and the viewer; the officer chose e-mail only; the leaver nothing.
  const inbox = async (u: TestUser) => ((await inject('GET', '/api/notifications', u)).json().items as { subject: string; link: string }[]).filter((n) => n.subject?.includes('2026-05'))
  assert.equal((await inbox(admin)).length, 1)
  assert.equal((await inbox(admin))[0]!.link, `/api/ioc/analyses/${id}.html`)
  assert.equal((await inbox(viewer)).length, 1)
  assert.equal((await inbox(officer)).length, 0)
  assert.equal((await inbox(leaver)).length, 0)
  const audit = (await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'ioc.analysis_delivered' and entity_id = ${id}`.execute(platform.ctx.db)).rows[0]!.n
  assert.equal(audit, 3)
})
