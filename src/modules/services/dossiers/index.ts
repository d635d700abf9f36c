/**
 * Dossiers (hồ sơ thủ tục hành chính): submission online or at the one-stop desk, the ten
 * national status codes with guarded transitions and a control slip for every hand-off, gapless
 * codes per agency per day, deadline rules on the working calendar, printed slips, fees.
 */
import type { AppContext } from '../../../platform/module.ts'
import { computeFee, getProcedureVersion } from '../catalogue/index.ts'
import type { CataloguePort } from './catalogue-port.ts'
import { runDeadlineWarnings } from './jobs.ts'
import { createDossierRoutes } from './routes.ts'

export const catalogueAdapter: CataloguePort = { getProcedureVersion, computeFee }

/** The routes with the real catalogue. */
export const dossierRoutes = createDossierRoutes({ catalogue: catalogueAdapter })

/** Schedules the one-working-day warning and apology-letter drafting (every 15 minutes). */
export async function setupDossierJobs(ctx: AppContext): Promise<void> {
  ctx.jobs.schedule({ name: 'dossiers.deadline-warnings', cron: '*/15 * * * *' }, async ({ db, now }) => {
    await runDeadlineWarnings(db, ctx.config.provinceCode, now)
  })
}

export { DOSSIER_STATUS, DOSSIER_ACTIONS, STATUS_NAMES, TRANSITIONS, type DossierStatus, type DossierAction } from './status-machine.ts'
export { createDossierRoutes, SubmissionSchema } from './routes.ts'
export { submitDossier, type DossierSubmission } from './submit.ts'
export { applyDossierAction, runDossierAction, type ActionInput, type ActionResult } from './actions.ts'
export { getDossierByCode, listDossiers, type DossierRow } from './repository.ts'
export { clockStart, computeDue, dueWithPauses, extendForPause, judgeTimeliness, warningAt, applicableDuration } from './deadline.ts'
export { nextDossierCode, formatDossierCode, vietnamDay } from './numbering.ts'
export { renderSlip, SLIP_KINDS, SLIP_TITLES, type SlipKind } from './slips-pdf.ts'
export { runDeadlineWarnings } from './jobs.ts'
export { vietQrPayload } from './vietqr.ts'
export type { CataloguePort } from './catalogue-port.ts'
