import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { calendarModule } from '../calendar/index.ts'
import { complianceModule } from '../compliance/index.ts'
import { geoModule } from '../geo/index.ts'
import { identityModule } from '../identity/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { createServer } from 'node:http'
import { exchangeConfig } from './config.ts'
import { answerHeaders, forwardedPath, type GatewayDeps } from './gateway.ts'
import { installLeanGateway, SystemRateLimiter } from './lean-gateway.ts'
import { exchangeModule, exchangeRuntime } from './index.ts'
import { adoptOrphanJournals, MessageLog, readLogRows, verifyMessageLog } from './message-log.ts'
import { loadSigningKey } from './signing.ts'
import { checkProviderHealth } from './stats.ts'
import { callFacts, grant, rawCall, registerService, registerSystem, startProvider } from './test-helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'hb-exchange-'))
let platform: Platform
let base: string
let provider: Awaited<ReturnType<typeof startProvider>>
let admin: TestUser, officerSYT: TestUser, officerSXD: TestUser, citizen: TestUser
let caller: { id: string; api_key: string }, noRight: { id: string; api_key: string }, expired: { id: string; api_key: string }, grouped: { id: string; api_key: string }
let serviceId: string

before(async () => {
  provider = await startProvider()
  platform = await startTestPlatform({
    modules: [geoModule, identityModule, calendarModule, exchangeModule, complianceModule],
    config: { env: { EXCHANGE_DIR: dir, EXCHANGE_NODE: 'gw-test', EXCHANGE_LOG_FLUSH_MS: '20' } } as never,
  })
  const db = platform.ctx.db
  ;[admin, officerSYT, officerSXD, citizen] = await Promise.all([createTestUser(db, 'province_admin'), createTestUser(db, 'officer', '11.SYT'), createTestUser(db, 'officer', '11.SXD'), createTestUser(db, 'citizen')])
  const his = await registerSystem(platform, admin, { code: 'SYT', unit: '11.SYT' }, 'his')
  serviceId = (await registerService(platform, admin, his.id, 'patients', `${provider.url}/api/v1`, { timeout_ms: 500, max_request_bytes: 1000, max_response_bytes: 100_000, health_path: '/health' })).id
  caller = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'permits')
  noRight = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'archive')
  expired = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'old')
  grouped = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'grouped')
  const now = Date.now()
  await grant(platform, admin, { service_id: serviceId, system_id: caller.id, valid_from: new Date(now - 86400_000).toISOString(), valid_until: new Date(now + 30 * 86400_000).toISOString() })
  await grant(platform, admin, { service_id: serviceId, system_id: expired.id, valid_from: new Date(now - 10 * 86400_000).toISOString(), valid_until: new Date(now - 86400_000).toISOString() })
  const g = await platform.app.inject({ method: 'POST', url: '/api/exchange/groups', headers: admin.headers, payload: { code: 'construction', name: 'Construction systems', system_ids: [grouped.id] } })
  assert.equal(g.statusCode, 200)
  await grant(platform, admin, { service_id: serviceId, group_code: 'construction' })
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  const addr = platform.app.server.address() as { port: number }
  base = `http://127.0.0.1:${addr.port}`
})
after(async () => {
  await platform?.close()
  await provider?.close()
})

const gw = (path: string, key: string | undefined, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}) =>
  rawCall(base, init.method ?? 'GET', `/gw/SYT/patients${path}`, { ...(key ? { 'x-exchange-key': key } : {}), ...(init.headers ?? {}) }, init.body, { chunked: init.chunked })

