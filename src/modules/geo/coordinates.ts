import { AppError } from '../../platform/http/errors.ts'

/** Vietnam's rough extent, islands included (Trường Sa reaches 117.8° E, 7.2° N). */
export const VIETNAM_BBOX = { minLon: 102.0, minLat: 7.0, maxLon: 118.0, maxLat: 23.6 } as const

const inVietnam = (lat: number, lon: number) => lat >= VIETNAM_BBOX.minLat && lat <= VIETNAM_BBOX.maxLat && lon >= VIETNAM_BBOX.minLon && lon <= VIETNAM_BBOX.maxLon

export const invalidCoordinates = (detail: string) =>
  new AppError(
    400,
    'INVALID_COORDINATES',
    'Toạ độ không hợp lệ: cần vĩ độ (lat) từ −90 đến 90 và kinh độ (lon) từ −180 đến 180, dạng số thập phân WGS 84.',
    `Invalid coordinates: lat must be a number from -90 to 90 and lon from -180 to 180 (WGS 84 decimal degrees); ${detail}.`,
  )

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v.trim() !== '') return Number(v)
  return Number.NaN
}

/**
 * Checks a point given by a caller (form, app, API client) before locating it. Refuses
 * non-numbers and out-of-range values (INVALID_COORDINATES), and a point outside Vietnam whose
 * swapped lat/lon falls inside it (COORDINATES_SWAPPED, with the corrected pair in details):
 * "lat=103.0, lon=21.4" is a common client bug that would otherwise be filed as "outside".
 * A valid point elsewhere in the world is accepted; locating it then answers 'outside'.
 */
export function checkCoordinates(latIn: unknown, lonIn: unknown): { lat: number; lon: number } {
  const lat = toNumber(latIn)
  const lon = toNumber(lonIn)
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw invalidCoordinates(`got lat=${String(latIn)}, lon=${String(lonIn)}`)
  if (!inVietnam(lat, lon) && inVietnam(lon, lat)) {
    throw new AppError(
      400,
      'COORDINATES_SWAPPED',
      `Vĩ độ và kinh độ có vẻ bị đảo: điểm (lat=${lat}, lon=${lon}) nằm ngoài Việt Nam, còn (lat=${lon}, lon=${lat}) nằm trong. Hãy gửi lat=${lon}&lon=${lat}.`,
      `Latitude and longitude look swapped: (lat=${lat}, lon=${lon}) is outside Vietnam but (lat=${lon}, lon=${lat}) is inside. Send lat=${lon}&lon=${lat}.`,
      { hint: { lat: lon, lon: lat } },
    )
  }
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) throw invalidCoordinates(`got lat=${lat}, lon=${lon}`)
  return { lat, lon }
}
