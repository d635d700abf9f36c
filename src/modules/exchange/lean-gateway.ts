import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { AppError } from '../../platform/http/errors.ts'
import { authorizeCall, dispatch, err, GATEWAY_METHODS, KEY_HEADER, newCall, readLimited, recordCall, REQUEST_ID_HEADER, type GatewayDeps } from './gateway.ts'
import { gatewayKeyPrefix } from './registry.ts'

const METHODS = new Set<string>(GATEWAY_METHODS)
const EMPTY = Buffer.alloc(0)

/**
 * A fixed one-minute window per calling system (key prefix), or per IP without a valid-looking key.
 * Kept in memory per node; windows older than a minute are swept when a new window starts.
 */
export class SystemRateLimiter {
  readonly #counts = new Map<string, number>()
  #window = 0
  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** True when the call may go on; false when this key has used its minute. */
  take(key: string): boolean {
    const w = Math.floor(this.now() / 60_000)
    if (w !== this.#window) {
      this.#window = w
      this.#counts.clear()
    }
    const n = (this.#counts.get(key) ?? 0) + 1
    this.#counts.set(key, n)
    return n <= this.perMinute
  }

  /** Seconds until the current window ends. */
  retryAfter(): number {
    return Math.max(1, Math.ceil(((this.#window + 1) * 60_000 - this.now()) / 1000))
  }
}

function sendError(res: ServerResponse, e: AppError, requestId: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify(e.toBody())
  res.writeHead(e.statusCode, { ...(e.headers ?? {}), 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), [REQUEST_ID_HEADER]: requestId })
  res.end(body)
}

/**
 * The lean path: answers `/gw/…` on the raw node:http request, before Fastify's routing, hooks and
 * serialisation run. Same checks and message log as the Fastify route (authorizeCall / dispatch),
 * plus the per-system rate limit (429 RATE_LIMITED).
 */
export async function handleLean(req: IncomingMessage, res: ServerResponse, deps: GatewayDeps, limiter: SystemRateLimiter): Promise<void> {
  const c = newCall(deps.clock)
  const method = req.method ?? 'GET'
  try {
    const k = req.headers[KEY_HEADER]
    const prefix = typeof k === 'string' ? gatewayKeyPrefix(k) : undefined
    if (!limiter.take(prefix ? `gw:${prefix}` : `ip:${req.socket.remoteAddress ?? ''}`)) {
      const e = err(429, 'RATE_LIMITED', 'Hệ thống gọi quá nhiều yêu cầu trong một phút; hãy thử lại sau.', 'The calling system sent too many requests this minute; retry later.', { limit_per_minute: deps.cfg.rateLimitPerSystem })
      recordCall(deps.log, c, method, 429, e.code, Buffer.alloc(0), Buffer.alloc(0), false)
      throw new AppError(e.statusCode, e.code, e.messageVi, e.messageEn, e.details, { 'retry-after': String(limiter.retryAfter()) })
    }
    const service = await authorizeCall(c, method, req.url ?? '/', req.headers, req.socket, deps)
    let body: Buffer
    try {
      // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3):
      // nothing to wait for (no promise, no listeners); the empty stream is drained.
      if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
        req.resume()
        body = EMPTY
      } else body = await readLimited(req, service.max_request_bytes)
    } catch (e) {
      if (e instanceof AppError) recordCall(deps.log, c, method, e.statusCode, e.code, Buffer.alloc(0), Buffer.alloc(0), false)
      // the rest of an oversized body is not read: close the connection after the answer
      res.setHeader('connection', 'close')
      throw e
    }
    const a = await dispatch(c, method, req.headers, body, deps)
    // the answer's headers are this call's own object: completed in place, not copied
    a.headers['content-length'] = String(a.body.length)
    res.writeHead(a.status, a.headers)
    res.end(a.body)
  } catch (e) {
    const known = e instanceof AppError
    if (!known && !c.recorded) recordCall(deps.log, c, method, 502, 'GATEWAY_ERROR', Buffer.alloc(0), Buffer.alloc(0), false)
    // the refusal's record is in the journal, sealed, before the refusal is sent
    await deps.log.written().catch(() => {})
    sendError(res, known ? e : err(502, 'GATEWAY_ERROR', 'Cổng trao đổi gặp lỗi khi chuyển tiếp.', 'The gateway failed while forwarding.'), c.requestId)
  }
}

/**
 * Puts the lean listener in front of the server's existing 'request' listeners (Fastify's): `/gw/`
 * calls with a gateway method are answered here, everything else goes on to Fastify unchanged.
 */
export function installLeanGateway(server: Server, deps: GatewayDeps): void {
  const limiter = new SystemRateLimiter(deps.cfg.rateLimitPerSystem)
  const previous = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[]
  server.removeAllListeners('request')
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/gw/') && METHODS.has(req.method ?? '')) {
      void handleLean(req, res, deps, limiter)
      return
    }
    for (const l of previous) l.call(server, req, res)
  })
}
