/** Settings of the direct channel, read from the raw environment with working defaults. */
export interface DirectChannelConfig {
  /** How often overdue questions are escalated (cron, Asia/Ho_Chi_Minh). */
  escalationCron: string
  /** Where escalated questions go: the province's office unit code. */
  escalateToUnit: string
}

export function directChannelConfig(env: Record<string, string | undefined>): DirectChannelConfig {
  return {
    escalationCron: env.DIRECT_CHANNEL_ESCALATION_CRON?.trim() || '*/15 * * * *',
    escalateToUnit: env.DIRECT_CHANNEL_ESCALATE_TO?.trim() || '11',
  }
}
