import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { exchangeRuntime } from '../../src/modules/exchange/index.ts'
import { createTestUser } from '../../src/modules/identity/test-factories.ts'
import type { Platform } from '../../src/platform/runtime.ts'
import { startTestPlatform } from '../../src/platform/testing/test-platform.ts'
import { arbitraryFor, type Schema } from './openapi-arbitraries.ts'

/**
 * Fuzzes every route of the OpenAPI description through app.inject (no network): path
 * parameters, queries, headers and bodies generated from each route's schema, valid-ish and
 * hostile, as several roles, with small multipart files. Any 5xx or crash fails, and
 * fast-check shrinks it to a minimal request (copy it into regressions.test.ts).
 * FUZZ_REQUESTS sets the number of requests (default 3000; CI runs `npm run test:fuzz`).
 */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined
// Ending the caller's own session would only make the rest of the run anonymous.
const SKIP = new Set(['POST /api/auth/logout'])

interface Param { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }
interface Op { method: string; path: string; params: Param[]; json?: Schema; multipart?: boolean }
interface FuzzRequest { op: number; role: number; path: Record<string, unknown>; query: Record<string, unknown>; headers: Record<string, unknown>; body: unknown; file?: { type: string; bytes: number[] } }

let platform: Platform
let ops: Op[]
let roleHeaders: Record<string, string>[]

before(async () => {
  platform = await startTestPlatform({ config: { rateLimitPerIp: 1e9, rateLimitPerClient: 1e9 } })
  const db = platform.ctx.db
  roleHeaders = [{}, ...(await Promise.all([createTestUser(db, 'citizen'), createTestUser(db, 'officer', '11'), createTestUser(db, 'province_admin')])).map((u) => u.headers)]
  const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json()
  ops = []
  for (const [path, methods] of Object.entries<Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (SKIP.has(`${method.toUpperCase()} ${path}`)) continue
      const content = op.requestBody?.content ?? {}
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], json: content['application/json']?.schema, multipart: 'multipart/form-data' in content || /multipart/i.test(JSON.stringify(op)) })
    }
  }
})
after(async () => {
  await platform?.close()
})

function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
  return fc.integer({ min: 0, max: ops.length - 1 }).chain((i) => {
    const op = ops[i]
    const group = (where: Param['in']) => {
      const rec: Record<string, fc.Arbitrary<unknown>> = {}
      for (const p of op.params.filter((p) => p.in === where)) rec[p.name] = arbitraryFor(p.schema)
      return fc.record(rec, { requiredKeys: op.params.filter((p) => p.in === where && (p.required || where === 'path')).map((p) => p.name) })
    }
    return fc.record({
      op: fc.constant(i),
      role: fc.integer({ min: 0, max: roleHeaders.length - 1 }),
      path: group('path'),
      query: group('query'),
      headers: group('header'),
      body: op.method === 'GET' || op.method === 'DELETE' ? fc.constant(undefined) : arbitraryFor(op.json ?? { type: 'object' }),
      file: op.multipart
        ? fc.option(fc.record({ type: fc.constantFrom('image/jpeg', 'image/png', 'application/pdf', 'text/html', 'application/octet-stream'), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 2048 }) }), { nil: undefined })
        : fc.constant(undefined),
    })
  })
}

const headerSafe = (v: unknown) => String(v).replace(/[^\x20-\x7e]/g, '?')

function multipartOf(fields: unknown, file: NonNullable<FuzzRequest['file']>): { payload: Buffer; type: string } {
  const boundary = '----hbfuzz7d3'
  const parts: Buffer[] = []
  if (fields && typeof fields === 'object' && !Array.isArray(fields)) {
    for (const [k, v] of Object.entries(fields)) {
      for (const one of Array.isArray(v) ? v : [v]) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${headerSafe(k)}"\r\n\r\n${typeof one === 'object' ? JSON.stringify(one) : String(one)}\r\n`))
    }
  }
  // A small file, its declared type unrelated to its bytes (polyglots), under every usual part name.
  const data = Buffer.from(file.bytes.length > 0 ? file.bytes : [0xff, 0xd8, 0xff])
  for (const name of ['file', 'photos']) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="f.bin"\r\ncontent-type: ${file.type}\r\n\r\n`), data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` }
}

