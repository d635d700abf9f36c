/**
 * The procedure catalogue (danh mục thủ tục hành chính): procedures with dated versions, their
 * dossier components, durations per channel, fees and fee policies, internal steps; citizen
 * search and browse. Dossiers read it through getProcedureVersion and computeFee.
 */
export interface ProcedureComponent { key: string; name_vi: string; name_en: string; required: boolean; template_url: string | null; formats: string[] /* lower-case extensions: 'pdf','jpg','png','docx' */; max_bytes: number }
export type DurationUnit = 'working_days' | 'working_hours' | 'calendar_days'
export interface Duration { amount: number; unit: DurationUnit }
export interface ProcedureStep { key: string /* 'handle' | 'review' | 'sign' | 'issue' */; name_vi: string; name_en: string; share: number /* fraction of the total time; steps sum to 1 */ }
export interface ProcedureVersion {
  procedure_code: string; version: number; valid_from: string /* YYYY-MM-DD */; valid_to: string | null
  name_vi: string; name_en: string; field: string; level: 'commune' | 'province'
  /** 'commune' = the commune chosen by the applicant handles it; otherwise an org unit code such as '11.SXD' */
  handling_unit: string
  components: ProcedureComponent[]; legal_basis: string[]
  duration: { online: Duration; in_person: Duration }
  priority: boolean; priority_duration: Duration | null
  fee_vnd: number; fully_online: boolean; steps: ProcedureStep[]
}

export {
  getProcedureVersion,
  computeFee,
  searchProcedures,
  listProcedureFields,
  listProcedureVersions,
  saveProcedureVersion,
  saveFeePolicy,
  seedProcedures,
  loadCatalogueData,
  DATA_FILE,
  type FeeQuote,
  type ProcedureSummary,
  type SearchQuery,
  type SearchResult,
  type FieldCount,
  type FeePolicy,
  type CatalogueData,
} from './repository.ts'
export { catalogueRoutes } from './routes.ts'
export { normalizeSearchText } from './text.ts'
