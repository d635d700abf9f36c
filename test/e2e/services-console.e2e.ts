/**
 * Browser tests of public services, the officers' console and the IOC wall, in Chromium against
 * the whole platform: a citizen signs up by phone, finds a procedure without diacritics, submits a
 * dossier with its files and follows it; an officer of the commune walks it to "returned" in the
 * console, where it sits in one queue with the reports; a dossier made offline is kept on the
 * phone and sent once when the network is back; the IOC wall renders with data, and shows a
 * leader security compliance by unit and the units and systems cut off from the gateway.
 *
 * SCREENSHOTS=1 also writes docs/screenshots/*.png (360 px and desktop).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import sharp from 'sharp'
import { seedDemoCompliance } from '../../src/modules/compliance/demo-seed.ts'
import { DOSSIER_CODE_PATTERN } from '../../src/modules/services/dossiers/numbering.ts'
import { assertFits, DESKTOP, openPage, PHONE, shot, SHOTS, signIn, startE2E, until, type E2E } from './harness.ts'

const OFFICER = { username: 'e2e.officer.03127', password: 'e2e-Officer-password-1' }
const LEADER = { username: 'e2e.leader.03127', password: 'e2e-Leader-password-1' }
const CITIZEN = { phone: '0912345678', password: 'cong-dan-mat-khau-1', name: 'Lò Văn Minh' }
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
const DOSSIER_RE = new RegExp(DOSSIER_CODE_PATTERN)

let e: E2E
let png: Buffer
let dossierCode = ''
let reportCode = ''

/** An open report with a photo in Phường Điện Biên Phủ, sent through the public API as the app does. */
async function sendReport(description: string): Promise<string> {
  const fd = new FormData()
  fd.append('category', 'traffic')
  fd.append('description', description)
  fd.append('channel', 'web')
  fd.append('lat', '21.3856')
  fd.append('lon', '103.0167')
  fd.append('photos', new Blob([await sharp(png).jpeg().toBuffer()], { type: 'image/jpeg' }), 'anh.jpg')
  const r = await fetch(`${e.base}/api/reports`, { method: 'POST', body: fd, headers: { 'Idempotency-Key': crypto.randomUUID() } })
  const text = await r.text()
  assert.equal(r.status, 201, text)
  return (JSON.parse(text) as { code: string }).code
}

before(async () => {
  e = await startE2E()
  await e.staff(OFFICER.username, OFFICER.password, 'officer', '03127', 'Cán bộ một cửa Điện Biên Phủ (E2E)')
  await e.staff(LEADER.username, LEADER.password, 'unit_admin', '03127', 'Lãnh đạo UBND Điện Biên Phủ (E2E)')
  png = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 200, b: 190 } } }).png().toBuffer()
  reportCode = await sendReport('Đèn tín hiệu ngã tư Hoàng Văn Thái không hoạt động (E2E console).')
})

after(async () => {
  await e?.close()
})

