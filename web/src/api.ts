import { lang, t } from './i18n.ts'

/** An API failure: `status` 0 means the network failed (offline, timeout, connection reset). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public vi: string,
    public en: string,
  ) {
    super(en)
  }
  get network(): boolean {
    return this.status === 0
  }
  /** Worth retrying later without changes: network failure, rate limit, server errors. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500
  }
}

export interface ApiOptions {
  method?: string
  body?: unknown
  headers?: Record<string, string>
  timeoutMs?: number
}

/** Calls the API on the same origin; errors become ApiError with the server's bilingual message. */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers }
  let body: BodyInit | undefined
  if (opts.body instanceof FormData) body = opts.body
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] = 'application/json'
  }
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs ?? 20_000)
  let res: Response
  try {
    res = await fetch(path, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body, credentials: 'same-origin', signal: ctl.signal })
  } catch {
    throw new ApiError(0, navigator.onLine === false ? 'OFFLINE' : 'NETWORK', '', '')
  } finally {
    clearTimeout(timer)
  }
  let data: unknown = null
  const text = await res.text().catch(() => '')
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message_vi?: string; message_en?: string } } | null)?.error
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message_vi ?? '', e?.message_en ?? '')
  }
  return data as T
}

/** The message to show for any error, in the current language. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.network) return e.code === 'OFFLINE' ? t('offline') : t('networkError')
    const msg = lang === 'en' ? e.en || e.vi : e.vi || e.en
    if (msg) return msg
    return e.status >= 500 ? t('serverError') : `${e.code}`
  }
  return e instanceof Error ? e.message : String(e)
}

const memo = new Map<string, Promise<unknown>>()
/** GET once per page load (reference data: categories, units, boundaries); a failure is not remembered. */
export function cached<T>(path: string): Promise<T> {
  let p = memo.get(path) as Promise<T> | undefined
  if (!p) {
    // Generous: the boundaries are a few hundred kB, slow on 2G.
    p = api<T>(path, { timeoutMs: 120_000 })
    memo.set(path, p)
    p.catch(() => memo.delete(path))
  }
  return p
}
