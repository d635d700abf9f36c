// The SIGKILL-under-load scenario on the embedded PGlite database, to record what happens
// (it is not a pass/fail test: PGlite is documented as single-node, try-out storage).
//   npx tsx bench/kill-pglite.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runKillScenario } from '../src/platform/testing/kill-under-load.ts'

export async function runPgliteKill() {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoaban-kill-pglite-'))
  try {
    return await runKillScenario({ env: { DATA_DIR: dataDir, RATE_LIMIT_PER_IP: '100000' }, total: 200, killAfter: 60, tag: 'pglite-kill', concurrency: 8 })
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await runPgliteKill(), null, 2))
