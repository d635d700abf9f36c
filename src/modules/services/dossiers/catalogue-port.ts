/**
 * What dossiers need from the procedure catalogue, as a port: the real catalogue by default
 * (index.ts), any implementation in tests that need one.
 */
import type { Db } from '../../../platform/db/database.ts'
import type { FeeQuote, ProcedureVersion } from '../catalogue/index.ts'

export type { Duration, DurationUnit, FeeQuote, ProcedureComponent, ProcedureStep, ProcedureVersion } from '../catalogue/index.ts'

export interface CataloguePort {
  getProcedureVersion(db: Db, code: string, at: Date): Promise<ProcedureVersion | undefined>
  computeFee(db: Db, version: ProcedureVersion, channel: 'online' | 'in_person', at: Date): Promise<FeeQuote>
}
