import { sql } from 'kysely'
import { appendAudit } from '../../../platform/audit/audit-log.ts'
import type { Principal } from '../../../platform/auth/principal.ts'
import type { Db } from '../../../platform/db/database.ts'
import { AppError, badRequest } from '../../../platform/http/errors.ts'
import { loadGazetteer } from '../../geo/index.ts'
import { getOrgUnit } from '../../identity/index.ts'
import { listCategories } from '../categories.ts'
import { submitReport } from '../intake.ts'
import { getReportByCode } from '../repository.ts'
import { createdReply, helpReply, parseSms, RATE_LIMITED_REPLY, smsCategories, statusReply, type SmsCommand, type SmsDictionary } from './parser.ts'

/** One message as the gateway delivered it, whatever its format. */
export interface InboundSms {
  provider: 'generic-json' | 'twilio-form'
  messageId: string
  from: string
  text: string
}

export interface SmsAnswer {
  /** The SMS to send back, or null (no reply: e.g. repeated messages over the rate limit). */
  reply: string | null
  outcome: 'report_created' | 'status' | 'help' | 'rejected' | 'rate_limited'
  report_code: string | null
  /** True when this message id was seen before (a gateway retry): the stored answer. */
  replayed: boolean
}

export interface SmsDeps {
  db: Db
  uploadDir: string
  provinceCode: string
  now: Date
  ratePerHour: number
}

/** Who the audit log names for SMS intake. */
export const SMS_GATEWAY: Principal = { kind: 'client', clientId: 'sms-gateway', name: 'SMS gateway', unitCode: null, scopes: ['sms'] }

/** +84 form of a Vietnamese number ("0912 345 678", "84912345678" → "+84912345678"); other numbers keep their digits. */
export function normalizePhone(raw: string): string {
  const digits = raw.replace(/[^\d+]/g, '')
  const plain = digits.replace(/^\+/, '')
  if (!/^\d{6,15}$/.test(plain)) throw badRequest('INVALID_PHONE', 'Số điện thoại người gửi không hợp lệ.', 'The sender number is not a valid phone number.')
  if (digits.startsWith('+')) return `+${plain}`
  if (plain.startsWith('84') && plain.length >= 11) return `+${plain}`
  if (plain.startsWith('0')) return `+84${plain.slice(1)}`
  return `+${plain}`
}

export async function loadSmsDictionary(db: Db): Promise<SmsDictionary> {
  const [categories, gazetteer] = await Promise.all([listCategories(db), loadGazetteer(db)])
  return { categories: smsCategories(categories), gazetteer }
}

interface StoredMessage {
  command: SmsCommand
  outcome: SmsAnswer['outcome'] | 'pending'
  report_code: string | null
  reply: string | null
}

const stored = (db: Db, provider: string, messageId: string) =>
  sql<StoredMessage>`select command, outcome, report_code, reply from sms_inbound_messages where provider = ${provider} and message_id = ${messageId}`.execute(db).then((r) => r.rows[0])

/**
 * Handles one inbound SMS, exactly once per gateway message id:
 * 1. in one transaction (serialised per phone number): a known message id returns its stored
 *    answer; a number over its hourly limit is recorded as rate_limited; otherwise the message
 *    and what the parser understood are recorded as pending;
 * 2. the command runs: a report goes through the same intake as the app (routing, numbering,
 *    audit, duplicates), keyed by the message id so a retry can never make a second report;
 * 3. the answer is stored with the message (a retry after a crash between 2 and 3 redoes 2,
 *    which replays the same report, and then 3).
 */
