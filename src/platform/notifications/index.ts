/**
 * Notifications: one channel interface with real adapters (SMTP e-mail, an HTTP SMS gateway,
 * web push for the PWA) and an in-app inbox. Other modules call `enqueueNotification` inside
 * their transaction; sending runs as jobs with retries, back-off and a dead letter.
 */
import type { AppContext } from '../module.ts'
import { loadNotificationSettings } from './config.ts'
import { activePushSubscriptions, buildChannels, deliverNotification, enqueueNotification, SEND_JOB } from './notifications.ts'

export { enqueueNotification, checkNotification, getNotification, listInbox, vapidKeys, deliverNotification, buildChannels, SEND_JOB, CHANNELS, type ChannelKind, type NotificationRequest } from './notifications.ts'
export { emailChannel, smsChannel, pushChannel, fillTemplate, PermanentDeliveryError, type MessageAttachment, type NotificationChannel, type OutgoingMessage, type PushTarget } from './channels.ts'
export { loadNotificationSettings, type NotificationSettings } from './config.ts'
export { notificationRoutes } from './routes.ts'

/** Payload of `dossier.citizen_notice` (published by the services module). */
interface CitizenNotice {
  user_id?: string
  code?: string
  status?: string | number
  message_vi?: string
  message_en?: string
}

/** Registers the sending job and delivers citizen notices about dossiers in-app (+ push when subscribed). */
export async function setupNotifications(ctx: AppContext): Promise<void> {
  const settings = loadNotificationSettings(ctx.config.env)
  const channels = buildChannels(settings)
  ctx.jobs.register(SEND_JOB, async ({ db, now, payload }) => {
    await deliverNotification(db, channels, String(payload.messageId), now)
  })
  ctx.events.subscribe('dossier.citizen_notice', async (tx, event) => {
    const p = event.payload as CitizenNotice
    if (!p.user_id || !/^[0-9a-f-]{36}$/i.test(p.user_id) || !(p.message_vi || p.message_en)) return
    const text = (p.message_vi ?? p.message_en ?? '').slice(0, 4000)
    const subject = p.code ? `Hồ sơ ${p.code}`.slice(0, 300) : 'Thông báo hồ sơ'
    const link = p.code && /^[\w.-]{1,100}$/.test(p.code) ? `/dossiers/${p.code}` : undefined
    const now = ctx.clock()
    await enqueueNotification(tx, { channel: 'in_app', to: { userId: p.user_id }, subject, text, link, dedupeKey: `citizen_notice:${event.id}` }, now)
    if ((await activePushSubscriptions(tx, p.user_id)).length > 0) {
      await enqueueNotification(tx, { channel: 'push', to: { userId: p.user_id }, subject, text, link, dedupeKey: `citizen_notice_push:${event.id}` }, now)
    }
  })
}
