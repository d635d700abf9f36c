import type { FastifyRequest } from 'fastify'
import { badRequest } from '../../platform/http/errors.ts'
import { MAX_FILE_BYTES } from './files.ts'

const ARRAY_FIELDS = new Set(['recipients'])

/**
 * Reads a multipart document registration into the JSON body's shape: text fields by name
 * (`recipients` may repeat; `links` is a JSON array), the one file part `file` as
 * `{ name, mime, data }`. The 20 MB file limit is enforced while reading (413 beyond it).
 */
export async function readMultipartDocument(req: FastifyRequest): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {}
  let file: { name: string; mime: string; data: Buffer } | undefined
  for await (const part of req.parts({ limits: { fileSize: MAX_FILE_BYTES, files: 1, fields: 40, parts: 60, fieldSize: 64 * 1024 } })) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        await part.toBuffer()
        throw badRequest('UNEXPECTED_FILE', `Không nhận tệp ở trường "${part.fieldname}".`, `Unexpected file field "${part.fieldname}"; send the document as "file".`)
      }
      file = { name: part.filename || 'document', mime: part.mimetype || 'application/octet-stream', data: await part.toBuffer() }
    } else {
      const value = String(part.value)
      if (ARRAY_FIELDS.has(part.fieldname)) ((body[part.fieldname] ??= []) as string[]).push(value)
      else if (part.fieldname === 'links') {
        try {
          body.links = JSON.parse(value)
        } catch {
          throw badRequest('INVALID_LINKS', 'Trường links phải là mảng JSON.', 'The links field must be a JSON array.')
        }
      } else body[part.fieldname] = value
    }
  }
  if (file) body.file = file
  return body
}
