import { hostname } from 'node:os'
import type { Config } from '../../platform/config.ts'

/** Settings of the exchange gateway, read from the environment with working defaults. */
export interface ExchangeConfig {
  /** Ed25519 private key (PKCS#8 PEM). Empty: generated once under DATA_DIR/exchange with mode 0600. */
  signingKeyPem: string | undefined
  /** AES-256 key for provider credentials at rest (32 bytes, hex or base64). Empty: generated once under DATA_DIR/exchange. */
  credentialKey: string | undefined
  /** Folder for the generated key and the message-log journal. */
  dir: string
  /** Name of this gateway node; each node keeps its own hash chain. */
  node: string
  /** How long the in-memory registry (systems, services, rights, suspensions) may be stale. */
  registryTtlMs: number
  /** How often the journal is flushed into the database. */
  flushIntervalMs: number
  /** Requests per minute per calling system (or IP without a key) on /gw/*. */
  rateLimitPerSystem: number
  /** Cron (Asia/Ho_Chi_Minh) of provider health checks. */
  healthCron: string
  /** Keep-alive connections per provider origin. */
  connectionsPerProvider: number
  /** Answer /gw/ on the raw node:http listener before Fastify (default on). */
  lean: boolean
}

function int(v: string | undefined, d: number): number {
  const n = v ? Number.parseInt(v, 10) : Number.NaN
  return Number.isFinite(n) ? n : d
}

export function exchangeConfig(config: Config): ExchangeConfig {
  const env = config.env
  return {
    signingKeyPem: env.EXCHANGE_SIGNING_KEY || undefined,
    credentialKey: env.EXCHANGE_CREDENTIAL_KEY || undefined,
    dir: env.EXCHANGE_DIR || `${config.dataDir}/exchange`,
    // Two processes on one host must never share a message-log chain: the default includes the pid.
    node: (env.EXCHANGE_NODE || `${hostname() || 'gw'}-${process.pid}`).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60),
    registryTtlMs: int(env.EXCHANGE_REGISTRY_TTL_MS, 2000),
    flushIntervalMs: int(env.EXCHANGE_LOG_FLUSH_MS, 200),
    rateLimitPerSystem: int(env.EXCHANGE_RATE_LIMIT_PER_SYSTEM, 60_000),
    healthCron: env.EXCHANGE_HEALTH_CRON || '*/5 * * * *',
    connectionsPerProvider: int(env.EXCHANGE_CONNECTIONS_PER_PROVIDER, 32),
    lean: env.EXCHANGE_LEAN !== 'false',
  }
}
