import { createHash } from 'node:crypto'
import { mkdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Db } from '../../../platform/db/database.ts'
import { writeFileAtomic } from '../../../platform/storage/atomic-write.ts'
import { AppError, badRequest } from '../../../platform/http/errors.ts'
import type { ProcedureComponent } from './catalogue-port.ts'

export interface UploadedFile {
  /** The multipart field name: the component key. */
  field: string
  name: string
  data: Buffer
  reused_from?: string
}

export interface CheckedFile {
  component_key: string
  original_name: string
  stored_name: string
  mime: string
  bytes: number
  sha256: string
  data: Buffer
  /** Taken from the citizen's store instead of uploaded: 'u<id>' or 'f<id>'. */
  reused_from?: string
}

/** Known formats: the extensions that name them, their MIME type and their leading bytes. */
const FORMATS: Record<string, { ext: string[]; mime: string; magic: (b: Buffer) => boolean }> = {
  pdf: { ext: ['pdf'], mime: 'application/pdf', magic: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  jpg: { ext: ['jpg', 'jpeg'], mime: 'image/jpeg', magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  png: { ext: ['png'], mime: 'image/png', magic: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  docx: { ext: ['docx'], mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', magic: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 },
  xlsx: { ext: ['xlsx'], mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', magic: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04 },
  doc: { ext: ['doc'], mime: 'application/msword', magic: (b) => b.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0])) },
}
FORMATS.jpeg = FORMATS.jpg

/** The known format of a file by its extension and leading bytes, among `allowed` (default: all). */
export function detectFormat(name: string, data: Buffer, allowed: readonly string[] = Object.keys(FORMATS)): { format: string; ext: string; mime: string } | undefined {
  const ext = (name.split('.').pop() ?? '').toLowerCase()
  const format = allowed.map((x) => x.toLowerCase()).find((x) => FORMATS[x]?.ext.includes(ext) && FORMATS[x].magic(data))
  return format ? { format, ext: FORMATS[format].ext[0], mime: FORMATS[format].mime } : undefined
}

/** Maximum number of files in one submission. */
export const MAX_FILES = 20

/**
 * Checks every file against the procedure's components: known component, allowed format (by
 * extension and content), size limit; and that each required component has a file (unless
 * `requireAll` is off, for a supplement).
 */
export function checkFiles(components: readonly ProcedureComponent[], files: readonly UploadedFile[], requireAll: boolean): CheckedFile[] {
  if (files.length > MAX_FILES) throw badRequest('TOO_MANY_FILES', `Tối đa ${MAX_FILES} tệp.`, `At most ${MAX_FILES} files.`)
  const out: CheckedFile[] = []
  for (const f of files) {
    const c = components.find((x) => x.key === f.field)
    if (!c) throw badRequest('UNKNOWN_COMPONENT', `Thủ tục không có thành phần hồ sơ "${f.field}".`, `The procedure has no component "${f.field}".`, { field: f.field })
    if (f.data.length === 0) throw badRequest('EMPTY_FILE', `Tệp "${f.name}" rỗng.`, `File "${f.name}" is empty.`, { field: f.field })
    if (f.data.length > c.max_bytes) {
      throw new AppError(413, 'FILE_TOO_LARGE', `Tệp "${f.name}" vượt quá ${c.max_bytes} byte cho phép.`, `File "${f.name}" exceeds ${c.max_bytes} bytes.`, { field: f.field, max_bytes: c.max_bytes })
    }
    const ext = (f.name.split('.').pop() ?? '').toLowerCase()
    const format = c.formats.map((x) => x.toLowerCase()).find((x) => FORMATS[x]?.ext.includes(ext) && FORMATS[x].magic(f.data))
    if (!format) {
      throw new AppError(415, 'FILE_TYPE_NOT_ALLOWED', `Tệp "${f.name}" không đúng định dạng cho phép (${c.formats.join(', ')}).`, `File "${f.name}" is not an allowed type (${c.formats.join(', ')}).`, { field: f.field, formats: c.formats })
    }
    const sha256 = createHash('sha256').update(f.data).digest('hex')
    out.push({ component_key: c.key, original_name: f.name.slice(0, 255), stored_name: `dossiers/${sha256}.${FORMATS[format].ext[0]}`, mime: FORMATS[format].mime, bytes: f.data.length, sha256, data: f.data, ...(f.reused_from ? { reused_from: f.reused_from } : {}) })
  }
  if (requireAll) {
    const missing = components.filter((c) => c.required && !out.some((f) => f.component_key === c.key)).map((c) => c.key)
    if (missing.length) throw badRequest('MISSING_COMPONENTS', `Thiếu thành phần hồ sơ bắt buộc: ${missing.join(', ')}.`, `Missing required components: ${missing.join(', ')}.`, { missing })
  }
  return out
}

/**
 * Writes files content-addressed (a file already there is the same content and is not rewritten),
 * each through a temporary name and a rename: a full or read-only disk fails the request with no
 * half file under a final name and no temporary file left. Call inside the caller's try, whose
 * catch runs `removeUnreferenced` (files written before the failing one are removed there).
 */
export async function storeFiles(uploadDir: string, files: readonly CheckedFile[]): Promise<void> {
  if (!files.length) return
  await mkdir(join(uploadDir, 'dossiers'), { recursive: true })
  for (const f of files) await writeFileAtomic(join(uploadDir, f.stored_name), f.data, { contentAddressed: true })
}

/**
 * Removes files of a failed write unless a committed dossier refers to the same content. Across
 * every province on purpose (not routed to one shard on Citus): files are content-addressed, and
 * nodes of several provinces may share one store.
 */
export async function removeUnreferenced(db: Db, uploadDir: string, files: readonly { stored_name: string }[]): Promise<void> {
  for (const f of files) {
    const { rows } = await sql`select 1 from dossier_files where stored_name = ${f.stored_name}
      union all select 1 from citizen_store_items where stored_name = ${f.stored_name}
      union all select 1 from dossier_results where stored_name = ${f.stored_name} limit 1`.execute(db).catch(() => ({ rows: [1] }))
    if (rows.length === 0) await unlink(join(uploadDir, f.stored_name)).catch(() => {})
  }
}