test('a known caller with a valid right reaches the provider, which learns who calls', async () => {
  const r = await gw('/records/42?full=1', caller.api_key, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
  assert.equal(r.status, 200)
  const echo = r.json()
  assert.equal(echo.url, '/api/v1/records/42?full=1')
  assert.equal(echo.body, '{"a":1}')
  assert.equal(echo.headers['x-hoaban-client'], 'SXD/permits')
  assert.match(echo.headers['x-hoaban-request-id'], /^[0-9a-f-]{36}$/)
  assert.equal(echo.headers['x-hoaban-service'], 'SYT/patients/v1')
  assert.equal(echo.headers['x-exchange-key'], undefined, 'the caller key never reaches the provider')
  assert.equal(r.headers['x-provider'], 'yes')
  assert.equal(r.headers['x-hoaban-request-id'], echo.headers['x-hoaban-request-id'])
  assert.equal(r.headers['x-hoaban-client'], undefined, "the provider's x-hoaban-* headers are dropped")
  assert.equal(r.headers['keep-alive'], undefined, 'hop-by-hop headers are not passed back')
  // A right through a group works too.
  assert.equal((await gw('/x', grouped.api_key)).status, 200)
  // A provider's 4xx/5xx is passed through as is.
  const s = await gw('/status/404', caller.api_key)
  assert.equal(s.status, 404)
})

test('the lean listener answers /gw/ first; the Fastify route (inject) gives the same answer', async () => {
  const viaSocket = await gw('/records?x=1', caller.api_key)
  const viaInject = await platform.app.inject({ method: 'GET', url: '/gw/SYT/patients/records?x=1', headers: { 'x-exchange-key': caller.api_key } })
  assert.equal(viaSocket.status, 200)
  assert.equal(viaInject.statusCode, 200)
  assert.equal(viaSocket.json().url, viaInject.json().url)
  assert.equal(viaSocket.json().headers['x-hoaban-client'], 'SXD/permits')
  assert.equal(viaInject.json().headers['x-hoaban-client'], 'SXD/permits')
  const refused = await gw('/records', 'hbx_nothing.nothing')
  const refusedInject = await platform.app.inject({ method: 'GET', url: '/gw/SYT/patients/records', headers: { 'x-exchange-key': 'hbx_nothing.nothing' } })
  assert.equal(refused.status, refusedInject.statusCode)
  assert.equal(refused.json().error.code, refusedInject.json().error.code)
  // other paths still go to Fastify
  const other = await rawCall(base, 'GET', '/api/exchange/log/public-key')
  assert.equal(other.status, 200)
})

test('per-system rate limit on the lean path: 429 RATE_LIMITED in vi + en, other systems unaffected, logged', async () => {
  const rt = exchangeRuntime(platform.ctx)
  const cfg = { ...exchangeConfig(platform.ctx.config), rateLimitPerSystem: 2 }
  const deps: GatewayDeps = { cfg, registry: rt.registry, log: rt.log, pools: rt.pools, clock: platform.ctx.clock }
  const server = createServer((_req, res) => { res.statusCode = 418; res.end() })
  installLeanGateway(server, deps)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const b = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  try {
    const hit = (key: string) => rawCall(b, 'GET', '/gw/SYT/patients/records', { 'x-exchange-key': key })
    assert.equal((await hit(caller.api_key)).status, 200)
    assert.equal((await hit(caller.api_key)).status, 200)
    const third = await hit(caller.api_key)
    assert.equal(third.status, 429)
    assert.equal(third.json().error.code, 'RATE_LIMITED')
    assert.match(third.json().error.message_vi, /quá nhiều/)
    assert.match(third.json().error.message_en, /too many/)
    assert.ok(Number(third.headers['retry-after']) >= 1)
    assert.equal((await hit(grouped.api_key)).status, 200)
    assert.equal((await rawCall(b, 'GET', '/elsewhere')).status, 418)
    await rt.log.flush()
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from exchange_message_log where record like ${'%"outcome":"RATE_LIMITED"%'}`.execute(platform.ctx.db)
    assert.ok(Number(rows[0].n) >= 1)
  } finally {
    await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) })
  }
})

test('answer headers from the provider\'s raw list: hop-by-hop, Connection-named and X-HoaBan-* dropped, repeated names kept as lists', () => {
  const raw = ['Content-Type', 'application/json', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Connection', 'keep-alive, X-Internal', 'X-Internal', 'secret',
    'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'X-HoaBan-Client', 'forged', '__proto__', 'x', 'X-Kept', 'yes'].map((v) => Buffer.from(v, 'latin1'))
  const h = answerHeaders(raw, 'req-1')
  assert.deepEqual({ ...h }, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], ['__proto__']: 'x', 'x-kept': 'yes', 'x-hoaban-request-id': 'req-1' })
  assert.equal(Object.getPrototypeOf(h), null, 'a header named __proto__ is a plain entry, not a prototype')
})

test('a system\'s key is hashed once per registry snapshot: a checked key is remembered, a wrong one never, and a new snapshot starts empty', async () => {
  const { newGatewayKey } = await import('./registry.ts')
  const { decideAccess } = await import('./gateway.ts')
  const k = newGatewayKey()
  const system = { id: 's1', member_code: 'SXD', code: 'permits', name: 'Permits', api_key_prefix: k.prefix, api_key_hash: k.hash, tls_client_fingerprint: null, created_at: new Date(), unit_code: '11.SXD' }
  const service = { id: 'v1', member_code: 'SYT', code: 'patients', version: 'v1' } as unknown as import('./registry.ts').ServiceRow
  const right = { id: 'r1', service_id: 'v1', system_id: 's1', group_code: null, valid_from: new Date(0), valid_until: null, revoked_at: null, created_by: 'x', created_at: new Date(0), access_level: 'shared' as const, can_write: false }
  const snapshot = (): import('./registry.ts').RegistrySnapshot => ({ loadedAt: Date.now(), systemsByPrefix: new Map([[k.prefix, system]]), services: new Map([['SYT/patients', service]]), rightsByService: new Map([['v1', [right]]]), groupsBySystem: new Map(), suspensions: new Map(), keysSeen: new Map() })
  const snap = snapshot()
  const decide = (key: string, sn = snap) => decideAccess(sn, key, 'SYT', 'patients', new Date(), null)
  assert.equal(decide(k.key).system.id, 's1')
  assert.deepEqual([...snap.keysSeen.keys()], [k.key])
  // Same prefix, other secret: refused, and not remembered.
  const forged = `${k.key.slice(0, 16)}${'A'.repeat(k.key.length - 16)}`
  assert.throws(() => decide(forged), (e: { code: string }) => e.code === 'EXCHANGE_UNKNOWN_CLIENT')
  assert.equal(snap.keysSeen.size, 1)
  // The remembered key still meets every other check (a suspension in the same snapshot).
  snap.suspensions.set('system:SXD/permits', [{ rule_code: 'NO_LEVEL', subject_kind: 'system', subject_ref: 'SXD/permits', since: new Date(), reason_vi: 'x', reason_en: 'x', fix_vi: 'y', fix_en: 'y' }] as never)
  assert.throws(() => decide(k.key), (e: { code: string }) => e.code === 'SUSPENDED_NO_LEVEL')
  // The next snapshot, loaded after the system was removed, knows nothing of the key.
  const next = { ...snapshot(), systemsByPrefix: new Map() }
  assert.throws(() => decide(k.key, next), (e: { code: string }) => e.code === 'EXCHANGE_UNKNOWN_CLIENT')
})

test('rate limiter windows: a new minute starts a new count', () => {
  let t = 120_000
  const l = new SystemRateLimiter(1, () => t)
  assert.equal(l.take('a'), true)
  assert.equal(l.take('a'), false)
  assert.equal(l.take('b'), true)
  assert.equal(l.retryAfter(), 60)
  t += 60_000
  assert.equal(l.take('a'), true)
})

test('unknown callers get 401, callers without a valid right 403, unknown services 404', async () => {
  const none = await gw('/x', undefined)
  assert.equal(none.status, 401)
  assert.equal(none.json().error.code, 'EXCHANGE_KEY_REQUIRED')
  const bad = await gw('/x', 'gw_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAA')
  assert.equal(bad.status, 401)
  assert.equal(bad.json().error.code, 'EXCHANGE_UNKNOWN_CLIENT')
  const forged = await gw('/x', caller.api_key.slice(0, -2) + 'zz')
  assert.equal(forged.status, 401)
  const nr = await gw('/x', noRight.api_key)
  assert.equal(nr.status, 403)
  assert.equal(nr.json().error.code, 'NO_RIGHT')
  const ex = await gw('/x', expired.api_key)
  assert.equal(ex.status, 403)
  assert.equal(ex.json().error.code, 'RIGHT_NOT_VALID')
  const unknown = await rawCall(base, 'GET', '/gw/SYT/nothing/x', { 'x-exchange-key': caller.api_key })
  assert.equal(unknown.status, 404)
  assert.equal(unknown.json().error.code, 'EXCHANGE_UNKNOWN_SERVICE')
  const before = provider.seen.length
  await gw('/x', noRight.api_key, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })
  assert.equal(provider.seen.length, before, 'a refused call never reaches the provider')
})

test('a revoked right stops working at once', async () => {
  const sys = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'revoked')
  const right = await grant(platform, admin, { service_id: serviceId, system_id: sys.id })
  assert.equal((await gw('/x', sys.api_key)).status, 200)
  const del = await platform.app.inject({ method: 'DELETE', url: `/api/exchange/rights/${right.id}`, headers: admin.headers })
  assert.equal(del.statusCode, 200)
  assert.equal((await gw('/x', sys.api_key)).status, 403)
})

test('a system registered with a client certificate must call over mutual TLS', async () => {
  const sys = await registerSystem(platform, admin, { code: 'SXD', unit: '11.SXD' }, 'mtls', { tls_client_fingerprint: 'ab'.repeat(32) })
  await grant(platform, admin, { service_id: serviceId, system_id: sys.id })
  const r = await gw('/x', sys.api_key)
  assert.equal(r.status, 403)
  assert.equal(r.json().error.code, 'CLIENT_CERTIFICATE_REQUIRED')
})

test('path traversal, plain or encoded, is refused with 400 before anything is forwarded', async () => {
  const before = provider.seen.length
  for (const p of ['/../admin', '/a/%2e%2e/admin', '/%252e%252e/admin', '/a%2fb', '/.%2E/x', '/a/%5c..%5cadmin', '/x%00y']) {
    const r = await gw(p, caller.api_key)
    assert.equal(r.status, 400, p)
    assert.match(r.json().error.code, /^(PATH_TRAVERSAL|INVALID_PATH)$/, p)
  }
  assert.equal(provider.seen.length, before)
  assert.deepEqual(forwardedPath('/gw/A/b/c/d%20e?q=1'), { provider: 'A', service: 'b', rest: 'c/d%20e', query: '?q=1' })
})

test('control characters in the provider or service name are a 400, and the refusal is logged and flushed (a NUL once blocked every later flush)', async () => {
  for (const path of ['/gw/%2Fovn/%00/x', '/gw/SYT%0A/patients/x', '/gw/SYT/pat%01ients/x']) {
    const r = await rawCall(base, 'GET', path, { 'x-exchange-key': caller.api_key })
    assert.equal(r.status, 400, path)
    assert.equal(r.json().error.code, 'INVALID_PATH', path)
    const id = String(r.headers['x-hoaban-request-id'])
    const log = exchangeRuntime(platform.ctx).log
    await log.flush()
    assert.equal(log.pendingCount, 0, 'the refusal record reached the database')
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from exchange_message_log where record like ${`%${id}%`}`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1, path)
  }
})

