import { badRequest } from '../../platform/http/errors.ts'

/** Keyset paging cursor: the (created_at, id) of the last row, opaque to clients. */
export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(`${new Date(row.created_at).toISOString()}|${row.id}`).toString('base64url')
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  const createdAt = new Date(at ?? '')
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) {
    throw badRequest('INVALID_CURSOR', 'Con trỏ phân trang không hợp lệ.', 'Invalid paging cursor.')
  }
  return { createdAt, id }
}

/** Parses `minLon,minLat,maxLon,maxLat`. */
export function parseBbox(bbox: string | undefined): [number, number, number, number] | undefined {
  if (!bbox) return undefined
  const v = bbox.split(',').map(Number)
  if (v.length !== 4 || v.some((x) => !Number.isFinite(x)) || v[0] > v[2] || v[1] > v[3] || Math.abs(v[1]) > 90 || Math.abs(v[3]) > 90 || Math.abs(v[0]) > 180 || Math.abs(v[2]) > 180) {
    throw badRequest('INVALID_BBOX', 'bbox phải là minLon,minLat,maxLon,maxLat.', 'bbox must be minLon,minLat,maxLon,maxLat.')
  }
  return v as [number, number, number, number]
}

/** Parses an ISO date or instant filter. */
export function parseInstant(v: string | undefined, field: string): Date | undefined {
  if (!v) return undefined
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) throw badRequest('INVALID_DATE', `Ngày giờ "${field}" không hợp lệ.`, `Invalid date in "${field}".`)
  return d
}
