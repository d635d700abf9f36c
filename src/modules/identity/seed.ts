import type { AppContext, DemoSeedOutput } from '../../platform/module.ts'
import { listAdminUnits } from '../geo/index.ts'
import { generatePassword, hashPassword } from './credentials.ts'
import { DIEN_BIEN_DEPARTMENTS } from './departments.ts'
import { countUsers, insertUser, upsertOrgUnit } from './repository.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'

/** Org units mirror the administrative units (province, communes) plus the departments. */
export async function seedOrgUnits(ctx: AppContext): Promise<void> {
  const units = await listAdminUnits(ctx.db)
  await ctx.db.transaction().execute(async (tx) => {
    for (const u of units.filter((x) => x.level === 'province')) {
      await upsertOrgUnit(tx, { code: u.code, name_vi: u.full_name, name_en: `${u.name_en} Province`, kind: 'province', parent_code: null })
    }
    for (const u of units.filter((x) => x.level === 'commune')) {
      await upsertOrgUnit(tx, { code: u.code, name_vi: `UBND ${u.full_name}`, name_en: `${u.name_en} People's Committee`, kind: 'commune', parent_code: u.parent_code })
    }
    if (units.some((u) => u.code === '11')) for (const d of DIEN_BIEN_DEPARTMENTS) await upsertOrgUnit(tx, d)
  })
}

/**
 * Demo accounts on first start (no users yet). Passwords are generated here and reported once,
 * never stored in the code; every account is marked is_demo. One password per role keeps
 * first start fast (one argon2 hash each) while no two installations share a password.
 */
export async function seedDemoAccounts(ctx: AppContext, out: DemoSeedOutput): Promise<void> {
  if ((await countUsers(ctx.db)) > 0) return
  const units = (await listAdminUnits(ctx.db)).filter((u) => u.level === 'commune')
  const pw = { citizen: generatePassword(), officer: generatePassword(), unit_admin: generatePassword(), province_admin: generatePassword(), ioc_viewer: generatePassword() }
  const hash = Object.fromEntries(await Promise.all(Object.entries(pw).map(async ([k, v]) => [k, await hashPassword(v)]))) as Record<keyof typeof pw, string>
  await ctx.db.transaction().execute(async (tx) => {
    const add = async (username: string, display_name: string, role: keyof typeof pw, unit_code: string | null) => {
      const u = await insertUser(tx, { username, display_name, role, unit_code, password_hash: hash[role], is_demo: true })
      await appendAudit(tx, { actor: 'system', action: 'user.created', entityType: 'user', entityId: u.id, data: { username, role, unit_code, demo: true } })
    }
    await add('demo.citizen', 'Lò Văn Dân (demo)', 'citizen', null)
    for (const u of units) await add(`demo.officer.${u.code}`, `Cán bộ ${u.full_name} (demo)`, 'officer', u.code)
    const first = units.find((u) => u.code === '03127') ?? units[0]
    if (first) await add('demo.unitadmin', `Quản trị ${first.full_name} (demo)`, 'unit_admin', first.code)
    await add('demo.province', 'Quản trị tỉnh (demo)', 'province_admin', '11')
    await add('demo.ioc', 'Lãnh đạo xem IOC (demo)', 'ioc_viewer', null)
  })
  out.accounts.push(
    { username: 'demo.citizen', password: pw.citizen, role: 'citizen' },
    { username: 'demo.officer.<commune code>, e.g. demo.officer.03127', password: pw.officer, role: 'officer', unit: 'each commune' },
    { username: 'demo.unitadmin', password: pw.unit_admin, role: 'unit_admin', unit: '03127' },
    { username: 'demo.province', password: pw.province_admin, role: 'province_admin' },
    { username: 'demo.ioc', password: pw.ioc_viewer, role: 'ioc_viewer' },
  )
}
