import { catalogueRegistries } from './registry-catalogue.ts'
import { sql } from 'kysely'
import type { Db } from '../../platform/db/database.ts'
import type { DomainEvent } from '../../platform/events/outbox.ts'
import { enqueueJob } from '../../platform/jobs/job-runner.ts'
import type { AppContext } from '../../platform/module.ts'
import { listAdminUnits, getAdminUnit } from '../geo/index.ts'
import { teamRegistry } from '../community/index.ts'
import { searchProcedures } from '../services/index.ts'
import type { DataConfig } from './config.ts'
import { addResource, createDataset, replaceResourceData, storeGeneratedCsv } from './datasets.ts'
import { csvLine } from './datastore.ts'
import { bumpStat, getDataset, listResources, listStats, type NewDataset } from './repository.ts'

/**
 * Open datasets the platform produces itself, refreshed by a scheduled job: administrative units
 * (geo module), the procedure catalogue (services module), the community digital teams
 * (community module) and monthly report and dossier
 * statistics (counted here from outbox events). Each refresh that changes the data is a new
 * version of the resource (same resource id, new DataStore table swapped in).
 */
export const PLATFORM_DATASETS: (Omit<NewDataset, 'owner_org' | 'source_system'> & { source: string; resource: string; resourceDescription: string })[] = [
  {
    name: 'don-vi-hanh-chinh', title: 'Đơn vị hành chính tỉnh Điện Biên', source: 'geo', resource: 'Danh sách đơn vị hành chính',
    notes: 'Danh sách đơn vị hành chính cấp tỉnh và cấp xã của tỉnh Điện Biên (sau sắp xếp 2025), mã đơn vị, cấp, đơn vị cha và phiên bản ranh giới đang có hiệu lực. Ranh giới (GeoJSON) qua API bản đồ. Administrative units with boundaries.',
    resourceDescription: 'Mã, tên, cấp, đơn vị cha, loại đơn vị, ngày hiệu lực của ranh giới', license_id: 'cc-by-4.0', tags: ['hành chính', 'bản đồ', 'địa giới'],
    access_level: 'open', update_frequency: 'monthly', author: 'Hoa Ban (tự động)', maintainer_email: 'opendata@dienbien.gov.vn', spatial_coverage: 'Điện Biên',
  },
  {
    name: 'thu-tuc-hanh-chinh', title: 'Danh mục thủ tục hành chính', source: 'services', resource: 'Danh mục thủ tục đang có hiệu lực',
    notes: 'Các thủ tục hành chính đang có hiệu lực trên Cổng dịch vụ công của tỉnh: mã, tên, lĩnh vực, cấp thực hiện, có trực tuyến toàn trình hay không, thời hạn giải quyết và lệ phí. Administrative procedure catalogue.',
    resourceDescription: 'Một dòng cho mỗi thủ tục (phiên bản đang có hiệu lực)', license_id: 'cc-by-4.0', tags: ['dịch vụ công', 'thủ tục hành chính'],
    access_level: 'open', update_frequency: 'daily', author: 'Hoa Ban (tự động)', maintainer_email: 'opendata@dienbien.gov.vn', spatial_coverage: 'Điện Biên',
  },
  {
    name: 'thong-ke-phan-anh-ho-so', title: 'Thống kê phản ánh hiện trường và hồ sơ theo tháng', source: 'stats', resource: 'Số liệu theo tháng',
    notes: 'Số phản ánh hiện trường được tiếp nhận và chuyển trạng thái, số hồ sơ thủ tục hành chính chuyển trạng thái, theo tháng và đơn vị, do nền tảng Hoa Ban tự tổng hợp. Monthly statistics of field reports and dossiers.',
    resourceDescription: 'tháng, nguồn, chỉ tiêu, đơn vị, số lượng', license_id: 'cc-by-4.0', tags: ['thống kê', 'phản ánh', 'dịch vụ công'],
    access_level: 'open', update_frequency: 'daily', author: 'Hoa Ban (tự động)', maintainer_email: 'opendata@dienbien.gov.vn', spatial_coverage: 'Điện Biên',
  },
  {
    name: 'to-cong-nghe-so-cong-dong', title: 'Danh sách tổ công nghệ số cộng đồng', source: 'community', resource: 'Danh sách tổ',
    notes: 'Các tổ công nghệ số cộng đồng của tỉnh Điện Biên theo xã, thôn/bản hoặc tổ dân phố: số thành viên, tổ chức tham gia (đoàn thanh niên, hội phụ nữ, công an, bưu điện/viễn thông, trưởng bản) và doanh nghiệp công nghệ đồng hành. Không có họ tên hay số điện thoại của thành viên. Community digital technology teams registry.',
    resourceDescription: 'Một dòng cho mỗi tổ: xã, thôn/bản, số thành viên, tổ chức, doanh nghiệp đồng hành, ngày thành lập', license_id: 'cc-by-4.0', tags: ['chuyển đổi số', 'cộng đồng', 'tổ công nghệ số'],
    access_level: 'open', update_frequency: 'daily', author: 'Hoa Ban (tự động)', maintainer_email: 'opendata@dienbien.gov.vn', spatial_coverage: 'Điện Biên',
  },
]

