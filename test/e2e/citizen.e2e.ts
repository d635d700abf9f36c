/**
 * Browser tests of the web app (web/dist) against the whole platform, in Chromium:
 * a citizen sends a report (GPS position, a photo resized on the phone), sees the tracking code
 * and the commune; offline sending waits and retries without duplicates; the public feed and
 * its map show the report; the about page shows the data attribution; an officer signs in and
 * finds the report in the unit's queue.
 *
 * SCREENSHOTS=1 also writes docs/screenshots/*.png.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import sharp from 'sharp'
import type { UserPrincipal } from '../../src/platform/auth/principal.ts'
import type { Database } from '../../src/platform/db/database.ts'
import { createPlatform, type Platform } from '../../src/platform/runtime.ts'
import { openTestDatabase, testConfig } from '../../src/platform/testing/test-platform.ts'
import { allModules, principalResolver } from '../../src/modules/index.ts'
import { createUser } from '../../src/modules/identity/index.ts'
import { insertUser } from '../../src/modules/identity/repository.ts'
import { serveWeb } from '../../src/web/serve.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SHOTS = process.env.SCREENSHOTS === '1' ? `${ROOT}docs/screenshots/` : null
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Phường Điện Biên Phủ (03127). */
const IN_DBP = { latitude: 21.3856, longitude: 103.0167 }
const CODE_RE = /^PA-\d{4}-\d{6}$/
const PHONE = { width: 360, height: 740 }
const OFFICER = { username: 'e2e.officer.03127', password: 'e2e-Officer-password-1' }

let database: Database
let platform: Platform
let browser: Browser
let base: string
/** The first report sent, found later in the feed and in the queue. */
let firstCode = ''

