import type { OrgUnit } from '../identity/index.ts'
import { LICENSES } from './licenses.ts'
import { qualityScore } from './quality.ts'
import type { DatasetRow, ResourceRow } from './repository.ts'

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString().replace(/Z$/, '') : null)

export function orgDict(u: OrgUnit | undefined, code: string, packageCount?: number) {
  return {
    id: code,
    name: code,
    title: u?.name_vi ?? code,
    display_name: u?.name_vi ?? code,
    title_en: u?.name_en ?? code,
    type: 'organization',
    is_organization: true,
    state: 'active',
    approval_status: 'approved',
    description: u ? `${u.name_vi} (${u.name_en})` : '',
    image_url: '',
    ...(packageCount === undefined ? {} : { package_count: packageCount }),
  }
}

/** The public download URL of a resource: the stored file, or its external URL. */
export function resourceUrl(r: ResourceRow, baseUrl: string): string {
  if (r.url && !r.file_sha256) return r.url
  const name = encodeURIComponent(r.file_name ?? `${r.id}.${r.format.toLowerCase()}`)
  return `${baseUrl}/api/data/resources/${r.id}/download/${name}`
}

/** A resource as CKAN shows it. */
export function resourceDict(r: ResourceRow, baseUrl: string) {
  return {
    id: r.id,
    package_id: r.dataset_id,
    position: r.position,
    name: r.name,
    description: r.description,
    format: r.format,
    url: resourceUrl(r, baseUrl),
    url_type: r.file_sha256 ? 'upload' : null,
    hash: r.file_sha256 ? `sha256:${r.file_sha256}` : '',
    size: r.size === null ? null : Number(r.size),
    mimetype: r.mimetype,
    datastore_active: r.datastore_active,
    datastore_fields: r.datastore_active ? r.fields.map((f) => ({ id: f.id, type: f.type })) : undefined,
    datastore_rows: r.datastore_active ? Number(r.row_count) : undefined,
    datastore_load_report: r.load_report ? { rows_loaded: r.load_report.rows_loaded, rows_rejected: r.load_report.rows_rejected, hints: r.load_report.hints } : undefined,
    export_csv_url: r.datastore_active ? `${baseUrl}/api/data/resources/${r.id}/export.csv` : undefined,
    version: r.version,
    state: 'active',
    created: iso(r.created_at),
    last_modified: iso(r.modified_at),
    metadata_modified: iso(r.modified_at),
  }
}

/** A dataset as CKAN's package_show shows it, plus access level, quality score and version. */
export function packageDict(d: DatasetRow, resources: ResourceRow[], org: OrgUnit | undefined, baseUrl: string, now: Date) {
  const lic = LICENSES[d.license_id]
  const q = qualityScore(d, resources, now)
  return {
    id: d.id,
    name: d.name,
    title: d.title,
    notes: d.notes,
    type: 'dataset',
    state: 'active',
    private: d.access_level !== 'open',
    access_level: d.access_level,
    owner_org: d.owner_org,
    organization: orgDict(org, d.owner_org),
    license_id: d.license_id,
    license_title: lic?.title ?? d.license_id,
    license_url: lic?.url ?? '',
    isopen: !!lic?.open,
    author: d.author,
    maintainer_email: d.maintainer_email,
    version: String(d.version),
    url: `${baseUrl}/data/dataset/${d.name}`,
    tags: d.tags.map((t) => ({ name: t, display_name: t, state: 'active' })),
    num_tags: d.tags.length,
    resources: resources.map((r) => resourceDict(r, baseUrl)),
    num_resources: resources.length,
    metadata_created: iso(d.created_at),
    metadata_modified: iso(d.modified_at),
    data_updated: iso(d.data_updated_at),
    update_frequency: d.update_frequency,
    quality: q,
    extras: [
      { key: 'access_level', value: d.access_level },
      { key: 'update_frequency', value: d.update_frequency },
      { key: 'spatial_coverage', value: d.spatial_coverage },
      { key: 'quality_score', value: String(q.score) },
      ...(d.source_system ? [{ key: 'source_system', value: d.source_system }] : []),
    ],
  }
}
