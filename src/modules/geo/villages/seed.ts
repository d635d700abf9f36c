import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import type { AppContext, DemoSeedOutput } from '../../../platform/module.ts'
import { importInfrastructureCsv, importVillagesCsv, type ImportResult } from './villages.ts'

const dataFile = (name: string) => fileURLToPath(new URL(`./data/${name}`, import.meta.url))

export const SAMPLE_VILLAGES_SOURCE = 'SAMPLE (illustrative, not an official list): src/modules/geo/villages/data/sample-villages-dien-bien.csv'

/** Loads the illustrative sample villages and their infrastructure (data/README.md). Skipped when any village exists. */
export async function seedSampleVillages(db: Db, now: Date): Promise<{ villages: ImportResult; infrastructure: ImportResult } | null> {
  const has = await sql<{ n: number }>`select count(*)::int as n from (select 1 from geo_villages limit 1) x`.execute(db)
  if (has.rows[0].n > 0) return null
  const villages = await importVillagesCsv(db, readFileSync(dataFile('sample-villages-dien-bien.csv'), 'utf8'), { source: SAMPLE_VILLAGES_SOURCE, actor: 'system', isSample: true, now })
  if (!villages.imported) throw new Error(`sample villages refused: ${JSON.stringify(villages.errors.slice(0, 3))}`)
  const infrastructure = await importInfrastructureCsv(db, readFileSync(dataFile('sample-village-infrastructure.csv'), 'utf8'), { actor: 'system', defaultSource: 'SAMPLE', now })
  if (!infrastructure.imported) throw new Error(`sample infrastructure refused: ${JSON.stringify(infrastructure.errors.slice(0, 3))}`)
  return { villages, infrastructure }
}

/** Demo seeding hook: the sample villages are demo data, never presented as official. */
export async function seedDemoVillages(ctx: AppContext, out: DemoSeedOutput): Promise<void> {
  const r = await seedSampleVillages(ctx.db, ctx.clock())
  if (r) out.notes.push(`geo: ${r.villages.created} SAMPLE villages (illustrative, not an official list) with infrastructure surveys`)
}

export function sampleCsv(name: 'villages' | 'infrastructure'): string {
  return readFileSync(dataFile(name === 'villages' ? 'sample-villages-dien-bien.csv' : 'sample-village-infrastructure.csv'), 'utf8')
}