/** Lone surrogates replaced by U+FFFD, so encodeURIComponent never throws (String#toWellFormed, typed for ES2024). */
const wellFormed = (v: string) => v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')

/** Sends one generated request; returns its status. Exported shape used by regressions.test.ts. */
export async function send(p: Platform, op: Pick<Op, 'method' | 'path'>, r: Omit<FuzzRequest, 'op' | 'role'>, headers: Record<string, string>) {
  const url = op.path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(wellFormed(String(r.path[k] ?? 'x'))))
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(r.query)) for (const one of Array.isArray(v) ? v : [v]) qs.append(k, typeof one === 'object' && one !== null ? JSON.stringify(one) : String(one))
  const h: Record<string, string> = { ...headers }
  for (const [k, v] of Object.entries(r.headers)) h[k.toLowerCase()] = headerSafe(v)
  let payload: string | Buffer | undefined
  if (r.file) {
    const mp = multipartOf(r.body, r.file)
    payload = mp.payload
    h['content-type'] = mp.type
  } else if (r.body !== undefined) {
    payload = JSON.stringify(r.body)
    h['content-type'] = 'application/json'
  }
  const res = await p.app.inject({ method: op.method as 'GET', url: qs.size ? `${url}?${qs}` : url, headers: h, payload })
  return { status: res.statusCode, body: res.body }
}

let firstFailure = false
function memoryLine() {
  const m = process.memoryUsage()
  const mb = (n: number) => Math.round(n / 1048576)
  return `RSS ${mb(m.rss)} MB, JS heap ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB, array buffers ${mb(m.arrayBuffers)} MB`
}

test(`fuzz every OpenAPI route: ${REQUESTS} requests, no 5xx, bounded memory`, async () => {
  const rssStart = process.memoryUsage().rss
  const started = Date.now()
  let sent = 0
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(requestArbitrary(), async (r) => {
      const op = ops[r.op]
      // FUZZ_TRACE=1 prints every request before it is sent (to find one that kills the process).
      if (process.env.FUZZ_TRACE) console.log(`fuzz: #${sent + 1} role ${r.role} ${op.method} ${op.path} ${JSON.stringify({ ...r, file: r.file && { type: r.file.type, bytes: r.file.bytes.length } })}`)
      const res = await send(platform, op, r, roleHeaders[r.role])
      sent++
      if (sent % 10_000 === 0) console.log(`fuzz: ${sent} requests, ${Math.round((Date.now() - started) / 1000)} s, ${memoryLine()}`)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status >= 500 && !firstFailure) {
        // The first failure in full, before shrinking replays anything: a server stuck in a bad state shows here.
        firstFailure = true
        console.log(`fuzz: first 5xx after ${sent} requests: ${op.method} ${op.path} → ${res.status} ${res.body.slice(0, 2000)}; ${memoryLine()}`)
      }
      if (res.status >= 500) throw new Error(`${op.method} ${op.path} → ${res.status} ${res.body.slice(0, 200)}`)
    }),
    { numRuns: REQUESTS, seed: SEED, verbose: 1 },
  )
  const seconds = (Date.now() - started) / 1000
  const rssEnd = process.memoryUsage().rss
  const mb = (n: number) => Math.round(n / 1024 / 1024)
  console.log(`fuzz: ${sent} requests over ${ops.length} operations in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} req/s); RSS ${mb(rssStart)} → ${mb(rssEnd)} MB; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`)
  assert.equal(sent, REQUESTS)
  // Nothing the fuzzer sent may wedge a background writer: the gateway's message log drains.
  const gatewayLog = exchangeRuntime(platform.ctx).log
  await gatewayLog.flush()
  assert.equal(gatewayLog.pendingCount, 0, 'every gateway log record reached the database')
  assert.ok(rssEnd - rssStart < 768 * 1024 * 1024, `RSS grew by ${mb(rssEnd - rssStart)} MB`)
})

