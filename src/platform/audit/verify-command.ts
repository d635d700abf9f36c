// npm run audit:verify — walks the audit log's hash chain and names the first broken row.
// Uses DATABASE_URL, or the embedded database in DATA_DIR (stop the server first: PGlite is one process).
import { loadConfig } from '../config.ts'
import { openDatabase } from '../db/database.ts'
import { verifyAuditChain } from './audit-log.ts'

const config = loadConfig()
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
try {
  const r = await verifyAuditChain(database.db)
  if (r.ok) {
    console.log(`Audit chain OK: ${r.rows} rows verified.`)
  } else {
    console.error(`Audit chain BROKEN at row id ${r.firstBroken!.id}: ${r.firstBroken!.reason}. ${r.rows - 1} rows before it verified.`)
    process.exitCode = 1
  }
} finally {
  await database.close()
}
