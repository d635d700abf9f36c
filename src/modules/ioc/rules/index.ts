import { fileURLToPath } from 'node:url'
import type { Db } from '../../../platform/db/database.ts'
import type { Module } from '../../../platform/module.ts'
import { notificationRoutes, setupNotifications } from '../../../platform/notifications/index.ts'
import { runDeadlineWarnings } from '../../services/dossiers/index.ts'
import { APOLOGY_JOB, evaluateFactRules, handleRuleEvent, type EngineDeps } from './engine.ts'
import { EVENT_TOPICS } from './definitions.ts'
import { listActiveUnitFlags, recordFeedUpdate } from './repository.ts'
import { iocRulesRoutes } from './routes.ts'
import { seedRules } from './seed.ts'

/** Every how often fact rules are evaluated (cron, Asia/Ho_Chi_Minh). */
export const RULES_CRON = '*/10 * * * *'

/**
 * ioc_rules: the IOC's automatic operations. Rules are data (a condition over facts or events,
 * and actions); fact rules run on a schedule, event rules in the event handler; every firing is
 * recorded once per fact. Also mounts the platform's notification routes and sending job.
 */
export const iocRulesModule: Module = {
  name: 'ioc_rules',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  async setup(ctx) {
    const deps: EngineDeps = { provinceCode: ctx.config.provinceCode }
    await setupNotifications(ctx)
    ctx.jobs.schedule({ name: 'ioc_rules.evaluate', cron: RULES_CRON }, async ({ db, now }) => {
      await evaluateFactRules(db, deps, now)
    })
    ctx.jobs.register(APOLOGY_JOB, async ({ db, now }) => {
      await runDeadlineWarnings(db, ctx.config.provinceCode, now)
    })
    ctx.events.subscribe('data.feed_updated', async (tx, event) => {
      const p = event.payload as { feed_code?: unknown; updated_at?: unknown; unit_code?: unknown }
      if (typeof p.feed_code !== 'string' || p.feed_code.length === 0 || p.feed_code.length > 200) return
      const at = typeof p.updated_at === 'string' && !Number.isNaN(Date.parse(p.updated_at)) ? new Date(p.updated_at) : event.createdAt
      await recordFeedUpdate(tx, p.feed_code, at, typeof p.unit_code === 'string' ? p.unit_code.slice(0, 32) : null)
    })
    for (const topic of EVENT_TOPICS) {
      ctx.events.subscribe(topic, async (tx, event) => {
        await handleRuleEvent(tx, deps, event, ctx.clock())
      })
    }
  },
  async routes(app, ctx) {
    await iocRulesRoutes(app, ctx, { provinceCode: ctx.config.provinceCode })
    await notificationRoutes(app, ctx)
  },
  seedReference: seedRules,
  routePolicy: {
    'GET /api/ioc/rules': 'staff',
    'POST /api/ioc/rules': 'admin',
    'PUT /api/ioc/rules/{id}': 'admin',
    'POST /api/ioc/rules/{id}/enable': 'admin',
    'POST /api/ioc/rules/{id}/disable': 'admin',
    'GET /api/ioc/rules/{id}/firings': 'staff',
    'POST /api/ioc/rules/{id}/backtest': 'staff',
    'GET /api/ioc/tasks': 'staff',
    'POST /api/ioc/tasks/{id}/done': 'staff',
    'GET /api/ioc/unit-flags': 'staff',
    'GET /api/notifications': 'signed-in',
    'POST /api/notifications/{id}/read': 'signed-in',
    'GET /api/notifications/push/key': 'public',
    'GET /api/notifications/dead-letters': 'admin',
    'POST /api/notifications/push/subscriptions': 'signed-in',
    'DELETE /api/notifications/push/subscriptions': 'signed-in',
  },
}

/** Active IOC flags on units (for the IOC wall), newest first; one unit or all. */
export async function activeUnitFlags(db: Db, unitCode?: string, limit = 500) {
  return listActiveUnitFlags(db, { unitCode, limit })
}

export { evaluateFactRules, backtestRule, handleRuleEvent, factsAsOf } from './engine.ts'
export { SEED_RULES } from './seed.ts'
