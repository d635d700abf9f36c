import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

const DIST = fileURLToPath(new URL('../../web/dist', import.meta.url))

/**
 * Serves the Vite-built web app (citizen PWA, officers' console, IOC wall at /ioc) from web/dist when it was built.
 * The build writes .br/.gz next to each file, served as they are. Hashed assets are cached for a
 * year; the entry points (index.html, the service worker, the manifest) are revalidated on every
 * load, so a phone never asks for asset names an old index.html remembers after a deploy.
 */
export async function serveWeb(app: FastifyInstance): Promise<void> {
  if (!existsSync(DIST)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><meta charset="utf-8"><title>Hoa Ban</title><h1>Hoa Ban</h1><p>API: <a href="/docs">/docs</a>. Build the web app with <code>npm run build:web</code>.</p>'),
    )
    return
  }
  await app.register(fastifyStatic, {
    root: DIST,
    prefix: '/',
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    setHeaders(res, path) {
      if (path.includes('/assets/')) res.header('cache-control', 'public, max-age=31536000, immutable')
      else res.header('cache-control', 'no-cache')
    },
  })
  // The IOC wall has its own address for the screens that show it (the app reads location.pathname).
  app.get('/ioc', { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html'))
}
