import assert from 'node:assert/strict'
import { createDecipheriv, createECDH, createHmac, randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import { createTestUser } from '../../modules/identity/test-factories.ts'
import { publishEvent } from '../events/outbox.ts'
import { AppError } from '../http/errors.ts'
import type { Platform } from '../runtime.ts'
import { startTestPlatform } from '../testing/test-platform.ts'
import { enqueueNotification, getNotification, type NotificationRequest } from './index.ts'
import { startHttpRecorder, startSmtpServer } from './test-servers.ts'

let platform: Platform
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let sms: Awaited<ReturnType<typeof startHttpRecorder>>
let push: Awaited<ReturnType<typeof startHttpRecorder>>
/** What the SMS gateway answers next (a queue; empty: 200). */
const smsAnswers: number[] = []
/** What the push service answers per endpoint path (default 201). */
const pushAnswers = new Map<string, number>()
/** The test clock: each drain moves it two hours on, past any back-off. */
let clockMs = Date.now()

before(async () => {
  smtp = await startSmtpServer({ reply: (rcpt) => (rcpt.startsWith('later@') ? '451 4.3.0 mailbox busy, try later' : rcpt.startsWith('nobody@') ? '550 5.1.1 no such user' : undefined) })
  sms = await startHttpRecorder(() => ({ status: smsAnswers.shift() ?? 200, body: '{"status":"accepted"}' }))
  push = await startHttpRecorder((r) => ({ status: pushAnswers.get(r.url) ?? 201 }))
  platform = await startTestPlatform({
    config: {
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_FROM: 'Hoa Ban <thongbao@dienbien.gov.vn>',
        SMS_GATEWAY_URL: `${sms.url}/api/sms?to={to}`,
        SMS_GATEWAY_AUTH_HEADER: 'Authorization: Bearer sms-secret',
        NOTIFY_TIMEOUT_MS: '3000',
      },
    },
  })
})
after(async () => {
  await platform?.close()
  await smtp?.close()
  await sms?.close()
  await push?.close()
})

async function enqueue(n: NotificationRequest): Promise<string> {
  const id = await platform.ctx.db.transaction().execute((tx) => enqueueNotification(tx, n))
  assert.ok(id)
  return id
}

/** Runs every ready job (sending, retrying) with the clock moved past any back-off. */
async function drain(): Promise<void> {
  clockMs += 2 * 3600_000
  for (let i = 0; i < 200 && (await platform.ctx.jobs.runOne(new Date(clockMs))); i++);
}

describe('e-mail over SMTP', () => {
  test('is sent to a real SMTP server with the Vietnamese text intact, and recorded', async () => {
    const before = smtp.mails.length
    const id = await enqueue({ channel: 'email', to: { email: 'can.bo@dienbien.gov.vn' }, subject: 'Hồ sơ sắp đến hạn', text: 'Hồ sơ H11.01-260301-0001 đến hạn lúc 16:00 ngày mai.', link: '/dossiers/H11.01-260301-0001' })
    assert.equal((await getNotification(platform.ctx.db, id))!.status, 'queued')
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'sent')
    assert.equal(m.attempts, 1)
    assert.match(m.provider_reply ?? '', /250 2\.0\.0 queued/)
    assert.deepEqual(m.attempt_log.map((a) => a.ok), [true])
    const mail = smtp.mails.slice(before).find((x) => x.to.includes('can.bo@dienbien.gov.vn'))
    assert.ok(mail, 'the SMTP server received the mail')
    assert.equal(mail.from, 'thongbao@dienbien.gov.vn')
    const decoded = decodeMime(mail.data)
    assert.match(decoded, /Hồ sơ H11\.01-260301-0001 đến hạn lúc 16:00 ngày mai\./)
    assert.match(decoded, /\/dossiers\/H11\.01-260301-0001/)
  })

  test('a temporary refusal (451) is retried with back-off, then dead-lettered after the last attempt', async () => {
    const id = await enqueue({ channel: 'email', to: { email: 'later@dienbien.gov.vn' }, text: 'Thử lại', maxAttempts: 3 })
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'dead')
    assert.equal(m.attempts, 3)
    assert.deepEqual(m.attempt_log.map((a) => a.ok), [false, false, false])
    assert.ok(m.dead_letter)
    assert.equal(m.dead_letter.attempts, 3)
    assert.match(m.dead_letter.error, /451/)
    const { rows } = await sql<{ status: string }>`select status from jobs where dedupe_key = ${`notification:${id}`}`.execute(platform.ctx.db)
    assert.equal(rows[0].status, 'done', 'the job ends once the dead letter is written')
  })

  test('a permanent refusal (550) goes to the dead letter at once', async () => {
    const id = await enqueue({ channel: 'email', to: { email: 'nobody@dienbien.gov.vn' }, text: 'Không tồn tại', maxAttempts: 5 })
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'dead')
    assert.equal(m.attempts, 1)
    assert.match(m.dead_letter!.error, /550/)
    // Operators see it; nobody else does.
    const officer = await createTestUser(platform.ctx.db, 'officer', '11')
    const admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/notifications/dead-letters' })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/notifications/dead-letters', headers: officer.headers })).statusCode, 403)
    const list = await platform.app.inject({ method: 'GET', url: '/api/notifications/dead-letters?limit=200', headers: admin.headers })
    assert.equal(list.statusCode, 200)
    assert.ok((list.json().items as { message_id: string; channel: string }[]).some((d) => d.message_id === id && d.channel === 'email'))
  })
})

