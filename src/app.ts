import compress from '@fastify/compress'
import cookie from '@fastify/cookie'
import multipart from '@fastify/multipart'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { PrincipalResolver } from './platform/auth/principal.ts'
import { installErrorHandling } from './platform/http/error-handler.ts'
import { badRequest, unavailable } from './platform/http/errors.ts'
import { installMetrics } from './platform/http/metrics.ts'
import { installSecurityHeaders } from './platform/http/security-headers.ts'
import type { AppContext, Module } from './platform/module.ts'

export interface BuildOptions {
  ctx: AppContext
  modules: Module[]
  resolvePrincipal: PrincipalResolver
  /** Extra plugin registration after modules (the web front end). */
  after?: (app: FastifyInstance) => Promise<void>
}

/** Builds the HTTP application: platform plugins, then each module's routes from the explicit list. */
export async function buildApp({ ctx, modules, resolvePrincipal, after }: BuildOptions): Promise<FastifyInstance> {
  const { config } = ctx
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    trustProxy: process.env.TRUST_PROXY === '1',
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: true } },
    return503OnClosing: true,
    forceCloseConnections: false,
    pluginTimeout: 60_000,
  }) as unknown as FastifyInstance
  installErrorHandling(app)
  // Only JSON, multipart and (in the Open311 scope) form bodies are accepted: anything else is a 415.
  app.removeContentTypeParser('text/plain')

  installSecurityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        // Provinces may serve it over plain HTTP on a LAN first; HTTPS is for the proxy to add.
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
  })
  // gzip/brotli for text answers: the phone map layer is 309 KB raw, 77 KB gzipped.
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] })
  await app.register(cookie)
  await app.register(multipart, {
    limits: { fileSize: config.uploadFileLimit, files: 3, fields: 30, fieldSize: 64 * 1024, parts: 40 },
    throwFileSizeLimit: true,
  })

  // A query or path value declared an integer and coerced from text such as "1e309" becomes
  // Infinity, which AJV's integer check lets through; refuse it here, after validation, before any
  // handler sees it. Number fields are left to their modules (geo answers INVALID_COORDINATES).
  // Found by the OpenAPI fuzzer (test/fuzz/regressions.test.ts).
  app.addHook('preHandler', async (req) => {
    const schema = req.routeOptions.schema as { querystring?: { properties?: Record<string, { type?: string }> }; params?: { properties?: Record<string, { type?: string }> } } | undefined
    for (const [part, props] of [[req.query, schema?.querystring?.properties], [req.params, schema?.params?.properties]] as const) {
      if (!part || typeof part !== 'object' || !props) continue
      for (const [k, v] of Object.entries(part as Record<string, unknown>)) {
        if (props[k]?.type !== 'integer') continue
        if ((Array.isArray(v) ? v : [v]).some((x) => typeof x === 'number' && !Number.isFinite(x))) {
          throw badRequest('NUMBER_OUT_OF_RANGE', `Giá trị số của "${k}" quá lớn hoặc không hợp lệ.`, `The number given for "${k}" is out of range.`, { field: k })
        }
      }
    }
  })

  // Principal first, so the rate limit can tell clients from anonymous callers.
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (req) => {
    req.principal = await resolvePrincipal(req)
  })
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    keyGenerator: (req) => (req.principal ? (req.principal.kind === 'user' ? `user:${req.principal.userId}` : `client:${req.principal.clientId}`) : `ip:${req.ip}`),
    max: (_req, key) => (key.startsWith('ip:') ? config.rateLimitPerIp : config.rateLimitPerClient),
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
  })

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Hoa Ban API',
        description: 'Provincial digital-government platform (Điện Biên). Errors: `{ error: { code, message_vi, message_en, details? } }`.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'hb_session' },
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

  installMetrics(app, ctx.replica)
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', uptime_s: Math.round(process.uptime()) }))
  app.get('/readyz', { schema: { hide: true } }, async () => {
    try {
      await sql`select 1`.execute(ctx.db)
    } catch {
      throw unavailable(5)
    }
    // A replica that cannot be reached does not make the node unready: its reads go to the primary.
    return { status: 'ready', database: ctx.dbKind, ...(ctx.replica ? { read_replica: ctx.replica.fallingBack ? 'unreachable: reads on the primary' : 'in use' } : {}) }
  })

  for (const m of modules) {
    if (m.routes) await app.register(async (scope) => m.routes!(scope, ctx))
  }
  if (after) await after(app)
  return app
}