before(async () => {
  if (!existsSync(`${ROOT}web/dist/index.html`)) {
    const r = spawnSync('npx', ['vite', 'build', 'web'], { cwd: ROOT, stdio: 'inherit' })
    assert.equal(r.status, 0, 'vite build web failed')
  }
  database = await openTestDatabase()
  platform = await createPlatform({ config: testConfig(), modules: allModules, principalResolver, database, after: (app) => serveWeb(app) })
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`

  // A province admin inserted directly (createUser only lets a null creator make citizens),
  // who then creates the officer of Phường Điện Biên Phủ the normal way.
  const admin = await insertUser(platform.ctx.db, { username: 'e2e.admin', display_name: 'Quản trị E2E', role: 'province_admin', unit_code: '11', password_hash: null })
  const adminPrincipal: UserPrincipal = { kind: 'user', userId: admin.id, role: 'province_admin', unitCode: '11', displayName: admin.display_name, sessionId: 'e2e' }
  await createUser(platform.ctx.db, adminPrincipal, { username: OFFICER.username, displayName: 'Cán bộ Điện Biên Phủ (E2E)', role: 'officer', unitCode: '03127', password: OFFICER.password })

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  if (SHOTS) mkdirSync(SHOTS, { recursive: true })
})

after(async () => {
  await browser?.close()
  await platform?.close()
  await database?.close()
})

/** A page whose console is watched: CSP violations and uncaught errors fail the test. */
async function open(opts: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', ...opts })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text())
  })
  return { context, page, problems }
}

async function shot(page: Page, name: string, fullPage = false, maxHeight?: number): Promise<void> {
  if (!SHOTS) return
  await page.evaluate(() => document.fonts?.ready)
  await page.evaluate(() => window.scrollTo(0, 0))
  const clip = maxHeight ? { x: 0, y: 0, width: page.viewportSize()!.width, height: Math.min(maxHeight, await page.evaluate(() => document.documentElement.scrollHeight)) } : undefined
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage, clip })
}

/** Works at 360 px: nothing wider than the screen. */
async function assertFits(page: Page): Promise<void> {
  const w = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(w <= page.viewportSize()!.width, `page is ${w} px wide`)
}

async function countReports(description: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from reports where description = ${description}`.execute(platform.ctx.db)
  return r.rows[0].n
}

test('a citizen sends a report from the GPS position and sees the tracking code and the commune', async () => {
  const { context, page, problems } = await open({ geolocation: IN_DBP, permissions: ['geolocation'] })
  try {
    await page.goto(`${base}/#/`)
    await page.locator('select[name=category] option[value=traffic]').waitFor({ state: 'attached' })
    assert.equal(await page.locator('html').getAttribute('lang'), 'vi')

    await page.selectOption('select[name=category]', 'traffic')
    await page.fill('textarea[name=description]', 'Ổ gà lớn giữa đường Võ Nguyên Giáp, gần chợ; xe máy dễ ngã (E2E).')
    await page.getByRole('button', { name: /Dùng vị trí hiện tại/ }).click()
    // Before sending, the form says which commune the report goes to (GET /api/geo/locate).
    await page.locator('.goes-to .commune-name', { hasText: 'Phường Điện Biên Phủ' }).waitFor()
    // The map shows the GPS point in the highlighted commune.
    await page.getByRole('button', { name: 'Chọn trên bản đồ' }).click()
    await page.locator('.map-svg path.sel[data-code="03127"]').waitFor({ state: 'attached' })
    assert.equal(await page.locator('.map-svg .marker').getAttribute('visibility'), 'visible')
    await assertFits(page)
    await shot(page, 'report-form', true)

    // A large photo, resized on the phone to at most 1600 px before upload.
    const big = await sharp({ create: { width: 2400, height: 1800, channels: 3, background: { r: 180, g: 120, b: 70 } } }).jpeg({ quality: 90 }).toBuffer()
    await page.setInputFiles('#photo-input', { name: 'o-ga.jpg', mimeType: 'image/jpeg', buffer: big })
    await page.locator('.thumbs img').first().waitFor()

    await page.getByLabel('Họ tên (không bắt buộc)').fill('Lò Thị Mai')
    await page.getByLabel('Số điện thoại (không bắt buộc)').fill('0912 345 678')
    await page.getByRole('button', { name: 'Gửi phản ánh' }).click()

    const code = (await page.locator('.tracking-code').textContent())!.trim()
    assert.match(code, CODE_RE)
    await page.locator('.success .commune-name', { hasText: 'Phường Điện Biên Phủ' }).waitFor()
    assert.match(await page.locator('.success').innerText(), /UBND Phường Điện Biên Phủ/)
    assert.match(await page.locator('.success').innerText(), /giờ Việt Nam/)
    await assertFits(page)
    await shot(page, 'report-success')
    firstCode = code

    // The receipt survives a language switch (and a reload): it is a route of its own.
    await page.locator('#lang').click()
    await page.locator('.success h1', { hasText: 'Report sent' }).waitFor()
    assert.equal((await page.locator('.tracking-code').textContent())!.trim(), code)
    assert.match(await page.locator('.success').innerText(), /Vietnam time/)
    await page.locator('#lang').click()
    await page.locator('.success h1', { hasText: 'Đã gửi phản ánh' }).waitFor()

    // What reached the server: the GPS position, the contact, one photo of 1600 px.
    const row = (await sql<{ lat: number; lon: number; commune_code: string; channel: string; reporter_name: string; reporter_phone: string }>`
      select ST_Y(location::geometry) as lat, ST_X(location::geometry) as lon, commune_code, channel, reporter_name, reporter_phone from reports where code = ${code}`.execute(platform.ctx.db)).rows[0]
    assert.equal(row.commune_code, '03127')
    assert.equal(row.channel, 'web')
    assert.ok(Math.abs(row.lat - IN_DBP.latitude) < 1e-5 && Math.abs(row.lon - IN_DBP.longitude) < 1e-5)
    assert.equal(row.reporter_name, 'Lò Thị Mai')
    const photo = await fetch(`${base}/api/reports/${code}/photos/0`)
    assert.equal(photo.status, 200)
    const meta = await sharp(Buffer.from(await photo.arrayBuffer())).metadata()
    assert.equal(Math.max(meta.width!, meta.height!), 1600)

    // The receipt links to the tracking page, which shows the public view.
    await page.getByRole('link', { name: 'Theo dõi phản ánh' }).click()
    await page.locator('.report h2.code', { hasText: code }).waitFor()
    await page.locator('.report .thumbs img').first().waitFor()
    assert.match(await page.locator('.report').innerText(), /Đã tiếp nhận/)
    assert.doesNotMatch(await page.locator('.report').innerText(), /Lò Thị Mai/, 'the public view has no personal data')
    await assertFits(page)

    // The app shell is cached by the service worker (CSP allows it: worker-src 'self').
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready
      const keys = await caches.keys()
      return { active: !!reg.active, shell: keys.some((k) => k.startsWith('hb-shell-')) }
    })
    assert.deepEqual(sw, { active: true, shell: true })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('near an open report of the same kind, a citizen can say "me too" instead of sending a duplicate', async () => {
  assert.ok(firstCode, 'the first test sent a report')
  const { context, page, problems } = await open({ geolocation: IN_DBP, permissions: ['geolocation'], serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/`)
    await page.locator('select[name=category] option[value=traffic]').waitFor({ state: 'attached' })
    await page.selectOption('select[name=category]', 'traffic')
    await page.getByRole('button', { name: /Dùng vị trí hiện tại/ }).click()
    const item = page.locator('.nearby .item', { hasText: firstCode })
    await item.waitFor()
    await item.getByRole('button', { name: /Tôi cũng gặp/ }).click()
    await item.getByRole('button', { name: /Đã ghi nhận/ }).waitFor()
    const device = await page.evaluate(() => JSON.parse(localStorage.getItem('hb.device')!))
    const n = (await sql<{ n: number }>`select count(*)::int as n from report_supporters s join reports r on r.id = s.report_id where r.code = ${firstCode} and s.supporter_key = ${`device:${device}`}`.execute(platform.ctx.db)).rows[0].n
    assert.equal(n, 1)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('offline: the report waits on the phone ("đang chờ gửi") and is sent once when the network is back', async () => {
  const { context, page, problems } = await open({ geolocation: IN_DBP, permissions: ['geolocation'], serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/`)
    await page.locator('select[name=category] option[value=environment]').waitFor({ state: 'attached' })
    await page.selectOption('select[name=category]', 'environment')
    const description = `Rác thải đổ trộm bên suối Nậm Rốm (E2E offline ${Date.now()}).`
    await page.fill('textarea[name=description]', description)
    await page.getByRole('button', { name: /Dùng vị trí hiện tại/ }).click()
    await page.locator('.goes-to .commune-name').waitFor()

    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 40, g: 140, b: 60 } } }).png().toBuffer()
    await page.setInputFiles('#photo-input', { name: 'rac.png', mimeType: 'image/png', buffer: photo })
    await page.locator('.thumbs img').first().waitFor()

    await context.setOffline(true)
    await page.getByRole('button', { name: 'Gửi phản ánh' }).click()
    await page.locator('.card.pending').waitFor()
    assert.match(await page.locator('#banner').innerText(), /Đang chờ gửi: 1/)
    const key = await page.evaluate(() => new Promise<string[]>((resolve) => {
      const req = indexedDB.open('hoaban')
      req.onsuccess = () => {
        const r = req.result.transaction('outbox').objectStore('outbox').getAllKeys()
        r.onsuccess = () => resolve(r.result as string[])
      }
    }))
    assert.equal(key.length, 1)
    assert.equal(await countReports(description), 0)

    // Back online: the `online` event sends it; the waiting screen becomes the receipt.
    await context.setOffline(false)
    await page.locator('.card.success .tracking-code').waitFor({ timeout: 20_000 })
    const code = (await page.locator('.tracking-code').textContent())!.trim()
    assert.match(code, CODE_RE)
    assert.equal(await countReports(description), 1)
    // The photo waited in IndexedDB with the report and arrived with it (as a JPEG made on the phone).
    const photoRes = await fetch(`${base}/api/reports/${code}/photos/0`)
    assert.equal(photoRes.status, 200)
    assert.equal(photoRes.headers.get('content-type'), 'image/jpeg')
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('a retry after a lost answer reuses the Idempotency-Key: no duplicate report', async () => {
  const { context, page } = await open({ serviceWorkers: 'block' })
  try {
    const keys: string[] = []
    const serverStatuses: number[] = []
    let first = true
    // The server stores the first attempt, but the phone only sees a 503 (answer lost on the way).
    await page.route('**/api/reports', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback()
      keys.push(route.request().headers()['idempotency-key'])
      const res = await route.fetch()
      serverStatuses.push(res.status())
      if (first) {
        first = false
        return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE', message_vi: 'Bận', message_en: 'Busy' } }) })
      }
      return route.fulfill({ response: res })
    })
    await page.goto(`${base}/#/`)
    await page.locator('select[name=commune_code] option[value="03127"]').waitFor({ state: 'attached' })
    await page.selectOption('select[name=category]', 'water')
    const description = `Vỡ ống nước sạch, nước chảy tràn ra đường (E2E retry ${Date.now()}).`
    await page.fill('textarea[name=description]', description)
    // No GPS this time: the commune picked from the list.
    await page.selectOption('select[name=commune_code]', '03127')
    await page.locator('.goes-to .commune-name', { hasText: 'Phường Điện Biên Phủ' }).waitFor()
    await page.getByRole('checkbox', { name: /ẩn danh/ }).check()
    await page.getByRole('button', { name: 'Gửi phản ánh' }).click()
    await page.locator('.card.pending').waitFor()
    assert.equal(await countReports(description), 1)

    await page.getByRole('button', { name: 'Gửi ngay' }).click()
    await page.locator('.card.success .tracking-code').waitFor()
    assert.deepEqual(serverStatuses, [201, 201])
    assert.equal(keys.length, 2)
    assert.equal(keys[0], keys[1], 'the same Idempotency-Key on the retry')
    assert.match(keys[0], /^[0-9a-f-]{36}$/)
    assert.equal(await countReports(description), 1, 'the retry did not create a second report')
    const code = (await page.locator('.tracking-code').textContent())!.trim()
    const stored = (await sql<{ code: string; anonymous: boolean; locate_status: string }>`select code, anonymous, locate_status from reports where description = ${description}`.execute(platform.ctx.db)).rows[0]
    assert.deepEqual(stored, { code, anonymous: true, locate_status: 'manual' })
    // A new draft gets a new key.
    assert.notEqual(await page.evaluate(() => localStorage.getItem('hb.draft.key')), JSON.stringify(keys[0]))
  } finally {
    await context.close()
  }
})

