// npx tsx bench/web-first-screen.ts            (3 cold loads per case; WEB_BENCH_RUNS=10 for the full run)
// The citizen app's first screen on Chromium with network emulation "slow 3G" (400 kbit/s down
// and up, 400 ms round trip, via CDP Network.emulateNetworkConditions), against a baseline of
// the same loads without emulation in the same run; and the size of the initial JavaScript
// (the entry script and the chunks index.html preloads), gzip -9 and brotli as served.
// "Usable" = the report form can be filled: the categories are in the select. Every load is a
// cold first visit: new browser context, empty cache, no service worker.
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { gzipSync, brotliCompressSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { openPage, ROOT, startE2E } from '../test/e2e/harness.ts'

const RUNS = Number(process.env.WEB_BENCH_RUNS ?? 3)
const SLOW_3G = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 }

interface Case { name: string; path: string; ready: string }
const CASES: Case[] = [
  { name: 'Report form (home)', path: '/#/', ready: 'select[name=category] option[value=traffic]' },
  { name: 'Public services search', path: '/#/services', ready: '.procedures .item' },
]

function initialJs(): { files: string[]; raw: number; gzip: number; brotli: number; css: number } {
  const html = readFileSync(`${ROOT}web/dist/index.html`, 'utf8')
  const files = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1] ?? m[2])
  let raw = 0, gzip = 0, brotli = 0
  for (const f of files) {
    const b = readFileSync(`${ROOT}web/dist${f}`)
    raw += b.length
    gzip += gzipSync(b, { level: 9 }).length
    brotli += brotliCompressSync(b).length
  }
  const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].reduce((n, m) => n + gzipSync(readFileSync(`${ROOT}web/dist${m[1]}`), { level: 9 }).length, 0)
  return { files, raw, gzip, brotli, css }
}

async function load(page: Page, base: string, c: Case, throttle: boolean): Promise<{ usable: number; fcp: number; bytes: number }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
  if (throttle) await cdp.send('Network.emulateNetworkConditions', SLOW_3G)
  let bytes = 0
  cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => (bytes += e.encodedDataLength))
  const t0 = Date.now()
  await page.goto(`${base}${c.path}`, { waitUntil: 'commit', timeout: 120_000 })
  await page.locator(c.ready).first().waitFor({ state: 'attached', timeout: 120_000 })
  const usable = Date.now() - t0
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1)
  return { usable, fcp: Math.round(fcp), bytes }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const e = await startE2E()
const rows: string[] = []
try {
  for (const c of CASES) {
    const res: Record<'base' | 'slow', { usable: number; fcp: number; bytes: number }[]> = { base: [], slow: [] }
    for (let i = 0; i < RUNS; i++) {
      for (const mode of ['base', 'slow'] as const) {
        const { context, page } = await openPage(e.browser, { viewport: { width: 360, height: 740 } })
        res[mode].push(await load(page, e.base, c, mode === 'slow'))
        await context.close()
      }
    }
    const b = median(res.base.map((x) => x.usable))
    const s = median(res.slow.map((x) => x.usable))
    rows.push(`| ${c.name} | ${b} | ${median(res.base.map((x) => x.fcp))} | **${s}** | ${median(res.slow.map((x) => x.fcp))} | ${(s / b).toFixed(1)}× | ${Math.round(median(res.slow.map((x) => x.bytes)) / 1024)} kB |`)
    console.error(`${c.name}: base ${res.base.map((x) => x.usable).join(', ')} ms; slow 3G ${res.slow.map((x) => x.usable).join(', ')} ms`)
  }
} finally {
  await e.close()
}
const js = initialJs()
console.log([
  `Machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}, ${new Date().toISOString()}, ${RUNS} cold loads per case (median)`,
  '',
  '| first screen (360 px) | usable, no emulation ms | FCP ms | usable, slow 3G ms | FCP slow 3G ms | slow / baseline | transferred |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  `Initial JavaScript (${js.files.join(', ')}): ${(js.raw / 1024).toFixed(1)} KB raw, **${(js.gzip / 1024).toFixed(1)} KB gzip** (${(js.brotli / 1024).toFixed(1)} KB brotli); initial CSS ${(js.css / 1024).toFixed(1)} KB gzip. Budget: 200 KB gzip.`,
].join('\n'))
