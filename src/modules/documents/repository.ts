import { randomUUID } from 'node:crypto'
import { sql, type RawBuilder } from 'kysely'
import { appendAudit, type AuditEntry } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { outboxInsert, publishEvent } from '../../platform/events/outbox.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { getOrgUnit } from '../identity/index.ts'
import { extractPdfText, MAX_FILE_BYTES, storeDocumentFile, type StoredFile } from './files.ts'
import { agencyAbbreviation, escapeLike, formatSymbol, normalizeSearchText, vietnamYear } from './text.ts'

export type Direction = 'incoming' | 'outgoing'
export type LinkKind = 'dossier' | 'report' | 'document'
export const URGENCIES = ['normal', 'urgent', 'very_urgent', 'flash'] as const
export const CONFIDENTIALITIES = ['normal', 'confidential', 'secret', 'top_secret'] as const
export type Urgency = (typeof URGENCIES)[number]
export type Confidentiality = (typeof CONFIDENTIALITIES)[number]
export const LINK_KINDS: LinkKind[] = ['dossier', 'report', 'document']
export const MAX_SUMMARY = 2000
/** Document type abbreviations (Decree 30/2020 appendix: QĐ, TB, CV, GP, GCN, TTr, KH, …). */
export const DOC_TYPE_PATTERN = '^[A-Za-zĐđ]{1,10}$'
const DOC_TYPE_RE = new RegExp(DOC_TYPE_PATTERN, 'u')

export interface DocumentRow {
  id: string
  agency_code: string
  direction: Direction
  register_year: number
  number: number
  symbol: string
  doc_type: string
  issuer: string
  signer: string | null
  issued_at: Date
  registered_at: Date
  summary: string
  urgency: Urgency
  confidentiality: Confidentiality
  recipients: string[]
  file_name: string | null
  file_mime: string | null
  file_size: string | number | null
  file_sha256: string | null
  status: string
  leader_user_id: string | null
  handler_unit_code: string | null
  handler_user_id: string | null
  handling_deadline: string | null
  done_at: Date | null
  created_by: string
  created_at: Date
  updated_at: Date
}

/** Columns returned to callers (never the extracted or search text). */
const COLUMNS = sql.raw(`d.id, d.agency_code, d.direction, d.register_year, d.number, d.symbol, d.doc_type, d.issuer, d.signer,
  d.issued_at, d.registered_at, d.summary, d.urgency, d.confidentiality, d.recipients, d.file_name, d.file_mime, d.file_size,
  d.file_sha256, d.status, d.leader_user_id, d.handler_unit_code, d.handler_user_id, to_char(d.handling_deadline, 'YYYY-MM-DD') as handling_deadline,
  d.done_at, d.created_by, d.created_at, d.updated_at`)

export interface RegisterInput {
  agencyCode: string
  direction: Direction
  docType: string
  /** Incoming: the sender's symbol as printed. Outgoing: ignored (computed from the number). */
  symbol?: string
  issuer?: string
  signer: string | null
  issuedAt: Date
  registeredAt: Date
  summary: string
  urgency?: Urgency
  confidentiality?: Confidentiality
  recipients?: string[]
  file?: StoredFile & { text: string }
  links?: { kind: LinkKind; ref: string }[]
  actor: string
  /**
   * When given, the audit entry is pushed here instead of appended: the caller appends it, in the
   * same transaction, as its last statement (so the audit chain lock is held only to the commit).
   */
  auditSink?: AuditEntry[]
}

export function checkDocType(docType: string): void {
  if (!DOC_TYPE_RE.test(docType)) throw badRequest('INVALID_DOC_TYPE', 'Loại văn bản không hợp lệ (viết tắt, ví dụ QĐ, TB, CV).', 'Invalid document type; use its abbreviation, e.g. QĐ, TB, CV.')
}

export function checkSummary(summary: string): void {
  if (!summary.trim() || summary.length > MAX_SUMMARY) throw badRequest('INVALID_SUMMARY', `Trích yếu phải có từ 1 đến ${MAX_SUMMARY} ký tự.`, `The summary must have 1 to ${MAX_SUMMARY} characters.`)
}

