import { randomBytes } from 'node:crypto'
import type { Principal, Role } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { newToken, sha256 } from './credentials.ts'
import { insertSession, insertUser } from './repository.ts'

export interface TestUser {
  id: string
  username: string
  role: Role
  unitCode: string | null
  /** Bearer token of a fresh session: send as `authorization: Bearer <token>`. */
  token: string
  headers: { authorization: string }
  principal: Principal
}

/**
 * Creates a user with a session, for tests: each test makes its own users (unique names), so
 * tests never depend on shared seeded rows. No password (sessions are created directly).
 */
export async function createTestUser(db: Db, role: Role, unitCode: string | null = null): Promise<TestUser> {
  const username = `t.${role}.${randomBytes(5).toString('hex')}`
  const u = await insertUser(db, { username, display_name: `Test ${role}`, role, unit_code: unitCode, password_hash: null })
  const token = newToken()
  await insertSession(db, { tokenHash: sha256(token), userId: u.id, kind: 'bearer', provider: 'test', expiresAt: new Date(Date.now() + 3600_000) })
  return {
    id: u.id,
    username,
    role,
    unitCode,
    token,
    headers: { authorization: `Bearer ${token}` },
    principal: { kind: 'user', userId: u.id, role, unitCode, displayName: u.display_name, sessionId: sha256(token) },
  }
}
