import type { FastifyRequest } from 'fastify'
import type { Principal, PrincipalResolver } from '../../platform/auth/principal.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { AppError } from '../../platform/http/errors.ts'
import type { AppContext } from '../../platform/module.ts'
import { newToken, parseApiKey, sameHash, sha256 } from './credentials.ts'
import { passwordProvider } from './identity-providers.ts'
import { findActiveSession, findApiClientByPrefix, insertSession, recordLoginFailure, resetLoginFailures, revokeSession, type UserRow } from './repository.ts'

export const SESSION_COOKIE = 'hb_session'

export interface LoginResult {
  token: string
  expiresAt: Date
  user: UserRow
}

const badCredentials = () => new AppError(401, 'INVALID_CREDENTIALS', 'Tên đăng nhập hoặc mật khẩu không đúng.', 'Wrong username or password.')

/**
 * Password login. Failures are counted per account; at the limit the account is locked for a
 * while (and the lock is audited). Success starts a session whose token is returned once.
 */
export async function loginWithPassword(
  ctx: Pick<AppContext, 'db' | 'config' | 'clock'>,
  input: { username: string; password: string; kind: 'cookie' | 'bearer'; ip: string },
): Promise<LoginResult> {
  const now = ctx.clock()
  const outcome = await passwordProvider.authenticate(ctx.db, { username: input.username, password: input.password, now })
  if (!outcome.ok) {
    const user = outcome.user
    if (outcome.reason === 'locked' && user) {
      throw new AppError(423, 'ACCOUNT_LOCKED', 'Tài khoản tạm khoá do đăng nhập sai nhiều lần. Vui lòng thử lại sau.', 'Account temporarily locked after repeated failed logins. Try again later.', {
        locked_until: user.locked_until?.toISOString(),
      })
    }
    if (user && outcome.reason === 'bad_credentials') {
      await ctx.db.transaction().execute(async (tx) => {
        const state = await recordLoginFailure(tx, user.id, ctx.config.loginMaxFailures, ctx.config.loginLockMinutes, now)
        const locked = state.locked_until !== null && state.failed_logins >= ctx.config.loginMaxFailures
        await appendAudit(tx, { actor: 'anonymous', action: locked ? 'user.locked_out' : 'user.login_failed', entityType: 'user', entityId: user.id, data: { ip: input.ip, failures: state.failed_logins } }, now)
      })
    }
    throw badCredentials()
  }
  const token = newToken()
  const expiresAt = new Date(now.getTime() + ctx.config.sessionHours * 3600_000)
  await ctx.db.transaction().execute(async (tx) => {
    await resetLoginFailures(tx, outcome.user.id)
    await insertSession(tx, { tokenHash: sha256(token), userId: outcome.user.id, kind: input.kind, provider: passwordProvider.id, expiresAt })
    await appendAudit(tx, { actor: `user:${outcome.user.id}`, action: 'user.logged_in', entityType: 'user', entityId: outcome.user.id, data: { ip: input.ip, kind: input.kind } }, now)
  })
  return { token, expiresAt, user: outcome.user }
}

export async function logout(db: Db, token: string, actor: string): Promise<void> {
  forgetCachedSession(sha256(token))
  await db.transaction().execute(async (tx) => {
    await revokeSession(tx, sha256(token))
    await appendAudit(tx, { actor, action: 'user.logged_out', entityType: 'session', entityId: sha256(token).slice(0, 16) })
  })
}

/** The raw session token of a request: bearer header first, then the cookie. */
export function sessionToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || undefined
  const c = req.cookies?.[SESSION_COOKIE]
  return c || undefined
}

function apiKeyOf(req: FastifyRequest): string | undefined {
  const h = req.headers['x-api-key']
  if (typeof h === 'string' && h) return h
  // Open311 clients send api_key as a query or form field.
  const q = (req.query as Record<string, unknown> | undefined)?.api_key
  return typeof q === 'string' && q ? q : undefined
}

