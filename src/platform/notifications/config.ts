/** Settings of the notification channels, read from the raw environment; nothing is required. */
export interface NotificationSettings {
  /** nodemailer transport URL, e.g. smtp://user:pass@mail.example.vn:587. Unset: e-mail is not sent (dead letter). */
  smtpUrl: string | undefined
  smtpFrom: string
  /** HTTP SMS gateway: URL (may contain {to} and {text}, URL-encoded), method, body template, content type, auth header. */
  smsGatewayUrl: string | undefined
  smsMethod: 'GET' | 'POST' | 'PUT'
  smsBodyTemplate: string
  smsContentType: string
  /** A whole header line, e.g. `Authorization: Bearer abc`. */
  smsAuthHeader: string | undefined
  /** VAPID keys for web push; when unset a pair is generated once and stored in platform_keys. */
  vapidPublicKey: string | undefined
  vapidPrivateKey: string | undefined
  vapidSubject: string
  /** Attempts per message before the dead letter, and the per-attempt timeout. */
  maxAttempts: number
  timeoutMs: number
}

function int(v: string | undefined, d: number, min: number, max: number): number {
  if (v === undefined || v === '') return d
  const n = Number.parseInt(v, 10)
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`Expected an integer in [${min}, ${max}], got "${v}"`)
  return n
}

export function loadNotificationSettings(env: Readonly<Record<string, string | undefined>>): NotificationSettings {
  const method = (env.SMS_GATEWAY_METHOD ?? 'POST').toUpperCase()
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT') throw new Error(`SMS_GATEWAY_METHOD must be GET, POST or PUT, got "${method}"`)
  return {
    smtpUrl: env.SMTP_URL || undefined,
    smtpFrom: env.SMTP_FROM || 'Hoa Ban <no-reply@hoaban.local>',
    smsGatewayUrl: env.SMS_GATEWAY_URL || undefined,
    smsMethod: method,
    smsBodyTemplate: env.SMS_GATEWAY_BODY ?? '{"to":"{to}","text":"{text}"}',
    smsContentType: env.SMS_GATEWAY_CONTENT_TYPE || 'application/json',
    smsAuthHeader: env.SMS_GATEWAY_AUTH_HEADER || undefined,
    vapidPublicKey: env.VAPID_PUBLIC_KEY || undefined,
    vapidPrivateKey: env.VAPID_PRIVATE_KEY || undefined,
    vapidSubject: env.VAPID_SUBJECT || 'mailto:no-reply@hoaban.local',
    maxAttempts: int(env.NOTIFY_MAX_ATTEMPTS, 5, 1, 20),
    timeoutMs: int(env.NOTIFY_TIMEOUT_MS, 10_000, 100, 120_000),
  }
}