async function countDossiers(applicant: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from dossiers where applicant_name = ${applicant}`.execute(e.platform.ctx.db)
  return r.rows[0].n
}

test('a citizen signs up by phone, finds a procedure without diacritics and submits a dossier with its files', async () => {
  const { context, page, problems } = await open360()
  try {
    await page.goto(`${e.base}/#/account/register`)
    await page.getByLabel('Họ và tên').fill(CITIZEN.name)
    await page.getByLabel('Số điện thoại').fill('0912 345 678')
    await page.getByLabel('Mật khẩu (ít nhất 10 ký tự)').fill(CITIZEN.password)
    await page.getByRole('button', { name: 'Đăng ký tài khoản' }).click()
    await page.locator('.who-name', { hasText: CITIZEN.name }).waitFor()

    // Search without diacritics: "dang ky khai sinh" finds "Đăng ký khai sinh".
    await page.goto(`${e.base}/#/services`)
    await page.getByLabel('Tìm thủ tục').fill('dang ky khai sinh')
    await page.locator('.procedures .item[data-code="1.001193"]').waitFor()
    await assertFits(page)
    await shot(page, 'services-search', { maxHeight: 1100 })
    await page.setViewportSize(DESKTOP)
    await shot(page, 'services-search-desktop', { maxHeight: 900 })
    await page.setViewportSize(PHONE)

    await page.locator('.procedures .item[data-code="1.001193"] a').click()
    await page.locator('h1', { hasText: 'Đăng ký khai sinh' }).waitFor()
    const facts = await page.locator('.facts').innerText()
    assert.match(facts, /Nộp trực tuyến/)
    assert.match(facts, /Nộp trực tiếp/)
    assert.match(facts, /giờ làm việc/)
    assert.match(await page.locator('main').innerText(), /Trực tuyến toàn trình/)
    assert.match(await page.locator('main').innerText(), /Thành phần hồ sơ/)
    await assertFits(page)
    await shot(page, 'procedure', { maxHeight: 1400 })
    await page.setViewportSize(DESKTOP)
    await shot(page, 'procedure-desktop', { maxHeight: 1100 })
    await page.setViewportSize(PHONE)

    await page.getByRole('link', { name: 'Nộp hồ sơ trực tuyến' }).click()
    await page.locator('form.dossier-form').waitFor()
    assert.equal(await page.getByLabel('Họ và tên').inputValue(), CITIZEN.name)
    await page.getByLabel('Số định danh cá nhân (CCCD)').fill('011090001234')
    await page.selectOption('select[name=commune_code]', '03127')
    // A required file missing: the form says which, before anything is sent.
    await page.getByRole('button', { name: 'Nộp hồ sơ' }).click()
    await page.locator('form.dossier-form .error', { hasText: 'Thiếu tệp bắt buộc' }).waitFor()
    await page.setInputFiles('input[data-component=to_khai]', { name: 'to-khai.pdf', mimeType: 'application/pdf', buffer: PDF })
    await page.setInputFiles('input[data-component=giay_chung_sinh]', { name: 'giay-chung-sinh.png', mimeType: 'image/png', buffer: png })
    await assertFits(page)
    await page.getByRole('button', { name: 'Nộp hồ sơ' }).click()

    await page.locator('h1.code').waitFor()
    dossierCode = (await page.locator('h1.code').innerText()).trim()
    assert.match(dossierCode, DOSSIER_RE)
    assert.match(await page.locator('.dossier-status').innerText(), /Mới/)
    assert.match(await page.locator('main').innerText(), /to-khai\.pdf/)
    assert.equal(await countDossiers(CITIZEN.name), 1)
    const row = (await sql<{ unit_code: string; channel: string; applicant_id_number: string }>`select unit_code, channel, applicant_id_number from dossiers where code = ${dossierCode}`.execute(e.platform.ctx.db)).rows[0]
    assert.deepEqual(row, { unit_code: '03127', channel: 'online', applicant_id_number: '011090001234' })

    await page.goto(`${e.base}/#/dossiers`)
    await page.locator(`.dossiers .item[data-code="${dossierCode}"]`).waitFor()
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test("an officer finds the dossier and the report together in the commune's queue and walks the dossier to \"returned\"", async () => {
  assert.ok(dossierCode, 'the first test submitted a dossier')
  const { context, page, problems } = await openPage(e.browser, { viewport: DESKTOP })
  try {
    await page.goto(`${e.base}/#/staff`)
    await page.getByLabel('Tên đăng nhập').fill(OFFICER.username)
    await page.getByLabel('Mật khẩu').fill(OFFICER.password)
    await page.getByRole('button', { name: 'Đăng nhập' }).click()
    // One queue: the report (with its photo) and the dossier, each with its working time left.
    await page.locator(`.queue-table tr[data-code="${reportCode}"][data-kind=report]`).waitFor()
    await page.locator(`.queue-table tr[data-code="${dossierCode}"][data-kind=dossier]`).waitFor()
    // A new dossier's clock starts when it is received.
    assert.match(await page.locator(`.queue-table tr[data-code="${dossierCode}"] .due`).innerText(), /Chờ tiếp nhận/)
    assert.match(await page.locator(`.queue-table tr[data-code="${reportCode}"] .due`).innerText(), /giờ làm việc/)
    // Filters: only dossiers.
    await page.selectOption('select[name=kind]', 'dossier')
    assert.equal(await page.locator('.queue-table tbody tr[data-kind=report]').count(), 0)
    await page.selectOption('select[name=kind]', '')
    await shot(page, 'console-queue-desktop', { maxHeight: 900 })
    await page.setViewportSize(PHONE)
    await assertFits(page)
    await shot(page, 'console-queue', { maxHeight: 1400 })
    await page.setViewportSize(DESKTOP)

    // Keyboard: "/" focuses the filter; typing the code leaves one line; Enter on it opens it.
    await page.locator('h1').click()
    await page.keyboard.press('/')
    await page.keyboard.type(dossierCode)
    assert.equal(await page.locator('.queue-table tbody tr').count(), 1)
    await page.locator('h1').click()
    await page.keyboard.press('Enter')
    await page.locator('.card.dossier h2.code', { hasText: dossierCode }).waitFor()

    const step = async (action: string, status: RegExp) => {
      await page.locator(`.actions button[data-action=${action}]`).click()
      // The page is redrawn with the answer: the new status, then the notice.
      await page.locator('.card.dossier .item-head .badge', { hasText: status }).waitFor()
      await page.locator('.notice', { hasText: 'Đã cập nhật.' }).waitFor()
    }
    await step('receive', /Đã tiếp nhận/)
    assert.match(await page.locator('.card.dossier .due').innerText(), /giờ làm việc/)
    await step('process', /Đang xử lý/)
    await step('resolve', /Đã giải quyết/)
    // The result is an outgoing document of the unit, linked to the dossier.
    await page.locator('.linked li').first().waitFor()
    await shot(page, 'console-dossier-desktop', { maxHeight: 1300 })
    await page.setViewportSize(PHONE)
    await assertFits(page)
    await shot(page, 'console-dossier', { maxHeight: 1800 })
    await page.setViewportSize(DESKTOP)
    await step('return', /Đã trả kết quả/)
    assert.match(await page.locator('.timeline').innerText(), /Trả kết quả/)
    assert.equal((await sql<{ status: number }>`select status from dossiers where code = ${dossierCode}`.execute(e.platform.ctx.db)).rows[0].status, 10)

    // The report's detail: map, photo, history, actions; resolved with a numbered answer letter.
    await page.goto(`${e.base}/#/staff/${reportCode}`)
    await page.locator('.report .thumbs img').first().waitFor()
    await page.locator('.console-map path.sel[data-code="03127"]').waitFor({ state: 'attached' })
    await page.locator('button[data-action=resolve]').click()
    await page.getByLabel('Nội dung trả lời (công khai)').fill('Đã sửa đèn tín hiệu.')
    await page.getByLabel('Ban hành công văn trả lời (vào sổ văn bản đi)').check()
    await page.locator('.action-form button[type=submit]').click()
    await page.locator('.report .answer').waitFor()
    await page.reload()
    await page.locator('.linked li').first().waitFor()
    assert.match(await page.locator('.linked').innerText(), /CV/)
    await shot(page, 'console-report-desktop', { maxHeight: 1300 })

    // Documents: register an incoming one and find it again without diacritics.
    await page.goto(`${e.base}/#/staff/docs`)
    await page.locator('button[data-register=incoming]').click()
    await page.getByLabel('Số, ký hiệu').fill('125/QĐ-UBND')
    await page.getByLabel('Cơ quan ban hành').fill('UBND tỉnh Điện Biên')
    await page.getByLabel('Trích yếu').fill('Về việc phân bổ kinh phí sửa chữa đường giao thông nông thôn')
    await page.getByRole('button', { name: 'Vào sổ', exact: true }).click()
    await page.locator('.notice', { hasText: 'Đã vào sổ số' }).waitFor()
    await page.getByLabel('Tìm văn bản').fill('kinh phi sua chua')
    await page.getByRole('button', { name: 'Tìm văn bản' }).click()
    await page.locator('.docs .item', { hasText: '125/QĐ-UBND' }).waitFor()
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
  // The citizen sees the returned dossier and downloads the receipt and the result as PDF.
  const c = await open360()
  try {
    await signIn(c.page, e.base, CITIZEN.phone, CITIZEN.password)
    await c.page.goto(`${e.base}/#/dossiers/${dossierCode}`)
    await c.page.locator('.dossier-status', { hasText: 'Đã trả kết quả' }).waitFor()
    for (const kind of ['receipt', 'result']) {
      const href = await c.page.locator(`a[data-slip=${kind}]`).getAttribute('href')
      const r = await c.page.request.get(`${e.base}${href}`)
      assert.equal(r.status(), 200)
      assert.equal(r.headers()['content-type'], 'application/pdf')
      assert.equal((await r.body()).subarray(0, 5).toString('latin1'), '%PDF-')
    }
    await assertFits(c.page)
    await shot(c.page, 'dossier', { maxHeight: 1500 })
    await c.page.setViewportSize(DESKTOP)
    await shot(c.page, 'dossier-desktop', { maxHeight: 1100 })
    assert.deepEqual(c.problems, [])
  } finally {
    await c.context.close()
  }
})

test('the citizen home (the report form) fits a 360 px phone and a desktop', async () => {
  const { context, page, problems } = await open360()
  try {
    await page.goto(`${e.base}/#/`)
    await page.locator('select[name=category] option[value=traffic]').waitFor({ state: 'attached' })
    // Ten destinations in the main navigation, all reachable at 360 px (it scrolls sideways).
    assert.equal(await page.locator('#nav a').count(), 10)
    await assertFits(page)
    await shot(page, 'home', { maxHeight: 1000 })
    await page.setViewportSize(DESKTOP)
    await shot(page, 'home-desktop', { maxHeight: 900 })
    // English switch: the services page in English.
    await page.locator('#lang').click()
    await page.goto(`${e.base}/#/services`)
    await page.locator('h1', { hasText: 'Online public services' }).waitFor()
    await page.locator('#lang').click()
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('a unit admin assigns several queue items at once to an officer', async () => {
  const { context, page, problems } = await openPage(e.browser, { viewport: DESKTOP })
  try {
    // Two fresh items: a dossier submitted by the citizen and a report.
    const citizen = await e.browser.newContext()
    await signIn(await citizen.newPage(), e.base, CITIZEN.phone, CITIZEN.password)
    const fd = new FormData()
    for (const [k, v] of Object.entries({ procedure_code: '1.001193', channel: 'online', applicant_name: 'Quàng Thị Hoa', commune_code: '03127' })) fd.append(k, v)
    fd.append('to_khai', new Blob([PDF], { type: 'application/pdf' }), 'to-khai.pdf')
    fd.append('giay_chung_sinh', new Blob([PDF], { type: 'application/pdf' }), 'gcs.pdf')
    const cookie = (await citizen.cookies()).map((c) => `${c.name}=${c.value}`).join('; ')
    const r = await fetch(`${e.base}/api/dossiers`, { method: 'POST', body: fd, headers: { cookie } })
    const text = await r.text()
    assert.equal(r.status, 201, text)
    const code = (JSON.parse(text) as { code: string }).code
    await citizen.close()

    const rep = await sendReport('Cống thoát nước bị tắc trước cổng trường (E2E bulk).')
    await signIn(page, e.base, LEADER.username, LEADER.password)
    await page.goto(`${e.base}/#/staff`)
    await page.locator(`.queue-table tr[data-code="${code}"]`).waitFor()
    await page.getByLabel(`Chọn ${code}`).check()
    await page.getByLabel(`Chọn ${rep}`).check()
    await page.selectOption('select[name=assignee]', { label: 'Cán bộ một cửa Điện Biên Phủ (E2E)' })
    await page.getByRole('button', { name: /Giao \d việc đã chọn/ }).click()
    await page.getByText('Đã giao 2 việc; 0 việc không giao được.').waitFor()
    const d = (await sql<{ status: number; assignee: string | null }>`select status, assignee_user_id::text as assignee from dossiers where code = ${code}`.execute(e.platform.ctx.db)).rows[0]
    assert.equal(d.status, 4)
    const officerId = (await sql<{ id: string }>`select id::text as id from users where username = ${OFFICER.username}`.execute(e.platform.ctx.db)).rows[0].id
    assert.equal(d.assignee, officerId)
    const rr = (await sql<{ status: string; assignee: string | null }>`select status, assignee_user_id::text as assignee from reports where code = ${rep}`.execute(e.platform.ctx.db)).rows[0]
    assert.deepEqual(rr, { status: 'assigned', assignee: officerId })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('offline: a dossier waits on the phone and is sent once when the network is back', async () => {
  const { context, page, problems } = await open360()
  const applicant = `Vì Thị Lan ${Date.now()}`
  try {
    await signIn(page, e.base, CITIZEN.phone, CITIZEN.password)
    await page.goto(`${e.base}/#/services/p/1.001193/submit`)
    await page.locator('form.dossier-form').waitFor()
    await page.getByLabel('Họ và tên').fill(applicant)
    await page.selectOption('select[name=commune_code]', '03127')
    await page.setInputFiles('input[data-component=to_khai]', { name: 'to-khai.pdf', mimeType: 'application/pdf', buffer: PDF })
    await page.setInputFiles('input[data-component=giay_chung_sinh]', { name: 'gcs.pdf', mimeType: 'application/pdf', buffer: PDF })

    await context.setOffline(true)
    await page.getByRole('button', { name: 'Nộp hồ sơ' }).click()
    await page.locator('.dossier-waiting').waitFor()
    await page.locator('#banner', { hasText: 'Đang chờ gửi: 1 hồ sơ' }).waitFor()
    assert.equal(await countDossiers(applicant), 0)
    await shot(page, 'dossier-waiting')

    await context.setOffline(false)
    await until(async () => (await countDossiers(applicant)) === 1, 'the dossier to arrive')
    await page.locator('#banner', { hasText: 'Đang chờ gửi' }).waitFor({ state: 'detached' }).catch(() => undefined)
    // Another "online" (a flaky connection) sends nothing more.
    await page.evaluate(() => window.dispatchEvent(new Event('online')))
    await page.waitForTimeout(1000)
    assert.equal(await countDossiers(applicant), 1)
    await page.goto(`${e.base}/#/dossiers`)
    await page.locator('.dossiers .item').first().waitFor()
    assert.equal(await page.locator('.pending .item').count(), 0)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('the IOC wall renders with data, full screen, at /ioc', async () => {
  const { context, page, problems } = await openPage(e.browser, { viewport: { width: 1600, height: 1000 } })
  try {
    await sendReport('Cây đổ chắn ngang đường Trần Đăng Ninh (E2E wall).')
    // Five departments' security duties as on first start: two cut off from the gateway, two warned.
    await seedDemoCompliance(e.platform.ctx, { accounts: [], notes: [] })
    // Anonymous first: the public figures only.
    await page.goto(`${e.base}/ioc`)
    await page.locator('.wall-grid[data-ready=true]').waitFor()
    assert.equal(await page.locator('header.top').isVisible(), false)
    assert.match(await page.locator('.wall-tables').innerText(), /Đăng nhập tài khoản lãnh đạo tỉnh/)
    const total = Number(await page.locator('.kpi .v').first().innerText())
    assert.ok(total >= 1, `reports on the wall: ${total}`)
    await page.locator('.wall-map path.c-open[data-code="03127"], .wall-map path.c-overdue[data-code="03127"]').first().waitFor({ state: 'attached' })
    await page.locator('.wall-chart canvas').waitFor()
    // Compliance and suspensions are for leaders, not the public.
    assert.equal(await page.locator('.compliance-panel').isHidden(), true)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
  // A provincial leader also sees the dossiers: counts, on-time and online rates by unit.
  const { context: c2, page: p2, problems: pr2 } = await openPage(e.browser, { viewport: { width: 1600, height: 1000 } })
  try {
    const pw = 'e2e-Province-password-1'
    await e.staff('e2e.leader.province', pw, 'province_admin', '11', 'Lãnh đạo UBND tỉnh (E2E)')
    await signIn(p2, e.base, 'e2e.leader.province', pw)
    await p2.goto(`${e.base}/#/ioc`)
    await p2.locator('.wall-grid[data-ready=true]').waitFor()
    const text = await p2.locator('.kpis').innerText()
    assert.match(text, /Hồ sơ trực tuyến/)
    assert.match(text, /100%/)
    assert.match(await p2.locator('.wall-tables').innerText(), /UBND Phường Điện Biên Phủ/)
    // Security compliance by unit, and who is cut off from the gateway, why and how to fix it.
    const comp = p2.locator('.compliance-panel')
    await comp.waitFor()
    assert.equal(await comp.locator('.comp-summary').innerText(), '1 đơn vị đạt · 2 bị cảnh báo · 2 bị tạm ngừng kết nối')
    assert.equal(await comp.locator('.compliance-units tbody tr').count(), 5)
    assert.match(await comp.locator('.compliance-units tr[data-unit="11.SGDDT"]').innerText(), /87% \(13\/15\)/)
    const cutOff = await comp.locator('.suspended-list li[data-subject="system:SXD/cap-phep"]').innerText()
    assert.match(cutOff, /NO_APPROVED_LEVEL/)
    assert.match(cutOff, /Sở Xây dựng/)
    assert.match(cutOff, /Cách khắc phục: Lập hồ sơ đề xuất cấp độ/)
    assert.match(await comp.locator('.suspended-list li[data-subject="unit:11.STC"]').innerText(), /Sở Tài chính — Hợp đồng giám sát/)
    assert.equal(await comp.locator('.warned-list li[data-subject]').count(), 2)
    assert.match(await comp.locator('.warned-list').innerText(), /hạn khắc phục/)
    if (SHOTS) await comp.screenshot({ path: `${SHOTS}ioc-compliance.png` })
    await shot(p2, 'ioc-wall-desktop')
    await p2.setViewportSize(PHONE)
    await p2.waitForTimeout(500)
    await assertFits(p2)
    await shot(p2, 'ioc-wall', { maxHeight: 1600 })
    assert.deepEqual(pr2, [])
  } finally {
    await c2.close()
  }
})

async function open360() {
  return openPage(e.browser, { viewport: PHONE })
}
