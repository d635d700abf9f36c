/**
 * The in-app inbox (hộp thư thông báo) of the signed-in person, and the "get notifications" switch
 * that registers this device for web push when the browser allows it.
 */
import { api, ApiError, errorText } from '../api.ts'
import { checkbox, fill, h } from '../dom.ts'
import { store, uuid, vnTime } from '../format.ts'
import { dictionary } from '../i18n.ts'

const d = dictionary({
  title: 'Thông báo của tôi',
  signInFirst: 'Hãy đăng nhập để xem thông báo.',
  signIn: 'Đăng nhập',
  empty: 'Chưa có thông báo nào.',
  unread: '{n} chưa đọc',
  markRead: 'Đánh dấu đã đọc',
  read: 'Đã đọc',
  open: 'Xem',
  forUnit: 'Gửi đơn vị {u}',
  more: 'Xem thêm',
  push: 'Nhận thông báo trên thiết bị này',
  pushOn: 'Thiết bị này sẽ nhận thông báo.',
  pushOff: 'Đã tắt thông báo trên thiết bị này.',
  pushUnsupported: 'Trình duyệt này không hỗ trợ thông báo đẩy; thông báo vẫn có trong hộp thư này.',
  pushDenied: 'Bạn đã chặn thông báo cho trang này; hãy cho phép trong cài đặt trình duyệt.',
  pushFailed: 'Không đăng ký được thông báo đẩy: {msg}',
}, {
  title: 'My notifications',
  signInFirst: 'Sign in to see your notifications.',
  signIn: 'Sign in',
  empty: 'No notifications yet.',
  unread: '{n} unread',
  markRead: 'Mark read',
  read: 'Read',
  open: 'Open',
  forUnit: 'To unit {u}',
  more: 'Load more',
  push: 'Get notifications on this device',
  pushOn: 'This device will get notifications.',
  pushOff: 'Notifications are off on this device.',
  pushUnsupported: 'This browser does not support push notifications; they still arrive in this inbox.',
  pushDenied: 'Notifications are blocked for this site; allow them in the browser settings.',
  pushFailed: 'Could not register for push notifications: {msg}',
})

export interface InboxItem { id: string; subject: string | null; text: string; link: string | null; created_at: string; read_at: string | null; for_unit: string | null }

/** The unread count, or null when nobody is signed in. */
export async function unreadCount(): Promise<number | null> {
  try {
    return (await api<{ unread: number }>('/api/notifications?limit=1')).unread
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null
    throw e
  }
}

export async function renderInbox(main: HTMLElement, onChange: () => void): Promise<void> {
  let first: { items: InboxItem[]; unread: number }
  try {
    first = await api('/api/notifications?limit=20')
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      fill(main, h('h1', null, d('title')), h('p', null, d('signInFirst')), h('a', { class: 'btn primary', href: '#/account' }, d('signIn')))
      return
    }
    throw e
  }
  const count = h('p', { class: 'meta', role: 'status' })
  const list = h('ul', { class: 'list inbox' })
  const more = h('button', { type: 'button', class: 'btn secondary', hidden: true, onclick: () => void page() }, d('more'))
  let unread = first.unread
  const showCount = () => fill(count, unread ? d('unread', { n: unread }) : '')
  let last: string | null = null

  const item = (n: InboxItem): HTMLElement => {
    const li = h('li', { class: `card inbox-item${n.read_at ? '' : ' unread'}` })
    const draw = () => fill(li,
      n.subject ? h('h2', null, n.subject) : null,
      h('p', { class: 'desc' }, n.text),
      h('p', { class: 'meta' }, vnTime(n.created_at), n.for_unit ? ` · ${d('forUnit', { u: n.for_unit })}` : ''),
      h('div', { class: 'row' },
        n.link && n.link.startsWith('/') ? h('a', { class: 'btn small secondary', href: n.link }, d('open')) : null,
        n.read_at ? h('span', { class: 'meta' }, d('read')) : h('button', { type: 'button', class: 'btn small', onclick: async (ev: Event) => {
          const b = ev.currentTarget as HTMLButtonElement
          b.disabled = true
          try {
            await api(`/api/notifications/${n.id}/read`, { method: 'POST' })
            n.read_at = new Date().toISOString()
            li.classList.remove('unread')
            unread = Math.max(0, unread - 1)
            showCount()
            draw()
            onChange()
          } catch (e) {
            b.disabled = false
            li.append(h('p', { class: 'error' }, errorText(e)))
          }
        } }, d('markRead')),
      ),
    )
    draw()
    return li
  }
  const add = (items: InboxItem[]) => {
    list.append(...items.map(item))
    last = items.length ? items[items.length - 1].id : last
    more.hidden = items.length < 20
  }
  async function page(): Promise<void> {
    more.disabled = true
    try {
      add((await api<{ items: InboxItem[] }>(`/api/notifications?limit=20${last ? `&before=${last}` : ''}`)).items)
    } finally {
      more.disabled = false
    }
  }

  fill(main, h('h1', null, d('title')), pushSwitch(), count, list, more)
  add(first.items)
  showCount()
  if (!first.items.length) list.append(h('li', { class: 'hint' }, d('empty')))
}

// ---- web push ----
const PUSH_KEY = 'hb.push'

function pushSupported(): boolean {
  return window.isSecureContext && 'serviceWorker' in navigator && navigator.serviceWorker != null && 'PushManager' in window && 'Notification' in window
}

function b64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4))
  const out = new Uint8Array(new ArrayBuffer(b.length))
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i)
  return out
}

function pushSwitch(): HTMLElement {
  const msg = h('p', { class: 'hint', role: 'status' })
  if (!pushSupported()) return h('div', { class: 'card push-switch' }, h('p', { class: 'hint' }, d('pushUnsupported')))
  const on = store.get(PUSH_KEY, false) && Notification.permission === 'granted'
  const box = checkbox(d('push'), on, (v) => void (v ? enable() : disable()), { name: 'push' })
  async function enable(): Promise<void> {
    box.input.disabled = true
    try {
      const perm = await Notification.requestPermission()
      if (perm !== 'granted') {
        box.input.checked = false
        fill(msg, d('pushDenied'))
        return
      }
      const reg = await navigator.serviceWorker.ready
      const { public_key } = await api<{ public_key: string }>('/api/notifications/push/key')
      const sub = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlToBytes(public_key) }))
      await api('/api/notifications/push/subscriptions', { body: sub.toJSON(), headers: { 'idempotency-key': uuid() } })
      store.set(PUSH_KEY, true)
      fill(msg, d('pushOn'))
    } catch (e) {
      box.input.checked = false
      fill(msg, d('pushFailed', { msg: e instanceof ApiError ? errorText(e) : e instanceof Error ? e.message : String(e) }))
    } finally {
      box.input.disabled = false
    }
  }
  async function disable(): Promise<void> {
    box.input.disabled = true
    try {
      const reg = await navigator.serviceWorker.ready
      const sub = await reg.pushManager.getSubscription()
      if (sub) {
        await api(`/api/notifications/push/subscriptions?endpoint=${encodeURIComponent(sub.endpoint)}`, { method: 'DELETE' })
        await sub.unsubscribe()
      }
      store.set(PUSH_KEY, false)
      fill(msg, d('pushOff'))
    } catch (e) {
      box.input.checked = true
      fill(msg, d('pushFailed', { msg: errorText(e) }))
    } finally {
      box.input.disabled = false
    }
  }
  return h('div', { class: 'card push-switch' }, box.el, msg)
}
