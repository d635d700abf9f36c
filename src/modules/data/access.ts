import { sql, type RawBuilder } from 'kysely'
import { canSeeUnit, STAFF_ROLES, type Principal } from '../../platform/auth/principal.ts'

/** Access levels of datasets and shared databases: open (everyone), shared (among agencies), restricted (the owner only). */
export const ACCESS_LEVELS = ['open', 'shared', 'restricted'] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

const isAgency = (p: Principal | null): boolean => !!p && (p.kind === 'client' || STAFF_ROLES.includes(p.role))

/** Who may read a dataset (its metadata, resources and DataStore rows). */
export function canReadDataset(p: Principal | null, d: { access_level: AccessLevel | string; owner_org: string }): boolean {
  if (d.access_level === 'open') return true
  if (d.access_level === 'shared') return isAgency(p)
  if (p?.kind === 'client') return !!p.unitCode && p.unitCode === d.owner_org
  return canSeeUnit(p, d.owner_org)
}

/** Who may change a dataset: staff of the owning unit, or a province admin. */
export function canEditDataset(p: Principal | null, ownerOrg: string): boolean {
  return !!p && p.kind === 'user' && STAFF_ROLES.includes(p.role) && canSeeUnit(p, ownerOrg)
}

/** The same rule as SQL over data_datasets aliased `d`, for lists and search. */
export function visibleSql(p: Principal | null): RawBuilder<unknown> {
  if (p?.kind === 'user' && p.role === 'province_admin') return sql`true`
  if (!isAgency(p)) return sql`d.access_level = 'open'`
  const unit = p!.unitCode ?? ''
  return sql`(d.access_level in ('open', 'shared') or d.owner_org = ${unit})`
}
