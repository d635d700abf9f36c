import type { FastifyRequest } from 'fastify'
import { badRequest } from '../../platform/http/errors.ts'

/**
 * Reads a multipart report submission into the same shape as the JSON body, so one schema
 * validates both: text fields by name (`contact.name` becomes `contact: { name }`), files in
 * `photos` as `{ name, data }`. Size limits are enforced by the multipart plugin while reading.
 */
export async function readMultipartSubmission(req: FastifyRequest): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {}
  const photos: { name: string; data: Buffer }[] = []
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (!/^photos?\d*$/.test(part.fieldname)) {
        await part.toBuffer()
        throw badRequest('UNEXPECTED_FILE', `Không nhận tệp ở trường "${part.fieldname}".`, `Unexpected file field "${part.fieldname}"; send photos as "photos".`)
      }
      photos.push({ name: part.filename || 'photo', data: await part.toBuffer() })
    } else {
      const value = String(part.value)
      const [head, sub] = part.fieldname.split('.', 2)
      if (sub) {
        const o = (body[head] ??= {}) as Record<string, unknown>
        o[sub] = value
      } else {
        body[part.fieldname] = value
      }
    }
  }
  if (photos.length) body.photos = photos
  return body
}
