import { lang, t } from './i18n.ts'

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * An instant in Asia/Ho_Chi_Minh (UTC+7 all year, no daylight saving), computed by hand so old
 * phones without full Intl time-zone data show the same thing.
 */
export function vnTime(iso: string | null | undefined, withZone = false): string {
  if (!iso) return '—'
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  const d = new Date(ms + 7 * 3600_000)
  const date = `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  const s = lang === 'vi' ? `${time} ngày ${date}` : `${date} ${time}`
  return withZone ? `${s} (${t('vnTime')})` : s
}

export const meters = (m: number | null | undefined): string => (m === null || m === undefined ? '?' : m >= 1000 ? `${(m / 1000).toFixed(1)} k` : String(Math.round(m)))

/** A random UUID (v4), also where crypto.randomUUID is missing (http on a LAN, old browsers). */
export function uuid(): string {
  const c = globalThis.crypto as Crypto & { randomUUID?: () => string }
  if (c.randomUUID) return c.randomUUID()
  const b = new Uint8Array(16)
  c.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/** localStorage that never throws (private mode, storage full). */
export const store = {
  get<T>(k: string, d: T): T {
    try {
      const v = localStorage.getItem(k)
      return v === null ? d : (JSON.parse(v) as T)
    } catch {
      return d
    }
  },
  set(k: string, v: unknown): void {
    try {
      localStorage.setItem(k, JSON.stringify(v))
    } catch {
      /* ignore */
    }
  },
  del(k: string): void {
    try {
      localStorage.removeItem(k)
    } catch {
      /* ignore */
    }
  },
}

/** A random id for this device, for "me too" without an account. */
export function deviceId(): string {
  let id = store.get<string | null>('hb.device', null)
  if (!id) {
    id = uuid()
    store.set('hb.device', id)
  }
  return id
}

export interface MyReport {
  code: string
  at: string
}
/** Codes of reports sent from this device, newest first. */
export const myReports = {
  list: (): MyReport[] => store.get<MyReport[]>('hb.mine', []),
  add(code: string): void {
    const l = myReports.list().filter((r) => r.code !== code)
    l.unshift({ code, at: new Date().toISOString() })
    store.set('hb.mine', l.slice(0, 30))
  },
}
