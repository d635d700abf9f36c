import { fileURLToPath } from 'node:url'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Module } from '../../platform/module.ts'
import { getDossierFact } from '../services/dossiers/facts.ts'
import { previousMonth } from './analysis.ts'
import { syncRatings } from './backfill.ts'
import { loadIocConfig } from './config.ts'
import { seedDx } from './dx.ts'
import { dossierStatusHandler, onReportCreated, onReportStatusChanged } from './rollups.ts'
import { iocRoutes } from './routes.ts'
import { prepareAnalysis, storeAnalysis } from './service.ts'
import { analysisDelivery, ANALYSIS_CREATED } from './subscriptions.ts'

/** ioc: the unmanned operations centre's indicators (roll-ups) and monthly analysis. */
export const iocModule: Module = {
  name: 'ioc',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async setup(ctx) {
    const cfg = loadIocConfig(ctx.config.env)
    ctx.events.subscribe('report.created', onReportCreated)
    ctx.events.subscribe('report.status_changed', onReportStatusChanged)
    ctx.events.subscribe('dossier.status_changed', dossierStatusHandler((db, code) => getDossierFact(db, ctx.config.provinceCode, code)))
    ctx.events.subscribe(ANALYSIS_CREATED, analysisDelivery({ publicUrl: cfg.publicUrl, clock: ctx.clock }))
    // Ratings change no status and send no event: folded nightly (40 days back, diff-based).
    ctx.jobs.schedule({ name: 'ioc.sync-ratings', cron: '20 1 * * *' }, async ({ db, now }) => {
      await syncRatings(db, new Date(now.getTime() - 40 * 86_400_000))
    })
    ctx.jobs.schedule({ name: 'ioc.monthly-analysis', cron: cfg.analysisCron }, async ({ db, now }) => {
      const period = previousMonth(now)
      const prepared = await prepareAnalysis(db, cfg, period, now)
      await db.transaction().execute(async (tx) => {
        await storeAnalysis(tx, { period, trigger: 'schedule', actor: 'system', now, result: prepared.result, narrative: prepared.narrative })
        if (prepared.narrativeError) await appendAudit(tx, { actor: 'system', action: 'ioc.narrative_failed', entityType: 'ioc_analysis', entityId: period, data: { error: prepared.narrativeError } }, now)
      })
    })
  },
  routes: (app, ctx) => iocRoutes(app, ctx, loadIocConfig(ctx.config.env)),
  seedReference: (ctx) => seedDx(ctx.db),
  routePolicy: {
    'GET /api/ioc/indicators/766': 'public',
    'GET /api/ioc/indicators/reports': 'public',
    'GET /api/ioc/indicators/dx': 'public',
    'POST /api/ioc/indicators/dx/import': 'admin',
    'GET /api/ioc/analyses': 'staff',
    'GET /api/ioc/subscription': 'staff',
    'PUT /api/ioc/subscription': 'staff',
    'DELETE /api/ioc/subscription': 'staff',
    'POST /api/ioc/analyses': 'admin',
    'GET /api/ioc/analyses/{id}': 'staff',
    'GET /api/ioc/analyses/{id}.pdf': 'staff',
    'GET /api/ioc/analyses/{id}.html': 'staff',
  },
  examplePathParams: { id: '00000000-0000-4000-8000-000000000000' },
}

export { rebuildRollups, syncRatings } from './backfill.ts'
export { runAnalysis, type AnalysisResult } from './analysis.ts'
