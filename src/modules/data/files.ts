import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError } from '../../platform/http/errors.ts'

/** Resource files are stored content-addressed under <uploadDir>/data/<sha256>, never rewritten. */
export function dataFileDir(uploadDir: string): string {
  return join(uploadDir, 'data')
}

export function dataFilePath(uploadDir: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('bad sha256')
  return join(dataFileDir(uploadDir), sha256)
}

/**
 * Streams an upload to disk while hashing it; refuses (413) beyond maxBytes without keeping
 * anything. Memory stays flat whatever the size.
 */
export async function storeUpload(uploadDir: string, stream: Readable, maxBytes: number): Promise<{ sha256: string; size: number; path: string }> {
  const dir = dataFileDir(uploadDir)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.upload-${randomUUID()}`)
  const hash = createHash('sha256')
  let size = 0
  let tooLarge = false
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length
          if (size > maxBytes) {
            tooLarge = true
            throw new Error('too large')
          }
          hash.update(chunk)
          yield chunk
        }
      },
      createWriteStream(tmp),
    )
    if ((stream as { truncated?: boolean }).truncated) tooLarge = true
  } catch (err) {
    await rm(tmp, { force: true })
    if (tooLarge || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLargeError(maxBytes)
    throw err
  }
  if (tooLarge) {
    await rm(tmp, { force: true })
    throw tooLargeError(maxBytes)
  }
  const sha256 = hash.digest('hex')
  const path = dataFilePath(uploadDir, sha256)
  await rename(tmp, path)
  return { sha256, size, path }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

const tooLargeError = (max: number) =>
  new AppError(413, 'PAYLOAD_TOO_LARGE', `Tệp quá lớn (tối đa ${Math.round(max / 1_048_576)} MB).`, `The file is too large (at most ${Math.round(max / 1_048_576)} MB).`)
