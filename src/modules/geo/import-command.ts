/**
 * Imports a boundary file as new boundary versions:
 *   npm run geo:import -- FILE.geojson[.gz] [--valid-from YYYY-MM-DD] [--source "attribution"] [--actor NAME]
 * Uses DATABASE_URL, else the embedded database in DATA_DIR (stop the server first: PGlite allows
 * one process per data folder). Migrates first, refuses the whole file if any feature is invalid.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { userInfo } from 'node:os'
import { gunzipSync } from 'node:zlib'
import { loadConfig } from '../../platform/config.ts'
import { openDatabase } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { AppError } from '../../platform/http/errors.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { importBoundaries } from './import-boundaries.ts'
import { GEO_MIGRATIONS } from './index.ts'
import { vietnamToday } from './repository.ts'

const USAGE = 'usage: npm run geo:import -- FILE.geojson[.gz] [--valid-from YYYY-MM-DD] [--source TEXT] [--actor NAME]'

function parseArgs(argv: string[]): { file: string; validFrom: string; source?: string; actor?: string } {
  let file: string | undefined
  const opts: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--help' || a === '-h') {
      console.log(USAGE)
      process.exit(0)
    }
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2)
      const v = inline ?? argv[++i]
      if (!['valid-from', 'source', 'actor'].includes(k) || v === undefined) throw new Error(`unknown or incomplete option ${a}\n${USAGE}`)
      opts[k] = v
    } else if (!file) file = a
    else throw new Error(`unexpected argument ${a}\n${USAGE}`)
  }
  if (!file) throw new Error(USAGE)
  return { file, validFrom: opts['valid-from'] ?? vietnamToday(), source: opts.source, actor: opts.actor }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const raw = readFileSync(args.file)
  const text = (args.file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')
  let fc: { metadata?: { source?: string; source_commit?: string } }
  try {
    fc = JSON.parse(text)
  } catch (err) {
    console.error(`${args.file} is not valid JSON: ${(err as Error).message}`)
    return 1
  }
  const meta = fc.metadata
  const source = args.source ?? (meta?.source ? `${meta.source}${meta.source_commit ? ` @${meta.source_commit}` : ''}` : basename(args.file))
  const actor = `cli:${args.actor ?? userInfo().username}`
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: loadConfig().dataDir })
  try {
    await migrate(database, [PLATFORM_MIGRATIONS, GEO_MIGRATIONS])
    const t0 = Date.now()
    const summary = await importBoundaries(database.db, fc, { source, validFrom: args.validFrom, actor })
    const s = summary
    console.log(
      [
        `Imported ${args.file} into ${database.kind} in ${Date.now() - t0} ms (valid from ${s.valid_from}; source: ${s.source})`,
        `  ${s.features} features: ${s.versions_created} new boundary versions, ${s.versions_closed} previous versions closed, ${s.unchanged} unchanged`,
        `  units: ${s.units_created} created, ${s.units_updated} updated`,
        ...(s.changed_codes.length ? [`  changed: ${s.changed_codes.join(' ')}${s.versions_created > s.changed_codes.length ? ' …' : ''}`] : []),
      ].join('\n'),
    )
    return 0
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`${err.code}: ${err.messageEn}\n${err.messageVi}`)
      const problems = (err.details as { problems?: { message: string }[] } | undefined)?.problems
      if (problems) for (const p of problems) console.error(`  - ${p.message}`)
      return 1
    }
    throw err
  } finally {
    await database.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  },
)
