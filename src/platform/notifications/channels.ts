import nodemailer from 'nodemailer'
import webpush from 'web-push'
import type { NotificationSettings } from './config.ts'

/** What a channel delivers: one message to one recipient address. */
export interface OutgoingMessage {
  id: string
  subject: string | null
  text: string
  link: string | null
  /** Files sent with an e-mail (other channels carry the link only). */
  attachments?: MessageAttachment[]
}

export interface MessageAttachment { filename: string; contentType: string; content: Buffer }

/** A failure that no retry can fix (no configuration, address refused, subscription gone). */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PermanentDeliveryError'
  }
}

/** A delivery channel: sends or throws (a PermanentDeliveryError when retrying is pointless). */
export interface NotificationChannel<Address> {
  readonly kind: 'email' | 'sms' | 'push'
  send(to: Address, msg: OutgoingMessage): Promise<string>
}

/** SMTP e-mail through nodemailer. */
export function emailChannel(settings: Pick<NotificationSettings, 'smtpUrl' | 'smtpFrom' | 'timeoutMs'>): NotificationChannel<string> {
  const transport = settings.smtpUrl
    ? nodemailer.createTransport(settings.smtpUrl, { from: settings.smtpFrom })
    : undefined
  if (transport) {
    const opts = transport.options as { connectionTimeout?: number; greetingTimeout?: number; socketTimeout?: number }
    opts.connectionTimeout = opts.greetingTimeout = opts.socketTimeout = settings.timeoutMs
  }
  return {
    kind: 'email',
    async send(to, msg) {
      if (!transport) throw new PermanentDeliveryError('SMTP_URL is not set')
      const text = msg.link ? `${msg.text}\n\n${msg.link}` : msg.text
      try {
        const attachments = msg.attachments?.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType }))
        const info = await transport.sendMail({ from: settings.smtpFrom, to, subject: msg.subject ?? msg.text.slice(0, 80), text, messageId: `<hoaban-${msg.id}@hoaban.local>`, ...(attachments?.length ? { attachments } : {}) })
        return String(info.response ?? info.messageId)
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode
        // 5xx SMTP replies refuse the message for good; 4xx and network errors are worth retrying.
        if (code !== undefined && code >= 500) throw new PermanentDeliveryError(`SMTP ${code}: ${(err as Error).message}`)
        throw err
      }
    },
  }
}

/** Replaces {to} and {text} in a template, each value encoded by `encode`. */
export function fillTemplate(template: string, values: { to: string; text: string }, encode: (s: string) => string): string {
  return template.replace(/\{(to|text)\}/g, (_, k: 'to' | 'text') => encode(values[k]))
}

/** JSON string contents without the quotes. */
const jsonInner = (s: string) => JSON.stringify(s).slice(1, -1)

/** An HTTP SMS gateway with a configurable URL, method, body template and auth header. */
export function smsChannel(settings: Pick<NotificationSettings, 'smsGatewayUrl' | 'smsMethod' | 'smsBodyTemplate' | 'smsContentType' | 'smsAuthHeader' | 'timeoutMs'>): NotificationChannel<string> {
  return {
    kind: 'sms',
    async send(to, msg) {
      if (!settings.smsGatewayUrl) throw new PermanentDeliveryError('SMS_GATEWAY_URL is not set')
      const values = { to, text: msg.link ? `${msg.text} ${msg.link}` : msg.text }
      const url = fillTemplate(settings.smsGatewayUrl, values, encodeURIComponent)
      const headers: Record<string, string> = {}
      if (settings.smsAuthHeader) {
        const i = settings.smsAuthHeader.indexOf(':')
        if (i > 0) headers[settings.smsAuthHeader.slice(0, i).trim()] = settings.smsAuthHeader.slice(i + 1).trim()
      }
      let body: string | undefined
      if (settings.smsMethod !== 'GET') {
        const json = settings.smsContentType.includes('json')
        const form = settings.smsContentType.includes('x-www-form-urlencoded')
        body = fillTemplate(settings.smsBodyTemplate, values, json ? jsonInner : form ? encodeURIComponent : (s) => s)
        headers['content-type'] = settings.smsContentType
      }
      const res = await fetch(url, { method: settings.smsMethod, headers, body, signal: AbortSignal.timeout(settings.timeoutMs) })
      const reply = (await res.text()).slice(0, 500)
      if (res.ok) return `${res.status} ${reply}`
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentDeliveryError(`gateway refused: ${res.status} ${reply}`)
      throw new Error(`gateway error: ${res.status} ${reply}`)
    },
  }
}

export interface PushTarget {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

/** Thrown when the push service says the subscription no longer exists (404/410). */
export class SubscriptionGoneError extends PermanentDeliveryError {}

/**
 * Web push (RFC 8030/8291/8292): the payload is encrypted (aes128gcm) and signed with the VAPID
 * key by web-push, then POSTed to the subscription's endpoint (plain fetch, so any URL works).
 */
export function pushChannel(vapid: { publicKey: string; privateKey: string; subject: string }, timeoutMs: number): NotificationChannel<PushTarget> {
  return {
    kind: 'push',
    async send(to, msg) {
      const payload = JSON.stringify({ title: msg.subject ?? 'Hoa Ban', body: msg.text, url: msg.link ?? undefined, id: msg.id })
      const details = webpush.generateRequestDetails(to, payload, {
        vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: 24 * 3600,
        contentEncoding: 'aes128gcm',
      })
      const res = await fetch(details.endpoint, {
        method: details.method,
        headers: details.headers as Record<string, string>,
        body: details.body ? new Uint8Array(details.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      })
      const reply = (await res.text()).slice(0, 300)
      if (res.status === 404 || res.status === 410) throw new SubscriptionGoneError(`subscription gone: ${res.status}`)
      if (res.ok) return `${res.status} ${reply}`
      if (res.status >= 400 && res.status < 500 && res.status !== 429) throw new PermanentDeliveryError(`push service refused: ${res.status} ${reply}`)
      throw new Error(`push service error: ${res.status} ${reply}`)
    },
  }
}
