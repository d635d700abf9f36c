import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** Prometheus metrics at /metrics: process defaults plus request durations by route and status. */
export function installMetrics(app: FastifyInstance, replica?: { readonly fallingBack: boolean }): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  if (replica) {
    new Gauge({
      name: 'hoaban_read_replica_fallback',
      help: '1 while read-only routes use the primary because the read replica could not be reached',
      registers: [registry],
      collect() {
        this.set(replica.fallingBack ? 1 : 0)
      },
    })
  }
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  app.addHook('onResponse', async (req, reply) => {
    duration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
  return registry
}
