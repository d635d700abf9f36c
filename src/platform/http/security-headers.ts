import type { FastifyInstance } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'
// Keeps the route option `helmet: false` typed (declared by @fastify/helmet's types).
import type {} from '@fastify/helmet'

/**
 * The security headers (CSP, HSTS, nosniff, frame options…) on every answer, from helmet's
 * middleware built ONCE. @fastify/helmet calls `helmet(options)` again on every request, which
 * re-parses the CSP directives and rebuilds a dozen header middlewares each time (~0.3 ms of CPU
 * per request in the dossier lifecycle profile); the headers written are the same. A route
 * declared with `helmet: false` (the exchange gateway's proxy) gets none, as before.
 */
export function installSecurityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions>): void {
  const apply = helmet(options)
  const skip = Symbol('helmet-skip')
  app.addHook('onRoute', (route) => {
    if ((route as { helmet?: unknown }).helmet === false) route.config = Object.assign(route.config ?? Object.create(null), { [skip]: true })
  })
  app.addHook('onRequest', (req, reply, done) => {
    if ((req.routeOptions.config as unknown as Record<symbol, unknown> | undefined)?.[skip]) return done()
    apply(req.raw, reply.raw, (err?: unknown) => done(err as Error | undefined))
  })
}
