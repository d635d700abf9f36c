// The upload folder full (ENOSPC) and then read-only (EROFS), on a real server process: the
// upload folder is a 2 MB tmpfs this test mounts (as root, chmod does not stop writes; a tmpfs that
// is filled gives a real ENOSPC, `mount -o remount,ro` a real EROFS). Dossier submission, report
// with a photo, outgoing document with its file and citizen-store upload each get 507 STORAGE_FULL
// / 503 STORAGE_UNAVAILABLE with Retry-After and vi+en messages, never a 500; nothing is
// half-written (no row without its file, no temporary file, no new file at all); once the disk
// is writable again the same requests, retried with their Idempotency-Keys, succeed once, with
// their files; the audit chain verifies.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { sql } from 'kysely'
import sharp from 'sharp'
import { createTestUser } from '../../src/modules/identity/test-factories.ts'
import { verifyAuditChain } from '../../src/platform/audit/audit-log.ts'
import { openDatabase } from '../../src/platform/db/database.ts'
import { createScratchDatabase } from '../../src/platform/testing/scratch-database.ts'
import { startServerProcess, type ServerProcess } from '../../src/platform/testing/server-process.ts'

const PG_URL = process.env.TEST_DATABASE_URL
const DBP = { lat: 21.3856, lon: 103.0167 }
const PROCEDURE = '1.001193'

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`)
}

/** Every file under `dir`, relative, with its size. */
function listFiles(dir: string, out = new Map<string, number>(), root = dir): Map<string, number> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const s = statSync(p)
    if (s.isDirectory()) listFiles(p, out, root)
    else out.set(relative(root, p), s.size)
  }
  return out
}

/** Fills the file system under `dir` with one file until the write fails with ENOSPC. */
function fill(path: string): number {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  let n = 0
  try {
    for (;;) n += writeSync(fd, chunk)
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'ENOSPC')
  } finally {
    closeSync(fd)
  }
  return n
}

test('disk-full: a full, then read-only upload folder gives 507/503 with Retry-After, never 500, nothing half-written; retries succeed once after', { timeout: 180_000 }, async () => {
  assert.ok(PG_URL, 'TEST_DATABASE_URL is required (npm run test:resilience sets it)')
  assert.equal(process.getuid?.(), 0, 'this scenario mounts a small tmpfs as the upload folder and needs root (run it in CI as root)')
  const scratch = await createScratchDatabase(PG_URL, `hb_res_disk_${process.pid}`)
  const root = mkdtempSync(join(tmpdir(), 'hoaban-res-disk-'))
  const uploads = join(root, 'uploads')
  mkdirSync(uploads)
  run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', uploads])
  let server: ServerProcess | undefined
  let database: Awaited<ReturnType<typeof openDatabase>> | undefined
  try {
    server = await startServerProcess({ DATABASE_URL: scratch.url, DATA_DIR: join(root, 'data'), UPLOAD_DIR: uploads, RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_CLIENT: '100000000', LOG_LEVEL: 'warn', RUN_JOBS: 'false' })
    assert.equal(server.child.exitCode, null, server.output())
    database = await openDatabase({ databaseUrl: scratch.url, dataDir: join(root, 'data'), poolSize: 2 })
    const db = database.db
    const commune = (await sql<{ code: string }>`select code from org_units where kind = 'commune' order by code limit 1`.execute(db)).rows[0].code
    const citizen = await createTestUser(db, 'citizen')
    const clerk = await createTestUser(db, 'officer', commune)
    const url = server.url

    // Each request with distinct content (so a content-addressed file is never already there).
    const pdf = (tag: string) => Buffer.from(`%PDF-1.4\n% ${tag}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n`)
    const jpeg = (seed: number) => sharp({ create: { width: 64, height: 48, channels: 3, background: { r: seed % 256, g: (seed * 7) % 256, b: 90 } } }).jpeg().toBuffer()
    interface Attempt { name: string; key: string; send: (key: string) => Promise<Response> }
    const attempts = async (tag: string): Promise<Attempt[]> => {
      const photo = await jpeg(tag.length * 31 + tag.charCodeAt(0))
      return [
        { name: 'dossier submit', key: randomUUID(), send: (key) => {
          const f = new FormData()
          f.set('procedure_code', PROCEDURE); f.set('commune_code', commune); f.set('applicant_name', `Lò Thị Đĩa ${tag}`); f.set('applicant_phone', '0912345678')
          f.set('to_khai', new Blob([pdf(`to-khai ${tag}`)]), 'to-khai.pdf'); f.set('giay_chung_sinh', new Blob([pdf(`gcs ${tag}`)]), 'gcs.pdf')
          return fetch(`${url}/api/dossiers`, { method: 'POST', headers: { ...citizen.headers, 'idempotency-key': key }, body: f })
        } },
        { name: 'report with photo', key: randomUUID(), send: (key) => {
          const f = new FormData()
          f.set('category', 'traffic'); f.set('description', `disk-full report ${tag}`); f.set('lat', String(DBP.lat)); f.set('lon', String(DBP.lon))
          f.set('photos', new Blob([photo], { type: 'image/jpeg' }), 'anh.jpg')
          return fetch(`${url}/api/reports`, { method: 'POST', headers: { 'idempotency-key': key }, body: f })
        } },
        { name: 'document with file', key: randomUUID(), send: (key) => {
          const f = new FormData()
          f.set('doc_type', 'CV'); f.set('summary', `disk-full document ${tag}`)
          f.set('file', new Blob([pdf(`document ${tag}`)], { type: 'application/pdf' }), 'cong-van.pdf')
          return fetch(`${url}/api/documents/outgoing`, { method: 'POST', headers: { ...clerk.headers, 'idempotency-key': key }, body: f })
        } },
        { name: 'citizen store upload', key: randomUUID(), send: (key) => {
          const f = new FormData()
          f.set('title', `disk-full ${tag}`)
          f.set('file', new Blob([pdf(`store ${tag}`)], { type: 'application/pdf' }), 'giay-to.pdf')
          return fetch(`${url}/api/me/store`, { method: 'POST', headers: { ...citizen.headers, 'idempotency-key': key }, body: f })
        } },
      ]
    }
    const counts = async () => (await sql<{ d: number; r: number; p: number; doc: number; s: number; a: number }>`select
      (select count(*)::int from dossiers) as d, (select count(*)::int from reports) as r, (select count(*)::int from report_photos) as p,
      (select count(*)::int from documents) as doc, (select count(*)::int from citizen_store_items) as s, (select count(*)::int from audit_log) as a`.execute(db)).rows[0]

    // Writable: everything goes through (the scenario itself works).
    for (const a of await attempts('ok')) {
      const res = await a.send(a.key)
      assert.equal(res.status, 201, `${a.name}: ${await res.text()}`)
    }
    const before = await counts()
    const filesBefore = listFiles(uploads)

    const refused = async (phase: string, tag: string, status: number, code: string) => {
      const list = await attempts(tag)
      for (const a of list) {
        const res = await a.send(a.key)
        const body = (await res.json()) as { error?: { code: string; message_vi: string; message_en: string } }
        assert.equal(res.status, status, `${phase} ${a.name}: ${res.status} ${JSON.stringify(body)}`)
        assert.equal(body.error?.code, code, `${phase} ${a.name}`)
        assert.ok(body.error?.message_vi && body.error.message_en, `${phase} ${a.name}: vi and en messages`)
        assert.ok(Number(res.headers.get('retry-after')) > 0, `${phase} ${a.name}: Retry-After`)
      }
      assert.deepEqual(await counts(), before, `${phase}: no row written (and no audit entry)`)
      return list
    }

    // 1. Full: a filler takes every free byte.
    const filled = fill(join(uploads, 'filler'))
    const full = await refused('ENOSPC', 'full', 507, 'STORAGE_FULL')
    const afterFull = listFiles(uploads)
    afterFull.delete('filler')
    assert.deepEqual(afterFull, filesBefore, 'ENOSPC: no new file, no temporary file, no truncated file left in the upload folder')

    // 2. Read-only: the filler removed, the file system remounted read-only.
    rmSync(join(uploads, 'filler'))
    run('mount', ['-o', 'remount,ro', uploads])
    const ro = await refused('EROFS', 'ro', 503, 'STORAGE_UNAVAILABLE')
    assert.deepEqual(listFiles(uploads), filesBefore, 'EROFS: upload folder unchanged')

    // 3. Writable again: the same requests retried with their keys succeed, each once, with files.
    run('mount', ['-o', 'remount,rw', uploads])
    for (const a of [...full, ...ro]) {
      const res = await a.send(a.key)
      assert.equal(res.status, 201, `retry ${a.name}: ${await res.text()}`)
      const again = await a.send(a.key)
      assert.equal(again.status, 201, `second retry ${a.name}`)
    }
    const after = await counts()
    assert.deepEqual({ d: after.d - before.d, r: after.r - before.r, p: after.p - before.p, doc: after.doc - before.doc, s: after.s - before.s }, { d: 2, r: 2, p: 2, doc: 2, s: 2 }, 'each retried request stored once')
    // Every stored file a row points to is there with its size; no temporary file anywhere.
    const files = listFiles(uploads)
    assert.deepEqual([...files.keys()].filter((f) => /\.tmp$/.test(f)), [], 'no temporary files')
    const referenced = (await sql<{ stored_name: string; bytes: number }>`
      select stored_name, bytes::int as bytes from dossier_files union all select stored_name, bytes::int from citizen_store_items`.execute(db)).rows
    for (const f of referenced) assert.equal(files.get(f.stored_name), f.bytes, `${f.stored_name} is there, whole`)
    const docs = (await sql<{ sha256: string; size: number }>`select file_sha256 as sha256, file_size::int as size from documents where file_sha256 is not null`.execute(db)).rows
    for (const d of docs) assert.equal(files.get(join('documents', d.sha256.slice(0, 2), d.sha256)), d.size, `document file ${d.sha256} is there, whole`)

    const v = await verifyAuditChain(db)
    assert.ok(v.ok, `audit chain broken: ${JSON.stringify(v.firstBroken)}`)
    assert.equal(server.child.exitCode, null, 'the server is still running')
    console.log(`# disk-full: tmpfs 2 MB filled with ${filled} bytes; ${full.length} uploads refused 507 STORAGE_FULL, ${ro.length} refused 503 STORAGE_UNAVAILABLE on remount,ro; rows unchanged; ${full.length + ro.length} retries after remount,rw stored once each; audit rows ${v.rows}`)
  } finally {
    await database?.close()
    if (server) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    spawnSync('umount', [uploads])
    await scratch.drop()
    if (!existsSync(join(uploads, 'filler'))) rmSync(root, { recursive: true, force: true })
  }
})
