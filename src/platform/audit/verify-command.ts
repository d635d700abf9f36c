// npm run audit:verify — walks the audit log's hash chains (one per province) and names the first broken row of each.
// Uses DATABASE_URL, or the embedded database in DATA_DIR (stop the server first: PGlite is one process).
import { loadConfig } from '../config.ts'
import { openDatabase } from '../db/database.ts'
import { verifyAuditChain } from './audit-log.ts'

const config = loadConfig()
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, provinceCode: config.provinceCode })
try {
  const r = await verifyAuditChain(database.db)
  // One chain per province (platform/008_audit_province.sql); each is reported.
  for (const p of r.provinces) {
    if (p.ok) console.log(`Audit chain of province ${p.province} OK: ${p.rows} rows verified.`)
    else console.error(`Audit chain of province ${p.province} BROKEN at row id ${p.firstBroken!.id}: ${p.firstBroken!.reason}. ${p.rows - 1} rows before it verified.`)
  }
  if (r.provinces.length === 0) console.log('Audit log is empty.')
  if (!r.ok) process.exitCode = 1
} finally {
  await database.close()
}
