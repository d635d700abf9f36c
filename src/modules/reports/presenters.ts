import { canSeeUnit, type Principal } from '../../platform/auth/principal.ts'
import type { HistoryRow, PhotoRow, ReportRow } from './repository.ts'

const VN_OFFSET_MS = 7 * 3600_000
/** An instant shown in Asia/Ho_Chi_Minh, e.g. 2026-03-02T14:30:00+07:00. */
export function toLocalIso(d: Date | null): string | null {
  if (!d) return null
  return new Date(d.getTime() + VN_OFFSET_MS).toISOString().replace(/\.\d{3}Z$/, '+07:00')
}
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)

/** What anyone may see: text, photos, place, status, answer. Never personal data or officers' names. */
export function presentPublic(r: ReportRow, photos: Pick<PhotoRow, 'seq'>[] = []) {
  return {
    code: r.code,
    category: r.category_code,
    description: r.description,
    status: r.status,
    outcome: r.outcome,
    lat: r.lat,
    lon: r.lon,
    commune_code: r.commune_code,
    unit_code: r.unit_code,
    address_text: r.address_text,
    public_answer: r.public_answer,
    reject_reason: r.reject_reason,
    supporters_count: r.supporters_count,
    rating: r.rating,
    created_at: iso(r.created_at)!,
    created_at_local: toLocalIso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    due_at: iso(r.due_at),
    resolved_at: iso(r.resolved_at),
    photos: photos.map((p) => ({ url: `/api/reports/${r.code}/photos/${p.seq}`, thumb_url: `/api/reports/${r.code}/photos/${p.seq}/thumb` })),
    is_demo: r.is_demo,
  }
}

/** The reporter's identity, only when the viewer may see it. */
function reporterFor(r: ReportRow, viewer: Principal | null) {
  const isOwner = viewer?.kind === 'user' && viewer.userId === r.reporter_user_id
  const staffMaySee = !r.anonymous && r.share_identity && canSeeUnit(viewer, r.unit_code)
  if (!isOwner && !staffMaySee) return null
  return { name: r.reporter_name, phone: r.reporter_phone, email: r.reporter_email }
}

/** The handling unit's view: internal fields and history; the reporter only with their consent. */
export function presentInternal(r: ReportRow, photos: PhotoRow[], history: HistoryRow[], viewer: Principal | null) {
  return {
    ...presentPublic(r, photos),
    channel: r.channel,
    location_source: r.location_source,
    locate_status: r.locate_status,
    near_border: r.near_border,
    distance_to_border_m: r.distance_to_border_m,
    boundary_version: r.boundary_version,
    location_confirmed_at: iso(r.location_confirmed_at),
    assignee_user_id: r.assignee_user_id,
    state_entered_at: iso(r.state_entered_at)!,
    state_due_at: iso(r.state_due_at),
    state_due_at_local: toLocalIso(r.state_due_at),
    overdue: !!r.state_due_at && ['received', 'assigned', 'in_progress'].includes(r.status) && r.state_due_at.getTime() < Date.now(),
    escalation_level: r.escalation_level,
    reopen_count: r.reopen_count,
    rating_comment: r.rating_comment,
    anonymous: r.anonymous,
    share_identity: r.share_identity,
    reporter: reporterFor(r, viewer),
    history: history.map((h) => ({ at: iso(h.at)!, at_local: toLocalIso(h.at)!, actor: h.actor, action: h.action, from_status: h.from_status, to_status: h.to_status, from_unit: h.from_unit, to_unit: h.to_unit, note: h.note })),
  }
}

/** The public timeline: status changes and answers, without who did them. */
export function presentPublicTimeline(history: HistoryRow[]) {
  return history
    .filter((h) => h.to_status !== h.from_status || h.action === 'created')
    .map((h) => ({ at: iso(h.at)!, at_local: toLocalIso(h.at)!, action: h.action, to_status: h.to_status, to_unit: h.to_unit }))
}

/** GeoJSON Feature for maps (public fields only). */
export function presentFeature(r: ReportRow) {
  return {
    type: 'Feature' as const,
    id: r.code,
    geometry: r.lat !== null && r.lon !== null ? { type: 'Point' as const, coordinates: [r.lon, r.lat] } : null,
    properties: { code: r.code, category: r.category_code, status: r.status, created_at: iso(r.created_at), commune_code: r.commune_code, supporters_count: r.supporters_count, description: r.description.slice(0, 140) },
  }
}