/**
 * Creates the platform's datasets once (idempotent; runs at every start) and, the first time,
 * queues a refresh so their resources are loaded without waiting for the nightly schedule.
 */
export async function seedPlatformDatasets(ctx: AppContext): Promise<void> {
  const missing = []
  for (const p of PLATFORM_DATASETS) if (!(await getDataset(ctx.db, p.name))) missing.push(p.name)
  if (!missing.length) return
  await ensurePlatformDatasets(ctx)
  await enqueueJob(ctx.db, 'data.refresh-platform-datasets', { reason: 'first start' }, { dedupeKey: 'data.refresh-platform-datasets@first-start' })
}

/** Creates the platform's datasets that do not exist yet. */
export async function ensurePlatformDatasets(ctx: AppContext): Promise<void> {
  const owner = ctx.config.provinceCode
  for (const p of PLATFORM_DATASETS) {
    if (await getDataset(ctx.db, p.name)) continue
    const { source, resource: _r, resourceDescription: _d, ...meta } = p
    await ctx.db.transaction().execute(async (tx) => {
      // Another node may have created it meanwhile: the unique name decides.
      const ok = await sql`select pg_advisory_xact_lock(hashtext(${`data.platform.${p.name}`}))`.execute(tx).then(() => getDataset(tx, p.name))
      if (!ok) await createDataset(tx, { ...meta, owner_org: owner, source_system: `hoaban:${source}` }, 'system', ctx.clock())
    })
  }
}

function monthOf(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 7)
}

/** Counts events into data_platform_stats (in the event's transaction). */
export function statsHandler(source: 'reports' | 'dossiers', metric: (p: Record<string, unknown>) => string) {
  return async (tx: Db, e: DomainEvent) => {
    const unit = typeof e.payload.unit_code === 'string' ? e.payload.unit_code : ''
    await bumpStat(tx, { month: monthOf(new Date(e.createdAt)), source, metric: metric(e.payload), unit_code: unit })
  }
}

async function* adminUnitLines(db: Db, provinceCode: string): AsyncGenerator<string> {
  yield csvLine(['Mã', 'Tên', 'Tên đầy đủ', 'Tên tiếng Anh', 'Cấp', 'Mã đơn vị cha', 'Loại', 'Ranh giới hiệu lực từ'])
  const units = [...(await listAdminUnits(db)).filter((u) => u.code === provinceCode), ...(await listAdminUnits(db, { parentCode: provinceCode }))]
  for (const u of units) {
    const detail = await getAdminUnit(db, u.code)
    const from = detail?.boundary?.valid_from
    yield csvLine([u.code, u.name, u.full_name, u.name_en, u.level, u.parent_code, u.unit_type, from ? from.split('-').reverse().join('/') : ''])
  }
}

