import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../../platform/audit/audit-log.ts'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { seedSampleVillages } from '../../geo/index.ts'
import { createTestUser } from '../../identity/test-factories.ts'
import { RATE_LIMITED_REPLY } from './parser.ts'
import { signSmsWebhook } from './signature.ts'

const SECRET = 'test-sms-secret-0123456789'
let platform: Platform
let baseUrl: string

before(async () => {
  platform = await startTestPlatform({ config: { env: { SMS_WEBHOOK_SECRET: SECRET, SMS_RATE_LIMIT_PER_HOUR: '5' } } })
  await seedSampleVillages(platform.ctx.db, new Date())
  // The gateway talks to a real listening server over a real socket.
  baseUrl = await platform.app.listen({ port: 0, host: '127.0.0.1' })
})
after(async () => {
  await platform?.close()
})

let seq = 0
const nextId = () => `SM${Date.now()}${seq++}`
const nowSec = () => String(Math.floor(Date.now() / 1000))

async function send(body: string, contentType: string, opts: { sign?: boolean; timestamp?: string; signature?: string } = {}) {
  const timestamp = opts.timestamp ?? nowSec()
  const headers: Record<string, string> = { 'content-type': contentType }
  if (opts.sign !== false) {
    headers['x-hoaban-timestamp'] = timestamp
    headers['x-hoaban-signature'] = opts.signature ?? signSmsWebhook(SECRET, timestamp, body)
  }
  const res = await fetch(`${baseUrl}/api/sms/inbound`, { method: 'POST', body, headers })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

const sendJson = (msg: { message_id: string; from: string; text: string }, opts = {}) => send(JSON.stringify(msg), 'application/json', opts)
const replyOf = (r: { text: string }) => JSON.parse(r.text).reply as { to: string; text: string } | null

async function reportsWith(description: string) {
  return (await sql<{ code: string; channel: string; commune_code: string; reporter_phone: string; lat: number | null; address_text: string }>`
    select code, channel, commune_code, reporter_phone, st_y(location) as lat, address_text from reports where description = ${description}`.execute(platform.ctx.db)).rows
}

test('a signed JSON message makes a routed, numbered SMS report and replies with its code', async () => {
  const r = await sendJson({ message_id: nextId(), from: '0912 345 678', text: 'PA GT ban men duong vao ban sat lo nang' })
  assert.equal(r.status, 200, r.text)
  const reply = replyOf(r)!
  assert.equal(reply.to, '0912 345 678')
  const code = /PA-\d{4}-\d{6}/.exec(reply.text)?.[0]
  assert.ok(code, reply.text)
  assert.ok(reply.text.length <= 160)
  assert.match(reply.text, /Ban Men/)
  const rows = await reportsWith('duong vao ban sat lo nang')
  assert.equal(rows.length, 1)
  assert.deepEqual([rows[0].code, rows[0].channel, rows[0].commune_code, rows[0].reporter_phone], [code, 'sms', '03328', '+84912345678'])
  assert.ok(rows[0].lat !== null, 'located at the village')
  // The phone number is never published.
  const pub = await platform.app.inject({ method: 'GET', url: `/api/reports/${code}` })
  assert.equal(pub.statusCode, 200)
  assert.doesNotMatch(pub.body, /912345678|912 345 678/)
  const feed = await platform.app.inject({ method: 'GET', url: '/api/reports?limit=200' })
  assert.doesNotMatch(feed.body, /912345678/)
})

test('gateway retries (same message id), also concurrent, never duplicate', async () => {
  const msg = { message_id: nextId(), from: '+84987000111', text: 'PA MT Muong Nhe rac thai do ra suoi gan truong' }
  const first = await sendJson(msg)
  const again = await sendJson(msg)
  assert.equal(again.status, 200)
  assert.equal(again.headers.get('idempotent-replayed'), 'true')
  assert.deepEqual(replyOf(again), replyOf(first))
  assert.equal((await reportsWith('rac thai do ra suoi gan truong')).length, 1)

  const burst = { message_id: nextId(), from: '+84987000222', text: 'PA DI Ban Phang mat dien tu toi qua' }
  const answers = await Promise.all([sendJson(burst), sendJson(burst), sendJson(burst)])
  assert.ok(answers.every((a) => a.status === 200))
  assert.equal(new Set(answers.map((a) => replyOf(a)!.text)).size, 1)
  assert.equal((await reportsWith('mat dien tu toi qua')).length, 1)
})

test('Twilio-like form format: TwiML reply; a correction hint for a bad message', async () => {
  const ok = await send(new URLSearchParams({ MessageSid: nextId(), From: '+84912000333', To: '8077', Body: 'pa nu tia dinh mat nuoc ba ngay', AccountSid: 'AC1' }).toString(), 'application/x-www-form-urlencoded')
  assert.equal(ok.status, 200, ok.text)
  assert.match(ok.headers.get('content-type') ?? '', /text\/xml/)
  assert.match(ok.text, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>Da nhan phan anh PA-\d{4}-\d{6} \(NU\)/)
  const bad = await send(new URLSearchParams({ MessageSid: nextId(), From: '+84912000333', Body: 'PA XX Tia Dinh mat nuoc' }).toString(), 'application/x-www-form-urlencoded')
  assert.equal(bad.status, 200)
  assert.match(bad.text, /Khong hieu ma linh vuc/)
  assert.match(bad.text, /GT,MT/)
})

test('signature: missing, forged, tampered body, stale timestamp are refused with 401', async () => {
  const body = JSON.stringify({ message_id: nextId(), from: '+84912000444', text: 'PA GT Ban Men duong hong' })
  assert.equal((await send(body, 'application/json', { sign: false })).status, 401)
  assert.equal((await send(body, 'application/json', { signature: signSmsWebhook('wrong-secret', nowSec(), body) })).status, 401)
  const ts = nowSec()
  const sig = signSmsWebhook(SECRET, ts, body)
  const tampered = await send(body.replace('duong hong', 'duong tot'), 'application/json', { timestamp: ts, signature: sig })
  assert.equal(tampered.status, 401)
  assert.equal(JSON.parse(tampered.text).error.code, 'INVALID_SIGNATURE')
  const old = String(Math.floor(Date.now() / 1000) - 3600)
  const stale = await send(body, 'application/json', { timestamp: old, signature: signSmsWebhook(SECRET, old, body) })
  assert.equal(stale.status, 401)
  assert.equal(JSON.parse(stale.text).error.details.reason, 'expired')
  assert.equal((await reportsWith('duong hong')).length, 0)
  // Signed, but not a message: a clear 400.
  const notMsg = await send('{"hello":1}', 'application/json')
  assert.equal(notMsg.status, 400)
})

test('TT returns the status, HD returns help', async () => {
  const created = replyOf(await sendJson({ message_id: nextId(), from: '+84912000555', text: 'PA GD Ban Mon truong hoc dot mai' }))!
  const code = /PA-\d{4}-\d{6}/.exec(created.text)![0]
  const status = replyOf(await sendJson({ message_id: nextId(), from: '+84912000555', text: `tt ${code.toLowerCase()}` }))!
  assert.match(status.text, new RegExp(`^${code}: Da tiep nhan`))
  const missing = replyOf(await sendJson({ message_id: nextId(), from: '+84912000555', text: 'TT PA-1999-000001' }))!
  assert.match(missing.text, /Khong tim thay/)
  const help = replyOf(await sendJson({ message_id: nextId(), from: '+84912000555', text: 'hd' }))!
  assert.match(help.text, /PA <ma> <xa\/ban> <noi dung>/)
})

test('per-number rate limit (stored): one explanation, then silence; other numbers unaffected', async () => {
  const phone = '+84966000777'
  const replies = []
  for (let i = 0; i < 7; i++) replies.push(replyOf(await sendJson({ message_id: nextId(), from: phone, text: 'hd' })))
  assert.ok(replies.slice(0, 5).every((r) => r && /PA <ma>/.test(r.text)))
  assert.equal(replies[5]?.text, RATE_LIMITED_REPLY)
  assert.equal(replies[6], null)
  const stored = await sql<{ n: number }>`select count(*)::int as n from sms_inbound_messages where phone = ${phone} and outcome = 'rate_limited'`.execute(platform.ctx.db)
  assert.equal(stored.rows[0].n, 2)
  const other = replyOf(await sendJson({ message_id: nextId(), from: '+84966000888', text: 'hd' }))
  assert.match(other!.text, /PA <ma>/)
})

test('hotline: an operator enters a report for a caller by village, commune or pin; authorization; retry-safe', async () => {
  const officer = await createTestUser(platform.ctx.db, 'officer', '03328')
  const citizen = await createTestUser(platform.ctx.db, 'citizen')
  const village = (await platform.app.inject({ method: 'GET', url: '/api/places/search?q=ban%20men&kind=village' })).json().items[0]
  assert.equal(village.name, 'Bản Mển')
  const body = { category: 'traffic', description: 'Người gọi báo cầu treo Bản Mển bị đứt cáp', place: { village_id: village.id }, caller: { name: 'Lò Văn Pâng', phone: '0914 000 999' } }
  const post = (headers: Record<string, string>, payload: unknown = body) => platform.app.inject({ method: 'POST', url: '/api/reports/hotline', payload: payload as object, headers })
  assert.equal((await post({})).statusCode, 401)
  assert.equal((await post(citizen.headers)).statusCode, 403)
  assert.equal((await post({}, { nonsense: true })).statusCode, 401, 'authorization before validation')
  const res = await post({ ...officer.headers, 'idempotency-key': 'call-1' })
  assert.equal(res.statusCode, 201, res.body)
  const a = res.json()
  assert.equal(a.channel, 'hotline')
  assert.equal(a.commune.code, '03328')
  assert.match(a.read_back_vi, new RegExp(a.code))
  const again = await post({ ...officer.headers, 'idempotency-key': 'call-1' })
  assert.equal(again.json().code, a.code)
  const rows = await reportsWith(body.description)
  assert.equal(rows.length, 1)
  assert.deepEqual([rows[0].channel, rows[0].reporter_phone], ['hotline', '0914 000 999'])
  const rec = await sql<{ reporter_user_id: string }>`select reporter_user_id::text as reporter_user_id from reports where code = ${a.code}`.execute(platform.ctx.db)
  assert.equal(rec.rows[0].reporter_user_id, officer.id, 'the operator is recorded')
  const byCommune = await post(officer.headers, { category: 'water', description: 'Mất nước cả xã', place: { commune_code: '03160' }, anonymous: true })
  assert.equal(byCommune.statusCode, 201)
  assert.equal(byCommune.json().locate_status, 'manual')
  const pin = await post(officer.headers, { category: 'water', description: 'Vỡ ống nước', place: { lat: 21.3856, lon: 103.0167 } })
  assert.equal(pin.json().commune.code, '03127')
  const none = await post(officer.headers, { category: 'water', description: 'Không rõ ở đâu', place: {} })
  assert.equal(none.statusCode, 400)
  assert.equal(none.json().error.code, 'LOCATION_REQUIRED')
})

test('the audit chain stays valid and records SMS handling', async () => {
  const v = await verifyAuditChain(platform.ctx.db)
  assert.ok(v.ok, JSON.stringify(v.firstBroken))
  const n = await sql<{ n: number }>`select count(*)::int as n from audit_log where action in ('sms.received', 'sms.answered')`.execute(platform.ctx.db)
  assert.ok(n.rows[0].n > 10)
})