test('the position can be picked by tapping the commune map', async () => {
  const { context, page, problems } = await open({ serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/`)
    await page.getByRole('button', { name: 'Chọn trên bản đồ' }).click()
    const target = page.locator('.map-svg path[data-code="03127"]')
    await target.waitFor({ state: 'attached' })
    // The zoom buttons change the view; then, on the whole province, tap the middle of
    // Phường Điện Biên Phủ's outline.
    const width = async () => Number((await page.locator('.map-svg').getAttribute('viewBox'))!.split(' ')[2])
    const full = await width()
    await page.getByRole('button', { name: 'Phóng to' }).click()
    assert.ok((await width()) < full * 0.7)
    await page.getByRole('button', { name: 'Xem toàn tỉnh' }).click()
    assert.equal(await width(), full)
    await page.locator('.map-svg').scrollIntoViewIfNeeded()
    const b = (await target.boundingBox())!
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2)
    await page.locator('.goes-to .commune-name').waitFor()
    const picked = await page.locator('select[name=commune_code]').inputValue()
    assert.match(picked, /^\d{5}$/)
    // The commune named is the one highlighted on the map, and the marker is shown.
    await page.locator(`.map-svg path.sel[data-code="${picked}"]`).waitFor({ state: 'attached' })
    assert.equal(await page.locator('.map-svg .marker').getAttribute('visibility'), 'visible')
    assert.match(await page.locator('.pos-status').innerText(), /Toạ độ: 21\.\d+, 10[23]\.\d+/)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('in English, a refusal from the server is shown in English (position outside the province)', async () => {
  // Hà Nội: outside Điện Biên.
  const { context, page } = await open({ geolocation: { latitude: 21.0285, longitude: 105.8542 }, permissions: ['geolocation'], serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/`)
    await page.locator('#lang').click()
    assert.equal(await page.locator('html').getAttribute('lang'), 'en')
    await page.locator('select[name=category] option[value=traffic]').waitFor({ state: 'attached' })
    assert.equal((await page.locator('nav a[aria-current=page]').textContent())!.trim(), 'Report')
    await page.selectOption('select[name=category]', 'traffic')
    await page.fill('textarea[name=description]', 'Landslide on the road (E2E outside).')
    await page.getByRole('button', { name: /Use my current location/ }).click()
    await page.locator('.place .warn', { hasText: 'outside Điện Biên province' }).waitFor()
    await page.getByRole('button', { name: 'Send report' }).click()
    await page.locator('.report-form .error', { hasText: 'The position is outside the province' }).waitFor()
    assert.equal(await page.locator('.card.pending').count(), 0)
  } finally {
    await context.close()
  }
})

