import { fileURLToPath } from 'node:url'

/** IOC settings from the raw environment; every one has a default that works with nothing set. */
export interface IocConfig {
  /** OpenAI-compatible chat-completions URL for the optional narrative; off when empty. */
  llmUrl: string | null
  llmModel: string
  llmApiKey: string | null
  llmTimeoutMs: number
  /** The Decision 766 formulas and weights (a JSON data file). */
  indicators766File: string
  /** Cron (Asia/Ho_Chi_Minh) of the monthly analysis: 06:00 on the 1st. */
  analysisCron: string
  /** How long an indicator answer is reused within this process (ms); 0 turns the cache off. */
  indicatorCacheMs: number
  /** Public address of the platform, for links in e-mails to analysis subscribers (e.g. https://ioc.dienbien.gov.vn). */
  publicUrl: string | null
}

export function loadIocConfig(env: Record<string, string | undefined>): IocConfig {
  return {
    llmUrl: env.IOC_LLM_URL?.trim() || null,
    llmModel: env.IOC_LLM_MODEL?.trim() || 'gpt-4o-mini',
    llmApiKey: env.IOC_LLM_API_KEY?.trim() || null,
    llmTimeoutMs: Number(env.IOC_LLM_TIMEOUT_MS ?? '') > 0 ? Number(env.IOC_LLM_TIMEOUT_MS) : 20_000,
    indicators766File: env.IOC_766_FILE?.trim() || fileURLToPath(new URL('./data/indicators-766.json', import.meta.url)),
    analysisCron: env.IOC_ANALYSIS_CRON?.trim() || '0 6 1 * *',
    publicUrl: /^https?:\/\/[^\s]+$/.test(env.IOC_PUBLIC_URL?.trim() ?? '') ? env.IOC_PUBLIC_URL!.trim() : null,
    indicatorCacheMs: /^\d+$/.test(env.IOC_INDICATOR_CACHE_MS?.trim() ?? '') ? Number(env.IOC_INDICATOR_CACHE_MS) : 5_000,
  }
}