describe('SMS through the HTTP gateway', () => {
  test('fills the URL and body templates, sends the auth header, retries 503 and succeeds', async () => {
    smsAnswers.push(503, 503)
    const before = sms.requests.length
    const id = await enqueue({ channel: 'sms', to: { phone: '+84912345678' }, text: 'Phản ánh PA-2026-000001 đã được xử lý "xong"' })
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'sent')
    assert.equal(m.attempts, 3)
    assert.deepEqual(m.attempt_log.map((a) => a.ok), [false, false, true])
    const reqs = sms.requests.slice(before)
    assert.equal(reqs.length, 3)
    const last = reqs[2]
    assert.equal(last.method, 'POST')
    assert.equal(last.url, '/api/sms?to=%2B84912345678')
    assert.equal(last.headers.authorization, 'Bearer sms-secret')
    assert.deepEqual(JSON.parse(last.body.toString('utf8')), { to: '+84912345678', text: 'Phản ánh PA-2026-000001 đã được xử lý "xong"' })
  })

  test('a 400 from the gateway is permanent: one attempt, dead letter', async () => {
    smsAnswers.push(400)
    const id = await enqueue({ channel: 'sms', to: { phone: '0912000111' }, text: 'Sai số' })
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'dead')
    assert.equal(m.attempts, 1)
    assert.match(m.dead_letter!.error, /gateway refused: 400/)
  })

  test('a gateway that keeps failing ends in a dead letter after max attempts', async () => {
    smsAnswers.push(500, 500, 500, 500)
    const id = await enqueue({ channel: 'sms', to: { phone: '0912000222' }, text: 'Lỗi', maxAttempts: 4 })
    await drain()
    const m = (await getNotification(platform.ctx.db, id))!
    assert.equal(m.status, 'dead')
    assert.equal(m.attempts, 4)
    assert.match(m.dead_letter!.error, /gateway error: 500/)
  })
})

/** A browser's push subscription keys (P-256 key pair and auth secret). */
function browserKeys() {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const auth = randomBytes(16)
  return { ecdh, auth, p256dh: ecdh.getPublicKey().toString('base64url'), authB64: auth.toString('base64url') }
}

/** Decrypts an aes128gcm web push body (RFC 8188 + RFC 8291) as the browser would. */
function decryptPush(body: Buffer, keys: ReturnType<typeof browserKeys>): string {
  const salt = body.subarray(0, 16)
  const idlen = body[20]
  const senderPublic = body.subarray(21, 21 + idlen)
  const cipher = body.subarray(21 + idlen)
  const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest()
  const ecdhSecret = keys.ecdh.computeSecret(senderPublic)
  const prkKey = hmac(keys.auth, ecdhSecret)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.ecdh.getPublicKey(), senderPublic, Buffer.from([1])])
  const ikm = hmac(prkKey, keyInfo)
  const prk = hmac(salt, ikm)
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'binary')).subarray(0, 16)
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'binary')).subarray(0, 12)
  const d = createDecipheriv('aes-128-gcm', cek, nonce)
  d.setAuthTag(cipher.subarray(cipher.length - 16))
  const plain = Buffer.concat([d.update(cipher.subarray(0, cipher.length - 16)), d.final()])
  let end = plain.length - 1
  while (end > 0 && plain[end] === 0) end--
  assert.equal(plain[end], 2, 'last-record padding delimiter')
  return plain.subarray(0, end).toString('utf8')
}

