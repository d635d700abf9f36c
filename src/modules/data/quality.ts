import type { DatasetRow, Frequency, ResourceRow } from './repository.ts'
import { LICENSES } from './licenses.ts'

const PERIOD_DAYS: Record<Frequency, number | null> = { realtime: 1, daily: 1, weekly: 7, monthly: 31, quarterly: 92, yearly: 366, irregular: null }
const OPEN_FORMATS = new Set(['CSV', 'JSON', 'GEOJSON', 'XML', 'RDF', 'TTL'])

export interface QualityScore {
  score: number
  metadata: number
  freshness: number
  open_format: number
  license: number
  /** What to fix, one line each (Vietnamese first). */
  advice: string[]
}

/**
 * Quality score (0–100) of a dataset, in the spirit of uData: metadata completeness (40),
 * freshness against the declared update frequency (25), an open machine-readable format (20),
 * an open licence (15).
 */
export function qualityScore(d: DatasetRow, resources: ResourceRow[], now: Date): QualityScore {
  const advice: string[] = []
  const checks: [boolean, string][] = [
    [d.notes.trim().length >= 50, 'Mô tả ít nhất 50 ký tự / describe the dataset (≥ 50 characters)'],
    [d.tags.length > 0, 'Gắn từ khoá / add tags'],
    [!!d.maintainer_email, 'Ghi thư điện tử liên hệ / add a contact e-mail'],
    [d.update_frequency !== 'irregular', 'Khai báo tần suất cập nhật / declare the update frequency'],
    [resources.length > 0, 'Thêm ít nhất một tài nguyên / add a resource'],
    [resources.length > 0 && resources.every((r) => r.description.trim().length > 0), 'Mô tả từng tài nguyên / describe each resource'],
    [resources.some((r) => r.datastore_active && r.fields.length > 0), 'Nạp dữ liệu dạng bảng vào DataStore / load tabular data into the DataStore'],
    [!!d.author, 'Ghi tác giả / name the author'],
  ]
  const ok = checks.filter(([c]) => c).length
  for (const [c, a] of checks) if (!c) advice.push(a)
  const metadata = Math.round((40 * ok) / checks.length)

  let freshness = 0
  const period = PERIOD_DAYS[d.update_frequency]
  const last = d.data_updated_at ?? (resources.length ? new Date(Math.max(...resources.map((r) => new Date(r.modified_at).getTime()))) : null)
  if (last) {
    const ageDays = (now.getTime() - new Date(last).getTime()) / 86_400_000
    if (period === null) freshness = ageDays <= 365 ? 12 : 0
    else if (ageDays <= period * 1.5) freshness = 25
    else if (ageDays <= period * 3) freshness = 12
    if (freshness < 25) advice.push('Cập nhật dữ liệu theo tần suất đã khai / update the data as often as declared')
  } else advice.push('Chưa có dữ liệu / no data yet')

  const formats = resources.map((r) => r.format.toUpperCase())
  const openFormat = formats.some((f) => OPEN_FORMATS.has(f)) ? 20 : formats.includes('XLSX') ? 10 : 0
  if (openFormat < 20) advice.push('Cung cấp CSV hoặc JSON / offer CSV or JSON')
  const license = LICENSES[d.license_id]?.open ? 15 : 0
  if (!license) advice.push('Chọn giấy phép mở / choose an open licence')
  return { score: metadata + freshness + openFormat + license, metadata, freshness, open_format: openFormat, license, advice }
}
