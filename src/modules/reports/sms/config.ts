/** SMS gateway webhook settings, read from the environment with defaults that work unset. */
export interface SmsConfig {
  /** HMAC secret shared with the gateway (SMS_WEBHOOK_SECRET). Unset: the webhook refuses every request (403). */
  secret: string | undefined
  /** SMS_PROVIDER_FORMAT: 'auto' (by Content-Type: JSON → generic-json, form → twilio-form), 'generic-json' or 'twilio-form'. */
  format: 'auto' | 'generic-json' | 'twilio-form'
  /** Header carrying `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` (SMS_SIGNATURE_HEADER). */
  signatureHeader: string
  /** Header carrying the signing time in Unix seconds (SMS_TIMESTAMP_HEADER). */
  timestampHeader: string
  /** Requests signed longer ago (or further ahead) than this are refused (SMS_REPLAY_WINDOW_SECONDS, default 300). */
  replayWindowSeconds: number
  /** Messages accepted per phone number per hour (SMS_RATE_LIMIT_PER_HOUR, default 10). */
  ratePerHour: number
}

const FORMATS = ['auto', 'generic-json', 'twilio-form'] as const

export function readSmsConfig(env: Readonly<Record<string, string | undefined>>): SmsConfig {
  const format = (env.SMS_PROVIDER_FORMAT || 'auto') as SmsConfig['format']
  if (!FORMATS.includes(format)) throw new Error(`SMS_PROVIDER_FORMAT must be one of ${FORMATS.join(', ')}, got "${format}"`)
  const int = (v: string | undefined, d: number) => {
    if (!v) return d
    const n = Number.parseInt(v, 10)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`Expected a positive integer, got "${v}"`)
    return n
  }
  return {
    secret: env.SMS_WEBHOOK_SECRET || undefined,
    format,
    signatureHeader: (env.SMS_SIGNATURE_HEADER || 'x-hoaban-signature').toLowerCase(),
    timestampHeader: (env.SMS_TIMESTAMP_HEADER || 'x-hoaban-timestamp').toLowerCase(),
    replayWindowSeconds: int(env.SMS_REPLAY_WINDOW_SECONDS, 300),
    ratePerHour: int(env.SMS_RATE_LIMIT_PER_HOUR, 10),
  }
}
