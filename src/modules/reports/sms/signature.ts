import { createHmac, timingSafeEqual } from 'node:crypto'

/** The signature a gateway sends: `sha256=` + hex HMAC-SHA256 of `<timestamp>.<raw body>`. */
export function signSmsWebhook(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'bad_timestamp' | 'expired' | 'mismatch' }

/**
 * Verifies a webhook request: timestamp within the replay window of now, and the HMAC over the
 * timestamp and the exact bytes received (constant-time compare). A request replayed inside the
 * window is harmless: the message id makes it a retry, answered from the store.
 */
export function verifySmsSignature(opts: { secret: string; signature: string | undefined; timestamp: string | undefined; rawBody: string; now: Date; windowSeconds: number }): SignatureCheck {
  const { signature, timestamp } = opts
  if (!signature || !timestamp) return { ok: false, reason: 'missing' }
  if (!/^\d{9,11}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' }
  if (Math.abs(opts.now.getTime() / 1000 - Number(timestamp)) > opts.windowSeconds) return { ok: false, reason: 'expired' }
  const expected = Buffer.from(signSmsWebhook(opts.secret, timestamp, opts.rawBody))
  const given = Buffer.from(signature.trim().toLowerCase())
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' }
  return { ok: true }
}
