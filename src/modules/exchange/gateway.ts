import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { Pool, type Dispatcher } from 'undici'
import { AppError, badRequest } from '../../platform/http/errors.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { ExchangeConfig } from './config.ts'
import { sha256Hex, type CallFacts, type MessageLog } from './message-log.ts'
import { PROVIDER_CREDENTIAL_HEADER } from './provider-credentials.ts'
import { gatewayKeyPrefix, KEYS_SEEN_MAX, parseGatewayKey, sameHash, type RegistryCache, type RegistrySnapshot, type RightAccessLevel, type RightRow, type ServiceRow, type SystemRow } from './registry.ts'

/** Header carrying the calling system's gateway key. */
export const KEY_HEADER = 'x-exchange-key'
/** Headers the gateway adds for the provider; a caller's own values are dropped (no spoofing). */
export const CLIENT_HEADER = 'x-hoaban-client'
export const REQUEST_ID_HEADER = 'x-hoaban-request-id'
export const SERVICE_HEADER = 'x-hoaban-service'
/** The widest access level the caller's valid rights open, and whether it may write. */
export const ACCESS_LEVEL_HEADER = 'x-hoaban-access-level'
export const CAN_WRITE_HEADER = 'x-hoaban-can-write'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect'])
/** Never forwarded to a provider: platform credentials and proxy headers a caller could forge. */
const REQUEST_DROP = new Set([KEY_HEADER, 'cookie', 'authorization', 'x-api-key', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'])
const LINE_BREAK = /[\r\n\0]/
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
export const GATEWAY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
/** The gateway never accepts more than this, whatever a service allows. */
const HARD_BODY_LIMIT = 50 * 1024 * 1024

export interface CallState {
  started: number
  at: Date
  requestId: string
  client: string
  provider: string
  service: string
  path: string
  system?: SystemRow
  target?: ServiceRow
  grant?: Grant
  recorded?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    exchangeCall?: CallState
  }
}

export const err = (status: number, code: string, vi: string, en: string, details?: unknown) => new AppError(status, code, vi, en, details)

/** Keep-alive connection pools, one per provider origin. */
export class ProviderPools {
  readonly #pools = new Map<string, Pool>()
  constructor(private readonly connections: number) {}
  get(origin: string): Pool {
    let p = this.#pools.get(origin)
    if (!p) {
      p = new Pool(origin, { connections: this.connections, keepAliveTimeout: 30_000, pipelining: 1, connect: { timeout: 5_000 } })
      this.#pools.set(origin, p)
    }
    return p
  }
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close().catch(() => {})))
    this.#pools.clear()
  }
}

/**
 * The path after `/gw/{provider}/{service}/`, exactly as sent, and the query. Every segment is
 * percent-decoded up to three times; `.`/`..`, a slash or backslash hidden by encoding, or a NUL
 * refuse the call (400), so a caller never leaves the service's base path.
 */
export function forwardedPath(rawUrl: string): { provider: string; service: string; rest: string; query: string } {
  const q = rawUrl.indexOf('?')
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
  const query = q < 0 ? '' : rawUrl.slice(q)
  const segs = path.split('/')
  // ['', 'gw', provider, service, ...rest]
  const decode = (s: string) => {
    let v = s
    for (let i = 0; i < 3; i++) {
      let d: string
      try {
        d = decodeURIComponent(v)
      } catch {
        throw badRequest('INVALID_PATH', 'Đường dẫn có mã hoá sai.', 'The path has an invalid percent-encoding.')
      }
      if (d === v) break
      v = d
    }
    return v
  }
  const provider = decode(segs[2] ?? '')
  const service = decode(segs[3] ?? '')
  // They name log columns (text: PostgreSQL refuses NUL) and registry keys: no control characters.
  if (/[\x00-\x1f\x7f]/.test(provider + service)) throw badRequest('INVALID_PATH', 'Tên đơn vị cung cấp hoặc dịch vụ chứa ký tự điều khiển.', 'The provider or service name contains control characters.')
  const rest = segs.slice(4)
  for (const s of rest) {
    const d = decode(s)
    if (d === '.' || d === '..' || d.includes('/') || d.includes('\\') || d.includes('\0') || (s !== d && /%/.test(d) && d.includes('..'))) {
      throw badRequest('PATH_TRAVERSAL', 'Đường dẫn không được chứa "..", "." hay dấu gạch chéo mã hoá.', 'The path must not contain "..", "." or encoded slashes.')
    }
  }
  if (/[\0\r\n]/.test(query) || /%0[ad0]/i.test(query)) throw badRequest('INVALID_QUERY', 'Chuỗi truy vấn chứa ký tự điều khiển.', 'The query contains control characters.')
  return { provider, service, rest: rest.join('/'), query }
}

