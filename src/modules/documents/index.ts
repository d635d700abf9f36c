import { fileURLToPath } from 'node:url'
import type { AuditEntry } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import type { Module } from '../../platform/module.ts'
import { checkDocType, checkLink, checkSummary, linkDocumentAt, linkedDocuments, prepareFile, registerDocument } from './repository.ts'
import { documentsRoutes } from './routes.ts'

/** documents: official documents (văn bản đi/đến), their registers, handling and links. */
export const documentsModule: Module = {
  name: 'documents',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  routes: documentsRoutes,
}

/**
 * Issues an outgoing document in the agency's register for the current year (gapless number),
 * inside the caller's transaction. The register year is the Vietnam (UTC+7) year of `issuedAt`.
 * The file is stored (content-addressed, untouched) before the number is taken; if the caller's
 * transaction rolls back, the number is given back and the stored file is merely unreferenced.
 */
export async function issueOutgoingDocument(tx: Db, input: {
  agencyCode: string
  docType: string /* 'QĐ','TB','CV','GP','GCN','KQ'... */
  summary: string
  signer: string | null
  issuedAt: Date
  file?: { name: string; mime: string; data: Buffer }
  recipients?: string[]
  links?: { kind: 'dossier' | 'report' | 'document'; ref: string }[]
  actor: string
  uploadDir: string
  /** See RegisterInput.auditSink: the caller appends the audit entry last in its transaction. */
  auditSink?: AuditEntry[]
}): Promise<{ id: string; number: number; symbol: string; register_year: number }> {
  checkDocType(input.docType)
  checkSummary(input.summary)
  for (const l of input.links ?? []) checkLink(l)
  const file = input.file ? await prepareFile(input.uploadDir, input.file) : undefined
  const d = await registerDocument(tx, {
    agencyCode: input.agencyCode, direction: 'outgoing', docType: input.docType, signer: input.signer, issuedAt: input.issuedAt,
    registeredAt: input.issuedAt, summary: input.summary, recipients: input.recipients, links: input.links, file, actor: input.actor, auditSink: input.auditSink,
  })
  return { id: d.id, number: d.number, symbol: d.symbol, register_year: d.register_year }
}

/** Links a document to a dossier, report or document (idempotent; audited in the caller's transaction). */
export async function linkDocument(tx: Db, province: string, documentId: string, link: { kind: 'dossier' | 'report' | 'document'; ref: string }, actor: string): Promise<void> {
  await linkDocumentAt(tx, province, documentId, link, actor, new Date())
}

/** Documents linked to a dossier, report or document (for a document: both directions), in the node's province. */
export async function documentsLinkedTo(db: Db, province: string, kind: 'dossier' | 'report' | 'document', ref: string): Promise<{ id: string; symbol: string; summary: string; direction: 'incoming' | 'outgoing'; issued_at: string }[]> {
  return (await linkedDocuments(db, province, kind, ref)).map(({ id, symbol, summary, direction, issued_at }) => ({ id, symbol, summary, direction, issued_at }))
}

export { normalizeSearchText, formatSymbol, vietnamYear } from './text.ts'
export { isPdf } from './files.ts'
