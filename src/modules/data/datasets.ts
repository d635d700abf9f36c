import { randomUUID } from 'node:crypto'
import { open as openFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { AppError, badRequest, conflict, notFound } from '../../platform/http/errors.ts'
import { runIdempotent } from '../../platform/http/idempotency.ts'
import { getOrgUnit } from '../identity/index.ts'
import type { AccessLevel } from './access.ts'
import { DatastoreLoadError, dropTable, loadIntoNewTable, publishView, setViewAccess, tableNameFor, type LoadReport } from './datastore.ts'
import { dataFilePath, storeUpload } from './files.ts'
import type { FieldType } from './infer.ts'
import { LICENSES } from './licenses.ts'
import {
  addHistory, datasetSearchText, getDataset, getResource, insertDataset, insertResource, listResources, touchDatasetData, updateDataset, updateResourceData,
  type DatasetRow, type NewDataset, type ResourceRow,
} from './repository.ts'
import { detectFormat, type TabularFormat } from './sources.ts'

async function orgName(db: Db, code: string): Promise<string> {
  const u = await getOrgUnit(db, code)
  if (!u) throw badRequest('UNKNOWN_ORGANIZATION', `Không có cơ quan ${code}.`, `Unknown organization (org unit) ${code}.`)
  return u.name_vi
}

function checkDataset(d: { license_id: string }): void {
  if (!LICENSES[d.license_id]) throw badRequest('UNKNOWN_LICENSE', 'Giấy phép không hợp lệ.', `Unknown license_id ${d.license_id}; one of ${Object.keys(LICENSES).join(', ')}.`)
}

/** Creates a dataset (package), audited, with its first history entry and a `data.dataset.created` event. */
export async function createDataset(tx: Db, input: NewDataset, actor: string, now: Date): Promise<DatasetRow> {
  checkDataset(input)
  const org = await orgName(tx, input.owner_org)
  if (await getDataset(tx, input.name)) throw conflict('DATASET_NAME_TAKEN', 'Tên bộ dữ liệu đã được dùng.', `A dataset named ${input.name} already exists.`)
  const tags = [...new Set(input.tags.map((t) => t.normalize('NFC').trim()).filter(Boolean))]
  const d = await insertDataset(tx, { ...input, tags }, datasetSearchText({ ...input, tags }, org), now)
  await addHistory(tx, { datasetId: d.id, version: d.version, at: now, actor, change: 'created', detail: { title: d.title } })
  await publishEvent(tx, 'data.dataset.created', { id: d.id, name: d.name, owner_org: d.owner_org, access_level: d.access_level })
  await appendAudit(tx, { actor, action: 'data.dataset.created', entityType: 'dataset', entityId: d.id, data: { name: d.name, owner_org: d.owner_org, access_level: d.access_level } }, now)
  return d
}

/** Updates a dataset's metadata (a new version), re-granting SQL access of its views when the access level changes. */
export async function editDataset(tx: Db, id: string, input: Omit<NewDataset, 'name' | 'source_system'>, actor: string, now: Date): Promise<DatasetRow> {
  checkDataset(input)
  const before = await getDataset(tx, id, true)
  if (!before) throw notFound('Dataset', 'bộ dữ liệu')
  const org = await orgName(tx, input.owner_org)
  const tags = [...new Set(input.tags.map((t) => t.normalize('NFC').trim()).filter(Boolean))]
  const d = await updateDataset(tx, id, { ...input, tags }, datasetSearchText({ ...input, tags, name: before.name }, org), now)
  const changed = (Object.keys(input) as (keyof typeof input)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(d[k]))
  if (before.access_level !== d.access_level) {
    for (const r of await listResources(tx, [id])) await setViewAccess(tx, r.id, d.access_level === 'open')
  }
  await addHistory(tx, { datasetId: id, version: d.version, at: now, actor, change: 'metadata', detail: { changed } })
  await publishEvent(tx, 'data.dataset.updated', { id, name: d.name, changed })
  await appendAudit(tx, { actor, action: 'data.dataset.updated', entityType: 'dataset', entityId: id, data: { changed, access_level: d.access_level } }, now)
  return d
}

export interface ResourceInput {
  name: string
  description: string
  /** An external URL (no upload) … */
  url?: string
  format?: string
  /** … or an uploaded file already stored. */
  file?: { sha256: string; size: number; name: string; mime: string }
  /** Declared schema; otherwise inferred over the whole file. */
  fields?: { id: string; type: FieldType }[]
  /** Refuse the whole load when any row does not fit (default: load the rest and report them). */
  strict?: boolean
}

const MIME: Record<TabularFormat, string> = { CSV: 'text/csv', XLSX: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', JSON: 'application/json', GeoJSON: 'application/geo+json' }

async function loadFile(db: Db, uploadDir: string, sha256: string, format: TabularFormat, table: string, input: ResourceInput): Promise<{ fields: Awaited<ReturnType<typeof loadIntoNewTable>>['fields']; report: LoadReport }> {
  try {
    const r = await loadIntoNewTable(db, { path: dataFilePath(uploadDir, sha256), format, table, declared: input.fields })
    if (input.strict && r.report.rows_rejected > 0) {
      await dropTable(db, table)
      throw badRequest('ROWS_REJECTED', `${r.report.rows_rejected} dòng không đúng kiểu dữ liệu; không nạp.`, `${r.report.rows_rejected} rows do not fit the schema; nothing was loaded.`, r.report)
    }
    return r
  } catch (err) {
    await dropTable(db, table).catch(() => {})
    if (err instanceof DatastoreLoadError) throw badRequest(err.code, err.vi, err.en)
    throw err
  }
}

async function headOf(path: string): Promise<Buffer> {
  const fh = await openFile(path, 'r')
  try {
    const b = Buffer.alloc(4096)
    const { bytesRead } = await fh.read(b, 0, b.length, 0)
    return b.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/**
 * Adds a resource to a dataset: a URL, or an uploaded file that, when tabular, is loaded into
 * the DataStore first (outside the transaction, into a fresh table), then published with the
 * resource row, its view, the dataset's new version, history, event and audit in one transaction.
 */
export async function addResource(db: Db, datasetId: string, input: ResourceInput, ctx: { actor: string; now: Date; uploadDir: string; idempotency?: { scope: string; key: string | undefined; fingerprint: string } }): Promise<{ resource: ResourceRow; report: LoadReport | null; replayed?: boolean }> {
  const dataset = await getDataset(db, datasetId)
  if (!dataset) throw notFound('Dataset', 'bộ dữ liệu')
  const id = randomUUID()
  let format = input.format ?? 'URL'
  let loaded: Awaited<ReturnType<typeof loadFile>> | undefined
  let table: string | null = null
  if (input.file) {
    const detected = detectFormat(input.file.name, await headOf(dataFilePath(ctx.uploadDir, input.file.sha256)))
    if (detected) {
      format = detected
      table = tableNameFor(id, 1)
      loaded = await loadFile(db, ctx.uploadDir, input.file.sha256, detected, table, input)
    } else format = input.format ?? input.file.name.split('.').pop()?.toUpperCase() ?? 'BIN'
  }
  try {
    const r = await runIdempotent(db, ctx.idempotency ?? { scope: 'data.resource', key: undefined, fingerprint: '' }, async (tx) => {
      const d = await getDataset(tx, datasetId, true)
      if (!d) throw notFound('Dataset', 'bộ dữ liệu')
      let r = await insertResource(tx, {
        id, dataset_id: d.id, name: input.name, description: input.description, format, url: input.url ?? null,
        file_sha256: input.file?.sha256 ?? null, file_name: input.file?.name ?? null, size: input.file?.size ?? null,
        mimetype: input.file ? (MIME[format as TabularFormat] ?? input.file.mime) : null,
      }, ctx.now)
      if (loaded && table) {
        r = await updateResourceData(tx, id, { datastore_table: table, fields: loaded.fields, row_count: loaded.report.rows_loaded, load_report: loaded.report }, ctx.now)
        await publishView(tx, id, table, loaded.fields, d.access_level === 'open')
      }
      const version = await touchDatasetData(tx, d.id, ctx.now)
      await addHistory(tx, { datasetId: d.id, version, at: ctx.now, actor: ctx.actor, change: 'resource_added', detail: { resource_id: id, name: input.name, format, rows_loaded: loaded?.report.rows_loaded ?? null, rows_rejected: loaded?.report.rows_rejected ?? null } })
      await publishEvent(tx, 'data.resource.created', { id, dataset_id: d.id, format, datastore_active: !!loaded })
      // A data feed (the dataset) received new data: the IOC's "feed not updated" rule listens for it.
      await publishEvent(tx, 'data.feed_updated', { feed_code: d.name, updated_at: ctx.now.toISOString(), unit_code: d.owner_org })
      await appendAudit(tx, { actor: ctx.actor, action: 'data.resource.created', entityType: 'resource', entityId: id, data: { dataset_id: d.id, format, sha256: input.file?.sha256 ?? null, url: input.url ?? null, rows: loaded?.report.rows_loaded ?? null } }, ctx.now)
      return { statusCode: 201, body: { resource: r, report: loaded?.report ?? null } }
    })
    // A retry with the same key: the first answer stands; the table loaded for this retry goes.
    if (r.replayed && table) await dropTable(db, table).catch(() => {})
    return { ...r.body, replayed: r.replayed }
  } catch (err) {
    if (table) await dropTable(db, table).catch(() => {})
    throw err
  }
}

/** Replaces a resource's file (a new version): reloads the DataStore into a new table, swaps it in, drops the old one. */
export async function replaceResourceData(db: Db, resourceId: string, input: Omit<ResourceInput, 'name' | 'description' | 'url'> & { file: NonNullable<ResourceInput['file']> }, ctx: { actor: string; now: Date; uploadDir: string }): Promise<{ resource: ResourceRow; report: LoadReport | null }> {
  const before = await getResource(db, resourceId)
  if (!before) throw notFound('Resource', 'tài nguyên')
  const detected = detectFormat(input.file.name, await headOf(dataFilePath(ctx.uploadDir, input.file.sha256)))
  const table = detected ? tableNameFor(resourceId, before.version + 1) : null
  const loaded = detected && table ? await loadFile(db, ctx.uploadDir, input.file.sha256, detected, table, { ...input, name: '', description: '' }) : undefined
  let oldTable: string | null = null
  try {
    const result = await db.transaction().execute(async (tx) => {
      const r0 = await getResource(tx, resourceId, true)
      if (!r0) throw notFound('Resource', 'tài nguyên')
      if (r0.version !== before.version) throw conflict('RESOURCE_CHANGED', 'Tài nguyên vừa được cập nhật bởi người khác, hãy thử lại.', 'The resource was updated meanwhile; retry.')
      const d = (await getDataset(tx, r0.dataset_id, true))!
      oldTable = r0.datastore_table
      const r = await updateResourceData(tx, resourceId, {
        file_sha256: input.file.sha256, file_name: input.file.name, size: input.file.size, mimetype: detected ? MIME[detected] : input.file.mime, format: detected ?? undefined,
        datastore_table: table, fields: loaded?.fields ?? [], row_count: loaded?.report.rows_loaded ?? 0, load_report: loaded?.report ?? null,
      }, ctx.now)
      if (loaded && table) await publishView(tx, resourceId, table, loaded.fields, d.access_level === 'open')
      const version = await touchDatasetData(tx, d.id, ctx.now)
      await addHistory(tx, { datasetId: d.id, version, at: ctx.now, actor: ctx.actor, change: 'resource_data_replaced', detail: { resource_id: resourceId, resource_version: r.version, rows_loaded: loaded?.report.rows_loaded ?? null, rows_rejected: loaded?.report.rows_rejected ?? null, sha256: input.file.sha256 } })
      await publishEvent(tx, 'data.resource.updated', { id: resourceId, dataset_id: d.id, version: r.version })
      // A data feed (the dataset) received new data: the IOC's "feed not updated" rule listens for it.
      await publishEvent(tx, 'data.feed_updated', { feed_code: d.name, updated_at: ctx.now.toISOString(), unit_code: d.owner_org })
      await appendAudit(tx, { actor: ctx.actor, action: 'data.resource.data_replaced', entityType: 'resource', entityId: resourceId, data: { version: r.version, sha256: input.file.sha256, rows: loaded?.report.rows_loaded ?? null } }, ctx.now)
      return { resource: r, report: loaded?.report ?? null }
    })
    if (oldTable && oldTable !== table) await dropTable(db, oldTable).catch(() => {})
    return result
  } catch (err) {
    if (table) await dropTable(db, table).catch(() => {})
    throw err
  }
}

/** Stores a generated CSV (the platform's own datasets) like an upload. */
export async function storeGeneratedCsv(uploadDir: string, name: string, lines: AsyncIterable<string> | Iterable<string>): Promise<{ sha256: string; size: number; name: string; mime: string }> {
  const stored = await storeUpload(uploadDir, Readable.from(lines as Iterable<string>), Number.MAX_SAFE_INTEGER)
  return { sha256: stored.sha256, size: stored.size, name, mime: 'text/csv' }
}

export function assertAccessLevel(v: string): AccessLevel {
  if (v !== 'open' && v !== 'shared' && v !== 'restricted') throw new AppError(400, 'INVALID_ACCESS_LEVEL', 'Mức truy cập không hợp lệ.', 'access_level is open, shared or restricted.')
  return v
}