/** The access decision, from the in-memory registry: who calls, may they, are they suspended. */
export function decideAccess(snap: RegistrySnapshot, key: string | undefined, providerCode: string, serviceCode: string, now: Date, peerFingerprint: string | null, identified?: (s: SystemRow) => void): { system: SystemRow; service: ServiceRow; grant: Grant } {
  if (!key) throw err(401, 'EXCHANGE_KEY_REQUIRED', 'Thiếu khoá của hệ thống gọi (X-Exchange-Key).', 'The calling system\'s key is missing (X-Exchange-Key).')
  let system = snap.keysSeen.get(key)
  if (!system) {
    const parsed = parseGatewayKey(key)
    system = parsed && snap.systemsByPrefix.get(parsed.prefix)
    if (!parsed || !system || !sameHash(system.api_key_hash, parsed.hash)) throw err(401, 'EXCHANGE_UNKNOWN_CLIENT', 'Khoá hệ thống không hợp lệ.', 'Unknown or invalid system key.')
    if (snap.keysSeen.size < KEYS_SEEN_MAX) snap.keysSeen.set(key, system)
  }
  identified?.(system)
  if (system.tls_client_fingerprint && system.tls_client_fingerprint !== peerFingerprint) {
    throw err(403, 'CLIENT_CERTIFICATE_REQUIRED', 'Hệ thống này phải gọi qua TLS hai chiều với chứng thư đã đăng ký.', 'This system must call over mutual TLS with its registered client certificate.')
  }
  const suspension = snap.suspensions.get(`system:${system.member_code}/${system.code}`)?.[0] ?? snap.suspensions.get(`unit:${system.unit_code}`)?.[0]
  if (suspension) {
    throw err(403, `SUSPENDED_${suspension.rule_code}`,
      `Hệ thống bị tạm ngừng kết nối (quy tắc ${suspension.rule_code}): ${suspension.reason_vi}. Cách khắc phục: ${suspension.fix_vi}`,
      `The calling system is suspended (rule ${suspension.rule_code}): ${suspension.reason_en}. To fix: ${suspension.fix_en}`,
      { rule: suspension.rule_code, subject: `${suspension.subject_kind}:${suspension.subject_ref}`, since: new Date(suspension.since).toISOString(), fix_vi: suspension.fix_vi, fix_en: suspension.fix_en })
  }
  const service = snap.services.get(`${providerCode}/${serviceCode}`)
  if (!service) throw err(404, 'EXCHANGE_UNKNOWN_SERVICE', 'Không có dịch vụ này trên nền tảng.', `No service ${providerCode}/${serviceCode} on the gateway.`)
  const groups = snap.groupsBySystem.get(system.id)
  const mine = (snap.rightsByService.get(service.id) ?? []).filter((r) => r.system_id === system.id || (r.group_code !== null && groups?.has(r.group_code)))
  if (mine.length === 0) throw err(403, 'NO_RIGHT', 'Hệ thống chưa được cấp quyền gọi dịch vụ này.', 'The calling system has no right to call this service.')
  const t = now.getTime()
  const valid = mine.filter((r) => new Date(r.valid_from).getTime() <= t && (r.valid_until === null || t < new Date(r.valid_until).getTime()))
  if (valid.length === 0) {
    throw err(403, 'RIGHT_NOT_VALID', 'Quyền gọi dịch vụ đã hết hạn hoặc chưa có hiệu lực.', 'The right to call this service has expired or is not yet valid.')
  }
  return { system, service, grant: strongestGrant(valid) }
}

