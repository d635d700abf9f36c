/**
 * Every number the IOC wall shows, loaded in this one file from the APIs that exist today:
 * the public report feed (/api/reports, no personal data) and, for a signed-in province admin or
 * unit staff, the dossier lists (/api/dossiers). When the IOC module's /api/ioc/indicators/* lands,
 * only this file changes: the wall draws a `WallData`. The IOC indicators (/api/ioc/indicators/reports
 * and /766), the rules engine's unit flags and the villages' white zones are used where they give
 * the figure; the feed and dossier lists stay as the fallback. Security compliance by unit and the
 * suspended systems come from the compliance module (/api/compliance/units, /suspensions).
 */
import { api, ApiError } from './api.ts'

export interface UnitRow {
  unit: string
  total: number
  open: number
  overdue: number
  /** Closed ones (resolved or returned) and how many of them by the due time. */
  done: number
  onTime: number
}
export interface Escalation {
  kind: 'report' | 'dossier'
  code: string
  unit: string
  title: string
  dueAt: string
}
export interface WallData {
  generatedAt: string
  windowDays: number
  /** Open and overdue reports per commune code. */
  communes: Record<string, { open: number; overdue: number }>
  reports: { total: number; open: number; overdue: number; done: number; onTime: number; byUnit: UnitRow[] }
  /** null when the viewer may not list dossiers (not signed in as staff). */
  dossiers: { total: number; open: number; overdue: number; done: number; onTime: number; online: number; byUnit: UnitRow[] } | null
  /** Weekly series, oldest first: week starts (Unix seconds) and counts. */
  trend: { weeks: number[]; reportsIn: number[]; reportsResolved: number[]; dossiersIn: number[] | null }
  escalations: Escalation[]
  truncated: boolean
  /** Where the report figures come from: the IOC roll-ups, or counted here from the public feed. */
  reportSource: 'ioc' | 'feed'
  /** Decision 766 service score (0–100) for the province, from the IOC roll-ups; null when not computed yet. */
  score766: number | null
  /** Units marked by the IOC rules engine; null when the viewer may not see them. */
  flags: UnitFlag[] | null
  /** Surveyed villages that are white zones (no broadband, no mobile data or no power); null when unknown. */
  whiteZones: { villages: number; surveyed: number } | null
  /**
   * Security compliance (Decree 85, 4-layer model, central anti-malware) by unit, and the units and
   * systems suspended from the exchange gateway or warned; null when the viewer may not see them.
   */
  compliance: { units: ComplianceUnit[]; suspended: ComplianceFinding[]; warned: ComplianceFinding[] } | null
}
/** A unit's security duties as the compliance module reports them (/api/compliance/units). */
export interface ComplianceUnit {
  unit: string
  /** Computers with a healthy central anti-malware agent ÷ registered computers (0–1). */
  coverage: number
  healthy: number
  registered: number
  /** Systems of the unit, and how many have an approved Decree 85 security level. */
  systems: number
  approved: number
  warnings: number
  suspensions: number
  compliant: boolean
}
/** An open compliance finding: a unit or system warned (with its deadline) or cut off at the gateway. */
export interface ComplianceFinding {
  kind: 'unit' | 'system'
  /** The unit code, or the system as the gateway names it ({member}/{system}). */
  subject: string
  unit: string
  rule: string
  reasonVi: string
  reasonEn: string
  fixVi: string
  fixEn: string
  deadline: string
  suspendedAt: string | null
}
export interface UnitFlag {
  unit: string
  level: string
  reasonVi: string
  reasonEn: string
  since: string
}

interface FeedReport {
  code: string
  category: string
  description: string
  status: string
  commune_code: string | null
  unit_code: string
  created_at: string
  due_at: string | null
  resolved_at: string | null
}
interface DossierRow {
  code: string
  status: number
  unit_code: string
  channel: string
  submitted_at: string | null
  due_at: string | null
  resolved_at: string | null
  overdue: boolean
  timeliness: string | null
  procedure: { name_vi: string }
}

const OPEN_REPORT = new Set(['received', 'assigned', 'in_progress'])
const WEEK = 7 * 86_400_000
/** Bounds on what the wall reads: a wall must never hammer the server. */
const MAX_REPORTS = 4000
const MAX_DOSSIERS = 4000

async function allReports(fromIso: string): Promise<{ items: FeedReport[]; truncated: boolean }> {
  const items: FeedReport[] = []
  let cursor: string | null = null
  do {
    const q = new URLSearchParams({ limit: '200', from: fromIso })
    if (cursor) q.set('cursor', cursor)
    const r: { items: FeedReport[]; next_cursor: string | null } = await api(`/api/reports?${q}`, { timeoutMs: 60_000 })
    items.push(...r.items)
    cursor = r.next_cursor
  } while (cursor && items.length < MAX_REPORTS)
  return { items, truncated: !!cursor }
}

