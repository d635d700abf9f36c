import { sql } from 'kysely'
import webpush from 'web-push'
import { appendAudit } from '../audit/audit-log.ts'
import type { Db } from '../db/database.ts'
import { badRequest } from '../http/errors.ts'
import { enqueueJob } from '../jobs/job-runner.ts'
import { emailChannel, PermanentDeliveryError, pushChannel, smsChannel, SubscriptionGoneError, type MessageAttachment, type NotificationChannel, type OutgoingMessage, type PushTarget } from './channels.ts'
import type { NotificationSettings } from './config.ts'

export const CHANNELS = ['email', 'sms', 'push', 'in_app'] as const
export type ChannelKind = (typeof CHANNELS)[number]

/** The job that delivers one queued message. */
export const SEND_JOB = 'notifications.send'

export interface NotificationRequest {
  channel: ChannelKind
  /** userId for push and in-app; email for e-mail; phone for SMS; unitCode: an in-app notice to the staff of a unit. */
  to: { userId?: string; email?: string; phone?: string; unitCode?: string }
  subject?: string
  text: string
  link?: string
  /** The same key twice records and sends one message. */
  dedupeKey?: string
  maxAttempts?: number
  /** E-mail only: up to 3 files, 10 MB each, kept with the message. */
  attachments?: MessageAttachment[]
}

export const MAX_ATTACHMENTS = 3
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

const EMAIL = /^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/
const PHONE = /^\+?[0-9]{8,15}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function invalid(field: string): never {
  throw badRequest('INVALID_NOTIFICATION', `Thông báo không hợp lệ: ${field}.`, `Invalid notification: ${field}.`)
}

/** Checks a request: the channel has the recipient it needs; sizes are bounded. */
export function checkNotification(n: NotificationRequest): void {
  if (!CHANNELS.includes(n.channel)) invalid('channel')
  if (typeof n.text !== 'string' || n.text.length === 0 || n.text.length > 4000) invalid('text (1–4000 characters)')
  if (n.subject !== undefined && n.subject.length > 300) invalid('subject (≤ 300 characters)')
  if (n.link !== undefined && (n.link.length > 1000 || !/^(https?:\/\/|\/)/.test(n.link))) invalid('link')
  if (n.dedupeKey !== undefined && (n.dedupeKey.length === 0 || n.dedupeKey.length > 300)) invalid('dedupeKey')
  if (n.to.userId !== undefined && !UUID.test(n.to.userId)) invalid('to.userId')
  if (n.channel === 'email' && !(n.to.email && EMAIL.test(n.to.email))) invalid('to.email')
  if (n.channel === 'sms' && !(n.to.phone && PHONE.test(n.to.phone))) invalid('to.phone')
  if (n.channel === 'push' && !n.to.userId) invalid('to.userId')
  if (n.channel === 'in_app' && !n.to.userId && !n.to.unitCode) invalid('to.userId or to.unitCode')
  if (n.attachments?.length) {
    if (n.channel !== 'email') invalid('attachments (e-mail only)')
    if (n.attachments.length > MAX_ATTACHMENTS) invalid(`attachments (at most ${MAX_ATTACHMENTS})`)
    for (const a of n.attachments) {
      if (!/^[^/\\\0\r\n]{1,200}$/.test(a.filename)) invalid('attachment filename')
      if (!/^[\w.+-]+\/[\w.+-]+$/.test(a.contentType)) invalid('attachment content type')
      if (!Buffer.isBuffer(a.content) || a.content.length === 0 || a.content.length > MAX_ATTACHMENT_BYTES) invalid(`attachment size (1 byte to ${MAX_ATTACHMENT_BYTES} bytes)`)
    }
  }
}

/**
 * Records a notification in the caller's transaction, so it exists exactly when the change that
 * caused it does. In-app messages are delivered by being recorded; the other channels are sent
 * by a queued job with retries and back-off, and a dead letter after the last attempt.
 * Returns the message id, or null when the dedupe key was already used.
 */