async function* procedureLines(db: Db, now: Date): AsyncGenerator<string> {
  yield csvLine(['Mã thủ tục', 'Phiên bản', 'Tên thủ tục', 'Tên tiếng Anh', 'Mã lĩnh vực', 'Lĩnh vực', 'Cấp thực hiện', 'Đơn vị giải quyết', 'Trực tuyến toàn trình', 'Ưu tiên', 'Lệ phí (đồng)'])
  for (let offset = 0; ; offset += 100) {
    const page = await searchProcedures(db, { limit: 100, offset, at: now })
    for (const p of page.items) yield csvLine([p.code, p.version, p.name_vi, p.name_en, p.field, p.field_name_vi, p.level, p.handling_unit, p.fully_online, p.priority, p.fee_vnd])
    if (page.items.length < 100) return
  }
}

async function* teamLines(db: Db): AsyncGenerator<string> {
  yield csvLine(['Tên tổ', 'Mã xã', 'Xã', 'Thôn, bản', 'Tổ dân phố', 'Số thành viên', 'Tổ chức tham gia', 'Doanh nghiệp đồng hành', 'Ngày thành lập'])
  for (const t of await teamRegistry(db)) yield csvLine([t.team, t.commune_code, t.commune_name, t.village ?? '', t.residential_group ?? '', t.members, t.organisations.join('; '), t.partners.join('; '), t.founded])
}

async function* statsLines(db: Db): AsyncGenerator<string> {
  yield csvLine(['Tháng', 'Nguồn', 'Chỉ tiêu', 'Mã đơn vị', 'Số lượng'])
  for (const s of await listStats(db)) yield csvLine([s.month, s.source, s.metric, s.unit_code, s.count])
}

/** Regenerates each platform dataset's CSV; a changed file becomes a new version of its resource. */
export async function refreshPlatformDatasets(ctx: AppContext, now: Date): Promise<{ name: string; changed: boolean }[]> {
  await ensurePlatformDatasets(ctx)
  const out: { name: string; changed: boolean }[] = []
  for (const p of PLATFORM_DATASETS) {
    const d = (await getDataset(ctx.db, p.name))!
    const lines = p.source === 'geo' ? adminUnitLines(ctx.db, ctx.config.provinceCode)
      : p.source === 'services' ? procedureLines(ctx.db, now)
        : p.source === 'community' ? teamLines(ctx.db)
          : statsLines(ctx.db)
    const file = await storeGeneratedCsv(ctx.config.uploadDir, `${p.name}.csv`, lines)
    const existing = (await listResources(ctx.db, [d.id])).find((r) => r.name === p.resource)
    const opts = { actor: 'system', now, uploadDir: ctx.config.uploadDir }
    if (!existing) {
      await addResource(ctx.db, d.id, { name: p.resource, description: p.resourceDescription, file }, opts)
      if (p.source === 'geo') {
        await addResource(ctx.db, d.id, { name: 'Ranh giới đơn vị hành chính cấp xã (GeoJSON)', description: 'Bản đồ ranh giới đang có hiệu lực, rút gọn cho điện thoại', url: '/api/geo/boundaries?level=commune&simplified=1', format: 'GeoJSON' }, opts)
      }
      out.push({ name: p.name, changed: true })
    } else if (existing.file_sha256 !== file.sha256) {
      await replaceResourceData(ctx.db, existing.id, { file }, opts)
      out.push({ name: p.name, changed: true })
    } else out.push({ name: p.name, changed: false })
  }
  // The sector registries are shared databases too: keep their catalogue entries in step.
  await catalogueRegistries(ctx.db, now)
  return out
}

export async function setupPlatformDatasets(ctx: AppContext, cfg: DataConfig): Promise<void> {
  ctx.events.subscribe('report.created', statsHandler('reports', () => 'created'))
  ctx.events.subscribe('report.status_changed', statsHandler('reports', (p) => `status:${String(p.to ?? '')}`))
  ctx.events.subscribe('dossier.status_changed', statsHandler('dossiers', (p) => `status:${String(p.to ?? '')}`))
  ctx.jobs.schedule({ name: 'data.refresh-platform-datasets', cron: cfg.refreshCron }, async ({ now }) => {
    await refreshPlatformDatasets(ctx, now)
  })
}
