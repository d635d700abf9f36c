import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { getStoreItem } from '../citizen-store/repository.ts'
import { withRenderedResult } from '../citizen-store/results.ts'
import { actorOf, canSeeUnit, isStaff, type Principal } from '../../../platform/auth/principal.ts'
import type { Db } from '../../../platform/db/database.ts'
import { badRequest, forbidden } from '../../../platform/http/errors.ts'
import { requestFingerprint, runIdempotent, type IdempotentResult } from '../../../platform/http/idempotency.ts'
import { loadWorkingCalendar } from '../../calendar/index.ts'
import { getOrgUnit as readOrgUnit } from '../../identity/index.ts'
import { cachedLookup } from '../../../platform/ttl-cache.ts'
import type { CataloguePort } from './catalogue-port.ts'
import { applicableDuration, clockStart, computeDue, stepDueAt, warningAt } from './deadline.ts'
import { checkFiles, removeUnreferenced, storeFiles, type UploadedFile } from './files.ts'
import { nextDossierCode } from './numbering.ts'
import { recordHandOff } from './record.ts'
import { getDossierByCode, insertDossier, insertFilesStatement, updateDossier, type DossierRow } from './repository.ts'
import { DOSSIER_STATUS } from './status-machine.ts'
import { cumulativeShare, processingSteps, RECEPTION_STEP } from './steps.ts'

/** Units change rarely: looked up at most every 30 s per node. */
const getOrgUnit = cachedLookup(readOrgUnit)

export interface DossierSubmission {
  procedure_code: string
  commune_code?: string
  channel: 'online' | 'in_person'
  applicant_name: string
  applicant_id_number?: string
  applicant_phone?: string
  applicant_email?: string
  applicant_address?: string
  /** At the desk: the citizen's account, when they have one, so they can track the dossier. */
  applicant_user_id?: string
  form?: Record<string, string>
  files?: UploadedFile[]
  /** Components taken from the applicant's data store instead of uploaded: component key → item id ('u…' or 'f…'). */
  reuse?: Record<string, string>
}

export interface SubmitDeps {
  db: Db
  /** The node's province (config.provinceCode): every statement on the dossier by id names it (Citus routing). */
  provinceCode: string
  catalogue: CataloguePort
  uploadDir: string
  now: Date
}

/**
 * Takes in a dossier: online by the citizen (status 1, waiting for the desk to receive it) or at
 * the one-stop desk by an officer of the handling unit (received at once: status 2, clock
 * started). Checks the procedure, the unit, the files; computes the fee; numbers the dossier
 * gaplessly; writes it with its files, control slips, audit entry and event in one transaction.
 */
