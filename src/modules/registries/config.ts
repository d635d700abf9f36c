/** Settings of the registries module, read from the raw environment with working defaults. */
export interface RegistriesConfig {
  national: NationalSyncConfig
  /** Largest import (CSV text or XLSX bytes). */
  importMaxBytes: number
  importMaxRows: number
  /** Base URL at which the gateway reaches this platform's registry provider routes. */
  providerBaseUrl: string | null
}

export interface NationalSyncConfig {
  /** Where changes to the national civil-servant database are sent; unset: changes wait in the outbox. */
  url: string | null
  /** Body format the national side expects: json (one change object) or xml. */
  format: 'json' | 'xml'
  /** Sent as `authorization: Bearer …` when set. */
  token: string | null
  timeoutMs: number
  /** Back-off after the n-th failed attempt: base × 2^(n-1) seconds, at most maxBackoff. */
  backoffBaseSeconds: number
  maxBackoffSeconds: number
  batchSize: number
}

function int(v: string | undefined, dflt: number, min: number, max: number): number {
  const n = v === undefined || v === '' ? dflt : Number(v)
  return Number.isInteger(n) && n >= min && n <= max ? n : dflt
}

export function registriesConfig(env: Record<string, string | undefined>): RegistriesConfig {
  const format = env.NATIONAL_CSVC_FORMAT === 'xml' ? 'xml' : 'json'
  return {
    national: {
      url: env.NATIONAL_CSVC_URL?.trim() || null,
      format,
      token: env.NATIONAL_CSVC_TOKEN?.trim() || null,
      timeoutMs: int(env.NATIONAL_CSVC_TIMEOUT_MS, 10_000, 100, 120_000),
      backoffBaseSeconds: int(env.NATIONAL_CSVC_BACKOFF_SECONDS, 30, 1, 3600),
      maxBackoffSeconds: int(env.NATIONAL_CSVC_MAX_BACKOFF_SECONDS, 6 * 3600, 1, 7 * 86400),
      batchSize: int(env.NATIONAL_CSVC_BATCH, 50, 1, 1000),
    },
    importMaxBytes: int(env.REGISTRY_IMPORT_MAX_BYTES, 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    importMaxRows: int(env.REGISTRY_IMPORT_MAX_ROWS, 20_000, 1, 1_000_000),
    providerBaseUrl: env.REGISTRIES_PROVIDER_BASE_URL?.trim() || null,
  }
}
