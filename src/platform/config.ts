import { resolve } from 'node:path'

/** Everything the platform reads from the environment, with defaults that let `npm start` run with none set. */
export interface Config {
  /** Port and interface the HTTP server listens on. */
  port: number
  host: string
  /** Folder for the embedded database and uploaded files. */
  dataDir: string
  /** PostgreSQL connection string; when empty the embedded PGlite database in `dataDir/pglite` is used. */
  databaseUrl: string | undefined
  /** A streaming replica for read-only routes (DATABASE_READ_URL); PostgreSQL only. */
  databaseReadUrl: string | undefined
  /** Where uploaded photos and files are kept. */
  uploadDir: string
  /** Load demo accounts and reports on first start. */
  seedDemo: boolean
  /** Max JSON body size (bytes) and max upload file size (bytes). */
  bodyLimit: number
  uploadFileLimit: number
  /** Requests per minute per IP and per authenticated client. */
  rateLimitPerIp: number
  rateLimitPerClient: number
  /** Failed logins before an account is locked, and for how long. */
  loginMaxFailures: number
  loginLockMinutes: number
  /** Session lifetime in hours. */
  sessionHours: number
  /** Cookies get the Secure flag (behind HTTPS). */
  secureCookies: boolean
  /** Run the background job runner and scheduler in this process. */
  runJobs: boolean
  logLevel: string
  nodeEnv: string
  /** GSO code of the province this installation serves (Điện Biên = 11). */
  provinceCode: string
  /**
   * The raw environment. A module reads its own settings from it in its own `config.ts`
   * (e.g. SMTP_URL for notifications), so adding a module never edits this file.
   */
  env: Readonly<Record<string, string | undefined>>
}

function int(v: string | undefined, d: number): number {
  if (v === undefined || v === '') return d
  const n = Number.parseInt(v, 10)
  if (!Number.isFinite(n)) throw new Error(`Expected an integer, got "${v}"`)
  return n
}

function bool(v: string | undefined, d: boolean): boolean {
  if (v === undefined || v === '') return d
  return ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())
}

/** Reads configuration from an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR ?? './data')
  return {
    port: int(env.PORT, 3000),
    host: env.HOST ?? '0.0.0.0',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    databaseReadUrl: env.DATABASE_READ_URL || undefined,
    uploadDir: resolve(env.UPLOAD_DIR ?? `${dataDir}/uploads`),
    seedDemo: bool(env.SEED_DEMO, true),
    bodyLimit: int(env.BODY_LIMIT_BYTES, 1_048_576),
    uploadFileLimit: int(env.UPLOAD_FILE_LIMIT_BYTES, 10 * 1_048_576),
    rateLimitPerIp: int(env.RATE_LIMIT_PER_IP, 600),
    rateLimitPerClient: int(env.RATE_LIMIT_PER_CLIENT, 3000),
    loginMaxFailures: int(env.LOGIN_MAX_FAILURES, 5),
    loginLockMinutes: int(env.LOGIN_LOCK_MINUTES, 15),
    sessionHours: int(env.SESSION_HOURS, 12),
    secureCookies: bool(env.SECURE_COOKIES, env.NODE_ENV === 'production'),
    runJobs: bool(env.RUN_JOBS, true),
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    nodeEnv: env.NODE_ENV ?? 'development',
    provinceCode: env.PROVINCE_CODE ?? '11',
    env: { ...env },
  }
}
