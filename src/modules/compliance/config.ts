import type { Config } from '../../platform/config.ts'

/** Settings of the compliance module, read from the environment with working defaults. */
export interface ComplianceConfig {
  /** Cron (Asia/Ho_Chi_Minh) of the policy evaluator. */
  evaluateCron: string
  /** Most endpoints one heartbeat request may report (a central console reports many). */
  maxEndpointsPerHeartbeat: number
  /** Largest approval decision file (the signed PDF) stored with a system, in bytes. */
  decisionFileMaxBytes: number
}

export function complianceConfig(config: Config): ComplianceConfig {
  const n = Number.parseInt(config.env.COMPLIANCE_MAX_ENDPOINTS_PER_HEARTBEAT ?? '', 10)
  const f = Number.parseInt(config.env.COMPLIANCE_DECISION_FILE_MAX_BYTES ?? '', 10)
  return {
    evaluateCron: config.env.COMPLIANCE_EVALUATE_CRON || '*/15 * * * *',
    maxEndpointsPerHeartbeat: Number.isFinite(n) && n > 0 ? Math.min(n, 5000) : 1000,
    // never above the platform's own per-file upload limit (UPLOAD_FILE_LIMIT_BYTES)
    decisionFileMaxBytes: Math.min(Number.isFinite(f) && f > 0 ? f : 20 * 1_048_576, config.uploadFileLimit),
  }
}
