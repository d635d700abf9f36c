// npm run exchange:verify-log [-- --public-key key.pub.pem] [--file export.ndjson]
// Verifies the gateway's signed message log offline with the PUBLIC key only: every Ed25519
// signature (one per database insert: a record with an empty signature is proven by the next signed record
// of its chain; a chain ending unsigned fails), the hash chain of each node, and no gaps; names
// the first bad record.
// Without --file it reads exchange_message_log from DATABASE_URL or the embedded database in
// DATA_DIR (stop the server first: PGlite is one process). With --file it reads rows exported
// as NDJSON ({node, seq, record, prev_hash, hash, signature} per line), e.g. from a backup.
// The public key defaults to DATA_DIR/exchange/signing-key.pub.pem (EXCHANGE_DIR if set).
import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../platform/config.ts'
import { openDatabase } from '../../platform/db/database.ts'
import { exchangeConfig } from './config.ts'
import { LogVerifier, readLogRows, type LogRow } from './message-log.ts'

const { values } = parseArgs({ options: { 'public-key': { type: 'string' }, file: { type: 'string' } } })
const config = loadConfig()
const keyFile = values['public-key'] ?? `${exchangeConfig(config).dir}/signing-key.pub.pem`
const publicKey = createPublicKey(readFileSync(keyFile, 'utf8'))

const verifier = new LogVerifier(publicKey)
if (values.file) {
  const rows = readFileSync(values.file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LogRow)
  rows.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : Number(a.seq) - Number(b.seq)))
  for (const row of rows) if (!verifier.push(row)) break
} else {
  // Streams the table in pages: memory stays flat however long the log is.
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    for await (const row of readLogRows(database.db)) if (!verifier.push(row)) break
  } finally {
    await database.close()
  }
}
const r = verifier.result()
if (r.ok) {
  console.log(`Message log OK: ${r.records} records in ${r.nodes} chain(s) verified with ${keyFile}.`)
} else {
  console.log(`Message log BROKEN at node ${r.firstBad!.node} seq ${r.firstBad!.seq}: ${r.firstBad!.reason}. ${r.records - 1} records before it verified.`)
  process.exitCode = 1
}