test('caller-supplied identity and hop-by-hop headers are not passed on', async () => {
  const r = await gw('/h', caller.api_key, {
    headers: { 'x-hoaban-client': 'SYT/his', 'x-hoaban-request-id': 'mine', connection: 'keep-alive, x-secret', 'x-secret': 'hidden', 'x-forwarded-for': '1.2.3.4', cookie: 'hb_session=abc', 'x-custom': 'kept' },
  })
  assert.equal(r.status, 200)
  const h = r.json().headers
  assert.equal(h['x-hoaban-client'], 'SXD/permits')
  assert.notEqual(h['x-hoaban-request-id'], 'mine')
  assert.equal(h['x-secret'], undefined)
  assert.equal(h['x-forwarded-for'], undefined)
  assert.equal(h.cookie, undefined)
  assert.equal(h['x-custom'], 'kept')
})

test('bodies over the limit are refused both ways; a slow provider gives 504', async () => {
  const before = provider.seen.length
  const big = await gw('/x', caller.api_key, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(2000, 1) })
  assert.equal(big.status, 413)
  assert.equal(big.json().error.code, 'REQUEST_TOO_LARGE')
  const chunked = await gw('/x', caller.api_key, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(5000, 32), chunked: true })
  assert.equal(chunked.status, 413)
  assert.equal(provider.seen.length, before, 'nothing reached the provider')
  await exchangeRuntime(platform.ctx).log.flush()
  const logged = (await sql<{ n: number }>`select count(*)::int as n from exchange_message_log where method = 'PUT' and status = 413 and client = 'SXD/permits'`.execute(platform.ctx.db)).rows[0].n
  assert.equal(logged, 1, 'the refused chunked call is in the log too')
  const within = await gw('/x', caller.api_key, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(900, 32), chunked: true })
  assert.equal(within.status, 200)
  const bigRes = await gw('/big?n=200000', caller.api_key)
  assert.equal(bigRes.status, 502)
  assert.equal(bigRes.json().error.code, 'RESPONSE_TOO_LARGE')
  assert.equal((await gw('/big?n=50000', caller.api_key)).body.length, 50000)
  const t0 = Date.now()
  const slow = await gw('/slow', caller.api_key)
  assert.equal(slow.status, 504)
  assert.equal(slow.json().error.code, 'UPSTREAM_TIMEOUT')
  assert.ok(Date.now() - t0 < 2500)
})

test('an unreachable provider: idempotent calls are retried, others are not; both end in 502', async () => {
  const dead = await startProvider()
  const url = dead.url
  await dead.close()
  const his = await registerSystem(platform, admin, { code: 'SYT', unit: '11.SYT' }, 'dead')
  const svc = await registerService(platform, admin, his.id, 'dead', url)
  await grant(platform, admin, { service_id: svc.id, system_id: caller.id })
  const g = await rawCall(base, 'GET', '/gw/SYT/dead/x', { 'x-exchange-key': caller.api_key })
  assert.equal(g.status, 502)
  assert.equal(g.json().error.code, 'UPSTREAM_UNAVAILABLE')
  const p = await rawCall(base, 'POST', '/gw/SYT/dead/x', { 'x-exchange-key': caller.api_key, 'content-type': 'application/json' }, '{}')
  assert.equal(p.status, 502)
})

