import { randomBytes } from 'node:crypto'
import { open, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Writes `data` to `path` through a temporary name in the same folder and a rename, so the final
 * name never holds half a file (a full disk fails the write, not the rename). On any failure the
 * temporary file is removed and the error is rethrown (the HTTP error handler turns ENOSPC,
 * EROFS, EACCES... into 507/503 with Retry-After). With `contentAddressed`, a file already there
 * with the same size is the same content and is left alone (never rewritten in place, so a file a
 * committed row points to is never truncated by a failed write of the same content).
 *
 * Durable before it returns: the file's data is flushed (fdatasync) before the rename, and the
 * folder (and its parent, in case the folder was just created) is fsynced after it, so a row that
 * commits after this call never points at an empty or missing file after a power cut.
 */
export async function writeFileAtomic(path: string, data: Buffer, opts: { contentAddressed?: boolean } = {}): Promise<'written' | 'existed'> {
  if (opts.contentAddressed && (await stat(path).then((s) => s.isFile() && s.size === data.length, () => false))) return 'existed'
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const handle = await open(tmp, 'wx')
    try {
      await handle.writeFile(data)
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
    await syncFolder(dirname(path))
    await syncFolder(dirname(dirname(path)))
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
  return 'written'
}

/** fsync of a folder: makes a rename (or a new entry) in it durable. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** File-system error codes that mean "the upload storage cannot take this write now". */
export const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT'])
export const STORAGE_UNAVAILABLE_CODES = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EIO'])
