import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

const DIST = fileURLToPath(new URL('../../web/dist', import.meta.url))

/** Serves the Vite-built web app (citizen PWA, staff console) from web/dist when it was built. */
export async function serveWeb(app: FastifyInstance): Promise<void> {
  if (!existsSync(DIST)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><meta charset="utf-8"><title>Hoa Ban</title><h1>Hoa Ban</h1><p>API: <a href="/docs">/docs</a>. Build the web app with <code>npm run build:web</code>.</p>'),
    )
    return
  }
  await app.register(fastifyStatic, { root: DIST, prefix: '/', index: ['index.html'], maxAge: '1h' })
}
