import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createTestUser } from './test-factories.ts'
import { createUser } from './users.ts'

let platform: Platform
const login = (username: string, password: string, mode?: 'cookie' | 'token') =>
  platform.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password, ...(mode ? { mode } : {}) } })

before(async () => {
  platform = await startTestPlatform({ config: { loginMaxFailures: 3, loginLockMinutes: 15 } })
})
after(async () => {
  await platform?.close()
})

describe('login and sessions', () => {
  test('a cookie login sets an HttpOnly, SameSite cookie that authenticates later requests', async () => {
    await createUser(platform.ctx.db, null, { username: 'cookie.user', displayName: 'C', role: 'citizen', unitCode: null, password: 'correct horse battery' })
    const res = await login('cookie.user', 'correct horse battery')
    assert.equal(res.statusCode, 200, res.body)
    const setCookie = String(res.headers['set-cookie'])
    assert.match(setCookie, /hb_session=/)
    assert.match(setCookie, /HttpOnly/)
    assert.match(setCookie, /SameSite=Lax/)
    assert.equal(res.json().token, undefined, 'cookie mode does not expose the token')
    const cookie = setCookie.split(';')[0]
    const me = await platform.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })
    assert.equal(me.json().role, 'citizen')
    assert.equal((await platform.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } })).statusCode, 200)
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode, 401)
  })

  test('a token login returns a bearer token for apps', async () => {
    await createUser(platform.ctx.db, null, { username: 'app.user', displayName: 'A', role: 'citizen', unitCode: null, password: 'correct horse battery' })
    const res = await login('app.user', 'correct horse battery', 'token')
    const me = await platform.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${res.json().token}` } })
    assert.equal(me.statusCode, 200)
  })

  test('wrong passwords lock the account after the limit, and the lock is audited', async () => {
    const u = await createUser(platform.ctx.db, null, { username: 'lock.user', displayName: 'L', role: 'citizen', unitCode: null, password: 'correct horse battery' })
    for (let i = 0; i < 3; i++) assert.equal((await login('lock.user', 'wrong')).statusCode, 401)
    const locked = await login('lock.user', 'correct horse battery')
    assert.equal(locked.statusCode, 423)
    assert.equal(locked.json().error.code, 'ACCOUNT_LOCKED')
    const audit = await sql<{ action: string }>`select action from audit_log where entity_id = ${u.id} order by id`.execute(platform.ctx.db)
    assert.deepEqual(audit.rows.map((r) => r.action), ['user.created', 'user.login_failed', 'user.login_failed', 'user.locked_out'])
  })

  test('an unknown user and a wrong password get the same answer', async () => {
    const a = await login('nobody.here', 'whatever')
    assert.equal(a.statusCode, 401)
    assert.equal(a.json().error.code, 'INVALID_CREDENTIALS')
  })

  test('passwords are stored as argon2id hashes', async () => {
    const row = (await sql<{ password_hash: string }>`select password_hash from users where username = 'cookie.user'`.execute(platform.ctx.db)).rows[0]
    assert.match(row.password_hash, /^\$argon2id\$/)
  })
})

describe('accounts: who may create whom', () => {
  test('anyone may register as a citizen; a weak password is refused', async () => {
    const ok = await platform.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'new.citizen', password: 'long enough password', display_name: 'Mùa A Dính' } })
    assert.equal(ok.statusCode, 201, ok.body)
    assert.equal(ok.json().role, 'citizen')
    const weak = await platform.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'weak.citizen', password: 'short', display_name: 'W' } })
    assert.equal(weak.statusCode, 400)
    const dup = await platform.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'new.citizen', password: 'long enough password', display_name: 'X' } })
    assert.equal(dup.statusCode, 409)
  })

  test('a unit admin creates officers of their own unit only', async () => {
    const admin = await createTestUser(platform.ctx.db, 'unit_admin', '03127')
    const own = await platform.app.inject({ method: 'POST', url: '/api/identity/users', headers: admin.headers, payload: { username: 'officer.own', password: 'long enough password', display_name: 'O', role: 'officer', unit_code: '03127' } })
    assert.equal(own.statusCode, 201, own.body)
    const other = await platform.app.inject({ method: 'POST', url: '/api/identity/users', headers: admin.headers, payload: { username: 'officer.other', password: 'long enough password', display_name: 'O', role: 'officer', unit_code: '11.SXD' } })
    assert.equal(other.statusCode, 403)
    const promote = await platform.app.inject({ method: 'POST', url: '/api/identity/users', headers: admin.headers, payload: { username: 'admin.other', password: 'long enough password', display_name: 'O', role: 'province_admin' } })
    assert.equal(promote.statusCode, 403)
    const list = (await platform.app.inject({ method: 'GET', url: '/api/identity/users?unit_code=11.SXD', headers: admin.headers })).json()
    assert.ok(list.items.every((u: { unit_code: string }) => u.unit_code === '03127'), 'scoped to own unit whatever the filter')
  })

  test('officers and citizens cannot create or list accounts', async () => {
    for (const role of ['officer', 'citizen', 'ioc_viewer'] as const) {
      const u = await createTestUser(platform.ctx.db, role, role === 'officer' ? '03127' : null)
      const res = await platform.app.inject({ method: 'POST', url: '/api/identity/users', headers: u.headers, payload: { username: `x.${role}`, password: 'long enough password', display_name: 'X', role: 'officer', unit_code: '03127' } })
      assert.equal(res.statusCode, 403, role)
      assert.equal((await platform.app.inject({ method: 'GET', url: '/api/identity/users', headers: u.headers })).statusCode, 403)
    }
    assert.equal((await platform.app.inject({ method: 'GET', url: '/api/identity/users' })).statusCode, 401)
  })

  test('a province admin registers an API client whose key authenticates; a bad key is a 401', async () => {
    const admin = await createTestUser(platform.ctx.db, 'province_admin', '11')
    const res = await platform.app.inject({ method: 'POST', url: '/api/identity/clients', headers: admin.headers, payload: { name: 'SMS gateway', scopes: ['reports:write'] } })
    assert.equal(res.statusCode, 201, res.body)
    const key = res.json().api_key
    assert.match(key, /^hb_[0-9a-f]{12}_/)
    const stored = await sql<{ n: number }>`select count(*)::int as n from api_clients where key_hash = ${key}`.execute(platform.ctx.db)
    assert.equal(stored.rows[0].n, 0, 'the key itself is never stored')
    const sms = await platform.app.inject({ method: 'POST', url: '/api/reports', headers: { 'x-api-key': key }, payload: { category: 'water', description: 'Mất nước (SMS)', channel: 'sms', commune_code: '03127' } })
    assert.equal(sms.statusCode, 201, sms.body)
    const bad = await platform.app.inject({ method: 'GET', url: '/api/reports/categories', headers: { 'x-api-key': 'hb_000000000000_wrongwrongwrongwrongwrong' } })
    assert.equal(bad.statusCode, 401)
    const officer = await createTestUser(platform.ctx.db, 'officer', '03127')
    assert.equal((await platform.app.inject({ method: 'POST', url: '/api/identity/clients', headers: officer.headers, payload: { name: 'x', scopes: [] } })).statusCode, 403)
  })

  test('org units include the communes and departments', async () => {
    const units = (await platform.app.inject({ method: 'GET', url: '/api/identity/units' })).json().items
    assert.equal(units.filter((u: { kind: string }) => u.kind === 'commune').length, 45)
    assert.ok(units.some((u: { code: string }) => u.code === '11.PCDB'))
  })
})
