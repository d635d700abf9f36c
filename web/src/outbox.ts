import { api, ApiError } from './api.ts'
import { myReports, store, uuid } from './format.ts'

/** The fields of a report as the form holds them (strings, as they go into multipart). */
export interface DraftFields {
  category: string
  description: string
  lat: number | null
  lon: number | null
  commune_code: string | null
  /** How the position was chosen, to restore the form. */
  position_source: 'gps' | 'map' | 'list' | null
  anonymous: boolean
  share_identity: boolean
  name: string
  phone: string
}

export interface PendingPhoto {
  type: string
  data: ArrayBuffer
}

/** A report waiting in the outbox, keyed by its Idempotency-Key. */
export interface PendingReport {
  key: string
  fields: DraftFields
  photos: PendingPhoto[]
  createdAt: string
  attempts: number
  /** A refusal (4xx) kept for the user to fix or discard. */
  failed?: { code: string; vi: string; en: string }
}

export interface IntakeAnswer {
  code: string
  status: string
  unit: { code: string; name_vi: string; name_en: string }
  commune: { code: string; name: string } | null
  locate_status: string
  near_border: boolean
  due_at: string
  state_due_at: string
  possible_duplicates: { code: string; distance_m: number; status: string; description: string }[]
}

// ---- the draft's Idempotency-Key: one per draft, kept until a 2xx answer ----
const KEY = 'hb.draft.key'
export function draftKey(): string {
  let k = store.get<string | null>(KEY, null)
  if (!k) {
    k = uuid()
    store.set(KEY, k)
  }
  return k
}
export const newDraftKey = (): void => store.del(KEY)

// ---- IndexedDB outbox (localStorage without photos when IndexedDB is unavailable) ----
let dbp: Promise<IDBDatabase | null> | undefined
function idb(): Promise<IDBDatabase | null> {
  dbp ??= new Promise((resolve) => {
    try {
      // Version 2 adds the dossier outbox; reports waiting in version 1 are kept.
      const req = indexedDB.open('hoaban', 2)
      req.onupgradeneeded = () => {
        for (const name of ['outbox', 'dossiers']) if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, { keyPath: 'key' })
      }
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => resolve(null)
      req.onblocked = () => resolve(null)
    } catch {
      resolve(null)
    }
  })
  return dbp
}

const tx = <T>(mode: IDBTransactionMode, fn: (os: IDBObjectStore) => IDBRequest<T>): Promise<T> => idbTx('outbox', mode, fn)

/** One request on an object store of the app's IndexedDB ('outbox': reports, 'dossiers': dossiers). */
export function idbTx<T>(store: 'outbox' | 'dossiers', mode: IDBTransactionMode, fn: (os: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return idb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        if (!db) return reject(new Error('no idb'))
        const r = fn(db.transaction(store, mode).objectStore(store))
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error)
      }),
  )
}

const LS_OUTBOX = 'hb.outbox'
export async function listPending(): Promise<PendingReport[]> {
  try {
    return ((await tx('readonly', (os) => os.getAll())) as PendingReport[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  } catch {
    return store.get<PendingReport[]>(LS_OUTBOX, [])
  }
}
export async function putPending(p: PendingReport): Promise<void> {
  try {
    await tx('readwrite', (os) => os.put(p))
  } catch {
    store.set(LS_OUTBOX, [...store.get<PendingReport[]>(LS_OUTBOX, []).filter((x) => x.key !== p.key), { ...p, photos: [] }])
  }
}
export async function removePending(key: string): Promise<void> {
  try {
    await tx('readwrite', (os) => os.delete(key))
  } catch {
    store.set(LS_OUTBOX, store.get<PendingReport[]>(LS_OUTBOX, []).filter((x) => x.key !== key))
  }
}

/** The multipart body the API expects; empty optional fields are left out. */
export function formData(p: PendingReport): FormData {
  const f = p.fields
  const fd = new FormData()
  fd.append('category', f.category)
  fd.append('description', f.description.trim())
  fd.append('channel', 'web')
  if (f.lat !== null && f.lon !== null) {
    fd.append('lat', String(f.lat))
    fd.append('lon', String(f.lon))
  }
  if (f.commune_code) fd.append('commune_code', f.commune_code)
  fd.append('anonymous', String(f.anonymous))
  fd.append('share_identity', String(!f.anonymous && f.share_identity))
  if (!f.anonymous) {
    if (f.name.trim()) fd.append('contact.name', f.name.trim())
    if (f.phone.trim()) fd.append('contact.phone', f.phone.trim())
  }
  p.photos.forEach((ph, i) => fd.append('photos', new Blob([ph.data], { type: ph.type }), `photo${i + 1}.jpg`))
  return fd
}

export type SendResult = { ok: true; answer: IntakeAnswer } | { ok: false; retry: boolean; error: ApiError }

const inFlight = new Set<string>()
/**
 * Sends one pending report with its Idempotency-Key. 2xx: removed from the outbox and remembered
 * as sent. Network failure or 5xx: stays for a later retry (the same key, so never a duplicate).
 * 4xx: kept, marked failed, for the user to fix or discard.
 */
export async function sendPending(p: PendingReport, keepFailed = true): Promise<SendResult> {
  if (inFlight.has(p.key)) return { ok: false, retry: true, error: new ApiError(0, 'BUSY', '', '') }
  inFlight.add(p.key)
  try {
    // A minute, plus time for the photos at about 8 kB/s (2G), so a slow upload is not cut off.
    const bytes = p.photos.reduce((n, x) => n + x.data.byteLength, 0)
    const answer = await api<IntakeAnswer>('/api/reports', { method: 'POST', body: formData(p), headers: { 'Idempotency-Key': p.key }, timeoutMs: 60_000 + bytes / 8 })
    await removePending(p.key)
    myReports.add(answer.code)
    store.set('hb.last', answer)
    return { ok: true, answer }
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', '', '')
    if (err.retryable) {
      await putPending({ ...p, attempts: p.attempts + 1 })
      return { ok: false, retry: true, error: err }
    }
    // Refused (4xx): nothing was stored, so the key may be used again after an edit, unless
    // the server says the key already belongs to another request.
    await removePending(p.key)
    if (keepFailed) {
      const key = err.code === 'IDEMPOTENCY_KEY_REUSED' ? uuid() : p.key
      await putPending({ ...p, key, attempts: p.attempts + 1, failed: { code: err.code, vi: err.vi, en: err.en } })
    }
    return { ok: false, retry: false, error: err }
  } finally {
    inFlight.delete(p.key)
  }
}

type Listener = (event: { sent?: IntakeAnswer; failed?: PendingReport }) => void
const listeners = new Set<Listener>()
export const onOutboxChange = (fn: Listener): (() => void) => (listeners.add(fn), () => listeners.delete(fn))
export const notify = (e: Parameters<Listener>[0] = {}): void => listeners.forEach((fn) => fn(e))

/** Retries every waiting (not refused) report; called on `online`, at start and on a timer. */
export async function flushOutbox(): Promise<void> {
  const list = (await listPending()).filter((p) => !p.failed)
  for (const p of list) {
    const r = await sendPending(p)
    if (r.ok) notify({ sent: r.answer })
    else if (!r.retry) notify({ failed: p })
    else if (r.error.network) break // still offline: stop here, try again later
  }
  notify()
}