export function checkLink(link: { kind: string; ref: string }): void {
  if (!(LINK_KINDS as string[]).includes(link.kind) || !link.ref || link.ref.length > 100) {
    throw badRequest('INVALID_LINK', 'Liên kết không hợp lệ.', 'Invalid link: kind must be dossier, report or document, ref 1–100 characters.')
  }
}

/** Takes the next number of a register inside the caller's transaction (row lock until commit). */
export async function nextRegisterNumber(tx: Db, agencyCode: string, direction: Direction, year: number): Promise<number> {
  const { rows } = await sql<{ last: number }>`insert into document_register_counters (agency_code, direction, year, last)
    values (${agencyCode}, ${direction}, ${year}, 1)
    on conflict (agency_code, direction, year, province_code) do update set last = document_register_counters.last + 1
    returning last`.execute(tx)
  return rows[0].last
}

/** Stores a file and reads its text (before any transaction). */
export async function prepareFile(uploadDir: string, file: { name: string; mime: string; data: Buffer }): Promise<StoredFile & { text: string }> {
  if (file.data.length === 0) throw badRequest('EMPTY_FILE', 'Tệp rỗng.', 'The file is empty.')
  if (file.data.length > MAX_FILE_BYTES) throw badRequest('FILE_TOO_LARGE', 'Tệp vượt quá 20 MB.', 'The file is larger than 20 MB.')
  const stored = await storeDocumentFile(uploadDir, file)
  const text = await extractPdfText(file.data)
  return { ...stored, text }
}

/** Registers a document in its register, inside the caller's transaction. */
export async function registerDocument(tx: Db, input: RegisterInput): Promise<DocumentRow> {
  checkDocType(input.docType)
  checkSummary(input.summary)
  for (const l of input.links ?? []) checkLink(l)
  const unit = await getOrgUnit(tx, input.agencyCode)
  if (!unit) throw badRequest('UNKNOWN_AGENCY', `Không có cơ quan mã "${input.agencyCode}".`, `Unknown agency "${input.agencyCode}".`)
  const year = vietnamYear(input.registeredAt)
  const number = await nextRegisterNumber(tx, unit.code, input.direction, year)
  const symbol = input.direction === 'outgoing' ? formatSymbol(number, input.docType, agencyAbbreviation(unit)) : (input.symbol ?? '').trim()
  const issuer = (input.issuer ?? (input.direction === 'outgoing' ? unit.name_vi : '')).trim()
  if (!issuer) throw badRequest('ISSUER_REQUIRED', 'Cần ghi cơ quan ban hành.', 'The issuing agency is required.')
  const recipients = (input.recipients ?? []).map((r) => r.trim()).filter(Boolean)
  const f = input.file
  const searchText = normalizeSearchText([symbol, input.docType, issuer, input.signer ?? '', input.summary, recipients.join(' '), f?.text ?? ''].join(' '))
  // One statement (data-modifying WITH) writes the document, its 'registered' handling row, its
  // links and its outbox event, and answers with the document as getDocument would: one round trip
  // instead of five. The id is made here so every part (and the event) can name it.
  const id = randomUUID()
  const links = input.links ?? []
  const linkRows = links.map((l) => sql`(${id}::uuid, ${l.kind}, ${l.ref}, ${input.registeredAt.toISOString()}::timestamptz, ${input.actor})`)
  const { rows } = await sql<DocumentRow>`with d as (
      insert into documents (id, agency_code, direction, register_year, number, symbol, doc_type, issuer, signer,
        issued_at, registered_at, summary, urgency, confidentiality, recipients, file_name, file_mime, file_size, file_sha256, extracted_text, search_text,
        status, created_by, created_at, updated_at)
      values (${id}::uuid, ${unit.code}, ${input.direction}, ${year}, ${number}, ${symbol}, ${input.docType}, ${issuer}, ${input.signer},
        ${input.issuedAt.toISOString()}::timestamptz, ${input.registeredAt.toISOString()}::timestamptz, ${input.summary}, ${input.urgency ?? 'normal'},
        ${input.confidentiality ?? 'normal'}, array(select jsonb_array_elements_text(${JSON.stringify(recipients)}::jsonb)), ${f?.name ?? null}, ${f?.mime ?? null}, ${f?.size ?? null},
        ${f?.sha256 ?? null}, ${f?.text ?? ''}, ${searchText}, ${input.direction === 'outgoing' ? 'issued' : 'registered'}, ${input.actor},
        ${input.registeredAt.toISOString()}::timestamptz, ${input.registeredAt.toISOString()}::timestamptz)
      returning *),
    h as (${handlingInsert(id, input.registeredAt, input.actor, 'registered', null, { number, year, symbol })}),
    ${linkRows.length ? sql`l as (insert into document_links (document_id, kind, ref, created_at, created_by) values ${sql.join(linkRows, sql`, `)} on conflict do nothing),` : sql``}
    e as (${outboxInsert('document.registered', { id, agency_code: unit.code, direction: input.direction, year, number, symbol, links })})
    select ${COLUMNS} from d`.execute(tx)
  const doc = rows[0]
  const entry: AuditEntry = {
    actor: input.actor,
    action: input.direction === 'outgoing' ? 'document.issued' : 'document.registered',
    entityType: 'document',
    entityId: id,
    data: { agency_code: unit.code, direction: input.direction, year, number, symbol, doc_type: input.docType, file_sha256: f?.sha256 ?? null, links },
  }
  if (input.auditSink) {
    input.auditSink.push(entry)
    return doc
  }
  await appendAudit(tx, entry, input.registeredAt)
  return doc
}

