import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { AnalysisResult } from './analysis.ts'

export interface AnalysisRow { id: string; period: string; trigger: 'schedule' | 'on_demand'; created_at: Date; created_by: string; result: AnalysisResult; narrative: string | null }

export async function insertAnalysis(tx: Db, a: { period: string; trigger: 'schedule' | 'on_demand'; createdBy: string; createdAt: Date; result: AnalysisResult; narrative: string | null }): Promise<string> {
  const { rows } = await sql<{ id: string }>`insert into ioc_analyses (period, trigger, created_at, created_by, result, narrative)
    values (${a.period}, ${a.trigger}, ${a.createdAt.toISOString()}, ${a.createdBy}, ${JSON.stringify(a.result)}::jsonb, ${a.narrative}) returning id`.execute(tx)
  return rows[0]!.id
}

export async function getAnalysis(db: Db, id: string): Promise<AnalysisRow | undefined> {
  const { rows } = await sql<AnalysisRow>`select id, period, trigger, created_at, created_by, result, narrative from ioc_analyses where id = ${id}::uuid`.execute(db)
  return rows[0]
}

export async function listAnalyses(db: Db, limit: number, offset: number): Promise<{ id: string; period: string; trigger: string; created_at: Date; created_by: string; recommendations: number }[]> {
  const { rows } = await sql<{ id: string; period: string; trigger: string; created_at: Date; created_by: string; recommendations: number }>`
    select id, period, trigger, created_at, created_by, jsonb_array_length(result -> 'recommendations')::int as recommendations
    from ioc_analyses order by created_at desc, id limit ${limit} offset ${offset}`.execute(db)
  return rows
}
