import { api, ApiError } from './api.ts'
import { uuid } from './format.ts'
import { idbTx } from './outbox.ts'

/** A file of a dossier component, kept as bytes so it survives a closed app. */
export interface PendingFile {
  component: string
  name: string
  type: string
  data: ArrayBuffer
}

/** A dossier (hồ sơ) waiting in the outbox, keyed by its Idempotency-Key. */
export interface PendingDossier {
  key: string
  procedure_code: string
  procedure_name: { vi: string; en: string }
  /** Text fields as they go into the multipart body (applicant_name, commune_code, form.x …). */
  fields: Record<string, string>
  files: PendingFile[]
  createdAt: string
  attempts: number
  failed?: { code: string; vi: string; en: string }
}

export async function listPendingDossiers(): Promise<PendingDossier[]> {
  try {
    return ((await idbTx('dossiers', 'readonly', (os) => os.getAll())) as PendingDossier[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  } catch {
    return []
  }
}
export const putPendingDossier = (p: PendingDossier): Promise<unknown> => idbTx('dossiers', 'readwrite', (os) => os.put(p))
export const removePendingDossier = (key: string): Promise<unknown> => idbTx('dossiers', 'readwrite', (os) => os.delete(key)).catch(() => undefined)

export function dossierFormData(p: PendingDossier): FormData {
  const fd = new FormData()
  for (const [k, v] of Object.entries(p.fields)) if (v.trim()) fd.append(k, v.trim())
  for (const f of p.files) fd.append(f.component, new Blob([f.data], { type: f.type }), f.name)
  return fd
}

export type DossierSendResult = { ok: true; code: string } | { ok: false; retry: boolean; error: ApiError }

const inFlight = new Set<string>()
/**
 * Sends one dossier with its Idempotency-Key. 2xx: removed. Network failure or 5xx: kept for a
 * later retry with the same key (the server answers a retry with the first answer, never a second
 * dossier). 4xx: kept and marked failed for the citizen to fix or discard.
 */
export async function sendPendingDossier(p: PendingDossier): Promise<DossierSendResult> {
  if (inFlight.has(p.key)) return { ok: false, retry: true, error: new ApiError(0, 'BUSY', '', '') }
  inFlight.add(p.key)
  try {
    const bytes = p.files.reduce((n, x) => n + x.data.byteLength, 0)
    const r = await api<{ code: string }>('/api/dossiers', { method: 'POST', body: dossierFormData(p), headers: { 'Idempotency-Key': p.key }, timeoutMs: 60_000 + bytes / 8 })
    await removePendingDossier(p.key)
    return { ok: true, code: r.code }
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', '', '')
    if (err.retryable) {
      await putPendingDossier({ ...p, attempts: p.attempts + 1 }).catch(() => undefined)
      return { ok: false, retry: true, error: err }
    }
    await removePendingDossier(p.key)
    const key = err.code === 'IDEMPOTENCY_KEY_REUSED' ? uuid() : p.key
    await putPendingDossier({ ...p, key, attempts: p.attempts + 1, failed: { code: err.code, vi: err.vi, en: err.en } }).catch(() => undefined)
    return { ok: false, retry: false, error: err }
  } finally {
    inFlight.delete(p.key)
  }
}

type Listener = (e: { sent?: string }) => void
const listeners = new Set<Listener>()
export const onDossierOutboxChange = (fn: Listener): (() => void) => (listeners.add(fn), () => listeners.delete(fn))
export const notifyDossiers = (e: { sent?: string } = {}): void => listeners.forEach((fn) => fn(e))

/** Sends every waiting dossier; stops at the first network failure (still offline). */
export async function flushDossiers(): Promise<void> {
  for (const p of (await listPendingDossiers()).filter((x) => !x.failed)) {
    const r = await sendPendingDossier(p)
    if (r.ok) notifyDossiers({ sent: r.code })
    else if (r.retry && r.error.network) break
  }
  notifyDossiers()
}