/** What the caller's valid rights open together: the widest access level, and write if any right allows it. */
export interface Grant { access_level: RightAccessLevel; can_write: boolean }
const LEVEL_RANK: Record<RightAccessLevel, number> = { open: 0, shared: 1, restricted: 2 }
export function strongestGrant(rights: Pick<RightRow, 'access_level' | 'can_write'>[]): Grant {
  let g: Grant = { access_level: 'open', can_write: false }
  for (const r of rights) {
    const level = r.access_level ?? 'shared'
    g = { access_level: LEVEL_RANK[level] > LEVEL_RANK[g.access_level] ? level : g.access_level, can_write: g.can_write || r.can_write === true }
  }
  return g
}

export function readLimited(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    stream.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        stream.removeAllListeners('data')
        stream.resume()
        reject(tooLarge(limit))
        return
      }
      chunks.push(c)
    })
    stream.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

export const tooLarge = (limit: number) => err(413, 'REQUEST_TOO_LARGE', `Nội dung gửi vượt quá ${limit} byte cho phép của dịch vụ.`, `The request body exceeds the service's limit of ${limit} bytes.`, { limit })

export interface GatewayDeps {
  cfg: ExchangeConfig
  registry: RegistryCache
  log: MessageLog
  pools: ProviderPools
  clock: () => Date
}

export function newCall(clock: () => Date): CallState {
  return { started: performance.now(), at: clock(), requestId: randomUUID(), client: 'unknown', provider: '', service: '', path: '' }
}

/** Appends one call to the signed message log. */
export function recordCall(log: MessageLog, c: CallState, method: string, status: number, outcome: string, reqBody: Buffer, resBody: Buffer, store: boolean): void {
  c.recorded = true
  const facts: CallFacts = {
    at: c.at.toISOString(), request_id: c.requestId, client: c.client, provider: c.provider, service: c.service, method, path: c.path,
    status, outcome, request_bytes: reqBody.length, response_bytes: resBody.length, duration_ms: Math.round((performance.now() - c.started) * 1000) / 1000,
    request_sha256: sha256Hex(reqBody), response_sha256: sha256Hex(resBody),
  }
  log.append(facts, store ? { request: reqBody, response: resBody } : undefined)
}

/**
 * Every check made before the body is read (both the lean listener and the Fastify route use it):
 * path traversal, header injection, caller / right / suspension from the in-memory registry, mTLS,
 * declared size. Fills `c`; a refusal is logged and thrown as an AppError.
 */
export async function authorizeCall(c: CallState, method: string, rawUrl: string, headers: IncomingHttpHeaders, socket: unknown, deps: GatewayDeps): Promise<ServiceRow> {
  try {
    const p = forwardedPath(rawUrl)
    c.provider = p.provider.slice(0, 60)
    c.service = p.service.slice(0, 60)
    c.path = `/${p.rest}${p.query}`.slice(0, 2000)
    for (const k in headers) {
      const v = headers[k]
      // no array per header: a repeated header's values are checked one by one
      if (typeof v === 'string' ? LINE_BREAK.test(v) : Array.isArray(v) && v.some((x) => LINE_BREAK.test(x))) {
        throw badRequest('HEADER_INJECTION', `Tiêu đề ${k} chứa ký tự xuống dòng.`, `Header ${k} contains line breaks.`)
      }
    }
    const snap = await deps.registry.get()
    const key = headers[KEY_HEADER]
    const sock = socket as Partial<TLSSocket>
    const fp = typeof sock.getPeerCertificate === 'function' ? (sock.getPeerCertificate()?.fingerprint256 ?? null) : null
    const { service, grant } = decideAccess(snap, typeof key === 'string' ? key : undefined, p.provider, p.service, c.at, fp, (system) => {
      c.system = system
      c.client = `${system.member_code}/${system.code}`
    })
    c.target = service
    c.grant = grant
    const declared = Number(headers['content-length'] ?? 0)
    if (declared > service.max_request_bytes) throw tooLarge(service.max_request_bytes)
    return service
  } catch (e) {
    if (e instanceof AppError) {
      recordCall(deps.log, c, method, e.statusCode, e.code, Buffer.alloc(0), Buffer.alloc(0), false)
      await deps.log.written()
    }
    throw e
  }
}

