import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { seedCategories } from './categories.ts'
import { seedDemoReports } from './demo-seed.ts'
import { closeSettledReports, escalateOverdueReports, escalateReportOnRequest } from './escalation.ts'
import { reportsRoutes } from './routes.ts'
import { open311Routes } from './open311/routes.ts'
import { smsRoutePolicy, smsRoutes } from './sms/routes.ts'
import { hotlineRoutePolicy, hotlineRoutes } from './hotline/routes.ts'

/** reports: citizen field reports (phản ánh hiện trường), routed by GPS to the commune. */
export const reportsModule: Module = {
  name: 'reports',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async routes(app, ctx) {
    await reportsRoutes(app, ctx)
    await open311Routes(app, ctx)
    await smsRoutes(app, ctx)
    await hotlineRoutes(app, ctx)
  },
  routePolicy: { ...smsRoutePolicy, ...hotlineRoutePolicy },
  async setup(ctx) {
    // The IOC's rules ask for a report to be escalated (rule action "escalate" over a report fact).
    ctx.events.subscribe('ioc.escalation_requested', async (tx, event) => {
      const p = event.payload as { rule_code?: string; fact_key?: string; to_unit_code?: string; fact?: { code?: unknown } }
      if (typeof p.fact_key !== 'string' || !p.fact_key.startsWith('report:') || typeof p.fact?.code !== 'string' || !p.to_unit_code) return
      await escalateReportOnRequest(tx, ctx.config.provinceCode, { code: p.fact.code, toUnitCode: p.to_unit_code, ruleCode: String(p.rule_code ?? ''), factKey: p.fact_key }, ctx.clock())
    })
    ctx.jobs.schedule({ name: 'reports.escalate-overdue', cron: '*/5 * * * *' }, async ({ db, now }) => {
      await escalateOverdueReports(db, now, ctx.config.provinceCode)
    })
    ctx.jobs.schedule({ name: 'reports.close-settled', cron: '15 2 * * *' }, async ({ db, now }) => {
      await closeSettledReports(db, now, ctx.config.provinceCode)
    })
  },
  seedReference: (ctx) => seedCategories(ctx.db),
  seedDemo: seedDemoReports,
}

export { submitReport, type ReportSubmission, type IntakeAnswer } from './intake.ts'
export { applyReportAction, type ReportAction } from './workflow.ts'
export { getReportByCode, listReports, type ReportRow } from './repository.ts'
