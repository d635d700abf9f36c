import type { Config } from '../../platform/config.ts'

/** Settings of the compliance module, read from the environment with working defaults. */
export interface ComplianceConfig {
  /** Cron (Asia/Ho_Chi_Minh) of the policy evaluator. */
  evaluateCron: string
  /** Most endpoints one heartbeat request may report (a central console reports many). */
  maxEndpointsPerHeartbeat: number
}

export function complianceConfig(config: Config): ComplianceConfig {
  const n = Number.parseInt(config.env.COMPLIANCE_MAX_ENDPOINTS_PER_HEARTBEAT ?? '', 10)
  return {
    evaluateCron: config.env.COMPLIANCE_EVALUATE_CRON || '*/15 * * * *',
    maxEndpointsPerHeartbeat: Number.isFinite(n) && n > 0 ? Math.min(n, 5000) : 1000,
  }
}
