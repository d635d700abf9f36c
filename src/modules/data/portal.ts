import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { readFile } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AppContext } from '../../platform/module.ts'
import { getOrgUnit, listOrgUnits } from '../identity/index.ts'
import { canReadDataset } from './access.ts'
import type { DataConfig } from './config.ts'
import { searchDatastore, tsQueryOf } from './datastore.ts'
import { dataFilePath } from './files.ts'
import { LICENSES } from './licenses.ts'
import { resourceUrl } from './presenters.ts'
import { qualityScore } from './quality.ts'
import { getDataset, listPlan, listResources, listReuses, listSharedDatabases, searchDatasets } from './repository.ts'
import { sql } from 'kysely'

/** HTML escaping for text and attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#1d2a2a;background:#f7f7f4}header{background:#2f5d50;color:#fff;padding:.8rem 1.2rem}
header a{color:#fff;text-decoration:none;margin-right:1rem}main{max-width:70rem;margin:0 auto;padding:1rem}table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}
td,th{border:1px solid #ccd;padding:.3rem .5rem;text-align:left}th{background:#eef2ef}.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.tag{display:inline-block;background:#e4efe9;border-radius:3px;padding:0 .4rem;margin:0 .2rem .2rem 0;font-size:.85rem}.muted{color:#667}.score{font-weight:bold;color:#2f5d50}
input[type=search]{width:60%;padding:.4rem}.scroll{overflow-x:auto}`

/** `<script type="application/ld+json">` content, with `<` escaped so it can never close the tag. */
const ldJson = (o: unknown) => JSON.stringify(o).replace(/</g, '\\u003c')

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Dữ liệu mở Điện Biên</title><style>${STYLE}</style>${head}</head>
<body><header><a href="/data"><b>Dữ liệu mở Điện Biên</b></a><a href="/data">Bộ dữ liệu</a><a href="/data/catalogue">Danh mục CSDL dùng chung</a><a href="/api/data/dcat/catalog.ttl">DCAT</a><a href="/docs">API</a></header>
<main>${body}</main></body></html>`
}

/** A GeoJSON FeatureCollection drawn as inline SVG (equirectangular over its bounding box). */
export function geojsonSvg(doc: unknown, width = 640, height = 420): string {
  const fc = doc as { features?: { geometry?: { type: string; coordinates: unknown } | null; properties?: Record<string, unknown> | null }[] }
  if (!Array.isArray(fc?.features)) return ''
  const rings: { pts: number[][]; name: string }[] = []
  const points: { p: number[]; name: string }[] = []
  const walk = (g: { type: string; coordinates: unknown } | null | undefined, name: string) => {
    if (!g) return
    const c = g.coordinates as never
    if (g.type === 'Polygon') for (const r of c as number[][][]) rings.push({ pts: r, name })
    else if (g.type === 'MultiPolygon') for (const poly of c as number[][][][]) for (const r of poly) rings.push({ pts: r, name })
    else if (g.type === 'LineString') rings.push({ pts: c, name })
    else if (g.type === 'Point') points.push({ p: c, name })
  }
  for (const f of fc.features.slice(0, 5000)) walk(f?.geometry, String(f?.properties?.name ?? f?.properties?.name_vi ?? f?.properties?.ten ?? ''))
  const all = [...rings.flatMap((r) => r.pts), ...points.map((p) => p.p)].filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
  if (!all.length) return ''
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1])
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const s = Math.min(width / (maxX - minX || 1), height / (maxY - minY || 1))
  const X = (x: number) => ((x - minX) * s).toFixed(1), Y = (y: number) => ((maxY - y) * s).toFixed(1)
  const paths = rings.map((r) => `<path d="M${r.pts.map((p) => `${X(p[0])},${Y(p[1])}`).join('L')}Z"><title>${esc(r.name)}</title></path>`).join('')
  const dots = points.map((p) => `<circle cx="${X(p.p[0])}" cy="${Y(p.p[1])}" r="3"><title>${esc(p.name)}</title></circle>`).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px;background:#fff" role="img" aria-label="Bản đồ xem trước">
<g fill="#cfe3d8" stroke="#2f5d50" stroke-width="0.6">${paths}</g><g fill="#b33">${dots}</g></svg>`
}

