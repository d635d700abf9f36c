import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError, badRequest } from '../../../platform/http/errors.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext, RoutePolicy } from '../../../platform/module.ts'
import { readSmsConfig, type SmsConfig } from './config.ts'
import { handleInboundSms, type InboundSms } from './inbound.ts'
import { verifySmsSignature } from './signature.ts'

export const smsRoutePolicy: Record<string, RoutePolicy> = {
  // Machine caller authenticated by the HMAC signature (401/403 without it).
  'POST /api/sms/inbound': 'api-key',
}

/** Webhook bodies are short messages: 16 KiB is ample for either format. */
const SMS_BODY_LIMIT = 16_384
const MessageId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21-\\x7e]+$' })
const Phone = Type.String({ minLength: 3, maxLength: 32 })
const Text = Type.String({ maxLength: 4000 })

const GenericJsonBody = Type.Object(
  { message_id: MessageId, from: Phone, to: Type.Optional(Type.String({ maxLength: 32 })), text: Text, received_at: Type.Optional(Type.String({ maxLength: 40 })) },
  { title: 'generic-json', description: 'application/json' },
)
const TwilioFormBody = Type.Object(
  { MessageSid: MessageId, From: Phone, To: Type.Optional(Type.String({ maxLength: 32 })), Body: Text },
  { title: 'twilio-form', additionalProperties: true, description: 'application/x-www-form-urlencoded (Twilio-like); other fields are ignored' },
)

declare module 'fastify' {
  interface FastifyRequest {
    smsRawBody?: string
    smsFormat?: 'generic-json' | 'twilio-form'
  }
}

/**
 * POST /api/sms/inbound: the SMS gateway's webhook. Answers 200 with the reply SMS in the
 * gateway's format (the reply may be a correction hint); 401/403 for an unsigned, stale or
 * forged request; 400 for a body that is not a message.
 */
export async function smsRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const config = readSmsConfig(ctx.config.env)
  await fastify.register(async (app) => {
    // The signature covers the exact bytes: read them raw, parse after verifying.
    app.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded'])
    app.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'string', bodyLimit: SMS_BODY_LIMIT }, (req, body, done) => {
      req.smsRawBody = String(body)
      done(null, {})
    })

    app.post('/api/sms/inbound', {
      bodyLimit: SMS_BODY_LIMIT,
      preValidation: async (req) => {
        authenticate(req, config, ctx.clock())
        req.body = decodeBody(req, config)
      },
      schema: {
        tags: ['sms'],
        summary: 'SMS gateway webhook: PA <code> <commune/village> <text> sends a report, TT <code> asks its status, HD help; the reply SMS is in the response',
        description: [
          `Signed: header ${config.signatureHeader} = "sha256=" + hex HMAC-SHA256(SMS_WEBHOOK_SECRET, "<timestamp>.<raw body>"), header ${config.timestampHeader} = Unix seconds (within ${config.replayWindowSeconds} s).`,
          'Formats (SMS_PROVIDER_FORMAT, default auto by Content-Type): generic-json {message_id, from, to, text} answered {message_id, reply: {to, text} | null};',
          'twilio-form (MessageSid, From, To, Body) answered with TwiML <Response><Message>…</Message></Response>.',
          'A gateway retry with the same message id gets the same reply and never makes a second report. Replies are GSM-7 without diacritics, ≤ 160 characters (≤ 306, two segments, for help and code lists).',
          `At most ${SMS_BODY_LIMIT} bytes. Per sender, SMS_RATE_LIMIT_PER_HOUR messages an hour (default 10).`,
        ].join(' '),
        body: Type.Union([GenericJsonBody, TwilioFormBody]),
        response: {
          200: Type.Unknown({ description: 'generic-json: {message_id, reply: {to, text} | null}; twilio-form: TwiML (text/xml)' }),
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    }, async (req, reply) => {
      const msg = toInbound(req)
      const answer = await handleInboundSms({ db: ctx.db, uploadDir: ctx.config.uploadDir, provinceCode: ctx.config.provinceCode, now: ctx.clock(), ratePerHour: config.ratePerHour }, msg)
      if (answer.replayed) reply.header('idempotent-replayed', 'true')
      return sendReply(reply, msg, answer.reply)
    })
  })
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function authenticate(req: FastifyRequest, config: SmsConfig, now: Date): void {
  if (!config.secret) {
    throw new AppError(403, 'SMS_WEBHOOK_DISABLED', 'Cổng SMS chưa được cấu hình (SMS_WEBHOOK_SECRET).', 'The SMS webhook is not configured (set SMS_WEBHOOK_SECRET).')
  }
  const check = verifySmsSignature({ secret: config.secret, signature: header(req, config.signatureHeader), timestamp: header(req, config.timestampHeader), rawBody: req.smsRawBody ?? '', now, windowSeconds: config.replayWindowSeconds })
  if (!check.ok) {
    const why = { missing: 'missing signature or timestamp header', bad_timestamp: 'malformed timestamp', expired: 'timestamp outside the replay window', mismatch: 'signature does not match' }[check.reason]
    throw new AppError(401, 'INVALID_SIGNATURE', 'Chữ ký yêu cầu không hợp lệ.', `Invalid webhook signature: ${why}.`, { reason: check.reason })
  }
}

function decodeBody(req: FastifyRequest, config: SmsConfig): unknown {
  const raw = req.smsRawBody ?? ''
  const isJson = /^application\/json/i.test(String(req.headers['content-type'] ?? ''))
  const format = config.format === 'auto' ? (isJson ? 'generic-json' : 'twilio-form') : config.format
  req.smsFormat = format
  if (format === 'generic-json') {
    if (!isJson) throw badRequest('WRONG_FORMAT', 'Cổng SMS được cấu hình dạng JSON.', 'This webhook is configured for the generic JSON format (application/json).')
    try {
      return JSON.parse(raw)
    } catch {
      throw badRequest('INVALID_JSON', 'Nội dung JSON không hợp lệ.', 'The body is not valid JSON.')
    }
  }
  if (isJson) throw badRequest('WRONG_FORMAT', 'Cổng SMS được cấu hình dạng form.', 'This webhook is configured for the form-encoded (Twilio-like) format.')
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(raw)) if (!(k in out)) out[k] = v
  return out
}

function toInbound(req: FastifyRequest): InboundSms {
  const b = req.body as Record<string, string>
  if (req.smsFormat === 'generic-json') {
    if (!('message_id' in b)) throw badRequest('WRONG_FORMAT', 'Thiếu message_id.', 'generic-json needs message_id, from and text.')
    return { provider: 'generic-json', messageId: b.message_id, from: b.from, text: b.text }
  }
  if (!('MessageSid' in b)) throw badRequest('WRONG_FORMAT', 'Thiếu MessageSid.', 'twilio-form needs MessageSid, From and Body.')
  return { provider: 'twilio-form', messageId: b.MessageSid, from: b.From, text: b.Body }
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function sendReply(reply: FastifyReply, msg: InboundSms, text: string | null) {
  if (msg.provider === 'generic-json') {
    return reply.code(200).type('application/json; charset=utf-8').send({ message_id: msg.messageId, reply: text === null ? null : { to: msg.from, text } })
  }
  const body = text === null ? '<Response/>' : `<Response><Message>${xmlEscape(text)}</Message></Response>`
  return reply.code(200).type('text/xml; charset=utf-8').send(`<?xml version="1.0" encoding="UTF-8"?>${body}`)
}
