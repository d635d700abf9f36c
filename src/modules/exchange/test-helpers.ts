import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Platform } from '../../platform/runtime.ts'
import type { TestUser } from '../identity/test-factories.ts'
import type { CallFacts } from './message-log.ts'

export interface SeenRequest { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }

/**
 * A real provider on 127.0.0.1: echoes what it received as JSON; `/slow` answers after 3 s,
 * `/big?n=` answers n bytes, `/status/<code>` answers that status, `/health` answers ok.
 */
export async function startProvider(): Promise<{ server: Server; url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const u = new URL(req.url!, 'http://x')
      if (u.pathname.endsWith('/slow')) {
        const t = setTimeout(() => res.end('late'), 3000)
        res.on('close', () => clearTimeout(t))
        return
      }
      if (u.pathname.endsWith('/big')) {
        res.setHeader('content-type', 'application/octet-stream')
        res.end(Buffer.alloc(Number(u.searchParams.get('n') ?? 1000), 97))
        return
      }
      const st = /\/status\/(\d{3})$/.exec(u.pathname)
      res.statusCode = st ? Number(st[1]) : 200
      res.setHeader('content-type', 'application/json')
      res.setHeader('x-provider', 'yes')
      res.setHeader('keep-alive', 'timeout=5')
      res.setHeader('x-hoaban-client', 'forged-by-provider')
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }) }
}

/** One HTTP request over a real socket with the path sent exactly as given (no normalisation). */
export function rawCall(base: string, method: string, path: string, headers: Record<string, string | string[]> = {}, body?: Buffer | string, opts: { chunked?: boolean } = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; json: () => any }> {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const h: Record<string, string | string[]> = { ...headers }
    if (body !== undefined && !opts.chunked) h['content-length'] = String(Buffer.byteLength(body))
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const b = Buffer.concat(chunks)
        resolve({ status: res.statusCode!, headers: res.headers, body: b, json: () => JSON.parse(b.toString('utf8')) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (body !== undefined) {
      if (opts.chunked) {
        const buf = Buffer.from(body)
        for (let i = 0; i < buf.length; i += 256) req.write(buf.subarray(i, i + 256))
      } else req.write(body)
    }
    req.end()
  })
}

/** Registers, through the admin API, a member with one system; answers the system and its key. */
export async function registerSystem(platform: Platform, admin: TestUser, member: { code: string; unit: string }, systemCode: string, extra: Record<string, unknown> = {}): Promise<{ id: string; api_key: string; ref: string }> {
  const existing = await platform.app.inject({ method: 'GET', url: '/api/exchange/members', headers: admin.headers })
  if (!existing.json().items.some((m: { code: string }) => m.code === member.code)) {
    const m = await platform.app.inject({ method: 'POST', url: '/api/exchange/members', headers: admin.headers, payload: { code: member.code, name: `Member ${member.code}`, unit_code: member.unit } })
    if (m.statusCode !== 201) throw new Error(`member: ${m.statusCode} ${m.body}`)
  }
  const s = await platform.app.inject({ method: 'POST', url: '/api/exchange/systems', headers: admin.headers, payload: { member_code: member.code, code: systemCode, name: `System ${systemCode}`, ...extra } })
  if (s.statusCode !== 201) throw new Error(`system: ${s.statusCode} ${s.body}`)
  return { id: s.json().id, api_key: s.json().api_key, ref: `${member.code}/${systemCode}` }
}

export async function registerService(platform: Platform, admin: TestUser, systemId: string, code: string, baseUrl: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
  const r = await platform.app.inject({ method: 'POST', url: '/api/exchange/services', headers: admin.headers, payload: { system_id: systemId, code, name: `Service ${code}`, base_url: baseUrl, ...extra } })
  if (r.statusCode !== 201) throw new Error(`service: ${r.statusCode} ${r.body}`)
  return { id: r.json().id }
}

export async function grant(platform: Platform, admin: TestUser, body: Record<string, unknown>): Promise<{ id: string }> {
  const r = await platform.app.inject({ method: 'POST', url: '/api/exchange/rights', headers: admin.headers, payload: body })
  if (r.statusCode !== 201) throw new Error(`right: ${r.statusCode} ${r.body}`)
  return { id: r.json().id }
}

/** The facts of one gateway call for message-log tests: request id `prefix` + i; `over` replaces any field. */
export function callFacts(prefix: string, i: number, over: Partial<CallFacts> = {}): CallFacts {
  return {
    at: new Date().toISOString(), request_id: `${prefix}${i}`, client: 'A/b', provider: 'C', service: 'd', method: 'GET', path: '/', status: 200, outcome: 'OK',
    request_bytes: 0, response_bytes: 2, duration_ms: 1, request_sha256: '0'.repeat(64), response_sha256: '1'.repeat(64), ...over,
  }
}