/** Reports elsewhere in the province (sent through the API), so the feed map has points in several communes. */
const ELSEWHERE: [number, number, string, string][] = [
  [21.8108, 102.6728, 'land', 'San ủi đất đồi trái phép gây nguy cơ sạt lở.'],
  [21.55, 103.1542, 'electricity', 'Dây điện võng thấp sát mái nhà dân, rất nguy hiểm khi mưa gió.'],
  [21.2642, 102.9108, 'water', 'Nước máy có màu đục và mùi lạ.'],
  [21.3176, 102.9251, 'traffic', 'Cống thoát nước qua đường bị tắc, nước tràn mặt đường.'],
  [22.3767, 102.3404, 'traffic', 'Cầu treo qua suối bị hỏng mấy tấm ván, học sinh đi lại nguy hiểm.'],
  [21.8793, 103.0425, 'traffic', 'Đường liên bản bị sạt lở taluy, đất đá lấn nửa mặt đường.'],
  [21.7656, 103.4912, 'other', 'Sóng điện thoại trong bản rất yếu, không dùng được dịch vụ công trực tuyến.'],
  [21.0511, 103.0501, 'electricity', 'Cột điện bị nghiêng sau trận mưa lớn.'],
]

test('the public feed lists the report and shows it on the commune map', async () => {
  assert.ok(firstCode, 'the first test sent a report')
  for (const [lat, lon, category, description] of ELSEWHERE) {
    const r = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: { category, description, channel: 'web', lat, lon } })
    assert.equal(r.statusCode, 201, r.body)
  }
  const { context, page, problems } = await open({ serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/feed`)
    await page.locator(`.feed .item[data-code="${firstCode}"]`).waitFor()
    await page.locator('.map-svg path[data-code="03127"]').waitFor({ state: 'attached' })
    // Three reports sent in the tests above (one without coordinates: its commune was picked from the list).
    await page.waitForFunction((n) => document.querySelectorAll('.map-svg .pt').length === n, ELSEWHERE.length + 2)
    assert.equal(await page.locator('.feed .item').count(), ELSEWHERE.length + 3)

    // Tapping a point shows that report under the map.
    await page.locator('.map-svg').scrollIntoViewIfNeeded()
    const box = (await page.locator('.map-svg').boundingBox())!
    const pt = (await page.locator('.map-svg .pt').first().boundingBox())!
    assert.ok(pt.x >= box.x && pt.y >= box.y)
    await page.mouse.click(pt.x + pt.width / 2, pt.y + pt.height / 2)
    await page.locator('.map-info .card a.code').waitFor()
    assert.ok((await page.locator('.map-svg path').count()) >= 45, 'all communes drawn')
    await assertFits(page)
    await shot(page, 'feed-map', true, 1500)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('the about page shows the boundary data attribution and the developer links', async () => {
  const { context, page } = await open({ serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/about`)
    const text = await page.locator('main').innerText()
    assert.ok(text.includes('Administrative boundaries: Vietnamese Provinces Database (T. Le Quoc, MIT), derived from sapnhap.bando.com.vn (NXB TN-MT & Bản đồ Việt Nam).'))
    assert.ok(text.includes('Ranh giới hành chính là bản đồ tham khảo, không phải số liệu đo đạc pháp lý.'))
    assert.equal(await page.locator('a[href="/docs"]').count(), 1)
    assert.equal(await page.locator('a[href="/open311/v2/discovery.json"]').count(), 1)
    await assertFits(page)
  } finally {
    await context.close()
  }
})