const NO_NAMES: ReadonlySet<string> = new Set()
const headerList = (v: string | undefined): ReadonlySet<string> => (v ? new Set(v.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean)) : NO_NAMES)

/**
 * ALL the headers a provider receives, built here and only here: the caller's end-to-end headers
 * minus hop-by-hop ones, platform credentials and anything spoofing the gateway's own `x-hoaban-*`;
 * then the gateway's identification of the caller, the request and the service.
 */
export function providerHeaders(incoming: IncomingHttpHeaders, call: { client: string; requestId: string; grant?: Grant }, service: ServiceRow): Record<string, string> {
  const headers: Record<string, string> = {}
  const connectionNamed = headerList(incoming.connection)
  for (const k in incoming) {
    const v = incoming[k]
    if (v === undefined || HOP_BY_HOP.has(k) || REQUEST_DROP.has(k) || connectionNamed.has(k) || k.startsWith('x-hoaban-')) continue
    headers[k] = Array.isArray(v) ? v.join(', ') : v
  }
  headers[CLIENT_HEADER] = call.client
  headers[REQUEST_ID_HEADER] = call.requestId
  headers[SERVICE_HEADER] = `${service.member_code}/${service.code}/${service.version}`
  // What the caller's rights open (registries apply it per field), and the provider credential.
  if (call.grant) {
    headers[ACCESS_LEVEL_HEADER] = call.grant.access_level
    headers[CAN_WRITE_HEADER] = String(call.grant.can_write)
  }
  if (service.provider_credential) headers[PROVIDER_CREDENTIAL_HEADER] = service.provider_credential
  return headers
}

/** A service's base URL parsed once (origin and path prefix), not on every call. */
const baseCache = new Map<string, { origin: string; prefix: string }>()
function parsedBase(baseUrl: string): { origin: string; prefix: string } {
  let b = baseCache.get(baseUrl)
  if (!b) {
    const u = new URL(baseUrl)
    b = { origin: u.origin, prefix: u.pathname === '/' ? '' : u.pathname }
    if (baseCache.size > 10_000) baseCache.clear()
    baseCache.set(baseUrl, b)
  }
  return b
}

export interface ProviderAnswer { status: number; headers: Record<string, string | string[]>; body: Buffer }

/**
 * Sends an authorized call to its provider over the keep-alive pool: timeout, response size limit,
 * retries only of idempotent methods and only when the connection could not be made. Logs the call
 * and settles only once its record is chained and in the journal, sealed (the batch of this
 * event-loop tick; it is signed when drained into the database), so no answered call is missing
 * from the log; if the journal write failed, it rejects
 * (the caller gets a 502 GATEWAY_ERROR instead of the provider's answer).
 */
export async function dispatch(c: CallState, method: string, incoming: IncomingHttpHeaders, body: Buffer, deps: GatewayDeps): Promise<ProviderAnswer> {
  try {
    return await forward(c, method, incoming, body, deps)
  } finally {
    await deps.log.written()
  }
}

/** How one attempt at the provider ended. */
type Attempt =
  | { ok: true; status: number; rawHeaders: Buffer[]; body: Buffer }
  | { ok: false; kind: 'timeout' | 'too-large' | 'error'; code: string }

/**
 * One attempt at the provider through undici's low-level `dispatch` (no Readable body stream, no
 * promise per chunk, no AbortSignal): ONE timer covers connect, headers and body; the declared
 * and the counted response size are checked as the answer arrives; settles exactly once.
 */
class ProviderAttempt implements Dispatcher.DispatchHandler {
  #abort: ((err?: Error) => void) | undefined
  #timer: NodeJS.Timeout
  #status = 0
  #raw: Buffer[] = []
  #chunks: Buffer[] = []
  #size = 0
  #done = false
  constructor(private readonly limit: number, timeoutMs: number, private readonly settle: (a: Attempt) => void) {
    this.#timer = setTimeout(() => this.#fail('timeout', 'UPSTREAM_TIMEOUT'), timeoutMs)
  }

