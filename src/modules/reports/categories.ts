import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'

/** A kind of field report and how it is handled. Categories are configuration (a table), seeded below. */
export interface Category {
  code: string
  name_vi: string
  name_en: string
  icon: string
  handling: 'commune' | 'department'
  department_code: string | null
  /** Working hours allowed in each open state. */
  deadlines: { received: number; assigned: number; in_progress: number }
  sort_order: number
  active: boolean
}

/** Điện Biên's starting list. Deadlines are working hours (8 a day), tighter where safety is at stake. */
export const DIEN_BIEN_CATEGORIES: Omit<Category, 'sort_order' | 'active'>[] = [
  { code: 'traffic', name_vi: 'Hạ tầng giao thông (đường, cầu, sạt lở)', name_en: 'Traffic infrastructure (roads, bridges, landslides)', icon: 'road', handling: 'commune', department_code: null, deadlines: { received: 4, assigned: 8, in_progress: 40 } },
  { code: 'environment', name_vi: 'Môi trường, rác thải', name_en: 'Environment and waste', icon: 'leaf', handling: 'commune', department_code: null, deadlines: { received: 4, assigned: 8, in_progress: 40 } },
  { code: 'urban_order', name_vi: 'Trật tự đô thị, lấn chiếm vỉa hè', name_en: 'Urban order, pavement encroachment', icon: 'building', handling: 'commune', department_code: null, deadlines: { received: 4, assigned: 8, in_progress: 24 } },
  { code: 'electricity', name_vi: 'Điện, chiếu sáng công cộng', name_en: 'Electricity and street lighting', icon: 'bolt', handling: 'department', department_code: '11.PCDB', deadlines: { received: 2, assigned: 4, in_progress: 16 } },
  { code: 'water', name_vi: 'Cấp nước, thoát nước', name_en: 'Water supply and drainage', icon: 'droplet', handling: 'commune', department_code: null, deadlines: { received: 4, assigned: 8, in_progress: 24 } },
  { code: 'security', name_vi: 'An ninh, trật tự xã hội', name_en: 'Public security and order', icon: 'shield', handling: 'department', department_code: '11.CA', deadlines: { received: 1, assigned: 2, in_progress: 16 } },
  { code: 'land', name_vi: 'Đất đai, xây dựng trái phép', name_en: 'Land and unauthorised construction', icon: 'map', handling: 'commune', department_code: null, deadlines: { received: 8, assigned: 16, in_progress: 80 } },
  { code: 'health', name_vi: 'Y tế, an toàn thực phẩm', name_en: 'Health and food safety', icon: 'heart', handling: 'department', department_code: '11.SYT', deadlines: { received: 4, assigned: 8, in_progress: 40 } },
  { code: 'education', name_vi: 'Giáo dục, trường học', name_en: 'Education and schools', icon: 'book', handling: 'commune', department_code: null, deadlines: { received: 8, assigned: 16, in_progress: 80 } },
  { code: 'other', name_vi: 'Khác', name_en: 'Other', icon: 'dots', handling: 'commune', department_code: null, deadlines: { received: 8, assigned: 16, in_progress: 80 } },
]

export async function upsertCategory(db: Db, c: Omit<Category, 'active'>): Promise<void> {
  await sql`insert into report_categories (code, name_vi, name_en, icon, handling, department_code, deadlines, sort_order)
    values (${c.code}, ${c.name_vi}, ${c.name_en}, ${c.icon}, ${c.handling}, ${c.department_code}, ${JSON.stringify(c.deadlines)}::jsonb, ${c.sort_order})
    on conflict (code) do nothing`.execute(db)
}

export async function listCategories(db: Db): Promise<Category[]> {
  return (await sql<Category>`select * from report_categories where active order by sort_order, code`.execute(db)).rows
}

export async function getCategory(db: Db, code: string): Promise<Category | undefined> {
  return (await sql<Category>`select * from report_categories where code = ${code} and active`.execute(db)).rows[0]
}

/** Seeds the list once; later edits in the table are kept (on conflict do nothing). */
export async function seedCategories(db: Db): Promise<void> {
  let i = 0
  for (const c of DIEN_BIEN_CATEGORIES) await upsertCategory(db, { ...c, sort_order: i++ })
}

/**
 * Creates or changes a category (province admins configure them); audited in the same
 * transaction. A department-handled category must name an existing unit.
 */
export async function saveCategory(db: Db, c: Omit<Category, 'sort_order'> & { sort_order?: number }, actor: string): Promise<Category> {
  return db.transaction().execute(async (tx) => {
    if ((c.handling === 'department') !== !!c.department_code) {
      throw badRequest('INVALID_HANDLING', 'Lĩnh vực do sở xử lý phải nêu mã đơn vị (và chỉ khi đó).', 'A department-handled category needs department_code (and only then).')
    }
    if (c.department_code && !(await getOrgUnit(tx, c.department_code))) throw badRequest('UNKNOWN_UNIT', 'Đơn vị không tồn tại.', `Unknown unit ${c.department_code}.`)
    const { rows } = await sql<Category>`insert into report_categories (code, name_vi, name_en, icon, handling, department_code, deadlines, sort_order, active)
      values (${c.code}, ${c.name_vi}, ${c.name_en}, ${c.icon}, ${c.handling}, ${c.department_code}, ${JSON.stringify(c.deadlines)}::jsonb, ${c.sort_order ?? 100}, ${c.active})
      on conflict (code) do update set name_vi = excluded.name_vi, name_en = excluded.name_en, icon = excluded.icon, handling = excluded.handling,
        department_code = excluded.department_code, deadlines = excluded.deadlines, sort_order = coalesce(${c.sort_order ?? null}, report_categories.sort_order), active = excluded.active
      returning *`.execute(tx)
    await appendAudit(tx, { actor, action: 'report_category.saved', entityType: 'report_category', entityId: c.code, data: { ...c } })
    return rows[0]
  })
}
