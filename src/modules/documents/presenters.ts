import type { DocumentRow, HandlingRow } from './repository.ts'

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

export function presentDocument(d: DocumentRow) {
  return {
    id: d.id,
    agency_code: d.agency_code,
    direction: d.direction,
    register_year: d.register_year,
    number: d.number,
    /** Register number as written (01, 02, … 10, 11). */
    number_label: String(d.number).padStart(2, '0'),
    symbol: d.symbol,
    doc_type: d.doc_type,
    issuer: d.issuer,
    signer: d.signer,
    issued_at: iso(d.issued_at),
    registered_at: iso(d.registered_at),
    summary: d.summary,
    urgency: d.urgency,
    confidentiality: d.confidentiality,
    recipients: d.recipients,
    file: d.file_sha256
      ? { name: d.file_name, mime: d.file_mime, size: Number(d.file_size), sha256: d.file_sha256, url: `/api/documents/${d.id}/file` }
      : null,
    status: d.status,
    leader_user_id: d.leader_user_id,
    handler_unit_code: d.handler_unit_code,
    handler_user_id: d.handler_user_id,
    handling_deadline: d.handling_deadline,
    done_at: iso(d.done_at),
    created_by: d.created_by,
  }
}

export function presentHandling(h: HandlingRow) {
  return { at: iso(h.at), actor: h.actor, action: h.action, note: h.note, data: h.data }
}
