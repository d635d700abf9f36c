/**
 * Issue 8 on screen: the IOC wall's village infrastructure layer (white zones in red) and
 * community panel, and the console's community screens — a commune officer creates a team for a
 * village, adds a member, records help given for a resident with their consent, and sees a
 * campaign's progress move.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { APIRequestContext } from 'playwright-core'
import { DESKTOP, openPage, shot, signIn, startE2E, until, type E2E } from './harness.ts'

let e: E2E
let adminApi: APIRequestContext
let closeAdmin: () => Promise<void>
const stamp = Date.now().toString(36)
const V = (n: string) => `Bản ${n} ${stamp}`

before(async () => {
  e = await startE2E()
  await e.staff('e2e.community.admin', 'Mat-khau-E2E-2026', 'province_admin', '11', 'Cán bộ tỉnh (E2E)')
  await e.staff('e2e.community.xa', 'Mat-khau-xa-2026', 'officer', '03127', 'Cán bộ xã (E2E)')
  const { context, page } = await openPage(e.browser)
  await signIn(page, e.base, 'e2e.community.admin', 'Mat-khau-E2E-2026')
  adminApi = context.request
  closeAdmin = () => context.close()
  const villages = `name,commune_code,lon,lat,aliases\n${V('Noong Bua')},03127,103.05070,21.41740,\n${V('Phiêng Lơi')},03127,103.06344,21.43123,\n${V('Co Mận')},03127,103.04800,21.42941,\n`
  const r1 = await adminApi.post(`${e.base}/api/places/villages/import?source=E2E`, { data: villages, headers: { 'content-type': 'text/csv' } })
  assert.equal(r1.status(), 200, await r1.text())
  const infra = `commune_code,village,fixed_broadband,broadband_provider,mobile_coverage,grid_power,as_of,source\n03127,${V('Noong Bua')},yes,VNPT,4g,yes,2026-10-01,E2E\n03127,${V('Phiêng Lơi')},no,,2g,no,2026-10-01,E2E\n`
  const r2 = await adminApi.post(`${e.base}/api/places/villages/infrastructure/import`, { data: infra, headers: { 'content-type': 'text/csv' } })
  assert.equal(r2.status(), 200, await r2.text())
})
after(async () => {
  await closeAdmin?.()
  await e?.close()
})

test('a commune officer creates a team, adds a member, records help with consent and follows a campaign', async () => {
  const { context, page, problems } = await openPage(e.browser, { viewport: DESKTOP })
  try {
    await signIn(page, e.base, 'e2e.community.xa', 'Mat-khau-xa-2026')
    await page.goto(`${e.base}/#/staff/community`)
    const team = page.locator('form[data-form=team]')
    await team.waitFor()
    await until(async () => (await team.locator('select[name=village_id] option').count()) >= 4 || undefined, 'villages of the commune')
    await team.locator('input[name=name]').fill(`Tổ CNS ${V('Noong Bua')}`)
    const villageValue = await team.locator('select[name=village_id] option', { hasText: V('Noong Bua') }).getAttribute('value')
    await team.locator('select[name=village_id]').selectOption(villageValue!)
    await team.locator('input[name=partners]').fill('VNPT Điện Biên, Viettel Điện Biên')
    await team.getByRole('button', { name: 'Lập tổ' }).click()
    const detail = page.locator('.team-detail')
    await detail.locator('h3', { hasText: `Tổ CNS ${V('Noong Bua')}` }).waitFor()

    const member = detail.locator('form[data-form=member]')
    await member.locator('input[name=full_name]').fill('Lò Văn Thắng')
    await member.locator('select[name=role]').selectOption('leader')
    await member.locator('select[name=organisation]').selectOption('youth_union')
    await member.getByRole('button', { name: 'Thêm' }).click()
    await detail.locator('.members li', { hasText: 'Lò Văn Thắng' }).waitFor()

    // A campaign for app installs in the commune.
    const campaign = page.locator('form[data-form=campaign]')
    await campaign.locator('input[name=name]').fill(`Cài Điện Biên Smart ${stamp}`)
    await campaign.locator('select[name=activity_kind]').selectOption('app_install')
    await campaign.locator('input[name=ends_on]').fill('2030-12-31')
    await campaign.locator('input[name=target]').fill('10')
    await campaign.getByRole('button', { name: 'Tạo chiến dịch' }).click()
    const row = page.locator('.list.campaigns li', { hasText: `Cài Điện Biên Smart ${stamp}` })
    await row.waitFor()
    assert.match(await row.locator('.progress-text').innerText(), /0\/10/)

    // Help given: an install, then a dossier filed for a resident — only with consent.
    const act = detail.locator('form[data-form=activity]')
    await act.locator('select[name=kind]').selectOption('app_install')
    await act.getByRole('button', { name: 'Ghi nhận' }).click()
    await until(async () => /1\/10/.test(await row.locator('.progress-text').innerText()) || undefined, 'campaign progress 1/10')
    await act.locator('select[name=kind]').selectOption('dossier_on_behalf')
    await act.locator('fieldset.consent').waitFor()
    await act.locator('input[name=resident_name]').fill('Quàng Thị Mai')
    await act.locator('input[name=reference]').fill('03127-261128-0001')
    await act.getByRole('button', { name: 'Ghi nhận' }).click()
    await page.locator('[role=status] .error').waitFor() // refused on screen without consent
    await act.locator('input[name=consent]').check()
    await act.locator('select[name=consent_method]').selectOption('verbal_with_witness')
    await act.locator('input[name=consent_evidence]').fill('Lò Văn Pọm (trưởng bản)')
    await act.getByRole('button', { name: 'Ghi nhận' }).click()
    const acts = await until(async () => {
      const r = (await (await page.request.get(`${e.base}/api/community/activities?commune_code=03127`)).json()) as { items: { kind: string; consent_id: string | null; resident_name: string | null }[] }
      return r.items.find((a) => a.kind === 'dossier_on_behalf')
    }, 'the on-behalf activity')
    assert.ok(acts?.consent_id, 'recorded with its consent')
    assert.equal(acts?.resident_name, 'Quàng Thị Mai')
    await shot(page, 'console-community', { maxHeight: 1800 })
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})

test('the IOC wall shows the village infrastructure layer with white zones and the community panel', async () => {
  const { context, page, problems } = await openPage(e.browser, { viewport: { width: 1600, height: 1000 } })
  try {
    await page.goto(`${e.base}/ioc`)
    await page.locator('.wall-grid[data-ready=true]').waitFor()
    const panel = page.locator('[data-panel=community]')
    await panel.locator('.community-kpis').waitFor()
    assert.match(await panel.innerText(), /Tổ công nghệ số cộng đồng/)
    await panel.locator('.campaigns li', { hasText: `Cài Điện Biên Smart ${stamp}` }).waitFor()
    assert.equal(await page.locator('.map-svg .pt.village').count(), 0, 'the layer is off by default')
    await page.locator('input[data-test=village-layer]').check()
    await until(async () => (await page.locator('.map-svg .pt.village').count()) >= 3 || undefined, 'village points on the map')
    assert.equal(await page.locator(`.map-svg .pt.village.v-white`).count(), 1)
    assert.equal(await page.locator(`.map-svg .pt.village.v-unknown`).count(), 1)
    const white = page.locator('.white-zones li', { hasText: V('Phiêng Lơi') })
    await white.waitFor()
    assert.match(await white.innerText(), /không có băng rộng.*không có dữ liệu di động.*không có điện lưới/)
    await shot(page, 'ioc-wall-villages')
    await page.locator('input[data-test=village-layer]').uncheck()
    assert.equal(await page.locator('.map-svg .pt.village').count(), 0)
    assert.deepEqual(problems, [])
  } finally {
    await context.close()
  }
})