export async function addHandling(tx: Db, documentId: string, at: Date, actor: string, action: string, note: string | null, data: Record<string, unknown> = {}): Promise<void> {
  await handlingInsert(documentId, at, actor, action, note, data).execute(tx)
}

/** The insert of a handling row, as a statement (also folded into a data-modifying WITH). */
function handlingInsert(documentId: string, at: Date, actor: string, action: string, note: string | null, data: Record<string, unknown>): RawBuilder<unknown> {
  return sql`insert into document_handling (document_id, at, actor, action, note, data)
    values (${documentId}::uuid, ${at.toISOString()}::timestamptz, ${actor}, ${action}, ${note}, ${JSON.stringify(data)}::jsonb)`
}

async function insertLink(tx: Db, documentId: string, link: { kind: LinkKind; ref: string }, actor: string, at: Date): Promise<boolean> {
  const { rows } = await sql`insert into document_links (document_id, kind, ref, created_at, created_by)
    values (${documentId}::uuid, ${link.kind}, ${link.ref}, ${at.toISOString()}::timestamptz, ${actor})
    on conflict do nothing returning ref`.execute(tx)
  return rows.length > 0
}

/** Links a document to a dossier, report or another document (idempotent), audited in the caller's transaction. */
export async function linkDocumentAt(tx: Db, province: string, documentId: string, link: { kind: LinkKind; ref: string }, actor: string, at: Date): Promise<void> {
  checkLink(link)
  const doc = await getDocument(tx, province, documentId)
  if (!doc) throw badRequest('UNKNOWN_DOCUMENT', 'Không tìm thấy văn bản.', 'Unknown document.')
  if (link.kind === 'document' && link.ref === documentId) throw badRequest('INVALID_LINK', 'Văn bản không thể liên kết với chính nó.', 'A document cannot be linked to itself.')
  if (!(await insertLink(tx, documentId, link, actor, at))) return
  await addHandling(tx, documentId, at, actor, 'linked', null, { kind: link.kind, ref: link.ref })
  await publishEvent(tx, 'document.linked', { id: documentId, kind: link.kind, ref: link.ref })
  await appendAudit(tx, { actor, action: 'document.linked', entityType: 'document', entityId: documentId, data: { kind: link.kind, ref: link.ref } }, at)
}

/*
 * Documents and their children are distributed on province_code (docs/scaling.md, "Distribution
 * key (Citus)"). Every statement that reads or changes them by id also names the node's province
 * (`province`, from config.provinceCode) as a bound parameter, so Citus sends it to one shard;
 * links are joined to their documents on it (colocated). Inserts take the column's default.
 */
export async function getDocument(db: Db, province: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<DocumentRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined
  const lock = opts.forUpdate ? sql` for update` : sql``
  return (await sql<DocumentRow>`select ${COLUMNS} from documents d where d.id = ${id}::uuid and d.province_code = ${province}${lock}`.execute(db)).rows[0]
}

