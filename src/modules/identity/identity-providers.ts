import type { Db } from '../../platform/db/database.ts'
import { burnPasswordCheck, verifyPassword } from './credentials.ts'
import { findUserByIdentity, findUserByUsername, type UserRow } from './repository.ts'

/**
 * A way to prove who someone is. Password login is one provider; an OpenID Connect provider
 * (VNeID-style SSO) is another: it verifies the provider's ID token and returns its subject,
 * which `user_identities` links to a user. Sessions, roles and every module are unchanged:
 * they only ever see the Principal built from the session.
 */
export interface IdentityProvider<Input> {
  id: string
  /** Returns the user the input proves, `undefined` for bad credentials. */
  authenticate(db: Db, input: Input): Promise<AuthOutcome>
}

export type AuthOutcome = { ok: true; user: UserRow } | { ok: false; user?: UserRow; reason: 'bad_credentials' | 'locked' | 'disabled' }

export const passwordProvider: IdentityProvider<{ username: string; password: string; now: Date }> = {
  id: 'password',
  async authenticate(db, { username, password, now }) {
    const user = await findUserByUsername(db, username)
    if (!user || !user.password_hash) {
      await burnPasswordCheck(password)
      return { ok: false, reason: 'bad_credentials' }
    }
    if (user.disabled_at) return { ok: false, user, reason: 'disabled' }
    if (user.locked_until && user.locked_until > now) return { ok: false, user, reason: 'locked' }
    return (await verifyPassword(user.password_hash, password)) ? { ok: true, user } : { ok: false, user, reason: 'bad_credentials' }
  },
}

/** For an external provider: the user already linked to this (provider, subject). */
export async function userForExternalIdentity(db: Db, provider: string, subject: string): Promise<UserRow | undefined> {
  return findUserByIdentity(db, provider, subject)
}
