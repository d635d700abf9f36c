import { createHash } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../../platform/storage/atomic-write.ts'

export const MAX_FILE_BYTES = 20 * 1_048_576
const MAX_EXTRACTED_CHARS = 1_000_000

export interface StoredFile {
  name: string
  mime: string
  size: number
  sha256: string
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Where a file with this hash lives: `<uploadDir>/documents/<first 2 hex>/<sha256>`. */
export function documentFilePath(uploadDir: string, sha256: string): string {
  return join(uploadDir, 'documents', sha256.slice(0, 2), sha256)
}

/**
 * Stores the bytes untouched, content-addressed (the same file twice is stored once). Written to
 * a temporary name, flushed to disk and renamed (writeFileAtomic), so a reader never sees half a
 * file and a committed row never points at a file lost in a power cut; call before the transaction
 * that records it (a rolled-back registration leaves an unreferenced file, which is harmless).
 */
export async function storeDocumentFile(uploadDir: string, file: { name: string; mime: string; data: Buffer }): Promise<StoredFile> {
  const sha256 = sha256Hex(file.data)
  const path = documentFilePath(uploadDir, sha256)
  const exists = await stat(path).then((s) => s.size === file.data.length, () => false)
  if (!exists) {
    await mkdir(join(uploadDir, 'documents', sha256.slice(0, 2)), { recursive: true })
    await writeFileAtomic(path, file.data, { contentAddressed: true })
  }
  return { name: file.name.slice(0, 255) || 'document', mime: file.mime.slice(0, 100) || 'application/octet-stream', size: file.data.length, sha256 }
}

export async function readDocumentFile(uploadDir: string, sha256: string): Promise<Buffer | undefined> {
  try {
    return await readFile(documentFilePath(uploadDir, sha256))
  } catch {
    return undefined
  }
}

export function isPdf(data: Buffer): boolean {
  return data.length >= 5 && data.subarray(0, 5).toString('latin1') === '%PDF-'
}

/**
 * Text of a PDF for search (unpdf/pdf.js), on a copy of the bytes (pdf.js may take ownership of
 * the buffer it is given). Anything that goes wrong — not a PDF, damaged, encrypted, too slow —
 * gives empty text: a document is registered whether or not its text can be read.
 */
export async function extractPdfText(data: Buffer, timeoutMs = 15_000): Promise<string> {
  if (!isPdf(data)) return ''
  let timer: NodeJS.Timeout | undefined
  try {
    const { extractText, getDocumentProxy } = await import('unpdf')
    const work = (async () => {
      const pdf = await getDocumentProxy(new Uint8Array(data))
      try {
        const { text } = await extractText(pdf, { mergePages: true })
        return text
      } finally {
        await pdf.destroy().catch(() => undefined)
      }
    })()
    work.catch(() => undefined)
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(''), timeoutMs)
    })
    const text = await Promise.race([work, timeout])
    return String(text ?? '').slice(0, MAX_EXTRACTED_CHARS)
  } catch {
    return ''
  } finally {
    if (timer) clearTimeout(timer)
  }
}
