/**
 * DataStore bench: datastore_search with filters on a large resource, and a full export streamed
 * by keyset paging with flat memory.
 *
 *   npx tsx bench/datastore.ts                       # 100,000 rows (quick)
 *   BENCH_ROWS=1000000 npx tsx bench/datastore.ts    # the full 1M-row run
 *
 * PostgreSQL when BENCH_DATABASE_URL is set (a scratch database, dropped afterwards), otherwise
 * embedded PGlite. The baseline is a `select 1` round trip in the same run; searches are
 * reported as p50/p95 in ms and as a ratio to that baseline.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { sql } from 'kysely'
import { openDatabase, type Database } from '../src/platform/db/database.ts'
import { createScratchDatabase } from '../src/platform/testing/scratch-database.ts'
import { csvLine, exportRows, loadIntoNewTable, searchDatastore } from '../src/modules/data/datastore.ts'

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000)
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300)
const mb = (n: number) => Math.round(n / 1_048_576)

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

async function main() {
  const url = process.env.BENCH_DATABASE_URL
  const scratch = url ? await createScratchDatabase(url, `hb_bench_ds_${process.pid}`) : undefined
  const database: Database = await openDatabase(scratch ? { databaseUrl: scratch.url, dataDir: '' } : { dataDir: 'memory://' })
  const dir = mkdtempSync(join(tmpdir(), 'hb-ds-bench-'))
  try {
    const db = database.db
    await sql`create schema if not exists datastore`.execute(db)
    // A realistic table: commune code, village, household head, people, income, date surveyed (dd/mm/yyyy), poor household flag.
    const path = join(dir, 'ho-gia-dinh.csv')
    const out = createWriteStream(path)
    const communes = Array.from({ length: 45 }, (_, i) => `03${String(100 + i * 3)}`)
    let seed = 42
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    out.write(csvLine(['Mã xã', 'Bản', 'Chủ hộ', 'Số nhân khẩu', 'Thu nhập (triệu đồng)', 'Ngày khảo sát', 'Hộ nghèo']))
    for (let i = 1; i <= ROWS; i++) {
      const line = csvLine([communes[i % 45], `Bản Na Sang ${i % 300}`, `Lò Văn Hộ ${i}`, 1 + Math.floor(rnd() * 9), (rnd() * 200).toFixed(2),
        `${String(1 + (i % 28)).padStart(2, '0')}/${String(1 + (i % 12)).padStart(2, '0')}/2024`, rnd() < 0.2 ? 'có' : 'không'])
      if (!out.write(line)) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')

    const t0 = performance.now()
    const rssBeforeLoad = process.memoryUsage().rss
    const { fields, report } = await loadIntoNewTable(db, { path, format: 'CSV', table: 'r_00000000000000000000000000000001_1' })
    const loadS = (performance.now() - t0) / 1000
    console.log(`db=${database.kind} rows=${ROWS} load ${loadS.toFixed(1)} s (${Math.round(ROWS / loadS)} rows/s), inferred ${fields.map((f) => `${f.id}:${f.type}`).join(', ')}; rejected ${report.rows_rejected}; RSS ${mb(rssBeforeLoad)} → ${mb(process.memoryUsage().rss)} MB`)

    const base: number[] = []
    for (let i = 0; i < QUERIES; i++) {
      const s = performance.now()
      await sql`select 1`.execute(db)
      base.push(performance.now() - s)
    }
    const table = 'r_00000000000000000000000000000001_1'
    const kinds: [string, () => Record<string, unknown>, string | undefined][] = [
      ['filter commune (≈1/45 rows), sorted by income, limit 100, total', () => ({ 'Mã xã': communes[Math.floor(rnd() * 45)] }), 'Thu nhập (triệu đồng) desc'],
      ['filter commune (≈1/45 rows), _id order, limit 100, total', () => ({ 'Mã xã': communes[Math.floor(rnd() * 45)] }), undefined],
      ['filter commune + poor + village, total', () => ({ 'Mã xã': communes[Math.floor(rnd() * 45)], 'Hộ nghèo': true, 'Bản': `Bản Na Sang ${Math.floor(rnd() * 300)}` }), 'Thu nhập (triệu đồng) desc'],
      ['filter household head (1 row)', () => ({ 'Chủ hộ': `Lò Văn Hộ ${1 + Math.floor(rnd() * ROWS)}` }), 'Thu nhập (triệu đồng) desc'],
    ]
    for (const [name, f, sort] of kinds) {
      const times: number[] = []
      for (let i = 0; i < QUERIES; i++) {
        const s = performance.now()
        await searchDatastore(db, table, fields, report.rows_loaded, { filters: f(), limit: 100, offset: 0, includeTotal: true, sort })
        times.push(performance.now() - s)
      }
      console.log(`datastore_search ${name}: p50 ${pct(times, 50).toFixed(2)} ms, p95 ${pct(times, 95).toFixed(2)} ms (baseline select 1 p50 ${pct(base, 50).toFixed(3)} ms; p95/baseline-p50 ${(pct(times, 95) / pct(base, 50)).toFixed(0)}×)`)
    }

    global.gc?.()
    const rssBefore = process.memoryUsage().rss
    let peak = rssBefore
    let rows = 0
    let bytes = 0
    const t1 = performance.now()
    for await (const batch of exportRows(db, table, fields)) {
      for (const r of batch) bytes += Buffer.byteLength(csvLine(r))
      rows += batch.length
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    const exportS = (performance.now() - t1) / 1000
    console.log(`export ${rows} rows, ${mb(bytes)} MB CSV in ${exportS.toFixed(1)} s (${Math.round(rows / exportS)} rows/s); RSS before ${mb(rssBefore)} MB, peak ${mb(peak)} MB, after ${mb(process.memoryUsage().rss)} MB`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await database.close()
    await scratch?.drop()
  }
}

await main()
