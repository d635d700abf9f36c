/* Hoa Ban service worker: keeps the app shell for bad connections. Generated at build time:
   the version and the list of built files are filled in by web/vite.config.ts. No request ever leaves the origin. */
const VERSION = '%%VERSION%%'
const SHELL = `hb-shell-${VERSION}`
const DATA = 'hb-data-v1'
const ASSETS = /*%%ASSETS%%*/ []
/** Reference data the report form needs, served from cache when the network is slow or gone. */
const REFERENCE = ['/api/reports/categories', '/api/geo/units', '/api/geo/boundaries', '/api/identity/units']
/** Digital-skills guides (hướng dẫn kỹ năng số): the list and each guide, readable offline. */
const isGuide = (path) => path === '/api/guides' || /^\/api\/guides\/[a-z0-9][a-z0-9-]{1,80}$/.test(path)

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(['/', ...ASSETS])).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('hb-shell-') && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const req = event.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== self.location.origin) return
  // Pages: network first (to get updates), the cached shell when offline.
  if (req.mode === 'navigate') {
    if (url.pathname !== '/' && url.pathname !== '/index.html') return
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) caches.open(SHELL).then((c) => c.put('/', res.clone()))
          return res
        })
        .catch(() => caches.match('/', { cacheName: SHELL }).then((r) => r || Response.error())),
    )
    return
  }
  // Reference data: stale-while-revalidate.
  if (REFERENCE.some((p) => url.pathname === p) || isGuide(url.pathname)) {
    event.respondWith(
      caches.open(DATA).then((c) =>
        c.match(req).then((hit) => {
          const fresh = fetch(req).then((res) => {
            if (res.ok) c.put(req, res.clone())
            return res
          })
          if (hit) {
            event.waitUntil(fresh.catch(() => {}))
            return hit
          }
          return fresh
        }),
      ),
    )
    return
  }
  // Built files (hashed names, never change): cache first.
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(req, { cacheName: SHELL }).then((hit) => hit || fetch(req)))
  }
  // Everything else (the API, photos, /docs) goes to the network untouched.
})

// Web push: the server sends { title, body, url, id } (src/platform/notifications/channels.ts).
self.addEventListener('push', (event) => {
  let msg = { title: 'Điện Biên Smart', body: '' }
  try {
    if (event.data) msg = { ...msg, ...event.data.json() }
  } catch {
    if (event.data) msg.body = event.data.text()
  }
  const url = typeof msg.url === 'string' && msg.url.startsWith('/') ? msg.url : '/#/inbox'
  event.waitUntil(self.registration.showNotification(msg.title, { body: msg.body, icon: '/icon-192.png', badge: '/icon-192.png', tag: msg.id ? `hb-${msg.id}` : undefined, data: { url } }))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = new URL(event.notification.data?.url || '/#/inbox', self.location.origin).href
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      const open = list.find((c) => new URL(c.url).origin === self.location.origin)
      if (open) return open.navigate(url).then((c) => (c || open).focus())
      return self.clients.openWindow(url)
    }),
  )
})