test('every call is in the signed, chained log; tampering is detected, offline too', async () => {
  const rt = exchangeRuntime(platform.ctx)
  await gw('/log-me', caller.api_key, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secret":"x"}' })
  await rt.log.flush()
  const db = platform.ctx.db
  const rows = []
  for await (const r of readLogRows(db)) rows.push(r)
  assert.ok(rows.length >= 10)
  const pub = createPublicKey(rt.key.publicKeyPem)
  assert.deepEqual(verifyMessageLog(rows, pub), { ok: true, records: rows.length, nodes: 1 })
  const last = JSON.parse(rows[rows.length - 1].record)
  assert.equal(last.client, 'SXD/permits')
  assert.equal(last.request_bytes, 14)
  assert.match(last.request_sha256, /^[0-9a-f]{64}$/)
  assert.equal(last.status, 200)
  const denied = rows.map((r) => JSON.parse(r.record)).find((r) => r.outcome === 'NO_RIGHT')
  assert.equal(denied.client, 'SXD/archive')

  // The log API shows records to the provider's and the caller's units, signed.
  const asSYT = await platform.app.inject({ method: 'GET', url: '/api/exchange/log?limit=5', headers: officerSYT.headers })
  assert.equal(asSYT.statusCode, 200)
  assert.equal(asSYT.json().items.length, 5)
  assert.match(asSYT.json().items[0].signature, /^[A-Za-z0-9+/=]{88}$/)

  // Offline: the command checks an export with only the public key.
  const exportFile = join(dir, 'export.ndjson')
  const pubFile = join(dir, 'pub.pem')
  writeFileSync(pubFile, rt.key.publicKeyPem)
  writeFileSync(exportFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  const run = promisify(execFile)
  const ok = await run(process.execPath, ['--import', 'tsx', 'src/modules/exchange/verify-log-command.ts', '--file', exportFile, '--public-key', pubFile])
  assert.match(ok.stdout, /OK/)

  // Alter one record in the database: the first bad record is named.
  const victim = rows[4]
  await sql`update exchange_message_log set record = replace(record, '"status":', '"status":1') , status = status where node = ${victim.node} and seq = ${victim.seq}`.execute(db)
  const tampered = []
  for await (const r of readLogRows(db)) tampered.push(r)
  const v = verifyMessageLog(tampered, pub)
  assert.equal(v.ok, false)
  assert.equal(v.firstBad?.seq, victim.seq)
  writeFileSync(exportFile, tampered.map((r) => JSON.stringify(r)).join('\n') + '\n')
  await assert.rejects(run(process.execPath, ['--import', 'tsx', 'src/modules/exchange/verify-log-command.ts', '--file', exportFile, '--public-key', pubFile]), (e: { code: number; stdout: string }) => e.code === 1 && e.stdout.includes(`seq ${victim.seq}`))

  // Removing a record breaks the chain at the next one; a record signed by another key fails.
  const gap = rows.filter((r) => r.seq !== 3)
  assert.equal(verifyMessageLog(gap, pub).firstBad?.seq, 4)
  const other = loadSigningKey(undefined, mkdtempSync(join(tmpdir(), 'hb-key-')))
  assert.match(verifyMessageLog(rows, other.publicKey).firstBad?.reason ?? '', /^signature does not verify with the gateway public key/)
  await sql`update exchange_message_log set record = ${victim.record} where node = ${victim.node} and seq = ${victim.seq}`.execute(db)
})

test('records journaled but not yet in the database survive a crash', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const crashDir = mkdtempSync(join(tmpdir(), 'hb-journal-'))
  const first = await MessageLog.open(db, key, { node: 'crash-node', dir: crashDir, flushMs: 1_000_000_000 })
  const facts = (i: number) => callFacts('r', i, { duration_ms: 1.5 })
  for (let i = 0; i < 5; i++) first.append(facts(i))
  assert.equal(first.pendingCount, 5)
  // The five records of this tick are journaled with one write, the last sealed, before any answer.
  await first.written()
  // The process "dies" here: nothing was flushed. A new process opens the same journal.
  const replays: unknown[] = []
  const second = await MessageLog.open(db, key, { node: 'crash-node', dir: crashDir, flushMs: 10, onReplay: (r) => replays.push(r) })
  assert.deepEqual(replays, [{ file: join(crashDir, 'journal-crash-node.ndjson'), replayed: 5, dropped: 0, altered: false }])
  second.append(facts(5))
  await second.close()
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'crash-node') rows.push(r)
  assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6])
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)
  // Each row carries the node's province, the distribution key that ends the table's key (exchange/004).
  const provinces = await sql<{ p: string; n: number }>`select province_code as p, count(*)::int as n from exchange_message_log where node = 'crash-node' group by 1`.execute(db)
  assert.deepEqual(provinces.rows, [{ p: platform.ctx.config.provinceCode, n: 6 }])
})