  #finish(a: Attempt): void {
    if (this.#done) return
    this.#done = true
    clearTimeout(this.#timer)
    this.settle(a)
  }

  /** Ends the attempt and drops the provider's connection (its answer is not read further). */
  #fail(kind: 'timeout' | 'too-large', code: string): void {
    if (this.#done) return
    this.#finish({ ok: false, kind, code })
    this.#abort?.(new Error(code))
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort
    // the timer may have fired while the request waited for a connection
    if (this.#done) abort(new Error('UPSTREAM_TIMEOUT'))
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    this.#status = status
    this.#raw = rawHeaders
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const k = rawHeaders[i]
      if (k.length === 14 && k.toString('latin1').toLowerCase() === 'content-length' && Number(rawHeaders[i + 1].toString('latin1')) > this.limit) {
        this.#fail('too-large', 'RESPONSE_TOO_LARGE')
        return false
      }
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.#done) return false
    this.#size += chunk.length
    if (this.#size > this.limit) {
      this.#fail('too-large', 'RESPONSE_TOO_LARGE')
      return false
    }
    this.#chunks.push(chunk)
    return true
  }

  onComplete(): void {
    const c = this.#chunks
    this.#finish({ ok: true, status: this.#status, rawHeaders: this.#raw, body: c.length === 1 ? c[0] : Buffer.concat(c, this.#size) })
  }

  onError(e: Error): void {
    const code = (e as { code?: string }).code ?? ''
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
    this.#finish({ ok: false, kind: timeout && code !== 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'error', code: code || e.name })
  }
}

/**
 * The provider's answer headers that go back to the caller, from the raw list (one pass, no
 * intermediate object): minus hop-by-hop ones, any named in `Connection` and `X-HoaBan-*`; repeated
 * names become arrays; plus the gateway's request id.
 */
export function answerHeaders(raw: Buffer[], requestId: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null)
  let connection: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toString('latin1').toLowerCase()
    const v = raw[i + 1].toString('latin1')
    if (k === 'connection') connection = connection === undefined ? v : `${connection}, ${v}`
    if (HOP_BY_HOP.has(k) || k.startsWith('x-hoaban-')) continue
    const prev = out[k]
    if (prev === undefined) out[k] = v
    else if (typeof prev === 'string') out[k] = [prev, v]
    else prev.push(v)
  }
  if (connection !== undefined) for (const k of headerList(connection)) delete out[k]
  out[REQUEST_ID_HEADER] = requestId
  return out
}

function attempt(pool: Pool, path: string, method: string, headers: Record<string, string>, body: Buffer, service: ServiceRow): Promise<Attempt> {
  return new Promise<Attempt>((resolve) => {
    const h = new ProviderAttempt(service.max_response_bytes, service.timeout_ms, resolve)
    // undici's own per-phase timers are off: the attempt's single timer covers the whole call
    pool.dispatch({ path, method: method as 'GET', headers, body: body.length > 0 ? body : null, headersTimeout: 0, bodyTimeout: 0 }, h)
  })
}

