/**
 * The platform and a Chromium for a browser test file: a fresh database (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL), every module, the built web app, a province admin and helpers to open pages,
 * take screenshots (SCREENSHOTS=1) and sign in.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import type { Role, UserPrincipal } from '../../src/platform/auth/principal.ts'
import type { Database } from '../../src/platform/db/database.ts'
import { createPlatform, type Platform } from '../../src/platform/runtime.ts'
import { openTestDatabase, testConfig } from '../../src/platform/testing/test-platform.ts'
import { allModules, principalResolver } from '../../src/modules/index.ts'
import { createUser } from '../../src/modules/identity/index.ts'
import { insertUser } from '../../src/modules/identity/repository.ts'
import { serveWeb } from '../../src/web/serve.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const SHOTS = process.env.SCREENSHOTS === '1' ? `${ROOT}docs/screenshots/` : null
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const PHONE = { width: 360, height: 740 }
export const DESKTOP = { width: 1366, height: 900 }

export interface E2E {
  platform: Platform
  database: Database
  browser: Browser
  base: string
  admin: UserPrincipal
  /** Creates a staff account the normal way (by the province admin). */
  staff(username: string, password: string, role: Role, unitCode: string, displayName: string): Promise<void>
  close(): Promise<void>
}

export async function startE2E(): Promise<E2E> {
  if (!existsSync(`${ROOT}web/dist/index.html`)) {
    const r = spawnSync('npx', ['vite', 'build', 'web'], { cwd: ROOT, stdio: 'inherit' })
    assert.equal(r.status, 0, 'vite build web failed')
  }
  const database = await openTestDatabase()
  const platform = await createPlatform({ config: testConfig(), modules: allModules, principalResolver, database, after: (app) => serveWeb(app) })
  await platform.app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`
  const row = await insertUser(platform.ctx.db, { username: 'e2e.province', display_name: 'Lãnh đạo tỉnh (E2E)', role: 'province_admin', unit_code: '11', password_hash: null })
  const admin: UserPrincipal = { kind: 'user', userId: row.id, role: 'province_admin', unitCode: '11', displayName: row.display_name, sessionId: 'e2e' }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  if (SHOTS) mkdirSync(SHOTS, { recursive: true })
  return {
    platform, database, browser, base, admin,
    async staff(username, password, role, unitCode, displayName) {
      await createUser(platform.ctx.db, admin, { username, displayName, role, unitCode, password })
    },
    async close() {
      await browser.close()
      await platform.close()
      await database.close()
    },
  }
}

/** A page whose console is watched: CSP violations and uncaught errors are collected. */
export async function openPage(browser: Browser, opts: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', serviceWorkers: 'block', ...opts })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text())
  })
  return { context, page, problems }
}

/** Signs the page's browser context in (cookie session) through the API. */
export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  const r = await page.request.post(`${base}/api/auth/login`, { data: { username, password, mode: 'cookie' } })
  assert.equal(r.status(), 200, await r.text())
}

/** A screenshot at the page's current width and, when `desktop` is given, at that width too. */
export async function shot(page: Page, name: string, opts: { fullPage?: boolean; maxHeight?: number } = {}): Promise<void> {
  if (!SHOTS) return
  await page.evaluate(() => document.fonts?.ready)
  await page.evaluate(() => window.scrollTo(0, 0))
  const width = page.viewportSize()!.width
  const height = opts.maxHeight ? Math.min(opts.maxHeight, await page.evaluate(() => document.documentElement.scrollHeight)) : undefined
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: opts.fullPage ?? !!height, clip: height ? { x: 0, y: 0, width, height } : undefined })
}

/** Works at 360 px: nothing wider than the screen. */
export async function assertFits(page: Page): Promise<void> {
  const w = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(w <= page.viewportSize()!.width, `page is ${w} px wide`)
}

/** Polls until `fn` returns a truthy value (a condition on the server side). */
export async function until<T>(fn: () => Promise<T>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