test('a restarted server (a new node: the default name holds the pid) adopts the journal its dead predecessor answered for; a live node\'s journal is left alone', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const dir = mkdtempSync(join(tmpdir(), 'hb-journal-orphan-'))
  const facts = (i: number) => callFacts('o', i)
  const dead = await MessageLog.open(db, key, { node: 'host-dead', dir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  const alive = await MessageLog.open(db, key, { node: 'host-alive', dir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  for (let i = 0; i < 3; i++) dead.append(facts(i))
  await dead.written()
  alive.append(facts(9))
  await alive.written()
  // host-dead's process is gone: its owner file names a pid that no longer exists.
  const gone = spawnSync(process.execPath, ['-e', '']).pid!
  writeFileSync(join(dir, 'journal-host-dead.owner'), String(gone))
  const restarted = await MessageLog.open(db, key, { node: 'host-new', dir, flushMs: 10, adoptEveryMs: 0 })
  const rows = async (node: string) => {
    const out = []
    for await (const r of readLogRows(db)) if (r.node === node) out.push(r)
    return out
  }
  assert.deepEqual((await rows('host-dead')).map((r) => r.seq), [1, 2, 3], 'the dead node\'s answered records are in the database')
  assert.equal(verifyMessageLog(await rows('host-dead'), key.publicKey).ok, true)
  assert.deepEqual(await rows('host-alive'), [], 'a live node\'s journal is not taken')
  assert.ok(!existsSync(join(dir, 'journal-host-dead.ndjson')) && existsSync(join(dir, 'journal-host-alive.ndjson')))
  await alive.close()
  await restarted.close()
  assert.deepEqual((await rows('host-alive')).map((r) => r.seq), [1])
})

test('a journal replayed by a node of another province (or after PROVINCE_CODE changed) keeps the province that answered: no duplicate under a new key', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const dir = mkdtempSync(join(tmpdir(), 'hb-journal-province-'))
  const facts = (i: number) => callFacts('p', i)
  const log = await MessageLog.open(db, key, { node: 'province-node', dir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  for (let i = 0; i < 3; i++) log.append(facts(i))
  await log.written()
  const journaled = readFileSync(join(dir, 'journal-province-node.ndjson'), 'utf8')
  assert.ok(journaled.split('\n').filter(Boolean).every((l) => JSON.parse(l).province_code === '11'))
  await log.close() // inserted under province 11
  // The same journal adopted twice by a node whose connections carry province 12.
  const gone = spawnSync(process.execPath, ['-e', '']).pid!
  for (let round = 0; round < 2; round++) {
    writeFileSync(join(dir, 'journal-province-node.ndjson'), journaled)
    writeFileSync(join(dir, 'journal-province-node.owner'), String(gone))
    await db.transaction().execute(async (tx) => {
      await sql`select set_config('hoaban.province_code', '12', true)`.execute(tx)
      assert.equal(await adoptOrphanJournals(tx, key, dir, join(dir, 'journal-other.ndjson')), 3)
    })
  }
  const { rows } = await sql<{ province_code: string; n: number }>`select province_code, count(*)::int as n from exchange_message_log where node = 'province-node' group by 1`.execute(db)
  assert.deepEqual(rows, [{ province_code: '11', n: 3 }])
})

test('records are signed once per database insert (not on the answer\'s path); every record is still proven', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const dir = mkdtempSync(join(tmpdir(), 'hb-batch-'))
  const log = await MessageLog.open(db, key, { node: 'batch-node', dir, flushMs: 1_000_000_000 })
  const facts = (i: number) => callFacts('b', i, { path: `/${i}`, duration_ms: 0.5 })
  for (let i = 0; i < 4; i++) log.append(facts(i)) // one tick: one batch
  await log.written()
  for (let i = 4; i < 6; i++) log.append(facts(i)) // the next tick: another batch
  await log.written()
  // In the journal: no signature yet; the last line of each tick's batch carries the batch's seal.
  const journal = readFileSync(join(dir, 'journal-batch-node.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  assert.deepEqual(journal.map((l) => [l.signature, typeof l.seal]), [['', 'undefined'], ['', 'undefined'], ['', 'undefined'], ['', 'string'], ['', 'undefined'], ['', 'string']])
  await log.flush() // one insert of six: one signature
  log.append(facts(6))
  await log.written()
  await log.flush() // an insert of one
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'batch-node') rows.push(r)
  await log.close()
  assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7])
  assert.deepEqual(rows.map((r) => r.signature !== ''), [false, false, false, false, false, true, true])
  // every record's record text is the canonical JSON the verifier recomputes
  assert.deepEqual(verifyMessageLog(rows, key.publicKey), { ok: true, records: 7, nodes: 1 })

  // Altering a record inside a batch: its own hash no longer matches.
  const altered = rows.map((r) => ({ ...r }))
  altered[2].record = altered[2].record.replace('"status":200', '"status":201')
  altered[2].columns = { ...altered[2].columns, status: 201 } // the forger edits the column too
  assert.deepEqual(verifyMessageLog(altered, key.publicKey).firstBad, { node: 'batch-node', seq: 3, reason: 'hash does not match the record (the record was altered)' })
  // ... and if the forger recomputes its hash and every following link, the batch's signature fails.
  const { sha256Hex } = await import('./message-log.ts')
  const { canonicalJson } = await import('../../platform/canonical-json.ts')
  let prev = altered[1].hash
  for (let i = 2; i < altered.length; i++) {
    const f = { ...JSON.parse(altered[i].record), prev_hash: prev }
    altered[i] = { ...altered[i], record: canonicalJson(f), prev_hash: prev, hash: sha256Hex(canonicalJson(f)) }
    prev = altered[i].hash
  }
  const forged = verifyMessageLog(altered, key.publicKey)
  assert.equal(forged.ok, false)
  assert.equal(forged.firstBad?.seq, 6)
  assert.match(forged.firstBad!.reason, /signature does not verify .*records 1\.\.6/)
  // A chain whose signed end was cut off is not proven.
  assert.deepEqual(verifyMessageLog(rows.slice(0, 4), key.publicKey).firstBad, { node: 'batch-node', seq: 1, reason: 'records 1..4 are not covered by any signature (the chain ends unsigned)' })
  // A signature removed from the middle: the records before it are proven by the next signature only if it verifies (it does: the chain is intact).
  const stripped = rows.map((r, i) => (i === 5 ? { ...r, signature: '' } : r))
  assert.equal(verifyMessageLog(stripped, key.publicKey).ok, true)
})

test('flushes running at once (timer, shutdown) neither lose nor duplicate records', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  // a 1 ms timer: timer flushes start while explicit ones run (the bench lost a batch this way)
  const log = await MessageLog.open(db, key, { node: 'race-node', dir: mkdtempSync(join(tmpdir(), 'hb-race-')), flushMs: 1 })
  const facts = (i: number) => callFacts('x', i)
  for (let i = 0; i < 3; i++) log.append(facts(i))
  const first = log.flush()
  for (let i = 3; i < 8; i++) log.append(facts(i))
  await log.written()
  // calls keep being answered while the flushes run
  const calls = (async () => {
    for (let i = 8; i < 1500; i++) {
      log.append(facts(i))
      if (i % 3 === 0) await log.written()
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 2))
    }
  })()
  await Promise.all([first, log.flush(), log.flush(), calls, log.flush()])
  await log.close()
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'race-node') rows.push(r)
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 1500 }, (_, i) => i + 1))
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)
})

