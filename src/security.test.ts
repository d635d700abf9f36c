import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { InjectOptions } from 'fastify'
import { sql } from 'kysely'
import { createUser } from './modules/identity/index.ts'
import { createTestUser, type TestUser } from './modules/identity/test-factories.ts'
import { toAppError } from './platform/http/error-handler.ts'
import type { Platform } from './platform/runtime.ts'
import { startTestPlatform } from './platform/testing/test-platform.ts'

/**
 * OWASP-style checks over the whole platform: injection, stored XSS, CSRF on cookie sessions,
 * path traversal, upload polyglots, rate limit and lock-out, security headers, and the mapping
 * of database constraint errors to 4xx.
 */
let platform: Platform
let officer: TestUser
let citizen: TestUser
before(async () => {
  platform = await startTestPlatform({ config: { loginMaxFailures: 3 } })
  officer = await createTestUser(platform.ctx.db, 'officer', '11')
  citizen = await createTestUser(platform.ctx.db, 'citizen')
})
after(async () => {
  await platform?.close()
})
const inject = (o: InjectOptions) => platform.app.inject(o)

const HOSTILE = [
  `' OR '1'='1`,
  `'; DROP TABLE users; --`,
  `1) UNION SELECT username, password_hash FROM users --`,
  `%' AND pg_sleep(5) IS NULL --`,
  `\\'; select 1; --`,
  `"><script>alert(1)</script>`,
  `$1 $2 \${x}`,
  `\u0000`,
]

describe('SQL injection in query and body strings', () => {
  test('search, filters and CKAN q/fq/sort answer 2xx/4xx and leave the database intact', async () => {
    const before = (await sql<{ n: number }>`select count(*)::int n from users`.execute(platform.ctx.db)).rows[0].n
    const wrong: string[] = []
    for (const h of HOSTILE) {
      const e = encodeURIComponent(h)
      const urls = [
        `/api/reports?category=${e}&status=${e}`,
        `/api/reports/nearby?lat=21.38&lon=103.02&category=${e}`,
        `/api/procedures?q=${e}`,
        `/api/3/action/package_search?q=${e}`,
        `/api/3/action/package_search?fq=${e}`,
        `/api/3/action/package_search?sort=${e}`,
        `/api/3/action/package_search?fq=${encodeURIComponent(`tags:${h}`)}&sort=${encodeURIComponent(`${h} desc`)}`,
        `/api/3/action/package_show?id=${e}`,
        `/api/geo/units/${e}`,
        `/open311/v2/requests.json?service_code=${e}&status=${e}`,
        `/api/documents?q=${e}`,
      ]
      for (const url of urls) {
        const r = await inject({ method: 'GET', url, headers: url.startsWith('/api/documents') ? officer.headers : {} })
        if (r.statusCode >= 500) wrong.push(`${url}: ${r.statusCode} ${r.body.slice(0, 200)}`)
        if (/syntax error at|relation "\w+" does not exist|column "\w+" does not exist|invalid byte sequence/i.test(r.body)) wrong.push(`${url}: database detail leaked: ${r.body.slice(0, 200)}`)
      }
      const posted = await inject({ method: 'POST', url: '/api/3/action/package_search', payload: { q: h, fq: h, sort: h } })
      if (posted.statusCode >= 500) wrong.push(`POST package_search ${h}: ${posted.statusCode}`)
      const login = await inject({ method: 'POST', url: '/api/auth/login', payload: { username: h.slice(0, 64) || 'x', password: `${h}-long-enough` } })
      if (login.statusCode !== 401 && login.statusCode !== 400) wrong.push(`login ${h}: ${login.statusCode}`)
    }
    assert.deepEqual(wrong, [])
    const after = (await sql<{ n: number }>`select count(*)::int n from users`.execute(platform.ctx.db)).rows[0].n
    assert.equal(after, before, 'the users table is untouched')
  })
})

describe('stored XSS', () => {
  test('text stored through the API is escaped in the open data HTML pages', async () => {
    const name = `xss-${process.pid}`
    const payload = `<script>alert("x")</script><img src=x onerror=alert(1)>`
    const r = await inject({ method: 'POST', url: '/api/data/datasets', headers: officer.headers, payload: { name, title: payload, notes: payload, tags: ['an toàn'] } })
    assert.equal(r.statusCode, 201, r.body)
    for (const url of [`/data/dataset/${name}`, '/data', `/data?q=${encodeURIComponent('script')}`]) {
      const page = await inject({ method: 'GET', url })
      assert.equal(page.statusCode, 200, url)
      assert.match(String(page.headers['content-type']), /text\/html/)
      assert.doesNotMatch(page.body, /<script>alert/, `${url} serves the stored script unescaped`)
      assert.doesNotMatch(page.body, /<img src=x onerror/, `${url} serves the stored tag unescaped`)
    }
    const detail = await inject({ method: 'GET', url: `/data/dataset/${name}` })
    assert.match(detail.body, /&lt;script&gt;alert/, 'the text is shown, escaped')
  })
})

