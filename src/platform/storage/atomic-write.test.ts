import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, mkdirSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-write.ts'

/** Counts the real fdatasync/fsync calls made through FileHandle while `fn` runs (each still runs). */
async function countSyncs<T>(fn: () => Promise<T>): Promise<{ result: T; datasync: string[]; sync: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-sync-probe-'))
  const probe = await open(join(dir, 'p'), 'w')
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> }
  await probe.close()
  rmSync(dir, { recursive: true, force: true })
  const origDatasync = proto.datasync
  const origSync = proto.sync
  const datasync: string[] = []
  const sync: string[] = []
  // FileHandle has no public path; the fd's /proc link names the file or folder being flushed.
  const pathOf = (h: { fd: number }) => { try { return readlinkSync(`/proc/self/fd/${h.fd}`) } catch { return '?' } }
  proto.datasync = function (this: { fd: number }) { datasync.push(pathOf(this)); return origDatasync.call(this) }
  proto.sync = function (this: { fd: number }) { sync.push(pathOf(this)); return origSync.call(this) }
  try {
    return { result: await fn(), datasync, sync }
  } finally {
    proto.datasync = origDatasync
    proto.sync = origSync
  }
}
test('writeFileAtomic flushes the file before the rename and fsyncs its folder and the parent, leaving no temporary file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hb-atomic-'))
  try {
    const folder = join(root, 'dossiers')
    mkdirSync(folder)
    const path = join(folder, 'a.pdf')
    const { result, datasync, sync } = await countSyncs(() => writeFileAtomic(path, Buffer.from('%PDF-1.4 one')))
    assert.equal(result, 'written')
    assert.equal(readFileSync(path, 'utf8'), '%PDF-1.4 one')
    assert.equal(datasync.length, 1, 'the data is flushed once')
    assert.match(datasync[0], /a\.pdf\.\d+\.[0-9a-f]+\.tmp$/, 'flushed under its temporary name, before the rename')
    assert.deepEqual(sync, [folder, root], 'the folder holding the rename, then its parent')
    assert.deepEqual(readdirSync(folder), ['a.pdf'])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('writeFileAtomic with contentAddressed leaves an existing file of the same size alone (no write, no flush)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hb-atomic-'))
  try {
    const path = join(root, 'x')
    await writeFileAtomic(path, Buffer.from('same'))
    const { result, datasync, sync } = await countSyncs(() => writeFileAtomic(path, Buffer.from('same'), { contentAddressed: true }))
    assert.equal(result, 'existed')
    assert.deepEqual([datasync.length, sync.length], [0, 0])
    assert.equal(readFileSync(path, 'utf8'), 'same')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
