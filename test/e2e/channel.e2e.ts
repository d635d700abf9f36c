/**
 * The direct channel in the citizen app: digital-skills guides that stay readable offline (service
 * worker), notices targeted by commune, and questions with their published answers.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { APIRequestContext } from 'playwright-core'
import { openPage, shot, signIn, startE2E, assertFits, type E2E } from './harness.ts'

let e: E2E
let staffApi: APIRequestContext
let closeStaff: () => Promise<void>

before(async () => {
  e = await startE2E()
  await e.staff('e2e.channel.admin', 'Mat-khau-E2E-2026', 'province_admin', '11', 'Cán bộ tỉnh (E2E)')
  const { context, page } = await openPage(e.browser)
  await signIn(page, e.base, 'e2e.channel.admin', 'Mat-khau-E2E-2026')
  staffApi = context.request
  closeStaff = () => context.close()
})
after(async () => {
  await closeStaff?.()
  await e?.close()
})

test('guides opened once online are readable offline, even after a reload (service worker)', async () => {
  const { context, page, problems } = await openPage(e.browser, { serviceWorkers: 'allow' })
  try {
    await page.goto(`${e.base}/#/guides`)
    // The first visit installs the service worker; it takes control of the page (clients.claim).
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 })
    await page.reload()
    await page.locator('.list.guides li').first().waitFor()
    const count = await page.locator('.list.guides li').count()
    assert.ok(count >= 3, `${count} guides`)
    // Each guide is fetched once through the service worker, which keeps it.
    await page.getByText(`Đã lưu ${count} hướng dẫn`).waitFor({ timeout: 30_000 })
    await shot(page, 'guides-list', { maxHeight: 1400 })
    const link = page.locator('.list.guides li h2 a').nth(1)
    const title = (await link.textContent())!.trim()
    const href = (await link.getAttribute('href'))!

    await context.setOffline(true)
    await page.reload()
    await page.goto(`${e.base}/${href}`)
    await page.locator('.guide-step').first().waitFor()
    assert.equal((await page.locator('h1.guide-title').textContent())!.trim(), title)
    assert.ok(await page.locator('.guide-step').count() >= 2)
    assert.match(await page.locator('main').innerText(), /bản đã lưu trên máy/)
    const img = page.locator('.guide-step img').first()
    assert.ok(await img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0), 'the illustration shows offline')
    await assertFits(page)
    await shot(page, 'guide-offline', { maxHeight: 1400 })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('notices: the whole province sees province-wide ones; a chosen commune adds its own, not others’', async () => {
  const communes = (await (await fetch(`${e.base}/api/geo/units?level=commune`)).json()) as { items?: { code: string }[] } | { code: string }[]
  const list = Array.isArray(communes) ? communes : communes.items ?? []
  assert.ok(list.length >= 2)
  const [a, b] = [list[0].code, list[1].code]
  const stamp = Date.now()
  const post = async (title: string, commune_codes: string[]) => {
    const r = await staffApi.post(`${e.base}/api/notices`, { data: { kind: 'announcement', title, body: 'Nội dung thông báo kiểm thử.', commune_codes, publish: true }, headers: { 'idempotency-key': `notice-${stamp}-${commune_codes.join('-') || 'all'}` } })
    assert.equal(r.status(), 201, await r.text())
  }
  await post(`Toàn tỉnh ${stamp}`, [])
  await post(`Riêng xã A ${stamp}`, [a])
  await post(`Riêng xã B ${stamp}`, [b])

  const { context, page, problems } = await openPage(e.browser)
  try {
    await page.goto(`${e.base}/#/notices`)
    await page.getByText(`Toàn tỉnh ${stamp}`).waitFor()
    // No commune chosen: every published notice.
    assert.equal(await page.getByText(`Riêng xã B ${stamp}`).count(), 1)
    await page.selectOption('select[name=commune]', a)
    await page.getByText(`Riêng xã A ${stamp}`).waitFor()
    await page.getByText(`Riêng xã B ${stamp}`).waitFor({ state: 'detached' })
    assert.equal(await page.getByText(`Toàn tỉnh ${stamp}`).count(), 1)
    assert.equal(await page.getByText(`Riêng xã B ${stamp}`).count(), 0)
    await assertFits(page)
    await shot(page, 'notices', { maxHeight: 1200 })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('a citizen asks a question; once answered and published it is found by a search without diacritics', async () => {
  const { context, page, problems } = await openPage(e.browser)
  try {
    await page.goto(`${e.base}/#/ask`)
    const topic = await page.locator('select[name=topic] option').nth(1).getAttribute('value')
    await page.selectOption('select[name=topic]', topic!)
    const word = `Kiểmthửđườngđiện${Date.now()}`
    await page.fill('input[name=title]', `Hỏi về ${word}`)
    await page.fill('textarea[name=body]', 'Xin hỏi thủ tục đăng ký như thế nào và mất bao lâu ạ?')
    await page.fill('input[name=name]', 'Lò Văn Kiểm')
    await page.fill('input[name=phone]', '0912345678')
    await page.getByRole('button', { name: 'Gửi câu hỏi' }).click()
    await page.locator('.ask-form .notice, .ask-form .error').first().waitFor()
    const receipt = await page.locator('.ask-form [role=status]').textContent()
    const code = /HD-[0-9]{4}-[0-9]+/.exec(receipt ?? '')?.[0]
    assert.ok(code, receipt ?? '')

    const r = await staffApi.post(`${e.base}/api/questions/${code}/answer`, { data: { answer: 'Bạn nộp hồ sơ tại bộ phận một cửa, thời hạn 5 ngày làm việc.', publish: true } })
    assert.equal(r.status(), 200, await r.text())

    await page.reload()
    const plain = word.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd')
    await page.fill('input[name=q]', plain)
    await page.getByRole('button', { name: 'Tìm' }).click()
    await page.locator('.answer-item', { hasText: code! }).waitFor()
    const item = await page.locator('.answer-item', { hasText: code! }).innerText()
    assert.match(item, /bộ phận một cửa/)
    assert.doesNotMatch(item, /0912345678|Lò Văn Kiểm/)
    await assertFits(page)
    await shot(page, 'questions', { maxHeight: 1600 })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('a signed-in citizen sees the unread badge, reads the inbox and marks a message read; push is skipped gracefully', async () => {
  const { context, page, problems } = await openPage(e.browser)
  try {
    await page.goto(`${e.base}/#/account/register`)
    await page.getByLabel('Họ và tên').fill('Quàng Thị Thư')
    await page.getByLabel('Số điện thoại').fill('0987 654 321')
    await page.getByLabel('Mật khẩu (ít nhất 10 ký tự)').fill('Mat-khau-cong-dan-2026')
    await page.getByRole('button', { name: 'Đăng ký tài khoản' }).click()
    await page.locator('.who-name', { hasText: 'Quàng Thị Thư' }).waitFor()
    const me = (await (await page.request.get(`${e.base}/api/auth/me`)).json()) as { id: string }
    // Two messages for this citizen, as the modules write them (in the same transaction as their change).
    const { enqueueNotification } = await import('../../src/platform/notifications/notifications.ts')
    await enqueueNotification(e.platform.ctx.db, { channel: 'in_app', to: { userId: me.id }, subject: 'Hồ sơ đã có kết quả', text: 'Hồ sơ của bạn đã được giải quyết.', link: '/#/dossiers' })
    await enqueueNotification(e.platform.ctx.db, { channel: 'in_app', to: { userId: me.id }, subject: 'Câu hỏi đã được trả lời', text: 'Sở đã trả lời câu hỏi của bạn.' })

    await page.goto(`${e.base}/#/inbox`)
    await page.locator('#inbox-bell .badge', { hasText: '2' }).waitFor()
    await page.locator('.inbox-item.unread').nth(1).waitFor()
    assert.match(await page.locator('.inbox').innerText(), /Sở đã trả lời câu hỏi của bạn/)
    await assertFits(page)
    await shot(page, 'inbox', { maxHeight: 1000 })
    await page.locator('.inbox-item').first().getByRole('button', { name: 'Đánh dấu đã đọc' }).click()
    await page.locator('.inbox-item.unread').nth(1).waitFor({ state: 'detached' })
    await page.locator('#inbox-bell .badge', { hasText: '1' }).waitFor()
    const server = (await (await page.request.get(`${e.base}/api/notifications`)).json()) as { unread: number }
    assert.equal(server.unread, 1)

    // The push switch: here the browser refuses (no permission, no push service), so it stays off with a message.
    const sw = page.locator('.push-switch')
    await sw.waitFor()
    const box = sw.locator('input[name=push]')
    if (await box.count()) {
      await box.check().catch(() => {})
      await sw.locator('[role=status]').filter({ hasText: /chặn|Không đăng ký/ }).waitFor()
      assert.equal(await box.isChecked(), false)
    } else {
      assert.match(await sw.innerText(), /không hỗ trợ/)
    }
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('signed out: no bell, and the inbox page asks to sign in', async () => {
  const { context, page, problems } = await openPage(e.browser)
  try {
    await page.goto(`${e.base}/#/inbox`)
    await page.getByText('Hãy đăng nhập để xem thông báo.').waitFor()
    assert.equal(await page.locator('#inbox-bell').isHidden(), true)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('hotline: an operator finds the commune without diacritics, records the call and reads back the code', async () => {
  await e.staff('e2e.hotline', 'Mat-khau-hotline-2026', 'officer', '03127', 'Tổng đài viên (E2E)')
  const { context, page, problems } = await openPage(e.browser)
  try {
    await signIn(page, e.base, 'e2e.hotline', 'Mat-khau-hotline-2026')
    await page.goto(`${e.base}/#/staff/hotline`)
    await page.locator('.hotline-form').waitFor()
    // Sending without a place is refused on the screen, before any request.
    await page.getByRole('button', { name: 'Ghi nhận phản ánh' }).click()
    await page.getByText('Hãy chọn địa điểm hoặc ghim trên bản đồ.').waitFor()
    await page.fill('input[name=place]', 'dien bien phu')
    await page.getByRole('button', { name: 'Tìm', exact: true }).click()
    await page.locator('.place-hit[data-kind=commune]').first().click()
    await page.getByText(/Đã chọn: Xã\/phường .*Điện Biên Phủ/).waitFor()
    const cat = await page.locator('select[name=category] option').nth(1).getAttribute('value')
    await page.selectOption('select[name=category]', cat!)
    const description = `Người dân gọi báo đèn đường hỏng cả dãy (E2E hotline ${Date.now()}).`
    await page.fill('textarea[name=description]', description)
    await page.fill('input[name=caller_phone]', '0915 111 222')
    await page.getByRole('button', { name: 'Ghi nhận phản ánh' }).click()
    const code = (await page.locator('.hotline-receipt .tracking-code').textContent())!.trim()
    assert.match(code, /^[A-Z0-9-]{6,}$/)
    assert.match(await page.locator('.read-back').innerText(), new RegExp(code))
    await assertFits(page)
    await shot(page, 'hotline', { maxHeight: 1600 })
    const feed = (await (await page.request.get(`${e.base}/api/reports/${code}`)).json()) as { description?: string; channel?: string }
    assert.equal(feed.description, description)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('the IOC wall shows the white-zone count and, for a provincial leader, the rules engine’s unit flags', async () => {
  const { context, page, problems } = await openPage(e.browser, { viewport: { width: 1600, height: 1000 } })
  try {
    await page.goto(`${e.base}/ioc`)
    await page.locator('.wall-grid[data-ready=true]').waitFor()
    assert.match(await page.locator('.kpis').innerText(), /Thôn\/bản vùng trắng/)
    // Anonymous: the flags are not public, the panel stays hidden.
    assert.equal(await page.locator('.unit-flags').isHidden(), true)
    await signIn(page, e.base, 'e2e.channel.admin', 'Mat-khau-E2E-2026')
    await page.reload()
    await page.locator('.wall-grid[data-ready=true]').waitFor()
    await page.locator('.unit-flags').waitFor()
    const flags = (await (await page.request.get(`${e.base}/api/ioc/unit-flags`)).json()) as { items: unknown[] }
    if (flags.items.length) assert.equal(await page.locator('.unit-flags li[data-unit]').count(), Math.min(50, flags.items.length))
    else assert.match(await page.locator('.unit-flags').innerText(), /Không có đơn vị nào bị cảnh báo/)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})