export async function enqueueNotification(tx: Db, n: NotificationRequest, now: Date = new Date()): Promise<string | null> {
  checkNotification(n)
  const inApp = n.channel === 'in_app'
  const { rows } = await sql<{ id: string }>`insert into notification_messages
      (channel, to_user_id, to_email, to_phone, to_unit_code, subject, body, link, dedupe_key, status, max_attempts, created_at, sent_at)
    values (${n.channel}, ${n.to.userId ?? null}::uuid, ${n.to.email ?? null}, ${n.to.phone ?? null}, ${n.to.unitCode ?? null}, ${n.subject ?? null},
      ${n.text}, ${n.link ?? null}, ${n.dedupeKey ?? null}, ${inApp ? 'sent' : 'queued'}, ${n.maxAttempts ?? 5}, ${now.toISOString()}, ${inApp ? now.toISOString() : null})
    on conflict (dedupe_key) do nothing
    returning id::text as id`.execute(tx)
  const id = rows[0]?.id
  if (!id) return null
  for (const [i, a] of (n.attachments ?? []).entries()) {
    await sql`insert into notification_attachments (message_id, position, filename, content_type, content)
      values (${id}::bigint, ${i}, ${a.filename}, ${a.contentType}, ${a.content})`.execute(tx)
  }
  if (!inApp) await enqueueJob(tx, SEND_JOB, { messageId: id }, { runAt: now, dedupeKey: `notification:${id}`, maxAttempts: (n.maxAttempts ?? 5) + 1 })
  await appendAudit(tx, { actor: 'system', action: 'notification.queued', entityType: 'notification', entityId: id, data: { channel: n.channel, dedupe_key: n.dedupeKey ?? null } }, now)
  return id
}

/** The VAPID key pair: configured, or generated once and stored (the first writer wins). */
export async function vapidKeys(db: Db, settings: Pick<NotificationSettings, 'vapidPublicKey' | 'vapidPrivateKey'>): Promise<{ publicKey: string; privateKey: string }> {
  if (settings.vapidPublicKey && settings.vapidPrivateKey) return { publicKey: settings.vapidPublicKey, privateKey: settings.vapidPrivateKey }
  const fresh = webpush.generateVAPIDKeys()
  await sql`insert into platform_keys (name, value) values ('vapid', ${JSON.stringify(fresh)}::jsonb) on conflict (name) do nothing`.execute(db)
  const { rows } = await sql<{ value: { publicKey: string; privateKey: string } }>`select value from platform_keys where name = 'vapid'`.execute(db)
  return rows[0].value
}

export interface Channels {
  email: NotificationChannel<string>
  sms: NotificationChannel<string>
  push: (db: Db) => Promise<NotificationChannel<PushTarget>>
}

export function buildChannels(settings: NotificationSettings): Channels {
  let push: NotificationChannel<PushTarget> | undefined
  return {
    email: emailChannel(settings),
    sms: smsChannel(settings),
    async push(db) {
      if (!push) push = pushChannel({ ...(await vapidKeys(db, settings)), subject: settings.vapidSubject }, settings.timeoutMs)
      return push
    },
  }
}

interface MessageRow {
  id: string
  channel: ChannelKind
  to_user_id: string | null
  to_email: string | null
  to_phone: string | null
  subject: string | null
  body: string
  link: string | null
  status: string
  attempts: number
  max_attempts: number
}

async function messageAttachments(db: Db, id: string): Promise<MessageAttachment[]> {
  const { rows } = await sql<{ filename: string; content_type: string; content: Uint8Array }>`select filename, content_type, content from notification_attachments
    where message_id = ${id}::bigint order by position`.execute(db)
  return rows.map((r) => ({ filename: r.filename, contentType: r.content_type, content: Buffer.from(r.content) }))
}

async function recordAttempt(db: Db, id: string, ok: boolean, detail: string, now: Date): Promise<void> {
  await sql`insert into notification_attempts (message_id, at, ok, detail) values (${id}::bigint, ${now.toISOString()}, ${ok}, ${detail.slice(0, 1000)})`.execute(db)
}

/**
 * Delivers one queued message (the SEND_JOB handler). Each attempt is recorded. A failure that
 * may pass (network, 5xx) is thrown so the job runner retries it with back-off; after the last
 * attempt, or at once for a permanent failure, the message gets a dead letter and the job ends.
 * Delivery is at least once: a crash between sending and recording may send again.
 */
