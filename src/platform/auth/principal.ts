import type { FastifyRequest } from 'fastify'
import { forbidden, unauthorized } from '../http/errors.ts'

export const ROLES = ['citizen', 'officer', 'unit_admin', 'province_admin', 'ioc_viewer'] as const
export type Role = (typeof ROLES)[number]

/** Who is calling: a signed-in person or a machine client (API key). */
export type Principal =
  | { kind: 'user'; userId: string; role: Role; unitCode: string | null; displayName: string; sessionId: string }
  | { kind: 'client'; clientId: string; name: string; unitCode: string | null; scopes: string[] }

/**
 * Turns request credentials (session cookie, bearer token, API key) into a principal. The
 * identity module provides it; other modules only ever see the Principal.
 */
export type PrincipalResolver = (req: FastifyRequest) => Promise<Principal | null>

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** The actor string written to the audit log for this request. */
export function actorOf(p: Principal | null): string {
  if (!p) return 'anonymous'
  return p.kind === 'user' ? `user:${p.userId}` : `client:${p.clientId}`
}

export function requirePrincipal(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized()
  return req.principal
}

export type UserPrincipal = Extract<Principal, { kind: 'user' }>

/** A signed-in user having one of the roles. */
export function requireUser(req: FastifyRequest, ...roles: Role[]): UserPrincipal {
  const p = requirePrincipal(req)
  if (p.kind !== 'user') throw forbidden('This action needs a signed-in user.', 'Thao tác này cần người dùng đăng nhập.')
  if (roles.length > 0 && !roles.includes(p.role)) throw forbidden()
  return p
}

/** Staff: officers, unit admins, province admins. */
export const STAFF_ROLES: Role[] = ['officer', 'unit_admin', 'province_admin']

export function isStaff(p: Principal | null): p is UserPrincipal {
  return !!p && p.kind === 'user' && STAFF_ROLES.includes(p.role)
}

/** True when the principal may see internal data of the unit (its own unit, or province-wide). */
export function canSeeUnit(p: Principal | null, unitCode: string | null): boolean {
  if (!p || p.kind !== 'user') return false
  if (p.role === 'province_admin') return true
  if (p.role === 'officer' || p.role === 'unit_admin') return !!unitCode && p.unitCode === unitCode
  return false
}
