import { fileURLToPath } from 'node:url'
import type { AppContext, Module } from '../../platform/module.ts'
import { complianceConfig } from './config.ts'
import { seedDemoCompliance } from './demo-seed.ts'
import { evaluateCompliance } from './evaluator.ts'
import { seedRules } from './repository.ts'
import { complianceRoutes } from './routes.ts'

async function setup(ctx: AppContext): Promise<void> {
  const cfg = complianceConfig(ctx.config)
  // The same job runs on the schedule and when heartbeats arrive; its clock is the job's `now`.
  ctx.jobs.schedule({ name: 'compliance.evaluate', cron: cfg.evaluateCron }, async (job) => {
    await evaluateCompliance(job.db, job.now)
  })
}

/**
 * compliance: security duties of units and systems (Decree 85/2016 levels, 4-layer model,
 * central anti-malware), a policy as data, and automatic warning → suspension → restoration,
 * which the exchange gateway enforces from this module's events.
 */
export const complianceModule: Module = {
  name: 'compliance',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  setup,
  routes: complianceRoutes,
  seedReference: (ctx) => seedRules(ctx.db),
  seedDemo: seedDemoCompliance,
  routePolicy: {
    'GET /api/compliance/questionnaire': 'public',
    'GET /api/compliance/rules': 'staff',
    'GET /api/compliance/systems': 'staff',
    'POST /api/compliance/systems': 'staff',
    'PUT /api/compliance/systems/{id}/approval': 'admin',
    'PUT /api/compliance/systems/{id}/decision-file': 'admin',
    'GET /api/compliance/systems/{id}/decision-file': 'staff',
    'GET /api/compliance/units': 'staff',
    'PUT /api/compliance/units/{code}': 'staff',
    'POST /api/compliance/agents/heartbeat': 'api-key',
    'GET /api/compliance/suspensions': 'staff',
    'POST /api/compliance/evaluate': 'admin',
    'GET /api/compliance/exemptions': 'staff',
    'POST /api/compliance/exemptions': 'admin',
  },
}

export { evaluateCompliance, unitCoverage, SUSPENSION_LIFTED, SUSPENSION_STARTED, type Decision } from './evaluator.ts'
export { complianceByUnit, suspendedSubjects, type SubjectFinding, type UnitCompliance } from './reads.ts'
export { proposeLevel, QUESTIONS, type Answers } from './questionnaire.ts'
export { DEFAULT_RULES, type Rule } from './policy.ts'