export async function deliverNotification(db: Db, channels: Channels, messageId: string, now: Date): Promise<'sent' | 'dead' | 'skipped' | 'retry' | 'done'> {
  const { rows } = await sql<MessageRow>`update notification_messages set attempts = attempts + 1
    where id = ${messageId}::bigint and status = 'queued'
    returning id::text as id, channel, to_user_id::text as to_user_id, to_email, to_phone, subject, body, link, status, attempts, max_attempts`.execute(db)
  const m = rows[0]
  if (!m) return 'done'
  const msg: OutgoingMessage = { id: m.id, subject: m.subject, text: m.body, link: m.link }
  if (m.channel === 'email') msg.attachments = await messageAttachments(db, m.id)
  try {
    let reply: string
    if (m.channel === 'email') reply = await channels.email.send(m.to_email!, msg)
    else if (m.channel === 'sms') reply = await channels.sms.send(m.to_phone!, msg)
    else if (m.channel === 'push') {
      const subs = await activePushSubscriptions(db, m.to_user_id!)
      if (subs.length === 0) {
        await finish(db, m, 'skipped', 'no active push subscription', now)
        return 'skipped'
      }
      const push = await channels.push(db)
      const replies: string[] = []
      let lastError: unknown
      for (const s of subs) {
        try {
          replies.push(await push.send({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, msg))
        } catch (err) {
          if (err instanceof SubscriptionGoneError) await sql`update push_subscriptions set disabled_at = ${now.toISOString()} where id = ${s.id}::bigint`.execute(db)
          else lastError = err
        }
      }
      if (replies.length === 0 && lastError) throw lastError
      if (replies.length === 0) {
        await finish(db, m, 'skipped', 'every push subscription is gone', now)
        return 'skipped'
      }
      reply = replies.join('; ')
    } else return 'done'
    await finish(db, m, 'sent', reply, now)
    return 'sent'
  } catch (err) {
    const error = String((err as Error)?.message ?? err).slice(0, 1000)
    const permanent = err instanceof PermanentDeliveryError
    if (permanent || m.attempts >= m.max_attempts) {
      await db.transaction().execute(async (tx) => {
        await recordAttempt(tx, m.id, false, error, now)
        await sql`update notification_messages set status = 'dead', last_error = ${error} where id = ${m.id}::bigint`.execute(tx)
        await sql`insert into notification_dead_letters (message_id, channel, attempts, error, created_at)
          values (${m.id}::bigint, ${m.channel}, ${m.attempts}, ${error}, ${now.toISOString()}) on conflict (message_id) do nothing`.execute(tx)
        await appendAudit(tx, { actor: 'system', action: 'notification.dead_lettered', entityType: 'notification', entityId: m.id, data: { channel: m.channel, attempts: m.attempts, error } }, now)
      })
      return 'dead'
    }
    await recordAttempt(db, m.id, false, error, now)
    await sql`update notification_messages set last_error = ${error} where id = ${m.id}::bigint`.execute(db)
    throw err
  }
}

async function finish(db: Db, m: MessageRow, status: 'sent' | 'skipped', reply: string, now: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await recordAttempt(tx, m.id, status === 'sent', reply, now)
    await sql`update notification_messages set status = ${status}, sent_at = ${status === 'sent' ? now.toISOString() : null}, provider_reply = ${reply.slice(0, 1000)}
      where id = ${m.id}::bigint`.execute(tx)
    await appendAudit(tx, { actor: 'system', action: `notification.${status}`, entityType: 'notification', entityId: m.id, data: { channel: m.channel, attempts: m.attempts } }, now)
  })
}

export async function activePushSubscriptions(db: Db, userId: string): Promise<{ id: string; endpoint: string; p256dh: string; auth: string }[]> {
  const { rows } = await sql<{ id: string; endpoint: string; p256dh: string; auth: string }>`select id::text as id, endpoint, p256dh, auth
    from push_subscriptions where user_id = ${userId}::uuid and disabled_at is null order by id limit 20`.execute(db)
  return rows
}

/** Saves (or re-enables, or moves to this user) a PWA push subscription, audited. */
export async function savePushSubscription(tx: Db, userId: string, s: { endpoint: string; p256dh: string; auth: string }, now: Date): Promise<string> {
  const { rows } = await sql<{ id: string }>`insert into push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
    values (${userId}::uuid, ${s.endpoint}, ${s.p256dh}, ${s.auth}, ${now.toISOString()})
    on conflict (endpoint) do update set user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, disabled_at = null
    returning id::text as id`.execute(tx)
  await appendAudit(tx, { actor: `user:${userId}`, action: 'push_subscription.saved', entityType: 'push_subscription', entityId: rows[0].id, data: {} }, now)
  return rows[0].id
}

/** Disables the caller's subscription with this endpoint; false when the caller has none. */
export async function removePushSubscription(tx: Db, userId: string, endpoint: string, now: Date): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`update push_subscriptions set disabled_at = ${now.toISOString()}
    where endpoint = ${endpoint} and user_id = ${userId}::uuid and disabled_at is null returning id::text as id`.execute(tx)
  if (!rows[0]) return false
  await appendAudit(tx, { actor: `user:${userId}`, action: 'push_subscription.removed', entityType: 'push_subscription', entityId: rows[0].id, data: {} }, now)
  return true
}

export interface InboxItem {
  id: string
  subject: string | null
  text: string
  link: string | null
  created_at: string
  read_at: string | null
  for_unit: string | null
}

