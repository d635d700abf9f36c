import { actorOf, type Principal } from '../../platform/auth/principal.ts'
import { auditAppendCall } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'
import { outboxInsert } from '../../platform/events/outbox.ts'
import { badRequest } from '../../platform/http/errors.ts'
import { requestFingerprint, runIdempotent, type IdempotentResult } from '../../platform/http/idempotency.ts'
import { loadWorkingCalendar } from '../calendar/index.ts'
import { checkCoordinates, getAdminUnit, getLocator } from '../geo/index.ts'
import { getOrgUnit } from '../identity/index.ts'
import { cachedLookup } from '../../platform/ttl-cache.ts'
import { getCategory } from './categories.ts'
import { overallDueAt, stateDueAt } from './deadlines.ts'
import { MAX_PHOTOS, photoFileNames, processPhoto, removePhotoFiles, writePhotoFiles, type ProcessedPhoto } from './photos.ts'
import { findNearbyOpen, insertPhoto, insertReport, nextReportNumber, photoStillReferenced } from './repository.ts'
import { routeReport } from './route-report.ts'

export const CHANNELS = ['app', 'web', 'open311', 'sms', 'hotline'] as const
export type Channel = (typeof CHANNELS)[number]

/** What a citizen (or a client acting for one) sends. */
export interface ReportSubmission {
  category: string
  description: string
  channel: Channel
  lat?: number
  lon?: number
  /** Commune picked by hand (GSO code), used when there is no position or it is outside. */
  commune_code?: string
  address_text?: string
  anonymous?: boolean
  /** The reporter allows the handling unit to see who they are. */
  share_identity?: boolean
  contact?: { name?: string; phone?: string; email?: string }
  photos?: { name: string; data: Buffer }[]
  is_demo?: boolean
}

export interface IntakeAnswer {
  code: string
  status: string
  unit: { code: string; name_vi: string; name_en: string }
  commune: { code: string; name: string } | null
  locate_status: string
  near_border: boolean
  due_at: string
  state_due_at: string
  possible_duplicates: { code: string; distance_m: number; status: string; description: string }[]
}

export interface IntakeDeps {
  db: Db
  uploadDir: string
  provinceCode: string
  now: Date
}

const DUPLICATE_RADIUS_M = 250
// Reference data read on every intake: categories and unit names change rarely.
const categoryByCode = cachedLookup(getCategory)
const orgUnitByCode = cachedLookup(getOrgUnit)
const adminUnitByCode = cachedLookup(getAdminUnit)

/** Tracking code: PA-<year>-<6-digit number>, numbered per year (increasing; gaps possible). */
export function trackingCode(year: number, n: number): string {
  return `PA-${year}-${String(n).padStart(6, '0')}`
}

function validateCoordinates(lat: number | undefined, lon: number | undefined): { lat: number; lon: number } | null {
  if (lat === undefined && lon === undefined) return null
  return checkCoordinates(lat, lon)
}

/**
 * Takes in a field report and routes it in the same request: position (given, or from a photo's
 * EXIF) → commune → category rule → the unit's queue, with due times on the working calendar.
 * Photos are checked and stripped of EXIF first; the report, its photos, history, audit entry
 * and `report.created` event commit together, under the idempotency key when one is given.
 */