test('a drain takes the records pending when it starts: those committed meanwhile wait for the next timer (a steady stream is stored in full batches, not one small insert per round trip)', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const log = await MessageLog.open(db, key, { node: 'steady-node', dir: mkdtempSync(join(tmpdir(), 'hb-steady-')), flushMs: 1_500 })
  const facts = (i: number) => callFacts('s', i)
  const stored = async () => {
    const rows = []
    for await (const r of readLogRows(db)) if (r.node === 'steady-node') rows.push(r)
    return rows
  }
  for (let i = 0; i < 600; i++) log.append(facts(i))
  await log.written()
  const drain = log.flush()
  // answered while the drain runs: committed to the journal (a full tick batch of 256 is
  // committed at once, before the drain's first insert returns), not to this drain
  for (let i = 600; i < 856; i++) log.append(facts(i))
  await log.written()
  await drain
  assert.equal(log.pendingCount, 256)
  const afterDrain = await stored() // read well before the next timer (1.5 s)
  assert.equal(afterDrain.length, 600, 'the drain stored what was pending when it started')
  assert.deepEqual(afterDrain.filter((r) => r.signature !== '').map((r) => r.seq), [500, 600], 'two inserts (500 + 100), one signature each')
  // no further call: the timer drains the rest
  for (let waited = 0; log.pendingCount > 0 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20))
  const rows = await stored()
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 856 }, (_, i) => i + 1))
  assert.deepEqual(rows.filter((r) => r.signature !== '').map((r) => r.seq), [500, 600, 856])
  await log.close()
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)
})

test('the journal is cut when a drain ends, not after every batch; records of the database still in the journal replay without duplicates', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const jdir = mkdtempSync(join(tmpdir(), 'hb-journal-drain-'))
  const journal = join(jdir, 'journal-drain-node.ndjson')
  const log = await MessageLog.open(db, key, { node: 'drain-node', dir: jdir, flushMs: 1_000_000_000 })
  const facts = (i: number) => callFacts('d', i)
  // 1 300 records journaled: a drain of three insert batches (500, 500, 300)
  for (let i = 0; i < 1300; i++) {
    log.append(facts(i))
    if (i % 200 === 199) await log.written()
  }
  await log.written()
  const journaled = readFileSync(journal, 'utf8')
  assert.equal(journaled.split('\n').filter(Boolean).length, 1300)
  await log.flush()
  assert.equal(readFileSync(journal, 'utf8'), '', 'cut to nothing once everything is in the database')
  // A crash right after an insert and before the cut: the journal still holds inserted records.
  writeFileSync(journal, journaled)
  const reopened = await MessageLog.open(db, key, { node: 'drain-node', dir: jdir, flushMs: 10 })
  reopened.append(facts(1300))
  await reopened.close()
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'drain-node') rows.push(r)
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 1301 }, (_, i) => i + 1), 'each record once')
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)
})

test('a crash in the middle of a batch: its unsigned records (never answered) are dropped at recovery', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const crashDir = mkdtempSync(join(tmpdir(), 'hb-journal-cut-'))
  const first = await MessageLog.open(db, key, { node: 'cut-node', dir: crashDir, flushMs: 1_000_000_000 })
  const facts = (i: number) => callFacts('c', i)
  for (let i = 0; i < 4; i++) first.append(facts(i))
  await first.written()
  // The write was cut after the second line: the signed last line and the third are lost.
  const journal = join(crashDir, 'journal-cut-node.ndjson')
  const lines = readFileSync(journal, 'utf8').split('\n')
  writeFileSync(journal, `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, 40)}`)
  const replays: unknown[] = []
  const second = await MessageLog.open(db, key, { node: 'cut-node', dir: crashDir, flushMs: 10, onReplay: (r) => replays.push(r) })
  // told: three lines dropped (two whole, one cut), nothing altered
  assert.deepEqual(replays, [{ file: journal, replayed: 0, dropped: 3, altered: false }])
  second.append(facts(9))
  await second.close()
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'cut-node') rows.push(r)
  // seq 1 and 2 were in the cut batch: gone; the chain starts again at 1 with the next record.
  assert.deepEqual(rows.map((r) => r.seq), [1])
  assert.equal(JSON.parse(rows[0].record).request_id, 'c9')
  assert.notEqual(rows[0].signature, '')
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)
})

