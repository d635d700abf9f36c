import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import type { DomainEvent } from '../../platform/events/outbox.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { enqueueNotification } from '../../platform/notifications/index.ts'
import { getActiveUserRole } from '../identity/index.ts'
import { viewForUnit, type AnalysisResult } from './analysis.ts'
import { analysisPdf } from './render.ts'
import { getAnalysis } from './repository.ts'

/**
 * The monthly analysis sent to its subscribers (gửi người đăng ký): leaders, department and
 * commune officers and IOC viewers subscribe themselves; when an analysis is stored, each gets
 * the view their role allows — the whole province for province admins and IOC viewers, the
 * province figures plus their own unit for officers — by e-mail with the PDF attached and a
 * link, and in the in-app inbox. One delivery per analysis and subscriber.
 */

export const ANALYSIS_CREATED = 'ioc.analysis.created'
export const SUBSCRIPTION_CHANNELS = ['email', 'in_app'] as const
export type SubscriptionChannel = (typeof SUBSCRIPTION_CHANNELS)[number]
const SEES_ALL = new Set(['province_admin', 'ioc_viewer'])
const STAFF = new Set(['officer', 'unit_admin', 'province_admin', 'ioc_viewer'])

export interface Subscription { user_id: string; email: string | null; channels: SubscriptionChannel[]; created_at: Date; updated_at: Date }

export async function getSubscription(db: Db, userId: string): Promise<Subscription | undefined> {
  return (await sql<Subscription>`select user_id::text as user_id, email, channels, created_at, updated_at from ioc_analysis_subscriptions where user_id = ${userId}::uuid`.execute(db)).rows[0]
}

export async function saveSubscription(tx: Db, userId: string, s: { channels: SubscriptionChannel[]; email?: string | null }, actor: string, now: Date): Promise<Subscription> {
  const channels = [...new Set(s.channels)].sort() as SubscriptionChannel[]
  if (channels.length === 0) throw badRequest('CHANNEL_REQUIRED', 'Chọn ít nhất một kênh nhận (email, in_app).', 'Choose at least one channel (email, in_app).')
  const email = s.email?.trim() || null
  if (channels.includes('email') && !(email && /^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/.test(email))) {
    throw badRequest('EMAIL_REQUIRED', 'Cần địa chỉ thư điện tử hợp lệ để nhận qua email.', 'A valid e-mail address is needed for the email channel.')
  }
  await sql`insert into ioc_analysis_subscriptions (user_id, email, channels, created_at, updated_at)
    values (${userId}::uuid, ${email}, ${channels}::text[], ${now.toISOString()}, ${now.toISOString()})
    on conflict (user_id) do update set email = excluded.email, channels = excluded.channels, updated_at = excluded.updated_at`.execute(tx)
  await appendAudit(tx, { actor, action: 'ioc.analysis_subscribed', entityType: 'ioc_subscription', entityId: userId, data: { channels, email: email !== null } }, now)
  return (await getSubscription(tx, userId))!
}

export async function removeSubscription(tx: Db, userId: string, actor: string, now: Date): Promise<boolean> {
  const { rows } = await sql`delete from ioc_analysis_subscriptions where user_id = ${userId}::uuid returning user_id`.execute(tx)
  if (rows.length > 0) await appendAudit(tx, { actor, action: 'ioc.analysis_unsubscribed', entityType: 'ioc_subscription', entityId: userId, data: {} }, now)
  return rows.length > 0
}

/**
 * Event handler of `ioc.analysis.created`: queues the deliveries in the event's transaction
 * (e-mails are then sent by the notification jobs, with retries and a dead letter). A PDF is
 * rendered once per view (province, or one unit).
 */
export function analysisDelivery(opts: { publicUrl: string | null; clock: () => Date }) {
  return async (tx: Db, e: DomainEvent): Promise<void> => {
    const id = String(e.payload.id ?? '')
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await getAnalysis(tx, id) : undefined
    if (!row) return
    const { rows: subs } = await sql<Subscription>`select s.user_id::text as user_id, s.email, s.channels from ioc_analysis_subscriptions s
      where not exists (select 1 from ioc_analysis_deliveries d where d.analysis_id = ${id}::uuid and d.user_id = s.user_id)
      order by s.user_id`.execute(tx)
    const pdfs = new Map<string, Buffer>()
    const now = opts.clock()
    for (const s of subs) {
      const user = await getActiveUserRole(tx, s.user_id)
      // A subscriber who left, or is no longer staff, gets nothing.
      if (!user || !STAFF.has(user.role)) continue
      const scope = SEES_ALL.has(user.role) ? 'province' : `unit:${user.unit_code ?? '-'}`
      const view: AnalysisResult = scope === 'province' ? row.result : viewForUnit(row.result, user.unit_code ?? '')
      const top = view.recommendations.slice(0, 3).map((r) => `${r.rank}. ${r.title_vi}`).join('\n')
      const subject = `Phân tích và khuyến nghị tháng ${row.period} — IOC Điện Biên`
      const text = `Bản phân tích tháng ${row.period} đã có (${view.recommendations.length} khuyến nghị${scope === 'province' ? '' : ' cho đơn vị của bạn'}).${top ? `\n\n${top}` : ''}`.slice(0, 3900)
      const path = `/api/ioc/analyses/${id}.html`
      if (s.channels.includes('in_app')) {
        await enqueueNotification(tx, { channel: 'in_app', to: { userId: s.user_id }, subject, text, link: path, dedupeKey: `ioc-analysis:${id}:${s.user_id}:in_app` }, now)
      }
      if (s.channels.includes('email') && s.email) {
        let pdf = pdfs.get(scope)
        if (!pdf) pdfs.set(scope, (pdf = await analysisPdf({ ...view, narrative: scope === 'province' ? row.narrative : null })))
        await enqueueNotification(tx, {
          channel: 'email', to: { email: s.email }, subject, text, link: opts.publicUrl ? `${opts.publicUrl.replace(/\/+$/, '')}${path}` : undefined,
          attachments: [{ filename: `phan-tich-ioc-${row.period}.pdf`, contentType: 'application/pdf', content: pdf }],
          dedupeKey: `ioc-analysis:${id}:${s.user_id}:email`,
        }, now)
      }
      await sql`insert into ioc_analysis_deliveries (analysis_id, user_id, channels, scope, delivered_at)
        values (${id}::uuid, ${s.user_id}::uuid, ${s.channels}::text[], ${scope}, ${now.toISOString()}) on conflict do nothing`.execute(tx)
      await appendAudit(tx, { actor: 'system', action: 'ioc.analysis_delivered', entityType: 'ioc_analysis', entityId: id, data: { user_id: s.user_id, scope, channels: s.channels } }, now)
    }
  }
}