test("an officer signs in, finds the report in the unit's queue and takes it", async () => {
  assert.ok(firstCode, 'the first test sent a report')
  const { context, page, problems } = await open({ viewport: { width: 1100, height: 800 }, serviceWorkers: 'block' })
  try {
    await page.goto(`${base}/#/staff`)
    await page.getByLabel('Tên đăng nhập').fill(OFFICER.username)
    await page.getByLabel('Mật khẩu').fill('wrong-password-123')
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    await page.locator('form.login .error').waitFor()

    await page.getByLabel('Mật khẩu').fill(OFFICER.password)
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    await page.locator(`.queue-table tr[data-code="${firstCode}"]`).waitFor()
    assert.match(await page.locator('.who').innerText(), /Cán bộ Điện Biên Phủ \(E2E\)/)
    await shot(page, 'staff-queue')

    await page.locator(`.queue-table tr[data-code="${firstCode}"] a.code`).click()
    await page.locator('.card.actions').waitFor()
    // The reporter agreed to nothing: the officer does not see the contact.
    assert.match(await page.locator('main').innerText(), /Ẩn \(ẩn danh hoặc không đồng ý chia sẻ\)/)
    await page.locator('button[data-action=assign]').click()
    await page.locator('.notice', { hasText: 'Đã cập nhật.' }).waitFor()
    assert.match(await page.locator('.report .badge').innerText(), /Đã phân công/)

    await page.locator('button[data-action=resolve]').click()
    await page.getByLabel('Nội dung trả lời (công khai)').fill('Đã vá ổ gà ngày hôm nay. Cảm ơn bạn đã phản ánh.')
    await page.locator('.action-form button[type=submit]').click()
    await page.locator('.report .answer').waitFor()
    assert.match(await page.locator('.report .badge').innerText(), /Đã giải quyết/)

    await page.getByRole('button', { name: 'Đăng xuất' }).click()
    await page.getByLabel('Tên đăng nhập').waitFor()
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})