async function forward(c: CallState, method: string, incoming: IncomingHttpHeaders, body: Buffer, deps: GatewayDeps): Promise<ProviderAnswer> {
  const service = c.target!
  const headers = providerHeaders(incoming, c, service)
  const base = parsedBase(service.base_url)
  const path = `${base.prefix}${c.path}`
  const pool = deps.pools.get(base.origin)
  const fail = (status: number, code: string, vi: string, en: string) => {
    recordCall(deps.log, c, method, status, code, body, EMPTY, false)
    return err(status, code, vi, en, { request_id: c.requestId })
  }
  for (let tries = 0; ; tries++) {
    const a = await attempt(pool, path, method, headers, body, service)
    if (a.ok) {
      recordCall(deps.log, c, method, a.status, 'OK', body, a.body, service.store_bodies)
      return { status: a.status, headers: answerHeaders(a.rawHeaders, c.requestId), body: a.body }
    }
    if (a.kind === 'too-large') throw fail(502, 'RESPONSE_TOO_LARGE', 'Câu trả lời của dịch vụ vượt quá giới hạn.', 'The provider\'s response exceeds the service\'s limit.')
    if (a.kind === 'timeout') {
      throw fail(504, 'UPSTREAM_TIMEOUT', `Dịch vụ không trả lời trong ${service.timeout_ms} ms.`, `The provider did not answer within ${service.timeout_ms} ms.`)
    }
    if (CONNECT_ERRORS.has(a.code) && IDEMPOTENT.has(method) && tries < 2) {
      await new Promise((r) => setTimeout(r, 50 * (tries + 1)))
      continue
    }
    throw fail(502, 'UPSTREAM_UNAVAILABLE', 'Không kết nối được tới dịch vụ.', `The provider could not be reached (${a.code}).`)
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * The proxy `/gw/{provider}/{service}/*` as a Fastify route: documented in OpenAPI and reached by
 * `inject`; on a listening server the lean listener (lean-gateway.ts) answers these paths first.
 */
export async function gatewayRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (req, payload, done) => {
      const limit = req.exchangeCall?.target?.max_request_bytes ?? 0
      readLimited(payload, limit).then((b) => done(null, b), (e: Error) => done(e))
    })

    scope.route({
      method: [...GATEWAY_METHODS],
      url: '/gw/:provider/:service/*',
      bodyLimit: HARD_BODY_LIMIT,
      // The provider's own headers pass through; the web-page headers (CSP…) are not for API calls.
      helmet: false,
      onRequest: async (req: FastifyRequest) => {
        req.exchangeCall = newCall(deps.clock)
        await authorizeCall(req.exchangeCall, req.method, req.raw.url ?? req.url, req.headers, req.raw.socket, deps)
      },
      // A call refused after authorization by something else (e.g. a chunked body over the limit
      // while it was read) is logged once its answer is sent, with the status it got.
      onResponse: async (req: FastifyRequest, reply: FastifyReply) => {
        if (req.exchangeCall && !req.exchangeCall.recorded) recordCall(deps.log, req.exchangeCall, req.method, reply.statusCode, reply.statusCode === 413 ? 'REQUEST_TOO_LARGE' : 'GATEWAY_ERROR', Buffer.alloc(0), Buffer.alloc(0), false)
      },
      config: {
        compress: false,
        rateLimit: {
          max: deps.cfg.rateLimitPerSystem,
          keyGenerator: (req: FastifyRequest) => {
            const k = req.headers[KEY_HEADER]
            const prefix = typeof k === 'string' ? gatewayKeyPrefix(k) : undefined
            return prefix ? `gw:${prefix}` : `ip:${req.ip}`
          },
        },
      } as Record<string, unknown>,
      schema: {
        tags: ['exchange'],
        summary: 'The exchange gateway (LGSP): forwards a call to a provider service if the calling system is known, has a valid right and is not suspended',
        description: `Authenticate with the system's key in the X-Exchange-Key header. The provider receives ${CLIENT_HEADER}: {member}/{system} and ${REQUEST_ID_HEADER}. ` +
          'Errors: 401 unknown caller, 403 NO_RIGHT / RIGHT_NOT_VALID / SUSPENDED_<rule>, 404 unknown service, 400 PATH_TRAVERSAL / HEADER_INJECTION, 413 REQUEST_TOO_LARGE, 429 RATE_LIMITED, 502 UPSTREAM_UNAVAILABLE / RESPONSE_TOO_LARGE, 504 UPSTREAM_TIMEOUT. Every call is in the signed message log.',
        params: Type.Object({ provider: Type.String({ maxLength: 60 }), service: Type.String({ maxLength: 60 }), '*': Type.String({ maxLength: 4000 }) }),
        headers: Type.Object({ 'x-exchange-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema, 502: ErrorSchema, 504: ErrorSchema },
      },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
        const a = await dispatch(req.exchangeCall!, req.method, req.headers, body, deps)
        return reply.status(a.status).headers(a.headers).send(a.body)
      },
    })
  })
}
