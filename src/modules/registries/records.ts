import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { badRequest, conflict, notFound } from '../../platform/http/errors.ts'
import { enqueueNationalChange } from './national-sync.ts'
import { getRecord, insertRecord, insertVersion, updateRecordRow, type RecordRow } from './repository.ts'
import { diffData, recordKeyOf, validateObject, type FieldError, type RegistrySchema } from './schema.ts'

/** The registry whose changes go to the national database. */
export const CIVIL_SERVANTS = 'civil_servants'

export const invalidRecord = (errors: FieldError[]) =>
  badRequest('INVALID_RECORD', 'Dữ liệu không hợp lệ với lược đồ của cơ sở dữ liệu.', 'The record does not match the registry schema.', { errors })

const KEY_PATTERN = /^[^/?#\s][^/?#]{0,199}$/

export interface WriteOptions {
  actor: string
  now: Date
  action?: string
  /** Unit the record belongs to, for registries kept per unit. */
  unitCode?: string | null
  linkedUserId?: string | null
}

/** Records one version of a record: the versions table, the audit log, the national outbox. */
async function recordVersion(tx: Db, schema: RegistrySchema, row: { record_key: string; data: Record<string, unknown>; unit_code: string | null; version: number }, before: Record<string, unknown> | null, o: WriteOptions & { action: string }): Promise<void> {
  const diff = diffData(before, row.data)
  await insertVersion(tx, { registry: schema.name, record_key: row.record_key, version: row.version, at: o.now, actor: o.actor, action: o.action, diff, data: row.data, unit_code: row.unit_code })
  if (schema.name === CIVIL_SERVANTS) {
    await enqueueNationalChange(tx, { registry: schema.name, recordKey: row.record_key, version: row.version, action: o.action, data: row.data, unitCode: row.unit_code, at: o.now })
  }
  // The audit entry names the fields changed, not their values (restricted data stays in its table).
  await appendAudit(tx, { actor: o.actor, action: `registry.record_${o.action}`, entityType: `registry:${schema.name}`, entityId: row.record_key, data: { version: row.version, fields: Object.keys(diff).sort() } }, o.now)
}

/** Validates and inserts a new record (version 1). 409 when the key exists. */
export async function createRecord(tx: Db, schema: RegistrySchema, input: unknown, o: WriteOptions): Promise<RecordRow> {
  const { data, errors } = validateObject(schema.fields, input)
  if (errors.length > 0) throw invalidRecord(errors)
  const key = recordKeyOf(schema, data)
  if (!KEY_PATTERN.test(key)) throw invalidRecord([{ field: schema.key_fields.join('~'), code: 'KEY', message_vi: 'Khoá không được chứa / ? # và dài tối đa 200 ký tự.', message_en: 'Keys may not contain / ? # and are at most 200 characters.' }])
  const row = { registry: schema.name, record_key: key, data, unit_code: o.unitCode ?? null, linked_user_id: o.linkedUserId ?? null, version: 1, created_by: o.actor, at: o.now }
  if (!(await insertRecord(tx, row))) throw conflict('RECORD_EXISTS', 'Bản ghi với khoá này đã tồn tại.', `A record with key ${key} already exists.`)
  await recordVersion(tx, schema, row, null, { ...o, action: o.action ?? 'created' })
  return (await getRecord(tx, schema.name, key))!
}

/**
 * Applies a partial change (fields absent stay, null clears an optional field) to a record,
 * under its row lock; with `expectedVersion`, a stale writer gets 409. Key fields cannot change.
 * No change: no new version.
 */
export async function updateRecord(tx: Db, schema: RegistrySchema, key: string, patch: unknown, o: WriteOptions & { expectedVersion?: number }): Promise<{ row: RecordRow; changed: boolean }> {
  const current = await getRecord(tx, schema.name, key, { forUpdate: true })
  if (!current) throw notFound('Record', 'bản ghi')
  if (o.expectedVersion !== undefined && o.expectedVersion !== current.version) {
    throw conflict('VERSION_CONFLICT', 'Bản ghi đã được người khác sửa; hãy tải lại.', 'The record was changed by someone else; reload it.', { current_version: current.version })
  }
  const p = validateObject(schema.fields, patch, '', { partial: true })
  if (p.errors.length > 0) throw invalidRecord(p.errors)
  const merged: Record<string, unknown> = { ...current.data }
  for (const [k, v] of Object.entries(p.data)) {
    if (v === null) delete merged[k]
    else merged[k] = v
  }
  const full = validateObject(schema.fields, merged)
  if (full.errors.length > 0) throw invalidRecord(full.errors)
  if (recordKeyOf(schema, full.data) !== key) throw invalidRecord([{ field: schema.key_fields.join('~'), code: 'KEY_CHANGED', message_vi: 'Không được đổi khoá của bản ghi.', message_en: 'Key fields cannot change.' }])
  const unitCode = o.unitCode === undefined ? current.unit_code : o.unitCode
  const linked = o.linkedUserId === undefined ? current.linked_user_id : o.linkedUserId
  const changed = Object.keys(diffData(current.data, full.data)).length > 0 || unitCode !== current.unit_code || linked !== current.linked_user_id
  if (!changed) return { row: current, changed: false }
  const next = { registry: schema.name, record_key: key, data: full.data, unit_code: unitCode, linked_user_id: linked, version: current.version + 1, at: o.now, actor: o.actor }
  await updateRecordRow(tx, next)
  await recordVersion(tx, schema, next, current.data, { ...o, action: o.action ?? 'updated' })
  return { row: (await getRecord(tx, schema.name, key))!, changed: true }
}