async function allDossiers(): Promise<{ items: DossierRow[]; truncated: boolean } | null> {
  const items: DossierRow[] = []
  try {
    for (let offset = 0; offset < MAX_DOSSIERS; offset += 200) {
      const r = await api<{ items: DossierRow[] }>(`/api/dossiers?status=1,2,3,4,5,6,7,8,9,10&limit=200&offset=${offset}`, { timeoutMs: 60_000 })
      items.push(...r.items)
      if (r.items.length < 200) return { items, truncated: false }
    }
    return { items, truncated: true }
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null
    throw e
  }
}

function byUnit<T>(rows: T[], unit: (r: T) => string, open: (r: T) => boolean, overdue: (r: T) => boolean, done: (r: T) => boolean, onTime: (r: T) => boolean): UnitRow[] {
  const m = new Map<string, UnitRow>()
  for (const r of rows) {
    const u = unit(r)
    const x = m.get(u) ?? { unit: u, total: 0, open: 0, overdue: 0, done: 0, onTime: 0 }
    x.total++
    if (open(r)) x.open++
    if (overdue(r)) x.overdue++
    if (done(r)) {
      x.done++
      if (onTime(r)) x.onTime++
    }
    m.set(u, x)
  }
  return [...m.values()].sort((a, b) => b.overdue - a.overdue || b.open - a.open || a.unit.localeCompare(b.unit))
}
const sum = (rows: UnitRow[], k: keyof Omit<UnitRow, 'unit'>) => rows.reduce((n, r) => n + r[k], 0)

interface ReportIndicatorRow { key: string; received: number; resolved: number; early: number; on_time: number; open: number; overdue: number }
interface ReportIndicators { total: ReportIndicatorRow; items: ReportIndicatorRow[] }

/** A source that may be missing, refused or failing: the wall then keeps its other figures. */
async function optional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>(path, { timeoutMs: 30_000 })
  } catch {
    return null
  }
}
interface ComplianceUnitApi {
  unit_code: string
  antimalware: { registered: number; healthy: number; coverage: number }
  systems: { approved_level: number | null }[]
  warnings: number
  suspensions: number
  compliant: boolean
}
interface FindingApi { subject_kind: 'unit' | 'system'; subject_ref: string; unit_code: string; rule_code: string; reason_vi: string; reason_en: string; fix_vi: string; fix_en: string; deadline: string; suspended_at: string | null }

const finding = (f: FindingApi): ComplianceFinding => ({
  kind: f.subject_kind, subject: f.subject_ref, unit: f.unit_code, rule: f.rule_code, reasonVi: f.reason_vi, reasonEn: f.reason_en, fixVi: f.fix_vi, fixEn: f.fix_en, deadline: f.deadline, suspendedAt: f.suspended_at,
})

/** Units cut off first, then warned, then by coverage (lowest first). */
function complianceFigures(units: ComplianceUnitApi[], findings: { suspended: FindingApi[]; warned: FindingApi[] }): NonNullable<WallData['compliance']> {
  const rows = units.map((u): ComplianceUnit => ({
    unit: u.unit_code, coverage: u.antimalware.coverage, healthy: u.antimalware.healthy, registered: u.antimalware.registered,
    systems: u.systems.length, approved: u.systems.filter((x) => x.approved_level !== null).length, warnings: u.warnings, suspensions: u.suspensions, compliant: u.compliant,
  }))
  rows.sort((a, b) => b.suspensions - a.suspensions || b.warnings - a.warnings || a.coverage - b.coverage || a.unit.localeCompare(b.unit))
  return {
    units: rows,
    suspended: findings.suspended.map(finding).sort((a, b) => (b.suspendedAt ?? '').localeCompare(a.suspendedAt ?? '')),
    warned: findings.warned.map(finding).sort((a, b) => a.deadline.localeCompare(b.deadline)),
  }
}

const unitRow = (r: ReportIndicatorRow): UnitRow => ({ unit: r.key, total: r.received, open: r.open, overdue: r.overdue, done: r.resolved, onTime: r.early + r.on_time })

