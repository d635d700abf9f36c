import pino from 'pino'
import { loadConfig } from './platform/config.ts'
import { UncleanDataDirError } from './platform/db/database.ts'
import { createPlatform } from './platform/runtime.ts'
import { allModules, principalResolver } from './modules/index.ts'
import { serveWeb } from './web/serve.ts'

const config = loadConfig()
const log = pino({ level: config.logLevel, ...(process.stdout.isTTY ? { transport: { target: 'pino/file', options: { destination: 1 } } } : {}) })

async function main(): Promise<void> {
  let platform
  try {
    platform = await createPlatform({ config, modules: allModules, principalResolver, logger: log, after: (app) => serveWeb(app) })
  } catch (err) {
    if (err instanceof UncleanDataDirError) {
      console.error(`\n${err.message}\n`)
      process.exit(3)
    }
    throw err
  }
  const { app, ctx, demo } = platform
  if (demo?.accounts.length) {
    const lines = [
      '',
      '================================================================',
      ' Demo accounts (DEMO DATA - shown once; set SEED_DEMO=false in production)',
      ...demo.accounts.map((a) => `   ${a.role.padEnd(15)} ${a.username.padEnd(50)} ${a.password}`),
      ...demo.notes.map((n) => ` ${n}`),
      '================================================================',
      '',
    ]
    console.log(lines.join('\n'))
  }
  if (config.runJobs) {
    await ctx.jobs.installSchedules()
    ctx.jobs.start()
  }
  await app.listen({ port: config.port, host: config.host })
  log.info(`Hoa Ban is listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port} (database: ${ctx.dbKind}${ctx.dbKind === 'pglite' ? ` in ${config.dataDir}` : ''}); API docs at /docs`)

  // Graceful stop: refuse new requests (503), finish in-flight ones, stop jobs, close the
  // database. An unclosed PGlite data folder may not open again, so this path matters.
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting')
      process.exit(1)
    }, 30_000)
    force.unref()
    try {
      await platform.close()
      log.info('stopped cleanly')
      process.exit(0)
    } catch (err) {
      log.error({ err }, 'error while shutting down')
      process.exit(1)
    }
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

main().catch((err) => {
  log.fatal({ err }, 'failed to start')
  process.exit(1)
})