describe('web push and the in-app inbox', () => {
  test('the VAPID public key is public and stable', async () => {
    const a = await platform.app.inject({ method: 'GET', url: '/api/notifications/push/key' })
    const b = await platform.app.inject({ method: 'GET', url: '/api/notifications/push/key' })
    assert.equal(a.statusCode, 200)
    assert.match(a.json().public_key, /^[A-Za-z0-9_-]{80,90}$/)
    assert.equal(a.json().public_key, b.json().public_key)
  })

  test('a saved subscription gets the encrypted, VAPID-signed payload; a gone subscription is disabled', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const keys = browserKeys()
    const endpoint = `${push.url}/push/${randomBytes(6).toString('hex')}`
    const anon = await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', payload: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.authB64 } } })
    assert.equal(anon.statusCode, 401)
    const bad = await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', headers: citizen.headers, payload: { endpoint: 'ftp://x', keys: { p256dh: keys.p256dh, auth: keys.authB64 } } })
    assert.equal(bad.statusCode, 400)
    const saved = await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', headers: { ...citizen.headers, 'idempotency-key': 'sub-1' }, payload: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.authB64 }, expirationTime: null } })
    assert.equal(saved.statusCode, 201)
    const replay = await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', headers: { ...citizen.headers, 'idempotency-key': 'sub-1' }, payload: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.authB64 }, expirationTime: null } })
    assert.equal(replay.headers['idempotent-replayed'], 'true')
    assert.equal(replay.json().id, saved.json().id)

    const before = push.requests.length
    const id = await enqueue({ channel: 'push', to: { userId: citizen.id }, subject: 'Hồ sơ đã có kết quả', text: 'Mời ông/bà đến nhận kết quả', link: '/dossiers/X' })
    await drain()
    assert.equal((await getNotification(platform.ctx.db, id))!.status, 'sent')
    const got = push.requests.slice(before)
    assert.equal(got.length, 1)
    const r = got[0]
    assert.equal(r.method, 'POST')
    assert.equal(r.headers['content-encoding'], 'aes128gcm')
    assert.ok(Number(r.headers.ttl) > 0)
    const publicKey = (await platform.app.inject({ method: 'GET', url: '/api/notifications/push/key' })).json().public_key
    assert.match(String(r.headers.authorization), new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${publicKey}$`))
    assert.ok(!r.body.toString('latin1').includes('nhận kết quả'), 'the payload is encrypted')
    assert.deepEqual(JSON.parse(decryptPush(r.body, keys)), { title: 'Hồ sơ đã có kết quả', body: 'Mời ông/bà đến nhận kết quả', url: '/dossiers/X', id })

    // The push service says the subscription is gone: it is disabled, the message skipped.
    pushAnswers.set(new URL(endpoint).pathname, 410)
    const id2 = await enqueue({ channel: 'push', to: { userId: citizen.id }, text: 'Lần hai' })
    await drain()
    assert.equal((await getNotification(platform.ctx.db, id2))!.status, 'skipped')
    const { rows } = await sql<{ disabled_at: Date | null }>`select disabled_at from push_subscriptions where endpoint = ${endpoint}`.execute(platform.ctx.db)
    assert.ok(rows[0].disabled_at)
  })

  test('removing a subscription: only my own (404 for another user), 204 for mine', async () => {
    const a = await createTestUser(platform.ctx.db, 'citizen')
    const b = await createTestUser(platform.ctx.db, 'citizen')
    const keys = browserKeys()
    const endpoint = `${push.url}/push/${randomBytes(6).toString('hex')}`
    assert.equal((await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', headers: a.headers, payload: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.authB64 } } })).statusCode, 201)
    const url = `/api/notifications/push/subscriptions?endpoint=${encodeURIComponent(endpoint)}`
    assert.equal((await platform.app.inject({ method: 'DELETE', url })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'DELETE', url, headers: b.headers })).statusCode, 404)
    assert.equal((await platform.app.inject({ method: 'DELETE', url, headers: a.headers })).statusCode, 204)
    assert.equal((await platform.app.inject({ method: 'DELETE', url, headers: a.headers })).statusCode, 404)
  })

  test('dossier.citizen_notice is delivered in-app (and by push when subscribed), once per event', async () => {
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const other = await createTestUser(platform.ctx.db, 'citizen')
    const keys = browserKeys()
    const endpoint = `${push.url}/push/${randomBytes(6).toString('hex')}`
    await platform.app.inject({ method: 'POST', url: '/api/notifications/push/subscriptions', headers: citizen.headers, payload: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.authB64 } } })
    await platform.ctx.db.transaction().execute((tx) => publishEvent(tx, 'dossier.citizen_notice', { user_id: citizen.id, code: 'H11.01-260301-0007', status: 9, message_vi: 'Hồ sơ của bạn đã được giải quyết.', message_en: 'Your dossier was resolved.' }))
    await platform.ctx.events.dispatchPending(platform.ctx.db)
    const before = push.requests.length
    await drain()
    const inbox = await platform.app.inject({ method: 'GET', url: '/api/notifications', headers: citizen.headers })
    assert.equal(inbox.statusCode, 200)
    const items = inbox.json().items as { id: string; text: string; subject: string; link: string; read_at: string | null }[]
    assert.equal(items.length, 1)
    assert.equal(items[0].text, 'Hồ sơ của bạn đã được giải quyết.')
    assert.equal(items[0].subject, 'Hồ sơ H11.01-260301-0007')
    assert.equal(items[0].link, '/dossiers/H11.01-260301-0007')
    assert.equal(inbox.json().unread, 1)
    const pushed = push.requests.slice(before).filter((r) => r.url === new URL(endpoint).pathname)
    assert.equal(pushed.length, 1)
    assert.equal(JSON.parse(decryptPush(pushed[0].body, keys)).body, 'Hồ sơ của bạn đã được giải quyết.')

    // Another citizen sees nothing and cannot mark it read.
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/notifications', headers: other.headers })).json().items.length, 0)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/notifications/${items[0].id}/read`, headers: other.headers })).statusCode, 404)
    assert.equal((await platform.app.inject({ method: 'POST', url: `/api/notifications/${items[0].id}/read` })).statusCode, 401)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/notifications' })).statusCode, 401)
    const read = await platform.app.inject({ method: 'POST', url: `/api/notifications/${items[0].id}/read`, headers: citizen.headers })
    assert.equal(read.statusCode, 200)
    const after = (await platform.app.inject({ method: 'GET', url: '/api/notifications?unread=true', headers: citizen.headers })).json()
    assert.equal(after.items.length, 0)
    assert.equal(after.unread, 0)
  })

  test('in-app messages to a unit reach its staff, not citizens nor other units', async () => {
    const officer = await createTestUser(platform.ctx.db, 'officer', '11')
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const text = `Thông báo cho đơn vị ${randomBytes(3).toString('hex')}`
    await enqueue({ channel: 'in_app', to: { unitCode: '11' }, text })
    const mine = (await platform.app.inject({ method: 'GET', url: '/api/notifications?limit=100', headers: officer.headers })).json().items as { text: string; for_unit: string }[]
    assert.ok(mine.some((m) => m.text === text && m.for_unit === '11'))
    const theirs = (await platform.app.inject({ method: 'GET', url: '/api/notifications?limit=100', headers: citizen.headers })).json().items as { text: string }[]
    assert.ok(!theirs.some((m) => m.text === text))
  })

  test('the same dedupe key records one message; bad requests are refused with a clear error', async () => {
    const u = await createTestUser(platform.ctx.db, 'citizen')
    const key = `dedupe-${randomBytes(4).toString('hex')}`
    const first = await platform.ctx.db.transaction().execute((tx) => enqueueNotification(tx, { channel: 'in_app', to: { userId: u.id }, text: 'Một lần', dedupeKey: key }))
    const second = await platform.ctx.db.transaction().execute((tx) => enqueueNotification(tx, { channel: 'in_app', to: { userId: u.id }, text: 'Một lần', dedupeKey: key }))
    assert.ok(first)
    assert.equal(second, null)
    for (const bad of [
      { channel: 'email', to: { email: 'not-an-address' }, text: 'x' },
      { channel: 'sms', to: { phone: 'abc' }, text: 'x' },
      { channel: 'push', to: {}, text: 'x' },
      { channel: 'in_app', to: { userId: u.id }, text: '' },
      { channel: 'in_app', to: { userId: u.id }, text: 'x', link: 'javascript:alert(1)' },
    ] as NotificationRequest[]) {
      await assert.rejects(platform.ctx.db.transaction().execute((tx) => enqueueNotification(tx, bad)), (e: unknown) => e instanceof AppError && e.statusCode === 400 && e.code === 'INVALID_NOTIFICATION')
    }
  })
})

/** Decodes quoted-printable / base64 bodies enough to read the text part. */
function decodeMime(data: string): string {
  const [, body = ''] = data.split(/\r\n\r\n/, 2).length > 1 ? [null, data.slice(data.indexOf('\r\n\r\n') + 4)] : [null, data]
  if (/Content-Transfer-Encoding: base64/i.test(data)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (/Content-Transfer-Encoding: quoted-printable/i.test(data)) {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    return Buffer.from(bytes, 'latin1').toString('utf8')
  }
  return body
}