export interface HandlingRow { id: string; at: Date; actor: string; action: string; note: string | null; data: Record<string, unknown> }

export async function listHandling(db: Db, province: string, documentId: string): Promise<HandlingRow[]> {
  return (await sql<HandlingRow>`select id::text as id, at, actor, action, note, data from document_handling
    where document_id = ${documentId}::uuid and province_code = ${province} order by id`.execute(db)).rows
}

export interface LinkedDocument { id: string; symbol: string; summary: string; direction: Direction; issued_at: string; agency_code: string }

/**
 * Documents linked to a dossier, report or document. For a document, links both ways: the
 * documents it names and the documents that name it.
 */
export async function linkedDocuments(db: Db, province: string, kind: LinkKind, ref: string): Promise<LinkedDocument[]> {
  const reverse = kind === 'document' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)
    ? sql`or d.id in (select l2.ref::uuid from document_links l2 where l2.document_id = ${ref}::uuid and l2.province_code = ${province} and l2.kind = 'document')`
    : sql``
  const { rows } = await sql<{ id: string; symbol: string; summary: string; direction: Direction; issued_at: Date; agency_code: string }>`
    select d.id, d.symbol, d.summary, d.direction, d.issued_at, d.agency_code from documents d
    where d.province_code = ${province}
      and (d.id in (select l.document_id from document_links l where l.province_code = ${province} and l.kind = ${kind} and l.ref = ${ref}) ${reverse})
    order by d.issued_at, d.id`.execute(db)
  return rows.map((r) => ({ ...r, issued_at: new Date(r.issued_at).toISOString() }))
}

export async function listLinks(db: Db, province: string, documentId: string): Promise<{ kind: LinkKind; ref: string; created_at: Date }[]> {
  return (await sql<{ kind: LinkKind; ref: string; created_at: Date }>`select kind, ref, created_at from document_links
    where document_id = ${documentId}::uuid and province_code = ${province} order by created_at, kind, ref`.execute(db)).rows
}

export interface SearchFilter {
  /** Restricts to documents of this unit (its registers, or directed to it). Undefined: all. */
  unitCode?: string
  q?: string
  direction?: Direction
  year?: number
  after?: { t: string; id: string }
  limit: number
}

export async function searchDocuments(db: Db, province: string, f: SearchFilter): Promise<(DocumentRow & { cursor_t: string })[]> {
  const conds = [sql`d.province_code = ${province}`]
  if (f.unitCode !== undefined) conds.push(sql`(d.agency_code = ${f.unitCode} or d.handler_unit_code = ${f.unitCode})`)
  if (f.direction) conds.push(sql`d.direction = ${f.direction}`)
  if (f.year !== undefined) conds.push(sql`d.register_year = ${f.year}`)
  const terms = normalizeSearchText(f.q ?? '').split(' ').filter(Boolean).slice(0, 10)
  for (const t of terms) conds.push(sql`d.search_text like ${`%${escapeLike(t)}%`}`)
  if (f.after) conds.push(sql`(d.created_at, d.id) < (${f.after.t}::timestamptz, ${f.after.id}::uuid)`)
  return (await sql<DocumentRow & { cursor_t: string }>`select ${COLUMNS}, d.created_at::text as cursor_t from documents d
    where ${sql.join(conds, sql` and `)} order by d.created_at desc, d.id desc limit ${f.limit}`.execute(db)).rows
}

export async function listRegisters(db: Db, province: string, unitCode: string | undefined): Promise<{ agency_code: string; direction: Direction; year: number; last_number: number; documents: number }[]> {
  const where = unitCode === undefined ? sql`c.province_code = ${province}` : sql`c.province_code = ${province} and c.agency_code = ${unitCode}`
  return (await sql<{ agency_code: string; direction: Direction; year: number; last_number: number; documents: number }>`
    select c.agency_code, c.direction, c.year, c.last as last_number,
      (select count(*)::int from documents d where d.province_code = c.province_code and d.agency_code = c.agency_code and d.direction = c.direction and d.register_year = c.year) as documents
    from document_register_counters c where ${where}
    order by c.agency_code, c.year desc, c.direction`.execute(db)).rows
}
