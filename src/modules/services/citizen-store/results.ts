import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import { writeFileAtomic } from '../../../platform/storage/atomic-write.ts'
import { getOrgUnit } from '../../identity/index.ts'
import { getDossierByCode, getLetter, listFiles, listSlips, type DossierRow } from '../dossiers/repository.ts'
import { renderSlip } from '../dossiers/slips-pdf.ts'
import type { StoreItem } from './repository.ts'

/**
 * Results of dossiers in the citizen data store (kết quả giải quyết TTHC): kept when the dossier
 * is resolved (the signed PDF, if the unit uploaded one) and handed to the applicant's store when
 * it is returned. A store item `r<dossier id>` is reusable in a later dossier like any upload.
 */

async function storeContent(uploadDir: string, data: Buffer): Promise<{ stored_name: string; sha256: string }> {
  const sha256 = createHash('sha256').update(data).digest('hex')
  const stored_name = `dossiers/${sha256}.pdf`
  await mkdir(join(uploadDir, 'dossiers'), { recursive: true })
  // Written under a temporary name and renamed: a crash never leaves a half-written result, a
  // full disk leaves no temporary file.
  await writeFileAtomic(join(uploadDir, stored_name), data, { contentAddressed: true })
  return { stored_name, sha256 }
}

const resultTitle = (d: DossierRow) => `Kết quả: ${d.procedure.name_vi}`.slice(0, 200)

/** At resolution: keeps the signed result PDF the unit uploaded, in the same transaction. */
export async function keepSignedResult(tx: Db, d: DossierRow, file: { name: string; data: Buffer }, symbol: string, uploadDir: string, now: Date): Promise<void> {
  const { stored_name, sha256 } = await storeContent(uploadDir, file.data)
  await sql`insert into dossier_results (dossier_id, owner_user_id, title, document_symbol, original_name, stored_name, mime, bytes, sha256, signed_upload, resolved_at)
    values (${d.id}::bigint, ${d.applicant_user_id}::uuid, ${resultTitle(d)}, ${symbol}, ${file.name.slice(0, 255)}, ${stored_name}, 'application/pdf',
      ${file.data.length}, ${sha256}, true, ${now.toISOString()})
    on conflict (dossier_id, province_code) do nothing`.execute(tx)
}

/**
 * At return (status 10): the result enters the applicant's store, in the returning transaction
 * (one statement). Without a signed upload, the platform's result notice (phiếu kết quả, with the
 * issued document's number) is rendered later, when the owner first opens or reuses it
 * (`withRenderedResult`): rendering is deterministic from the returned dossier, and doing it here
 * cost ~100 ms of CPU inside the transaction. A dossier filed at the desk for someone without an
 * account has no store: nothing to do.
 */
export async function deliverResultToStore(tx: Db, d: DossierRow, now: Date): Promise<boolean> {
  if (!d.applicant_user_id) return false
  await sql`insert into dossier_results (dossier_id, owner_user_id, title, document_symbol, original_name, stored_name, mime, bytes, sha256, signed_upload, resolved_at, returned_at)
    values (${d.id}::bigint, ${d.applicant_user_id}::uuid, ${resultTitle(d)}, ${d.result_document_symbol}, ${`${d.code}-ket-qua.pdf`}, null,
      'application/pdf', null, null, false, ${(d.resolved_at ?? now).toISOString()}, ${now.toISOString()})
    on conflict (dossier_id, province_code) do update set returned_at = excluded.returned_at, owner_user_id = excluded.owner_user_id`.execute(tx)
  return true
}

/**
 * A store item with its file: a result notice not rendered yet is rendered from its dossier,
 * written (temporary name, then rename) and recorded once; concurrent first opens render the same
 * bytes (the file name is the content's hash) and only one update lands.
 */
export async function withRenderedResult(db: Db, province: string, uploadDir: string, item: StoreItem, now: Date): Promise<StoreItem & { stored_name: string }> {
  if (item.stored_name) return item as StoreItem & { stored_name: string }
  const d = item.dossier_code ? await getDossierByCode(db, province, item.dossier_code) : undefined
  if (!d) throw new Error(`result ${item.id} has no dossier`)
  const [files, slips, letter, unit] = await Promise.all([listFiles(db, province, d.id), listSlips(db, province, d.id), getLetter(db, province, d.id), getOrgUnit(db, d.unit_code)])
  const at = d.returned_at ?? now
  const pdf = await renderSlip('result', { dossier: d, agencyName: unit?.name_vi ?? d.unit_code, files, slips, letter, place: 'Điện Biên', now: at })
  const { stored_name, sha256 } = await storeContent(uploadDir, pdf)
  const { rows } = await sql<{ stored_name: string; bytes: number; sha256: string }>`update dossier_results
    set stored_name = coalesce(stored_name, ${stored_name}), bytes = coalesce(bytes, ${pdf.length}), sha256 = coalesce(sha256, ${sha256})
    where dossier_id = ${d.id}::bigint and province_code = ${province} returning stored_name, bytes, sha256`.execute(db)
  return { ...item, ...(rows[0] ?? { stored_name, bytes: pdf.length, sha256 }) }
}
