/**
 * Browser test of the reporter's side after an answer: a signed-in citizen sends a report, the
 * commune's officer resolves it, and on the tracking page the citizen rates the answer and then
 * reopens the report, which goes back to "in progress" for the commune.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { getReportByCode } from '../../src/modules/reports/index.ts'
import { openPage, signIn, startE2E, until, type E2E } from './harness.ts'

const OFFICER = { username: 'e2e.fb.officer.03127', password: 'e2e-Officer-password-2' }
const CITIZEN = { username: 'e2e.fb.citizen', password: 'cong-dan-mat-khau-2', name: 'Quàng Thị Hoa' }

let e: E2E

before(async () => {
  e = await startE2E()
  await e.staff(OFFICER.username, OFFICER.password, 'officer', '03127', 'Cán bộ Điện Biên Phủ (E2E phản hồi)')
  const r = await fetch(`${e.base}/api/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: CITIZEN.username, password: CITIZEN.password, display_name: CITIZEN.name }),
  })
  assert.equal(r.status, 201, await r.text())
})

after(async () => {
  await e?.close()
})

test('the reporter rates the answer and reopens the report from the tracking page', async () => {
  const { context, page, problems } = await openPage(e.browser)
  try {
    await signIn(page, e.base, CITIZEN.username, CITIZEN.password)
    const sent = await page.request.post(`${e.base}/api/reports`, {
      headers: { 'Idempotency-Key': crypto.randomUUID() },
      data: { category: 'traffic', description: 'Ổ gà lớn trước cổng chợ (E2E phản hồi).', lat: 21.3856, lon: 103.0167, channel: 'web' },
    })
    assert.equal(sent.status(), 201, await sent.text())
    const code = ((await sent.json()) as { code: string }).code

    // The commune's officer answers it (through the API, as the console does).
    const officer = await openPage(e.browser)
    await signIn(officer.page, e.base, OFFICER.username, OFFICER.password)
    const resolved = await officer.page.request.post(`${e.base}/api/reports/${code}/resolve`, { data: { answer: 'Đã vá ổ gà ngày 27/11.', outcome: 'fixed' } })
    assert.equal(resolved.status(), 200, await resolved.text())
    await officer.context.close()

    await page.goto(`${e.base}/#/track/${code}`)
    await page.locator('.card.feedback').waitFor()
    await page.locator('.rate-form select[name=rating]').selectOption('2')
    await page.locator('.rate-form input[name=comment]').fill('Vá chưa kỹ')
    await page.locator('.rate-form button[type=submit]').click()
    await page.locator('.card.feedback .hint', { hasText: '2/5' }).waitFor()
    assert.equal((await getReportByCode(e.platform.ctx.db, e.platform.ctx.config.provinceCode, code))?.rating, 2)

    await page.locator('.reopen-form textarea[name=reason]').fill('Ổ gà lại xuất hiện sau trận mưa.')
    await page.locator('.reopen-form button[type=submit]').click()
    await until(async () => (await getReportByCode(e.platform.ctx.db, e.platform.ctx.config.provinceCode, code))?.status === 'in_progress' || undefined, 'the report is reopened')
    // The page re-reads the report: the answer form is gone while it is open again.
    await page.locator('.card.feedback').waitFor({ state: 'detached' })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})
