import { readFileSync } from 'node:fs'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { CIVIL_SERVANT_SCHEMA } from './civil-servants.ts'
import { countRecords, insertRecord, insertVersion, upsertSchema } from './repository.ts'
import { checkSchemaDefinition, recordKeyOf, validateObject, type RegistrySchema } from './schema.ts'

/** Seeded sector databases: education (schools) and agriculture (cooperatives, crop areas). */
export const SECTOR_DATA_FILES = ['education-schools.json', 'agriculture-cooperatives.json', 'agriculture-crop-areas.json']

export function readSectorFile(file: string): { schema: RegistrySchema; records: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(new URL(`./data/${file}`, import.meta.url), 'utf8'))
}

/**
 * Creates the registries the platform ships with, once: the civil-servant registry and the
 * sector databases with their records. A schema already there is left as staff changed it; a
 * registry's records are loaded only while it is empty. Every seeded record gets version 1.
 */
export async function seedRegistries(db: Db): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (await upsertSchema(tx, CIVIL_SERVANT_SCHEMA, { replace: false })) {
      await appendAudit(tx, { actor: 'system', action: 'registry.schema_created', entityType: 'registry', entityId: CIVIL_SERVANT_SCHEMA.name, data: { seeded: true } })
    }
  })
  for (const file of SECTOR_DATA_FILES) {
    const { schema, records } = readSectorFile(file)
    const problems = checkSchemaDefinition(schema)
    if (problems.length > 0) throw new Error(`registries: bad schema in ${file}: ${JSON.stringify(problems)}`)
    await db.transaction().execute(async (tx) => {
      const created = await upsertSchema(tx, schema, { replace: false })
      if (!created && (await countRecords(tx, schema.name)) > 0) return
      const now = new Date()
      let n = 0
      for (const raw of records) {
        const { data, errors } = validateObject(schema.fields, raw)
        if (errors.length > 0) throw new Error(`registries: bad seed record in ${file}: ${JSON.stringify(errors)}`)
        const key = recordKeyOf(schema, data)
        if (await insertRecord(tx, { registry: schema.name, record_key: key, data, unit_code: null, linked_user_id: null, version: 1, created_by: 'system', at: now })) {
          await insertVersion(tx, { registry: schema.name, record_key: key, version: 1, at: now, actor: 'system', action: 'seeded', diff: {}, data, unit_code: null })
          n++
        }
      }
      await appendAudit(tx, { actor: 'system', action: 'registry.seeded', entityType: 'registry', entityId: schema.name, data: { records: n, file } }, now)
    })
  }
}
