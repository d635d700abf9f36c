import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/** Files from web/public that belong to the app shell. */
const PUBLIC_SHELL = ['/manifest.webmanifest', '/icon.svg', '/icon-192.png', '/icon-512.png']

/**
 * Writes dist/sw.js from web/sw.js with the list of built files to precache, and a version
 * derived from their (hashed) names, so a new build replaces the old cache.
 */
function serviceWorker(): Plugin {
  return {
    name: 'hoaban-service-worker',
    apply: 'build',
    generateBundle(_opts, bundle) {
      // The IOC wall (and its chart library) is for office screens: phones do not precache it.
      const built = Object.keys(bundle).filter((f) => /\.(js|css)$/.test(f) && !/\/(ioc|uPlot)[.-]/.test(`/${f.split('/').pop()}`)).map((f) => `/${f}`).sort()
      const assets = [...built, ...PUBLIC_SHELL]
      const version = createHash('sha256').update(assets.join('\n')).digest('hex').slice(0, 12)
      const source = readFileSync(here('./sw.js'), 'utf8').replace('%%VERSION%%', version).replace('/*%%ASSETS%%*/ []', JSON.stringify(assets))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}

/**
 * Writes .gz and .br next to each text file of dist, for a server that serves precompressed
 * files (@fastify/static `preCompressed: true`): a cheap phone on 2G downloads a third.
 */
function precompress(): Plugin {
  return {
    name: 'hoaban-precompress',
    apply: 'build',
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]))
      for (const file of walk(here('./dist'))) {
        if (!/\.(js|css|html|svg|webmanifest|json)$/.test(file)) continue
        const buf = readFileSync(file)
        if (buf.length < 1024) continue
        writeFileSync(`${file}.gz`, gzipSync(buf, { level: 9 }))
        writeFileSync(`${file}.br`, brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }))
      }
    },
  }
}

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('./public'),
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2020',
    cssMinify: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  plugins: [serviceWorker(), precompress()],
})
