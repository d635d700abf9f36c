import { canonicalJson } from '../../platform/canonical-json.ts'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { listRegistrySchemas } from '../registries/index.ts'
import { getSharedDatabase, upsertSharedDatabase, type SharedDatabaseInput } from './repository.ts'

/**
 * Lists the registries module's shared sector databases (CSDL chuyên ngành dùng chung: civil
 * servants, schools, cooperatives…) in the catalogue of shared databases, under the code
 * `registry.<name>`, with their fields and access level. The registries module owns the schemas;
 * this only mirrors them (read through its exported function), so the catalogue never drifts:
 * it is refreshed with the platform datasets. An entry changes (and is audited) only when the
 * schema changed.
 */
export async function catalogueRegistries(db: Db, now: Date): Promise<number> {
  let changed = 0
  for (const schema of await listRegistrySchemas(db)) {
    const entry: SharedDatabaseInput = {
      code: `registry.${schema.name}`.slice(0, 64),
      name: schema.title_vi,
      owner_unit: schema.owner_unit,
      custodian: schema.owner_unit,
      description: schema.description || schema.title_en,
      fields: schema.fields.map((f) => ({ name: f.name, type: f.type, description: `${f.label_vi} (${f.access})` })),
      update_frequency: 'realtime',
      access_level: schema.access,
      legal_basis: 'Nghị định 47/2020/NĐ-CP về quản lý, kết nối và chia sẻ dữ liệu số của cơ quan nhà nước',
      systems_using: ['hoaban.registries', 'hoaban.exchange'],
      contact: '',
    }
    const before = await getSharedDatabase(db, entry.code)
    const same = before && before.name === entry.name && before.owner_unit === entry.owner_unit && before.access_level === entry.access_level &&
      before.description === entry.description && canonicalJson(before.fields) === canonicalJson(entry.fields)
    if (same) continue
    await db.transaction().execute(async (tx) => {
      await upsertSharedDatabase(tx, entry, now)
      await appendAudit(tx, { actor: 'system', action: before ? 'data.shared_database.updated' : 'data.shared_database.created', entityType: 'shared_database', entityId: entry.code, data: { access_level: entry.access_level, owner_unit: entry.owner_unit, from: 'registries', schema_version: schema.schema_version } }, now)
    })
    changed++
  }
  return changed
}