export async function submitReport(deps: IntakeDeps, s: ReportSubmission, principal: Principal | null, idem: { scope: string; key: string | undefined }): Promise<IdempotentResult<IntakeAnswer>> {
  const { db, now } = deps
  const category = await categoryByCode(db, s.category)
  if (!category) throw badRequest('UNKNOWN_CATEGORY', 'Lĩnh vực phản ánh không tồn tại.', `Unknown category "${s.category}".`)
  const files = s.photos ?? []
  if (files.length > MAX_PHOTOS) throw badRequest('TOO_MANY_PHOTOS', `Tối đa ${MAX_PHOTOS} ảnh.`, `At most ${MAX_PHOTOS} photos.`)
  const photos: ProcessedPhoto[] = []
  for (const f of files) photos.push(await processPhoto(f.data, f.name))

  let position = validateCoordinates(s.lat, s.lon)
  let locationSource: 'gps' | 'exif' | 'manual' = position ? 'gps' : 'manual'
  if (!position) {
    const fromExif = photos.find((p) => p.gps)?.gps
    if (fromExif) {
      position = fromExif
      locationSource = 'exif'
    }
  }
  let picked: { code: string } | null = null
  if (s.commune_code) {
    const unit = await adminUnitByCode(db, s.commune_code)
    if (!unit || unit.level !== 'commune') throw badRequest('UNKNOWN_COMMUNE', 'Xã/phường không tồn tại.', `Unknown commune "${s.commune_code}".`)
    picked = { code: unit.code }
  }
  const located = position ? (await getLocator(db)).locate(position.lat, position.lon) : null
  const route = routeReport({ located, pickedCommune: picked, category, provinceCode: deps.provinceCode })
  const cal = await loadWorkingCalendar(db)
  const stateDue = stateDueAt(cal, category, 'received', now)!
  const due = overallDueAt(cal, category, now)

  const anonymous = s.anonymous ?? false
  const reporterUserId = principal?.kind === 'user' ? principal.userId : null
  const contact = anonymous ? {} : (s.contact ?? {})
  const fingerprint = requestFingerprint({ ...s, photos: photos.map((p) => p.sha256) })

  // Reads that need no lock happen before the transaction, so the locks it takes (the year's
  // number, the audit chain) are held as briefly as possible.
  const unit = await orgUnitByCode(db, route.unitCode)
  const commune = route.communeCode ? await adminUnitByCode(db, route.communeCode) : undefined
  const dups = position ? await findNearbyOpen(db, deps.provinceCode, { ...position, category: category.code, meters: DUPLICATE_RADIUS_M, limit: 5 }) : []

  // Numbered by the year in Vietnam (UTC+7), the year the citizen sees.
  const year = new Date(now.getTime() + 7 * 3600_000).getUTCFullYear()
  const code = trackingCode(year, await nextReportNumber(db, year))

  try {
    await writePhotoFiles(deps.uploadDir, photos)
    const actor = actorOf(principal)
    const result = await runIdempotent<IntakeAnswer>(db, { ...idem, fingerprint }, async (tx) => {
      // One statement writes the report, its first history row, the event and the audit entry.
      const id = await insertReport(tx, {
        code,
        category_code: category.code,
        description: s.description,
        channel: s.channel,
        lat: position?.lat ?? null,
        lon: position?.lon ?? null,
        location_source: locationSource,
        address_text: s.address_text ?? null,
        commune_code: route.communeCode,
        locate_status: route.locateStatus,
        near_border: route.nearBorder,
        distance_to_border_m: route.distanceToBorderM,
        boundary_version: route.boundaryVersion,
        unit_code: route.unitCode,
        status: 'received',
        reporter_user_id: reporterUserId,
        reporter_name: contact.name ?? null,
        reporter_phone: contact.phone ?? null,
        reporter_email: contact.email ?? null,
        anonymous,
        share_identity: !anonymous && (s.share_identity ?? false),
        created_at: now,
        state_due_at: stateDue,
        due_at: due,
        is_demo: s.is_demo,
      }, {
        history: { actor, note: `${route.locateStatus}${route.nearBorder ? ', near border' : ''}` },
        alsoRun: [outboxInsert('report.created', { code, unit_code: route.unitCode, commune_code: route.communeCode, category: category.code, channel: s.channel, near_border: route.nearBorder, received_at: now.toISOString(), due_at: due.toISOString() })],
        alsoSelect: auditAppendCall({ actor, action: 'report.created', entityType: 'report', entityId: code, data: { unit: route.unitCode, category: category.code, channel: s.channel, locate: route.locateStatus } }, now),
      })
      let seq = 0
      for (const p of photos) {
        const names = photoFileNames(p)
        await insertPhoto(tx, { report_id: id, seq: seq++, file_name: names.file, thumb_name: names.thumb, mime: p.mime, width: p.width, height: p.height, bytes: p.image.length, sha256: p.sha256 })
      }
      return {
        statusCode: 201,
        body: {
          code,
          status: 'received',
          unit: { code: route.unitCode, name_vi: unit?.name_vi ?? route.unitCode, name_en: unit?.name_en ?? route.unitCode },
          commune: commune ? { code: commune.code, name: commune.full_name } : null,
          locate_status: route.locateStatus,
          near_border: route.nearBorder,
          due_at: due.toISOString(),
          state_due_at: stateDue.toISOString(),
          possible_duplicates: dups.map((d) => ({ code: d.code, distance_m: Math.round(d.distance_m), status: d.status, description: d.description.slice(0, 200) })),
        },
      }
    })
    return result
  } catch (err) {
    // Nothing was committed: remove the files unless another report uses the same photo.
    const orphans = []
    for (const p of photos) if (!(await photoStillReferenced(db, p.sha256).catch(() => true))) orphans.push(p)
    await removePhotoFiles(deps.uploadDir, orphans)
    throw err
  }
}