export async function submitDossier(deps: SubmitDeps, s: DossierSubmission, p: Principal | null, idem: { scope: string; key: string | undefined }): Promise<IdempotentResult<{ code: string }>> {
  const { db, now, provinceCode: province } = deps
  if (!p || p.kind !== 'user') throw forbidden('Only signed-in users submit dossiers.', 'Cần đăng nhập để nộp hồ sơ.')
  const proc = await deps.catalogue.getProcedureVersion(db, s.procedure_code, now)
  if (!proc) throw badRequest('UNKNOWN_PROCEDURE', `Thủ tục "${s.procedure_code}" không tồn tại hoặc không còn hiệu lực.`, `Unknown or no longer valid procedure "${s.procedure_code}".`)
  let unitCode = proc.handling_unit
  if (proc.handling_unit === 'commune') {
    if (!s.commune_code) throw badRequest('COMMUNE_REQUIRED', 'Cần chọn xã/phường nơi nộp hồ sơ.', 'commune_code is required for a commune-level procedure.')
    const unit = await getOrgUnit(db, s.commune_code)
    if (!unit || unit.kind !== 'commune') throw badRequest('UNKNOWN_COMMUNE', 'Xã/phường không tồn tại.', `Unknown commune "${s.commune_code}".`)
    unitCode = unit.code
  } else if (!(await getOrgUnit(db, unitCode))) {
    throw badRequest('UNKNOWN_UNIT', 'Đơn vị giải quyết của thủ tục không tồn tại.', `The procedure's handling unit ${unitCode} does not exist.`)
  }
  const atDesk = s.channel === 'in_person'
  if (atDesk) {
    if (!isStaff(p) || !canSeeUnit(p, unitCode)) throw forbidden('Only officers of the handling unit take dossiers at the desk.', 'Chỉ cán bộ của đơn vị giải quyết được tiếp nhận hồ sơ trực tiếp.')
    if (proc.fully_online) throw badRequest('ONLINE_ONLY', 'Thủ tục này chỉ tiếp nhận hồ sơ trực tuyến toàn trình, không nhận hồ sơ giấy.', 'This procedure is fully online: paper dossiers are refused.')
  }
  // Reuse from the citizen's own store (kho dữ liệu): only the owner, online, and only their own items.
  const reused: UploadedFile[] = []
  for (const [component, itemId] of Object.entries(s.reuse ?? {})) {
    const found = atDesk ? undefined : await getStoreItem(db, province, p.userId, itemId)
    const item = found && (await withRenderedResult(db, province, deps.uploadDir, found, now))
    const data = item && (await readFile(join(deps.uploadDir, item.stored_name)).catch(() => undefined))
    if (!item || !data) throw badRequest('UNKNOWN_STORE_ITEM', `Không tìm thấy tài liệu "${itemId}" trong kho dữ liệu của bạn.`, `No item "${itemId}" in your data store.`, { field: component })
    reused.push({ field: component, name: item.original_name, data, reused_from: item.id })
  }
  const files = checkFiles(proc.components, [...(s.files ?? []), ...reused], true)
  const fee = await deps.catalogue.computeFee(db, proc, s.channel, now)
  const cal = atDesk ? await loadWorkingCalendar(db) : undefined
  const applicantUserId = atDesk ? (s.applicant_user_id ?? null) : p.userId
  const fingerprint = requestFingerprint({ ...s, files: files.map((f) => [f.component_key, f.sha256, f.reused_from ?? null]) })
  const actor = actorOf(p)

  try {
    await storeFiles(deps.uploadDir, files)
    return await runIdempotent<{ code: string }>(db, { ...idem, fingerprint }, async (tx) => {
      const code = await nextDossierCode(tx, unitCode, now)
      const id = await insertDossier(tx, {
        code,
        procedure_code: proc.procedure_code,
        procedure_version: proc.version,
        procedure: proc,
        unit_code: unitCode,
        commune_code: s.commune_code ?? null,
        channel: s.channel,
        status: DOSSIER_STATUS.NEW,
        current_step: RECEPTION_STEP,
        applicant_user_id: applicantUserId,
        applicant_name: s.applicant_name,
        applicant_id_number: s.applicant_id_number ?? null,
        applicant_phone: s.applicant_phone ?? null,
        applicant_email: s.applicant_email ?? null,
        applicant_address: s.applicant_address ?? null,
        form: s.form ?? {},
        submitted_by: p.userId,
        submitted_at: now,
        fee_vnd: fee.amount_vnd,
        fee_policy_code: fee.policy_code,
        fee_policy_name_vi: fee.policy_name_vi,
        payment_status: fee.amount_vnd > 0 ? 'unpaid' : 'not_required',
      })
      await recordHandOff(tx, province, {
        dossierId: id, code, action: 'submit', actor, actorUserId: p.userId, step: RECEPTION_STEP, from: null, to: DOSSIER_STATUS.NEW,
        fromUnit: null, toUnit: unitCode, at: now, dueAt: null, note: s.channel, data: { procedure: proc.procedure_code, version: proc.version, channel: s.channel, fee_vnd: fee.amount_vnd },
        applicantUserId,
      }, files.length ? [insertFilesStatement(id, files.map((f) => ({ ...f, round: 0 })), now, p.userId)] : [])
      if (atDesk && cal) {
        // Taken at the desk: received in the same transaction.
        const start = clockStart(cal, now)
        const due = computeDue(cal, start, applicableDuration(proc, s.channel))
        const step = processingSteps(proc)[0]
        const stepDue = stepDueAt(cal, start, due, cumulativeShare(proc, step))
        await updateDossier(tx, province, id, { status: DOSSIER_STATUS.RECEIVED, received_at: now, clock_started_at: start, due_at: due, step_due_at: stepDue, warn_at: warningAt(cal, due), current_step: step, updated_at: now })
        await recordHandOff(tx, province, {
          dossierId: id, code, action: 'receive', actor, actorUserId: p.userId, step, from: DOSSIER_STATUS.NEW, to: DOSSIER_STATUS.RECEIVED,
          fromUnit: unitCode, toUnit: unitCode, at: now, dueAt: stepDue, note: null, data: { due_at: due.toISOString() }, applicantUserId,
        })
      }
      return { statusCode: 201, body: { code } }
    })
  } catch (err) {
    await removeUnreferenced(db, deps.uploadDir, files)
    throw err
  }
}

export type { DossierRow }
export { getDossierByCode }