/** A user's in-app inbox: messages to them, and (staff) to their unit; newest first, keyset by id. */
export async function listInbox(db: Db, user: { userId: string; unitCode: string | null; staff: boolean }, opts: { beforeId?: string; limit: number; unreadOnly?: boolean }): Promise<InboxItem[]> {
  const unit = user.staff ? user.unitCode : null
  const { rows } = await sql<{ id: string; subject: string | null; body: string; link: string | null; created_at: Date; read_at: Date | null; to_unit_code: string | null }>`
    select id::text as id, subject, body, link, created_at, read_at, to_unit_code from notification_messages
    where channel = 'in_app' and (to_user_id = ${user.userId}::uuid or (${unit}::text is not null and to_unit_code = ${unit}::text))
      and (${opts.beforeId ?? null}::bigint is null or id < ${opts.beforeId ?? null}::bigint)
      and (${opts.unreadOnly ?? false}::boolean = false or read_at is null)
    order by id desc limit ${opts.limit}`.execute(db)
  return rows.map((r) => ({ id: r.id, subject: r.subject, text: r.body, link: r.link, created_at: r.created_at.toISOString(), read_at: r.read_at?.toISOString() ?? null, for_unit: r.to_unit_code }))
}

/** How many unread in-app messages the user has (to them, and for staff to their unit). */
export async function countUnread(db: Db, user: { userId: string; unitCode: string | null; staff: boolean }): Promise<number> {
  const unit = user.staff ? user.unitCode : null
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from notification_messages
    where channel = 'in_app' and read_at is null and (to_user_id = ${user.userId}::uuid or (${unit}::text is not null and to_unit_code = ${unit}::text))`.execute(db)
  return rows[0].n
}

/** Marks an in-app message read. 'not_found' when it is not in the caller's inbox. */
export async function markRead(tx: Db, user: { userId: string; unitCode: string | null; staff: boolean }, id: string, now: Date): Promise<'read' | 'already' | 'not_found'> {
  const unit = user.staff ? user.unitCode : null
  const { rows } = await sql<{ read_at: Date | null }>`select read_at from notification_messages
    where id = ${id}::bigint and channel = 'in_app' and (to_user_id = ${user.userId}::uuid or (${unit}::text is not null and to_unit_code = ${unit}::text)) for update`.execute(tx)
  if (!rows[0]) return 'not_found'
  if (rows[0].read_at) return 'already'
  await sql`update notification_messages set read_at = ${now.toISOString()} where id = ${id}::bigint`.execute(tx)
  await appendAudit(tx, { actor: `user:${user.userId}`, action: 'notification.read', entityType: 'notification', entityId: id, data: {} }, now)
  return 'read'
}

/** A message with its attempts and dead letter, for tests and operators. */
export async function getNotification(db: Db, id: string): Promise<(MessageRow & { last_error: string | null; provider_reply: string | null; dead_letter: { error: string; attempts: number } | null; attempt_log: { ok: boolean; detail: string | null }[] }) | undefined> {
  const { rows } = await sql<MessageRow & { last_error: string | null; provider_reply: string | null }>`select id::text as id, channel, to_user_id::text as to_user_id, to_email, to_phone, subject, body, link, status, attempts, max_attempts, last_error, provider_reply
    from notification_messages where id = ${id}::bigint`.execute(db)
  if (!rows[0]) return undefined
  const dl = await sql<{ error: string; attempts: number }>`select error, attempts from notification_dead_letters where message_id = ${id}::bigint`.execute(db)
  const at = await sql<{ ok: boolean; detail: string | null }>`select ok, detail from notification_attempts where message_id = ${id}::bigint order by id`.execute(db)
  return { ...rows[0], dead_letter: dl.rows[0] ?? null, attempt_log: at.rows }
}

export interface DeadLetterItem {
  id: string
  message_id: string
  channel: string
  attempts: number
  error: string
  created_at: string
  subject: string | null
}

/** Dead letters for operators, newest first, keyset by id. */
export async function listDeadLetters(db: Db, opts: { beforeId?: string; limit: number }): Promise<DeadLetterItem[]> {
  const { rows } = await sql<{ id: string; message_id: string; channel: string; attempts: number; error: string; created_at: Date; subject: string | null }>`
    select d.id::text as id, d.message_id::text as message_id, d.channel, d.attempts, d.error, d.created_at, m.subject
    from notification_dead_letters d join notification_messages m on m.id = d.message_id
    where (${opts.beforeId ?? null}::bigint is null or d.id < ${opts.beforeId ?? null}::bigint)
    order by d.id desc limit ${opts.limit}`.execute(db)
  return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }))
}
