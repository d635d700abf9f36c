/** Settings of the data module, read from the raw environment with defaults that work with nothing set. */
export interface DataConfig {
  /** datastore_search_sql is off unless DATASTORE_SQL_ENABLED=true. */
  sqlEnabled: boolean
  /** statement_timeout of datastore_search_sql, ms. */
  sqlTimeoutMs: number
  /** Largest resource upload, bytes (DATA_UPLOAD_MAX_BYTES, default 200 MB). */
  uploadMaxBytes: number
  /** Public base URL used in DCAT / CKAN answers (PUBLIC_BASE_URL, default http://localhost:3000). */
  baseUrl: string
  /** Cron (Vietnam time) of the job refreshing the platform's own datasets. */
  refreshCron: string
}

function int(v: string | undefined, d: number): number {
  const n = Number(v)
  return v !== undefined && Number.isFinite(n) && n > 0 ? Math.floor(n) : d
}

export function dataConfig(env: Record<string, string | undefined>): DataConfig {
  return {
    sqlEnabled: /^(1|true|yes|on)$/i.test(env.DATASTORE_SQL_ENABLED ?? ''),
    sqlTimeoutMs: int(env.DATASTORE_SQL_TIMEOUT_MS, 5000),
    uploadMaxBytes: int(env.DATA_UPLOAD_MAX_BYTES, 200 * 1_048_576),
    baseUrl: (env.PUBLIC_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, ''),
    refreshCron: env.DATA_REFRESH_CRON ?? '20 1 * * *',
  }
}