export async function portalRoutes(fastify: FastifyInstance, ctx: AppContext, cfg: DataConfig): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const Html = Type.String({ description: 'text/html' })

  app.get('/data', {
    schema: {
      tags: ['data-portal'], summary: 'Open-data portal: browse and search datasets (HTML)',
      querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), tag: Type.Optional(Type.String({ maxLength: 100 })), org: Type.Optional(Type.String({ maxLength: 32 })), page: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }) }),
      response: { 200: Html },
    },
  }, async (req, reply) => {
    const size = 20
    const filters = [...(req.query.tag ? [{ field: 'tags', value: req.query.tag }] : []), ...(req.query.org ? [{ field: 'organization', value: req.query.org }] : [])]
    const tsq = tsQueryOf(req.query.q ?? '')
    const r = await searchDatasets(ctx.readDb, req.principal, {
      tsquery: tsq, filters, sort: sql.raw(tsq ? 'score desc, d.modified_at desc' : 'd.modified_at desc'), limit: size, offset: (req.query.page - 1) * size,
      facets: ['tags', 'organization', 'res_format'], facetLimit: 15, facetMinCount: 1,
    })
    const units = new Map((await listOrgUnits(ctx.readDb)).map((u) => [u.code, u.name_vi]))
    const resources = await listResources(ctx.readDb, r.rows.map((d) => d.id))
    const now = ctx.clock()
    const items = r.rows.map((d) => {
      const rs = resources.filter((x) => x.dataset_id === d.id)
      return `<div class="card"><a href="/data/dataset/${esc(d.name)}"><b>${esc(d.title)}</b></a> <span class="muted">· ${esc(units.get(d.owner_org) ?? d.owner_org)}</span>
<div>${esc(d.notes.slice(0, 240))}</div><div>${d.tags.map((t) => `<a class="tag" href="/data?tag=${encodeURIComponent(t)}">${esc(t)}</a>`).join('')}
${[...new Set(rs.map((x) => x.format))].map((f) => `<span class="tag">${esc(f)}</span>`).join('')} <span class="score">★ ${qualityScore(d, rs, now).score}</span></div></div>`
    }).join('')
    const facet = (name: string, key: string, label: (v: string) => string) => `<div class="card"><b>${esc(name)}</b><br>${(r.facets[key] ?? []).map((f) => `<a href="/data?${key === 'tags' ? 'tag' : 'org'}=${encodeURIComponent(f.v)}">${esc(label(f.v))}</a> (${f.n})`).join('<br>')}</div>`
    const pages = Math.ceil(r.count / size)
    const nav = pages > 1 ? `<p>${req.query.page > 1 ? `<a href="/data?page=${req.query.page - 1}&q=${encodeURIComponent(req.query.q ?? '')}">← Trước</a> ` : ''}Trang ${req.query.page}/${pages}${req.query.page < pages ? ` <a href="/data?page=${req.query.page + 1}&q=${encodeURIComponent(req.query.q ?? '')}">Sau →</a>` : ''}</p>` : ''
    const body = `<h1>Bộ dữ liệu <span class="muted">/ Datasets</span></h1>
<form action="/data" method="get"><input type="search" name="q" value="${esc(req.query.q ?? '')}" placeholder="Tìm (không cần dấu): dan so, thu tuc…"> <button>Tìm</button></form>
<p class="muted">${r.count} bộ dữ liệu</p><div style="display:grid;grid-template-columns:1fr 16rem;gap:1rem"><div>${items || '<p>Không có kết quả.</p>'}${nav}</div>
<div>${facet('Từ khoá', 'tags', (v) => v)}${facet('Cơ quan', 'organization', (v) => units.get(v) ?? v)}</div></div>`
    return reply.type('text/html; charset=utf-8').send(page('Bộ dữ liệu', body))
  })

  app.get('/data/dataset/:name', {
    schema: { tags: ['data-portal'], summary: 'Dataset page (HTML): metadata, preview table, map preview for GeoJSON, downloads, schema.org Dataset markup', params: Type.Object({ name: Type.String({ pattern: '^[a-z0-9_-]{2,100}$' }) }), response: { 200: Html, 404: Html } },
  }, async (req, reply) => {
    const d = await getDataset(ctx.readDb, req.params.name)
    if (!d || !canReadDataset(req.principal, d)) return reply.status(404).type('text/html; charset=utf-8').send(page('Không tìm thấy', '<h1>Không tìm thấy bộ dữ liệu</h1><p>Dataset not found.</p>'))
    const [resources, reuses, org] = await Promise.all([listResources(ctx.readDb, [d.id]), listReuses(ctx.readDb, d.id), getOrgUnit(ctx.readDb, d.owner_org)])
    const q = qualityScore(d, resources, ctx.clock())
    const lic = LICENSES[d.license_id]
    const url = `${cfg.baseUrl}/data/dataset/${d.name}`
    const schemaOrg = {
      '@context': 'https://schema.org', '@type': 'Dataset', '@id': url, url, name: d.title, description: d.notes || d.title, identifier: d.id, keywords: d.tags,
      license: lic?.url || d.license_id, isAccessibleForFree: true, dateCreated: new Date(d.created_at).toISOString(), dateModified: new Date(d.modified_at).toISOString(),
      version: String(d.version), spatialCoverage: { '@type': 'Place', name: d.spatial_coverage },
      creator: { '@type': 'GovernmentOrganization', name: org?.name_vi ?? d.owner_org }, publisher: { '@type': 'GovernmentOrganization', name: org?.name_vi ?? d.owner_org },
      includedInDataCatalog: { '@type': 'DataCatalog', name: 'Dữ liệu mở Điện Biên', url: `${cfg.baseUrl}/data` },
      distribution: resources.map((r) => ({ '@type': 'DataDownload', name: r.name, encodingFormat: r.mimetype ?? r.format, contentUrl: resourceUrl(r, cfg.baseUrl) })),
    }
    const parts: string[] = []
    for (const r of resources) {
      let preview = ''
      if (r.datastore_active && r.datastore_table) {
        const s = await searchDatastore(ctx.readDb, r.datastore_table, r.fields, Number(r.row_count), { limit: 20, offset: 0, includeTotal: false })
        preview = `<div class="scroll"><table><tr>${s.fields.map((f) => `<th>${esc(f.id)}<br><span class="muted">${esc(f.type)}</span></th>`).join('')}</tr>
${s.rows.map((row) => `<tr>${row.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</table></div>
<p class="muted">${Number(r.row_count).toLocaleString('vi-VN')} dòng${r.load_report?.rows_rejected ? ` · ${r.load_report.rows_rejected} dòng bị từ chối khi nạp` : ''} · <a href="/api/data/resources/${r.id}/export.csv">Tải toàn bộ CSV</a> · <a href="/api/3/action/datastore_search?resource_id=${r.id}">API</a></p>`
      }
      if (r.format === 'GeoJSON' && r.file_sha256 && Number(r.size) <= 20 * 1_048_576) {
        try {
          preview += geojsonSvg(JSON.parse(await readFile(dataFilePath(ctx.config.uploadDir, r.file_sha256), 'utf8')))
        } catch {
          // no map preview for an unreadable file
        }
      }
      parts.push(`<div class="card"><h3>${esc(r.name)} <span class="tag">${esc(r.format)}</span></h3><p>${esc(r.description)}</p>
<p><a href="${esc(resourceUrl(r, cfg.baseUrl))}">Tải về / Download</a> <span class="muted">· phiên bản ${r.version} · cập nhật ${esc(new Date(r.modified_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }))}</span></p>${preview}</div>`)
    }
    const body = `<h1>${esc(d.title)}</h1><p class="muted">${esc(org?.name_vi ?? d.owner_org)} · ${esc(lic?.title ?? d.license_id)} · cập nhật ${esc(d.update_frequency)} · phiên bản ${d.version}</p>
<p>${esc(d.notes)}</p><p>${d.tags.map((t) => `<a class="tag" href="/data?tag=${encodeURIComponent(t)}">${esc(t)}</a>`).join('')}</p>
<div class="card">Điểm chất lượng / quality: <span class="score">${q.score}/100</span> <span class="muted">(mô tả ${q.metadata}/40, độ mới ${q.freshness}/25, định dạng mở ${q.open_format}/20, giấy phép ${q.license}/15)</span>
${q.advice.length ? `<ul>${q.advice.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>` : ''}</div>
${parts.join('')}
<h2>Ứng dụng, bài viết sử dụng / Reuses</h2>${reuses.length ? `<ul>${reuses.map((u) => `<li><a href="${esc(u.url)}" rel="nofollow">${esc(u.title)}</a> <span class="muted">(${esc(u.kind)})</span></li>`).join('')}</ul>` : '<p class="muted">Chưa có.</p>'}
<p class="muted">Siêu dữ liệu: <a href="/api/3/action/package_show?id=${esc(d.name)}">CKAN JSON</a> · <a href="/api/data/dcat/datasets/${esc(d.name)}/dcat.jsonld">DCAT JSON-LD</a> · <a href="/api/data/dcat/datasets/${esc(d.name)}/dcat.ttl">DCAT Turtle</a></p>`
    return reply.type('text/html; charset=utf-8').send(page(d.title, body, `<script type="application/ld+json">${ldJson(schemaOrg)}</script><link rel="alternate" type="text/turtle" href="/api/data/dcat/datasets/${esc(d.name)}/dcat.ttl">`))
  })

  app.get('/data/catalogue', {
    schema: { tags: ['data-portal'], summary: 'Catalogue of shared databases and the open-data publish plan (HTML)', response: { 200: Html } },
  }, async (req, reply) => {
    const [dbs, plan] = await Promise.all([listSharedDatabases(ctx.readDb, req.principal), listPlan(ctx.readDb)])
    const today = new Date(ctx.clock().getTime() + 7 * 3_600_000).toISOString().slice(0, 10)
    const body = `<h1>Danh mục cơ sở dữ liệu dùng chung</h1><div class="scroll"><table><tr><th>Mã</th><th>Tên</th><th>Chủ quản</th><th>Đơn vị quản lý</th><th>Tần suất</th><th>Mức truy cập</th><th>Căn cứ pháp lý</th><th>Hệ thống sử dụng</th><th>Liên hệ</th></tr>
${dbs.map((s) => `<tr><td>${esc(s.code)}</td><td>${esc(s.name)}<br><span class="muted">${esc(s.description)}</span></td><td>${esc(s.owner_unit)}</td><td>${esc(s.custodian)}</td><td>${esc(s.update_frequency)}</td><td>${esc(s.access_level)}</td><td>${esc(s.legal_basis)}</td><td>${esc(s.systems_using.join(', '))}</td><td>${esc(s.contact)}</td></tr>`).join('')}</table></div>
<h2>Kế hoạch công bố dữ liệu mở</h2><table><tr><th>Nội dung</th><th>Cơ quan</th><th>Hạn</th><th>Đã công bố</th><th>Tình trạng</th></tr>
${plan.map((e) => `<tr><td>${esc(e.title)}</td><td>${esc(e.owner_unit)}</td><td>${esc(e.planned_date)}</td><td>${e.dataset_name ? `<a href="/data/dataset/${esc(e.dataset_name)}">${esc(e.published_date)}</a>` : ''}</td>
<td>${e.published_date ? (e.published_date <= e.planned_date ? 'Đạt' : 'Đạt (muộn)') : e.planned_date < today ? '<b>Chưa đạt</b>' : 'Đang thực hiện'}</td></tr>`).join('')}</table>`
    return reply.type('text/html; charset=utf-8').send(page('Danh mục CSDL dùng chung', body))
  })
}
