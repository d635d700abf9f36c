import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { runAnalysis, type AnalysisResult } from './analysis.ts'
import type { IocConfig } from './config.ts'
import { narrate } from './llm.ts'
import { insertAnalysis } from './repository.ts'
import { ANALYSIS_CREATED } from './subscriptions.ts'

/** Computes the analysis of a month (and the optional narrative) outside any transaction. */
export async function prepareAnalysis(db: Db, cfg: IocConfig, period: string, now: Date): Promise<{ result: AnalysisResult; narrative: string | null; narrativeError: string | null }> {
  const result = await runAnalysis(db, period, now)
  const n = await narrate(cfg, result)
  return { result, narrative: n.text, narrativeError: n.error }
}

/** Stores an analysis with its audit entry, in the caller's transaction. */
export async function storeAnalysis(tx: Db, a: { period: string; trigger: 'schedule' | 'on_demand'; actor: string; now: Date; result: AnalysisResult; narrative: string | null }): Promise<string> {
  const id = await insertAnalysis(tx, { period: a.period, trigger: a.trigger, createdBy: a.actor, createdAt: a.now, result: a.result, narrative: a.narrative })
  // Subscribers get it through the event (delivery retried apart from this write).
  await publishEvent(tx, ANALYSIS_CREATED, { id, period: a.period })
  await appendAudit(tx, { actor: a.actor, action: 'ioc.analysis_created', entityType: 'ioc_analysis', entityId: id, data: { period: a.period, trigger: a.trigger, recommendations: a.result.recommendations.length } }, a.now)
  return id
}