/** The machine client an API key belongs to; 401 for an unknown or revoked key. */
export async function principalForApiKey(db: Db, key: string): Promise<Principal> {
  const parsed = parseApiKey(key)
  const client = parsed && (await findApiClientByPrefix(db, parsed.prefix))
  if (!parsed || !client || !sameHash(client.key_hash, parsed.hash)) {
    throw new AppError(401, 'INVALID_API_KEY', 'Khoá API không hợp lệ.', 'Invalid API key.')
  }
  return { kind: 'client', clientId: client.id, name: client.name, unitCode: client.unit_code, scopes: client.scopes }
}

type CachedSession = { at: number; principal: Principal }
/** Live sessions seen recently, by token hash (per process). Only found sessions are kept. */
const sessionCache = new Map<string, CachedSession>()
const SESSION_CACHE_MAX_ENTRIES = 50_000

/** Drops a session from this process's cache (logout); other nodes drop it within the TTL. */
export function forgetCachedSession(tokenHash: string): void {
  sessionCache.delete(tokenHash)
}

/**
 * Drops every cached session of one account from this process's cache: call it when the
 * account's role, unit or status changes, so this node answers with the new access at once.
 */
export function forgetCachedSessionsOfUser(userId: string): void {
  for (const [hash, entry] of sessionCache) {
    if (entry.principal.kind === 'user' && entry.principal.userId === userId) sessionCache.delete(hash)
  }
}

/**
 * How long (ms) a looked-up session is reused without asking the database again:
 * `SESSION_CACHE_MS`, default 2000; 0 turns the cache off. A logout on this node takes effect at
 * once; a logout on another node or a disabled account within this time.
 */
export function sessionCacheMs(env: Record<string, string | undefined>): number {
  const v = Number(env.SESSION_CACHE_MS ?? 2000)
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 60_000) : 2000
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * CSRF defence for cookie sessions: a state-changing request that carries the session cookie
 * and comes from another site (Sec-Fetch-Site: cross-site, or an Origin whose host is not this
 * host, or Origin `null`) is refused with 403 CSRF_REJECTED. Same-origin requests, requests
 * without Origin/Sec-Fetch-Site (non-browser clients) and bearer/API-key callers pass.
 */
export function refuseCrossSiteCookieWrite(req: FastifyRequest): void {
  if (SAFE_METHODS.has(req.method)) return
  const site = req.headers['sec-fetch-site']
  const origin = req.headers.origin
  let cross = site === 'cross-site'
  if (!cross && typeof origin === 'string' && origin !== '') {
    try {
      cross = origin === 'null' || new URL(origin).host !== new URL(`${req.protocol}://${req.host}`).host
    } catch {
      cross = true
    }
  }
  if (cross) {
    throw new AppError(403, 'CSRF_REJECTED', 'Yêu cầu từ trang web khác bị từ chối.', 'Cross-site request with a session cookie refused.')
  }
}

/** Builds the resolver the platform calls on every request. */
export function principalResolver(ctx: AppContext): PrincipalResolver {
  const ttl = sessionCacheMs(ctx.config.env)
  return async (req): Promise<Principal | null> => {
    const key = apiKeyOf(req)
    if (key) return principalForApiKey(ctx.db, key)
    const token = sessionToken(req)
    if (!token || token.length > 200) return null
    if (!req.headers.authorization?.startsWith('Bearer ')) refuseCrossSiteCookieWrite(req)
    const hash = sha256(token)
    const now = ctx.clock()
    const wall = Date.now()
    const hit = ttl > 0 ? sessionCache.get(hash) : undefined
    if (hit && wall - hit.at < ttl) return hit.principal
    sessionCache.delete(hash)
    // Cached only when the session is still valid at the end of the cache window.
    const lasting = ttl > 0 ? await findActiveSession(ctx.db, hash, new Date(now.getTime() + ttl)) : undefined
    const s = lasting ?? (await findActiveSession(ctx.db, hash, now))
    if (!s) return null
    const principal: Principal = { kind: 'user', userId: s.id, role: s.role, unitCode: s.unit_code, displayName: s.display_name, sessionId: s.token_hash }
    if (lasting) {
      if (sessionCache.size >= SESSION_CACHE_MAX_ENTRIES) sessionCache.clear()
      sessionCache.set(hash, { at: wall, principal })
    }
    return principal
  }
}