test('an edited journal replays only up to its last intact seal: the edited batch and what follows are dropped, never signed', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const crashDir = mkdtempSync(join(tmpdir(), 'hb-journal-edit-'))
  const first = await MessageLog.open(db, key, { node: 'edit-node', dir: crashDir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  const facts = (i: number) => callFacts('e', i)
  for (let tick = 0; tick < 3; tick++) {
    for (let i = 0; i < 2; i++) first.append(facts(tick * 2 + i))
    await first.written()
  }
  // The process dies; someone edits the second batch's first record and recomputes every hash
  // and link after it (without the key, the seals cannot be recomputed).
  const journal = join(crashDir, 'journal-edit-node.ndjson')
  const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const { sha256Hex } = await import('./message-log.ts')
  const { canonicalJson } = await import('../../platform/canonical-json.ts')
  let prev = lines[1].hash
  for (let i = 2; i < lines.length; i++) {
    const f = { ...JSON.parse(lines[i].record), prev_hash: prev, ...(i === 2 ? { status: 500, outcome: 'UPSTREAM_UNAVAILABLE' } : {}) }
    lines[i] = { ...lines[i], record: canonicalJson(f), prev_hash: prev, hash: sha256Hex(canonicalJson(f)) }
    prev = lines[i].hash
  }
  writeFileSync(journal, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
  const replays: unknown[] = []
  const second = await MessageLog.open(db, key, { node: 'edit-node', dir: crashDir, flushMs: 10, adoptEveryMs: 0, onReplay: (r) => replays.push(r) })
  // told apart from a crash: the edit is reported as such (the platform logs it as an error)
  assert.deepEqual(replays, [{ file: journal, replayed: 2, dropped: 4, altered: true }])
  await second.close()
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'edit-node') rows.push(r)
  assert.deepEqual(rows.map((r) => JSON.parse(r.record).request_id), ['e0', 'e1'], 'only the batch before the edit')
  assert.deepEqual(rows.map((r) => r.signature !== ''), [false, true], 'signed at replay, once')
  assert.equal(verifyMessageLog(rows, key.publicKey).ok, true)

  // A journal of the format before seals (the last line of each batch signed) still replays.
  const oldDir = mkdtempSync(join(tmpdir(), 'hb-journal-old-'))
  const writer = await MessageLog.open(db, key, { node: 'old-node', dir: oldDir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  for (let i = 0; i < 3; i++) writer.append(facts(10 + i))
  await writer.written()
  const { signHash } = await import('./signing.ts')
  const oldJournal = join(oldDir, 'journal-old-node.ndjson')
  const old = readFileSync(oldJournal, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).map(({ seal, ...l }) => (seal ? { ...l, signature: signHash(key, l.hash) } : l))
  writeFileSync(oldJournal, old.map((l) => JSON.stringify(l)).join('\n') + '\n')
  const reader = await MessageLog.open(db, key, { node: 'old-node', dir: oldDir, flushMs: 10, adoptEveryMs: 0 })
  await reader.close()
  const oldRows = []
  for await (const r of readLogRows(db)) if (r.node === 'old-node') oldRows.push(r)
  assert.deepEqual(oldRows.map((r) => r.seq), [1, 2, 3])
  assert.equal(oldRows[2].signature, old[2].signature, 'the old signature is kept as written')
  assert.equal(verifyMessageLog(oldRows, key.publicKey).ok, true)
})

test('a journal sealed under another signing key is not replayed, dropped nor signed by this node: refused with the key named, kept for a node that holds it', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const otherKey = loadSigningKey(undefined, mkdtempSync(join(tmpdir(), 'hb-key-other-')))
  const dir = mkdtempSync(join(tmpdir(), 'hb-journal-key-'))
  const facts = (i: number) => callFacts('k', i)
  const foreign = await MessageLog.open(db, otherKey, { node: 'foreign-node', dir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  for (let i = 0; i < 2; i++) foreign.append(facts(i))
  await foreign.written()
  writeFileSync(join(dir, 'journal-foreign-node.owner'), String(spawnSync(process.execPath, ['-e', '']).pid!))
  await assert.rejects(adoptOrphanJournals(db, key, dir, join(dir, 'journal-mine.ndjson')), (e: Error) => e.name === 'JournalKeyMismatch' && e.message.includes(otherKey.keyId) && e.message.includes(key.keyId))
  assert.ok(existsSync(join(dir, 'journal-foreign-node.ndjson')), 'kept where it was')
  const count = async () => Number((await sql<{ n: number }>`select count(*)::int as n from exchange_message_log where node = 'foreign-node'`.execute(db)).rows[0].n)
  assert.equal(await count(), 0)
  // A node holding that key replays it.
  assert.equal(await adoptOrphanJournals(db, otherKey, dir, join(dir, 'journal-theirs.ndjson')), 2)
  const rows = []
  for await (const r of readLogRows(db)) if (r.node === 'foreign-node') rows.push(r)
  assert.equal(verifyMessageLog(rows, otherKey.publicKey).ok, true)

  // A node restarted under a new key with its old journal: it starts, sets the journal aside for the orphan scan and says so.
  const restartDir = mkdtempSync(join(tmpdir(), 'hb-journal-rekey-'))
  const before = await MessageLog.open(db, otherKey, { node: 'rekey-node', dir: restartDir, flushMs: 1_000_000_000, adoptEveryMs: 0 })
  before.append(facts(5))
  await before.written()
  const errors: unknown[] = []
  const after = await MessageLog.open(db, key, { node: 'rekey-node', dir: restartDir, flushMs: 10, adoptEveryMs: 0, onAdoptError: (e) => errors.push(e) })
  assert.ok(errors.length >= 1 && errors.every((e) => (e as Error).name === 'JournalKeyMismatch'))
  await after.close()
  const { readdirSync } = await import('node:fs')
  const setAside = readdirSync(restartDir).filter((f) => f.startsWith('journal-rekey-node.key-'))
  assert.equal(setAside.length, 1)
  assert.equal(await adoptOrphanJournals(db, otherKey, restartDir, join(restartDir, 'journal-theirs.ndjson')), 1)
  assert.deepEqual(readdirSync(restartDir).filter((f) => f.startsWith('journal-rekey-node')), [])
})

test('drained records are stored exactly as chained (COPY on PostgreSQL, the insert on PGlite); a COPY whose outcome was lost falls back to the insert without duplicates', async () => {
  const db = platform.ctx.db
  const key = exchangeRuntime(platform.ctx).key
  const real = platform.ctx.copyIn
  assert.equal(real !== undefined, platform.ctx.dbKind === 'postgres', 'COPY is offered on PostgreSQL only')
  // Values COPY text must escape: backslashes, tabs and newlines (in the record's JSON as escapes), quotes, Vietnamese, bytes of every kind.
  const awkward = (i: number) => ({
    at: new Date(Date.UTC(2026, 10, 29, 8, 0, i)).toISOString(), request_id: `w${i}`, client: 'SXD\\perm\tits', provider: 'S\\YT', service: 'bệnh-nhân', method: 'POST',
    path: `/hồ sơ/"${i}"\t\n\\x41?q=Điện Biên`, status: 201, outcome: 'OK', request_bytes: 3, response_bytes: 4, duration_ms: 0.000125 * (i + 1), request_sha256: '0'.repeat(64), response_sha256: '1'.repeat(64),
  })
  const bodies = (i: number) => ({ request: Buffer.from([0, 0x5c, 9, i]), response: Buffer.from([10, 13, 0x5c, 0x78, 0xff]) })
  const log = await MessageLog.open(db, key, { node: 'copy-node', dir: mkdtempSync(join(tmpdir(), 'hb-copy-')), flushMs: 1_000_000_000, adoptEveryMs: 0, copyIn: real })
  for (let i = 0; i < 5; i++) log.append(awkward(i), bodies(i))
  await log.written()
  await log.flush()
  assert.equal(log.copyFallbacks, 0)
  const stored = (await sql<{ seq: string; record: string; client: string; provider: string; service: string; method: string; status: number; duration_ms: number; at: Date; request_body: Buffer; response_body: Buffer }>`
    select seq::text as seq, record, client, provider, service, method, status, duration_ms, at, request_body, response_body from exchange_message_log where node = 'copy-node' order by seq`.execute(db)).rows
  assert.equal(stored.length, 5)
  for (const [i, r] of stored.entries()) {
    const f = awkward(i)
    const record = JSON.parse(r.record)
    assert.equal(record.path, f.path)
    assert.deepEqual([r.client, r.provider, r.service, r.method, r.status, r.duration_ms, new Date(r.at).toISOString()], [f.client, f.provider, f.service, f.method, f.status, f.duration_ms, f.at])
    assert.deepEqual([Buffer.from(r.request_body), Buffer.from(r.response_body)], [bodies(i).request, bodies(i).response])
  }
  const rows = async () => {
    const out = []
    for await (const r of readLogRows(db)) if (r.node === 'copy-node') out.push(r)
    return out
  }
  assert.equal(verifyMessageLog(await rows(), key.publicKey).ok, true, 'the stored record texts are the hashed ones')

  // The COPY commits but its answer is lost (the connection drops): the drain falls back to the
  // insert, which finds the rows stored and skips them.
  let lost = true
  const flaky = async (statement: string, text: string) => {
    if (real) await real(statement, text)
    if (lost) {
      lost = false
      throw new Error('Connection terminated unexpectedly')
    }
  }
  const log2 = await MessageLog.open(db, key, { node: 'copy-node', dir: mkdtempSync(join(tmpdir(), 'hb-copy-')), flushMs: 1_000_000_000, adoptEveryMs: 0, copyIn: flaky })
  for (let i = 5; i < 8; i++) log2.append(awkward(i))
  await log2.written()
  await log2.flush()
  assert.equal(log2.copyFallbacks, 1)
  if (real) {
    // A COPY that meets a stored key fails whole on the server; the insert stores the rest once.
    const twice = async (statement: string, text: string) => {
      await real(statement, text.split('\n')[0] + '\n')
      await real(statement, text)
    }
    const log3 = await MessageLog.open(db, key, { node: 'copy-node', dir: mkdtempSync(join(tmpdir(), 'hb-copy-')), flushMs: 1_000_000_000, adoptEveryMs: 0, copyIn: twice })
    for (let i = 8; i < 11; i++) log3.append(awkward(i))
    await log3.written()
    await log3.close()
    assert.equal(log3.copyFallbacks, 1)
  }
  await log.close()
  await log2.close()
  const all = await rows()
  assert.deepEqual(all.map((r) => r.seq), Array.from({ length: real ? 11 : 8 }, (_, i) => i + 1), 'each record once')
  assert.equal(verifyMessageLog(all, key.publicKey).ok, true)
})

test('statistics per service and provider health checks', async () => {
  await exchangeRuntime(platform.ctx).log.flush()
  const checks = await checkProviderHealth(platform.ctx.db, new Date())
  assert.deepEqual(checks.find((c) => c.service === 'SYT/patients'), { service: 'SYT/patients', ok: true })
  assert.deepEqual(checks.find((c) => c.service === 'SYT/dead'), { service: 'SYT/dead', ok: false })
  const r = await platform.app.inject({ method: 'GET', url: '/api/exchange/stats', headers: admin.headers })
  assert.equal(r.statusCode, 200)
  const s = r.json().items.find((i: { service: string }) => i.service === 'patients')
  assert.ok(s.calls >= 10)
  assert.ok(s.failures >= 2, 'timeouts and too-large responses count as failures')
  assert.ok(s.p50_ms > 0 && s.p50_ms <= s.p95_ms && s.p95_ms <= s.p99_ms)
  assert.ok(s.last_success_at && s.last_failure_at)
  assert.equal(s.health.ok, true)
})

test('registry routes: roles and units', async () => {
  for (const url of ['/api/exchange/members', '/api/exchange/systems', '/api/exchange/services', '/api/exchange/rights', '/api/exchange/log', '/api/exchange/stats', '/api/exchange/groups']) {
    assert.equal((await platform.app.inject({ method: 'GET', url })).statusCode, 401, url)
    assert.equal((await platform.app.inject({ method: 'GET', url, headers: citizen.headers })).statusCode, 403, url)
  }
  for (const url of ['/api/exchange/members', '/api/exchange/systems', '/api/exchange/services', '/api/exchange/rights', '/api/exchange/groups']) {
    assert.equal((await platform.app.inject({ method: 'POST', url, headers: officerSYT.headers, payload: {} })).statusCode, 403, url)
  }
  assert.equal((await platform.app.inject({ method: 'DELETE', url: '/api/exchange/rights/00000000-0000-0000-0000-000000000000', headers: officerSYT.headers })).statusCode, 403)
  // Officers see only their own unit's members and systems; never a key hash.
  const sxd = (await platform.app.inject({ method: 'GET', url: '/api/exchange/systems', headers: officerSXD.headers })).json().items
  assert.ok(sxd.length >= 4 && sxd.every((s: { member_code: string }) => s.member_code === 'SXD'))
  assert.ok(sxd.every((s: Record<string, unknown>) => !('api_key_hash' in s) && !('api_key' in s)))
  const syt = (await platform.app.inject({ method: 'GET', url: '/api/exchange/members', headers: officerSYT.headers })).json().items
  assert.deepEqual(syt.map((m: { code: string }) => m.code), ['SYT'])
  const logSXD = (await platform.app.inject({ method: 'GET', url: '/api/exchange/log?limit=500', headers: officerSXD.headers })).json().items
  assert.ok(logSXD.every((r: { provider: string; client: string }) => r.provider === 'SXD' || r.client.startsWith('SXD/')))
  // The public key is public.
  const pk = await platform.app.inject({ method: 'GET', url: '/api/exchange/log/public-key' })
  assert.equal(pk.statusCode, 200)
  assert.match(pk.json().public_key_pem, /BEGIN PUBLIC KEY/)
  // Bad input: unknown unit, bad base URL, duplicate code.
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/exchange/members', headers: admin.headers, payload: { code: 'X1', name: 'x', unit_code: 'nope' } })).json().error.code, 'UNKNOWN_UNIT')
  const sys = (await platform.app.inject({ method: 'GET', url: '/api/exchange/systems', headers: admin.headers })).json().items[0]
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/exchange/services', headers: admin.headers, payload: { system_id: sys.id, code: 'bad', name: 'b', base_url: 'file:///etc/passwd' } })).json().error.code, 'INVALID_BASE_URL')
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/exchange/members', headers: admin.headers, payload: { code: 'SYT', name: 'x', unit_code: '11.SYT' } })).statusCode, 409)
})