/** Loads and aggregates the wall's data for the last `windowDays` days. */
export async function loadWallData(windowDays = 84, now = Date.now()): Promise<WallData> {
  const from = now - windowDays * 86_400_000
  // Calendar days in Asia/Ho_Chi_Minh, as the IOC roll-ups count them.
  const fromDay = new Date(from + 7 * 3_600_000).toISOString().slice(0, 10)
  const [rep, dos, byUnitIoc, byCommuneIoc, i766, flags, white, compUnits, compFindings] = await Promise.all([
    allReports(new Date(from).toISOString()),
    allDossiers(),
    optional<ReportIndicators>(`/api/ioc/indicators/reports?group=unit&from=${fromDay}`),
    optional<ReportIndicators>(`/api/ioc/indicators/reports?group=commune&from=${fromDay}`),
    optional<{ province: { total: number | null } | null }>(`/api/ioc/indicators/766?from=${fromDay}`),
    optional<{ items: { unit_code: string; level: string; reason_vi: string; reason_en: string; created_at: string }[] }>('/api/ioc/unit-flags?limit=50'),
    optional<{ totals: { villages_surveyed: number; white_zones: number } }>('/api/places/white-zones'),
    optional<{ items: ComplianceUnitApi[] }>('/api/compliance/units'),
    optional<{ suspended: FindingApi[]; warned: FindingApi[] }>('/api/compliance/suspensions'),
  ])
  const reports = rep.items
  const isOverdue = (r: FeedReport) => OPEN_REPORT.has(r.status) && !!r.due_at && Date.parse(r.due_at) < now
  const communes: WallData['communes'] = {}
  for (const r of reports) {
    if (!r.commune_code || !OPEN_REPORT.has(r.status)) continue
    const c = (communes[r.commune_code] ??= { open: 0, overdue: 0 })
    c.open++
    if (isOverdue(r)) c.overdue++
  }
  const repUnits = byUnit(reports, (r) => r.unit_code, (r) => OPEN_REPORT.has(r.status), isOverdue, (r) => !!r.resolved_at, (r) => !!r.resolved_at && (!r.due_at || r.resolved_at <= r.due_at))

  const weekStart = Math.floor(from / WEEK) * WEEK
  const weeks: number[] = []
  for (let w = weekStart; w <= now; w += WEEK) weeks.push(w)
  const bucket = (iso: string | null) => (iso ? Math.floor((Date.parse(iso) - weekStart) / WEEK) : -1)
  const count = (isos: (string | null)[]) => {
    const a = weeks.map(() => 0)
    for (const x of isos) {
      const i = bucket(x)
      if (i >= 0 && i < a.length) a[i]++
    }
    return a
  }

  let dossiers: WallData['dossiers'] = null
  let dossiersIn: number[] | null = null
  const escalations: Escalation[] = reports.filter(isOverdue).map((r) => ({ kind: 'report' as const, code: r.code, unit: r.unit_code, title: r.description, dueAt: r.due_at! }))
  if (dos) {
    const ds = dos.items.filter((d) => !d.submitted_at || Date.parse(d.submitted_at) >= from)
    const isOpen = (d: DossierRow) => [1, 2, 4, 5, 6].includes(d.status)
    const done = (d: DossierRow) => d.status === 9 || d.status === 10
    const units = byUnit(ds, (d) => d.unit_code, isOpen, (d) => d.overdue, done, (d) => done(d) && d.timeliness !== 'late')
    dossiers = { total: ds.length, open: sum(units, 'open'), overdue: sum(units, 'overdue'), done: sum(units, 'done'), onTime: sum(units, 'onTime'), online: ds.filter((d) => d.channel === 'online').length, byUnit: units }
    dossiersIn = count(ds.map((d) => d.submitted_at))
    for (const d of ds) if (d.overdue && d.due_at) escalations.push({ kind: 'dossier', code: d.code, unit: d.unit_code, title: d.procedure.name_vi, dueAt: d.due_at })
  }
  // The latest escalations: what most recently went past its due time.
  escalations.sort((a, b) => b.dueAt.localeCompare(a.dueAt))
  let reportFigures: WallData['reports'] = { total: reports.length, open: sum(repUnits, 'open'), overdue: sum(repUnits, 'overdue'), done: sum(repUnits, 'done'), onTime: sum(repUnits, 'onTime'), byUnit: repUnits }
  // The IOC roll-ups give the figures once they have counted something (they follow events, so a
  // fresh installation starts empty): then the wall uses them, otherwise its own count of the feed.
  const iocHasData = !!byUnitIoc && byUnitIoc.total.received + byUnitIoc.total.open > 0
  if (iocHasData) {
    const units = byUnitIoc!.items.map(unitRow).sort((a, b) => b.overdue - a.overdue || b.open - a.open || a.unit.localeCompare(b.unit))
    reportFigures = { ...unitRow(byUnitIoc!.total), byUnit: units }
  }
  let communeFigures = communes
  if (iocHasData && byCommuneIoc && byCommuneIoc.items.some((r) => r.open > 0)) {
    communeFigures = {}
    for (const r of byCommuneIoc.items) if (r.key && r.open > 0) communeFigures[r.key] = { open: r.open, overdue: r.overdue }
  }
  return {
    generatedAt: new Date(now).toISOString(),
    windowDays,
    communes: communeFigures,
    reports: reportFigures,
    reportSource: iocHasData ? 'ioc' : 'feed',
    score766: i766?.province?.total ?? null,
    flags: flags ? flags.items.map((f) => ({ unit: f.unit_code, level: f.level, reasonVi: f.reason_vi, reasonEn: f.reason_en, since: f.created_at })) : null,
    whiteZones: white ? { villages: white.totals.white_zones, surveyed: white.totals.villages_surveyed } : null,
    compliance: compUnits && compFindings ? complianceFigures(compUnits.items, compFindings) : null,
    dossiers,
    trend: { weeks: weeks.map((w) => w / 1000), reportsIn: count(reports.map((r) => r.created_at)), reportsResolved: count(reports.map((r) => r.resolved_at)), dossiersIn },
    escalations: escalations.slice(0, 12),
    truncated: rep.truncated || !!dos?.truncated,
  }
}
