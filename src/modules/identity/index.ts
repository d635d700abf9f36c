import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { identityRoutes } from './routes.ts'
import { seedDemoAccounts, seedOrgUnits } from './seed.ts'

/** identity: accounts, roles, organisational units, sessions, API clients. */
export const identityModule: Module = {
  name: 'identity',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  routes: identityRoutes,
  seedReference: seedOrgUnits,
  seedDemo: seedDemoAccounts,
}

export { principalResolver, principalForApiKey } from './sessions.ts'
export { createUser, createApiClient, getActiveUserRole, moveUserToUnit } from './users.ts'
export { getOrgUnit, listOrgUnits, type OrgUnit } from './repository.ts'
export type { IdentityProvider } from './identity-providers.ts'