export async function handleInboundSms(deps: SmsDeps, msg: InboundSms): Promise<SmsAnswer> {
  const { db, now } = deps
  const phone = normalizePhone(msg.from)
  const first = await stored(db, msg.provider, msg.messageId)
  if (first && first.outcome !== 'pending') return { reply: first.reply, outcome: first.outcome, report_code: first.report_code, replayed: true }

  let command: SmsCommand
  if (first) command = first.command
  else {
    const dict = await loadSmsDictionary(db)
    command = parseSms(msg.text, dict)
    const early = await db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`sms:${phone}`}))`.execute(tx)
      const again = await stored(tx, msg.provider, msg.messageId)
      if (again) return { stored: again, fresh: false }
      const since = new Date(now.getTime() - 3600_000).toISOString()
      const { rows } = await sql<{ n: number; limited: number }>`select count(*)::int as n, count(*) filter (where outcome = 'rate_limited')::int as limited
        from sms_inbound_messages where phone = ${phone} and received_at > ${since}::timestamptz`.execute(tx)
      const limited = rows[0].n >= deps.ratePerHour
      // Over the limit: one explanation, then silence (each reply costs an SMS).
      const reply = limited ? (rows[0].limited === 0 ? RATE_LIMITED_REPLY : null) : null
      await sql`insert into sms_inbound_messages (provider, message_id, phone, body, received_at, command, outcome, reply)
        values (${msg.provider}, ${msg.messageId}, ${phone}, ${msg.text}, ${now.toISOString()}::timestamptz, ${JSON.stringify(command)}::jsonb, ${limited ? 'rate_limited' : 'pending'}, ${reply})`.execute(tx)
      await appendAudit(tx, { actor: 'client:sms-gateway', action: limited ? 'sms.rate_limited' : 'sms.received', entityType: 'sms_message', entityId: `${msg.provider}:${msg.messageId}`, data: { command: command.kind } }, now)
      return limited ? { stored: { command, outcome: 'rate_limited', report_code: null, reply } satisfies StoredMessage, fresh: true } : null
    })
    if (early) {
      const s = early.stored
      // Pending: a concurrent delivery of the same message recorded it; finish it the same way.
      if (s.outcome === 'pending') command = s.command
      else return { reply: s.reply, outcome: s.outcome, report_code: s.report_code, replayed: !early.fresh }
    }
  }

  const answer = await runCommand(deps, msg, phone, command)
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<StoredMessage>`update sms_inbound_messages set outcome = ${answer.outcome}, report_code = ${answer.report_code}, reply = ${answer.reply}
      where provider = ${msg.provider} and message_id = ${msg.messageId} and outcome = 'pending' returning command, outcome, report_code, reply`.execute(tx)
    if (rows.length === 0) {
      // A concurrent retry stored the answer first: answer as it did.
      const s = (await stored(tx, msg.provider, msg.messageId))!
      return { reply: s.reply, outcome: s.outcome as SmsAnswer['outcome'], report_code: s.report_code, replayed: true }
    }
    await appendAudit(tx, { actor: 'client:sms-gateway', action: 'sms.answered', entityType: 'sms_message', entityId: `${msg.provider}:${msg.messageId}`, data: { outcome: answer.outcome, report: answer.report_code } }, now)
    return { ...answer, replayed: !!first }
  })
}

async function runCommand(deps: SmsDeps, msg: InboundSms, phone: string, command: SmsCommand): Promise<Omit<SmsAnswer, 'replayed'>> {
  const { db } = deps
  switch (command.kind) {
    case 'help':
      return { reply: helpReply(await loadSmsDictionary(db)), outcome: 'help', report_code: null }
    case 'error':
      return { reply: command.reply, outcome: 'rejected', report_code: null }
    case 'status': {
      const r = await getReportByCode(db, deps.provinceCode, command.code)
      const unit = r ? await getOrgUnit(db, r.unit_code) : undefined
      const vnDate = r ? new Date(r.updated_at.getTime() + 7 * 3600_000).toISOString().slice(0, 10).split('-').reverse().join('/') : ''
      return { reply: statusReply(command.code, r ? { status: r.status, unit_name: unit?.name_vi ?? r.unit_code, public_answer: r.public_answer, updated_vn_date: vnDate } : null), outcome: 'status', report_code: r?.code ?? null }
    }
    case 'report': {
      const p = command.place
      const hasPoint = p.kind === 'village' && p.lat !== null && p.lon !== null
      try {
        const r = await submitReport(
          { db, uploadDir: deps.uploadDir, provinceCode: deps.provinceCode, now: deps.now },
          {
            category: command.category,
            description: command.description.slice(0, 4000),
            channel: 'sms',
            ...(hasPoint ? { lat: p.lat!, lon: p.lon! } : {}),
            commune_code: p.commune_code,
            address_text: p.kind === 'village' ? `${p.name}, ${p.commune_name}` : p.commune_name,
            anonymous: false,
            share_identity: false,
            contact: { phone },
          },
          SMS_GATEWAY,
          { scope: 'sms', key: `${msg.provider}:${msg.messageId}` },
        )
        const sms = (await loadSmsDictionary(db)).categories.find((c) => c.code === command.category)?.sms ?? command.category
        return { reply: createdReply(r.body.code, sms, p.name, p.commune_name), outcome: 'report_created', report_code: r.body.code }
      } catch (err) {
        // A refusal by intake (e.g. a category switched off meanwhile) becomes a reply, not a webhook error.
        if (err instanceof AppError && err.statusCode < 500 && err.statusCode !== 409) {
          return { reply: 'Khong gui duoc phan anh. Vui long goi duong day nong hoac gui HD de xem huong dan.', outcome: 'rejected', report_code: null }
        }
        throw err
      }
    }
  }
}