describe('CSRF on cookie sessions', () => {
  test('a cross-site write with the session cookie is refused; same-origin, safe methods and bearer pass', async () => {
    const u = await createTestUser(platform.ctx.db, 'citizen')
    const cookie = `hb_session=${u.token}`
    const foreignOrigin = await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, origin: 'https://evil.example' } })
    assert.equal(foreignOrigin.statusCode, 403)
    assert.equal(foreignOrigin.json().error.code, 'CSRF_REJECTED')
    assert.ok(foreignOrigin.json().error.message_vi && foreignOrigin.json().error.message_en)
    const fetchSite = await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    assert.equal(fetchSite.statusCode, 403)
    assert.equal(fetchSite.json().error.code, 'CSRF_REJECTED')
    const nullOrigin = await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, origin: 'null' } })
    assert.equal(nullOrigin.statusCode, 403)
    // A cross-site read is harmless (SameSite=Lax sends the cookie on top-level GETs anyway).
    assert.equal((await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).statusCode, 200)
    // A bearer token is not sent by browsers on their own: no CSRF risk.
    const viaBearer = await inject({ method: 'POST', url: `/api/reports/PA-2026-999999/support`, headers: { ...citizen.headers, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    assert.notEqual(viaBearer.statusCode, 403)
    // The session survived the refused attempts; a same-origin logout works.
    const same = await inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' } })
    assert.equal(same.statusCode, 200, same.body)
    assert.equal((await inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode, 401)
  })
})

describe('path traversal', () => {
  test('file routes never serve files outside their store', async () => {
    const wrong: string[] = []
    for (const evil of ['..%2F..%2F..%2F..%2Fetc%2Fpasswd', '..%252F..%252Fetc%252Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '....//....//etc/passwd']) {
      for (const url of [
        `/api/reports/${evil}/photos/0`,
        `/api/reports/PA-2026-000001/photos/${evil}`,
        `/api/reports/PA-2026-000001/photos/${evil}/thumb`,
        `/api/documents/${evil}/file`,
        `/api/dossiers/${evil}/slips/receipt.pdf`,
        `/data/dataset/${evil}`,
        `/docs/static/${evil}`,
        `/${evil}`,
      ]) {
        const r = await inject({ method: 'GET', url, headers: officer.headers })
        if (r.statusCode >= 500 || r.statusCode === 200 && /root:x:0:0/.test(r.body)) wrong.push(`${url}: ${r.statusCode}`)
      }
    }
    assert.deepEqual(wrong, [])
  })
})

describe('upload polyglots', () => {
  test('a file declared as an image but holding HTML or a script is refused', async () => {
    const boundary = '----hbpolyglot'
    const fields = { category: 'road', description: 'Ổ gà lớn giữa đường, nguy hiểm cho xe máy vào ban đêm.', lat: '21.386', lon: '103.023' }
    const parts: Buffer[] = []
    for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="photos"; filename="x.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`))
    parts.push(Buffer.from('GIF89a/*<html><script>alert(1)</script>*/=1;'), Buffer.from('\r\n'), Buffer.from(`--${boundary}--\r\n`))
    const r = await inject({ method: 'POST', url: '/api/reports', payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } })
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${r.statusCode} ${r.body}`)
    assert.ok(r.json().error.code)
  })
})

describe('rate limit and lock-out', () => {
  test('repeated wrong passwords lock the account (423), even for the right password afterwards', async () => {
    const username = `lock.${process.pid}`
    await createUser(platform.ctx.db, null, { username, displayName: 'Lock', role: 'citizen', unitCode: null, password: 'correct horse battery' })
    for (let i = 0; i < 3; i++) {
      assert.equal((await inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'wrong password here' } })).statusCode, 401)
    }
    const locked = await inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'correct horse battery' } })
    assert.equal(locked.statusCode, 423)
    assert.equal(locked.json().error.code, 'ACCOUNT_LOCKED')
  })

  test('too many requests from one address get 429 with Retry-After', async () => {
    const limited = await startTestPlatform({ config: { rateLimitPerIp: 5, dataDir: `/tmp/hoaban-test-ratelimit-${process.pid}` } })
    try {
      const codes: number[] = []
      for (let i = 0; i < 8; i++) codes.push((await limited.app.inject({ method: 'GET', url: '/api/geo/units' })).statusCode)
      assert.deepEqual(codes.slice(0, 5), [200, 200, 200, 200, 200])
      const r = await limited.app.inject({ method: 'GET', url: '/api/geo/units' })
      assert.equal(r.statusCode, 429)
      assert.equal(r.json().error.code, 'RATE_LIMITED')
      assert.ok(Number(r.headers['retry-after']) > 0)
    } finally {
      await limited.close()
    }
  })
})

describe('security headers', () => {
  test('CSP with frame-ancestors, nosniff, HSTS and no framing', async () => {
    for (const url of ['/api/calendar/holidays', '/data']) {
      const r = await inject({ method: 'GET', url })
      const csp = String(r.headers['content-security-policy'])
      assert.match(csp, /default-src 'self'/)
      assert.match(csp, /frame-ancestors 'self'|frame-ancestors 'none'/)
      assert.match(csp, /object-src 'none'/)
      assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/)
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      assert.match(String(r.headers['x-frame-options']), /SAMEORIGIN|DENY/)
      assert.match(String(r.headers['strict-transport-security']), /max-age=\d+/)
      assert.equal(r.headers['x-powered-by'], undefined)
    }
  })
})

describe('database constraint errors map to 4xx', () => {
  test('foreign key, check, not-null and unique violations are client errors with a code', () => {
    const cases: [string, number][] = [['23503', 409], ['23514', 400], ['23502', 400], ['23505', 409], ['22P02', 400]]
    for (const [code, status] of cases) {
      const e = toAppError(Object.assign(new Error('violates constraint'), { code }))
      assert.equal(e.statusCode, status, code)
      assert.ok(e.messageVi && e.messageEn)
    }
  })

  test('a real foreign key violation through the database is a 409, not a 500', async () => {
    let caught: unknown
    try {
      await sql`insert into sessions (token_hash, user_id, kind, provider, expires_at) values ('x', '00000000-0000-0000-0000-000000000000', 'bearer', 'test', now())`.execute(platform.ctx.db)
    } catch (err) {
      caught = err
    }
    assert.ok(caught, 'the insert must fail')
    assert.equal(toAppError(caught).statusCode, 409)
  })
})
