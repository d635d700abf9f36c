import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import ExcelJS from 'exceljs'
import { sql } from 'kysely'
import N3 from 'n3'
import { publishEvent } from '../../platform/events/outbox.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createApiClient } from '../identity/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { runCkanAction } from './ckan.ts'
import { dataConfig } from './config.ts'
import { refreshPlatformDatasets } from './index.ts'

let platform: Platform
let admin: TestUser
let officer: TestUser // of unit 11 (the province)
let otherOfficer: TestUser // of another unit
let citizen: TestUser
let otherUnit: string
let seq = 0

before(async () => {
  platform = await startTestPlatform()
  const db = platform.ctx.db
  admin = await createTestUser(db, 'province_admin', '11')
  officer = await createTestUser(db, 'officer', '11')
  otherUnit = (await sql<{ code: string }>`select code from org_units where code <> '11' order by code limit 1`.execute(db)).rows[0].code
  otherOfficer = await createTestUser(db, 'officer', otherUnit)
  citizen = await createTestUser(db, 'citizen')
})
after(async () => {
  await platform?.close()
})

import type { InjectOptions } from 'fastify'
const inject = (opts: InjectOptions) => platform.app.inject(opts)
const ckan = async (action: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  const r = await inject({ method: 'POST', url: `/api/3/action/${action}`, payload: params, headers })
  return { status: r.statusCode, body: r.json() }
}

async function newDataset(by: TestUser, extra: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const name = `ds-${process.pid}-${++seq}`
  const r = await inject({
    method: 'POST', url: '/api/data/datasets', headers: by.headers,
    payload: { name, title: `Dân số các xã ${seq}`, notes: 'Dân số theo xã, phường của tỉnh Điện Biên, cập nhật hằng năm từ số liệu thống kê.', tags: ['dân số', 'thống kê'], update_frequency: 'yearly', maintainer_email: 'tk@dienbien.gov.vn', ...extra },
  })
  assert.equal(r.statusCode, 201, r.body)
  return { id: r.json().id, name }
}

function multipart(fields: Record<string, string>, file?: { name: string; type: string; data: Buffer }): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----hb${Math.random().toString(16).slice(2)}`
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: ${file.type}\r\n\r\n`), file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

async function upload(by: TestUser, dataset: string, fields: Record<string, string>, file: { name: string; type: string; data: Buffer }) {
  const m = multipart(fields, file)
  return inject({ method: 'POST', url: `/api/data/datasets/${dataset}/resources`, payload: m.payload, headers: { ...by.headers, ...m.headers } })
}

const POP_CSV = 'Mã xã,Tên xã,Dân số,Ngày cập nhật,Diện tích\r\n03127,Mường Thanh,12500,01/07/2024,12.5\r\n03130,Thanh Bình,8300,15/07/2024,9.25\r\n03151,Mường Phăng,6100,31/12/2023,120.75\r\n03160,Nà Tấu,5400,02/01/2024,88\r\n'

test('a CSV with Vietnamese text and dd/mm/yyyy dates loads with types inferred over the file; datastore_search filters, q, fields, sort, paging, formats', async () => {
  const d = await newDataset(officer)
  const up = await upload(officer, d.name, { name: 'Dân số 2024', description: 'Theo xã' }, { name: 'dan-so.csv', type: 'text/csv', data: Buffer.from(POP_CSV) })
  assert.equal(up.statusCode, 201, up.body)
  const { resource, load_report } = up.json()
  assert.equal(load_report.rows_loaded, 4)
  assert.equal(load_report.rows_rejected, 0)
  // Codes with a leading zero stay text (03127 is not the number 3127).
  assert.deepEqual(resource.datastore_fields.map((f: { type: string }) => f.type), ['text', 'text', 'int', 'date', 'numeric'])
  const rid = resource.id

  let r = await ckan('datastore_search', { resource_id: rid, filters: { 'Tên xã': 'Mường Thanh' } })
  assert.equal(r.status, 200)
  assert.equal(r.body.success, true)
  assert.equal(r.body.result.total, 1)
  assert.deepEqual(r.body.result.records[0], { _id: 1, 'Mã xã': '03127', 'Tên xã': 'Mường Thanh', 'Dân số': 12500, 'Ngày cập nhật': '2024-07-01', 'Diện tích': 12.5 })
  // Filters on dates in dd/mm/yyyy, lists of values; q without diacritics; fields; sort; limit/offset.
  r = await ckan('datastore_search', { resource_id: rid, filters: { 'Ngày cập nhật': ['01/07/2024', '2024-07-15'] }, sort: 'Dân số desc', fields: ['Tên xã', 'Dân số'] })
  assert.deepEqual(r.body.result.records, [{ 'Tên xã': 'Mường Thanh', 'Dân số': 12500 }, { 'Tên xã': 'Thanh Bình', 'Dân số': 8300 }])
  r = await ckan('datastore_search', { resource_id: rid, q: 'muong' })
  assert.equal(r.body.result.total, 2)
  r = await ckan('datastore_search', { resource_id: rid, sort: 'Diện tích desc', limit: 1, offset: 1, records_format: 'lists', include_total: false })
  assert.deepEqual(r.body.result.records, [[4, '03160', 'Nà Tấu', 5400, '2024-01-02', 88]])
  assert.equal(r.body.result.total, undefined)
  r = await ckan('datastore_search', { resource_id: rid, fields: 'Mã xã,Tên xã', records_format: 'csv', limit: 2 })
  assert.equal(r.body.result.records, '03127,Mường Thanh\r\n03130,Thanh Bình\r\n')
  // GET with query parameters as ckanapi -g and browsers send them.
  const g = await inject({ method: 'GET', url: `/api/3/action/datastore_search?resource_id=${rid}&filters=${encodeURIComponent(JSON.stringify({ 'Dân số': 6100 }))}&limit=5` })
  assert.equal(g.json().result.records[0]['Tên xã'], 'Mường Phăng')
  // Errors: unknown field, wrong type, bad limit, unknown resource — CKAN's types and codes.
  r = await ckan('datastore_search', { resource_id: rid, filters: { nope: 1 } })
  assert.equal(r.status, 409)
  assert.equal(r.body.error.__type, 'Validation Error')
  r = await ckan('datastore_search', { resource_id: rid, filters: { 'Dân số': 'nhiều' } })
  assert.equal(r.status, 409)
  r = await ckan('datastore_search', { resource_id: rid, limit: 'x' })
  assert.equal(r.status, 409)
  assert.deepEqual(r.body.error.limit, ['Invalid integer'])
  r = await ckan('datastore_search', { resource_id: rid, sort: 'Dân số; drop table users' })
  assert.equal(r.status, 409)
  r = await ckan('datastore_search', { resource_id: '00000000-0000-0000-0000-000000000000' })
  assert.equal(r.status, 404)
  assert.equal(r.body.error.__type, 'Not Found Error')
  r = await ckan('datastore_search', {})
  assert.equal(r.status, 409)

  // Full export, streamed by keyset.
  const ex = await inject({ method: 'GET', url: `/api/data/resources/${rid}/export.csv` })
  assert.equal(ex.statusCode, 200)
  assert.equal(ex.body.split('\r\n')[0], 'Mã xã,Tên xã,Dân số,Ngày cập nhật,Diện tích')
  assert.equal(ex.body.split('\r\n')[3], '03151,Mường Phăng,6100,2023-12-31,120.75')
  // The stored file byte for byte.
  const dl = await inject({ method: 'GET', url: `/api/data/resources/${rid}/download/dan-so.csv` })
  assert.equal(dl.body, POP_CSV)
})

test('declared schema: rows that do not fit are reported with their line numbers, never dropped silently; strict refuses the load', async () => {
  const d = await newDataset(officer)
  const lines = ['ma,so_luong,ngay']
  for (let i = 1; i <= 3000; i++) lines.push(`${i},${i === 1500 ? 'khoảng 20' : i * 2},${i === 2999 ? '31/02/2024' : '01/03/2024'}`)
  const csv = Buffer.from(lines.join('\n'))
  const fields = JSON.stringify([{ id: 'ma', type: 'int' }, { id: 'so_luong', type: 'int' }, { id: 'ngay', type: 'date' }])
  let up = await upload(officer, d.name, { name: 'Declared', fields }, { name: 'a.csv', type: 'text/csv', data: csv })
  assert.equal(up.statusCode, 201, up.body)
  const rep = up.json().load_report
  assert.equal(rep.rows_loaded, 2998)
  assert.equal(rep.rows_rejected, 2)
  assert.deepEqual(rep.rejected.map((x: { line: number; field: string }) => [x.line, x.field]), [[1501, 'so_luong'], [3000, 'ngay']])
  up = await upload(officer, d.name, { name: 'Strict', fields, strict: 'true' }, { name: 'a.csv', type: 'text/csv', data: csv })
  assert.equal(up.statusCode, 400)
  assert.equal(up.json().error.code, 'ROWS_REJECTED')
  assert.equal(up.json().error.details.rejected[0].line, 1501)
  // Inferred instead: the column becomes text and the hint names the line.
  up = await upload(officer, d.name, { name: 'Inferred' }, { name: 'a.csv', type: 'text/csv', data: csv })
  const hints = up.json().load_report.hints
  assert.deepEqual(hints.find((h: { field: string }) => h.field === 'so_luong'), { field: 'so_luong', would_be: 'int', lines: [1501] })
  assert.equal(up.json().load_report.rows_rejected, 0)
})

test('XLSX, JSON and GeoJSON resources load; the dataset page previews the table, draws the map and carries schema.org Dataset markup', async () => {
  const d = await newDataset(officer)
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('Trường học')
  ws.addRow(['Tên trường', 'Số học sinh', 'Ngày thành lập'])
  ws.addRow(['THPT Phan Đình Giót', 1200, new Date(Date.UTC(1980, 8, 5))])
  ws.addRow(['THCS Mường Thanh', 850, '05/09/1995'])
  const xlsx = Buffer.from(await wb.xlsx.writeBuffer())
  let up = await upload(officer, d.name, { name: 'Trường học', description: 'Danh sách trường' }, { name: 'truong.xlsx', type: 'application/octet-stream', data: xlsx })
  assert.equal(up.statusCode, 201, up.body)
  assert.equal(up.json().resource.format, 'XLSX')
  assert.deepEqual(up.json().resource.datastore_fields.map((f: { type: string }) => f.type), ['text', 'int', 'date'])
  const xr = await ckan('datastore_search', { resource_id: up.json().resource.id, filters: { 'Ngày thành lập': '05/09/1980' } })
  assert.equal(xr.body.result.records[0]['Tên trường'], 'THPT Phan Đình Giót')

  up = await upload(officer, d.name, { name: 'JSON', description: 'json' }, { name: 'x.json', type: 'application/json', data: Buffer.from(JSON.stringify([{ a: 1, b: 'Sìn Hồ' }, { a: 2, c: true }])) })
  assert.equal(up.statusCode, 201, up.body)
  assert.deepEqual(up.json().resource.datastore_fields, [{ id: 'a', type: 'int' }, { id: 'b', type: 'text' }, { id: 'c', type: 'bool' }])

  const geo = { type: 'FeatureCollection', features: [
    { type: 'Feature', properties: { name: 'Điểm trường A', hoc_sinh: 40 }, geometry: { type: 'Point', coordinates: [103.02, 21.38] } },
    { type: 'Feature', properties: { name: 'Khu vực B', hoc_sinh: 12 }, geometry: { type: 'Polygon', coordinates: [[[103, 21.3], [103.1, 21.3], [103.1, 21.4], [103, 21.3]]] } },
  ] }
  up = await upload(officer, d.name, { name: 'Bản đồ', description: 'GeoJSON' }, { name: 'diem.geojson', type: 'application/geo+json', data: Buffer.from(JSON.stringify(geo)) })
  assert.equal(up.statusCode, 201, up.body)
  assert.equal(up.json().resource.format, 'GeoJSON')
  assert.equal(up.json().resource.datastore_rows, 2)

  const page = await inject({ method: 'GET', url: `/data/dataset/${d.name}` })
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /<svg[^>]+role="img"/)
  assert.match(page.body, /<circle[^>]*><title>Điểm trường A<\/title>/)
  assert.match(page.body, /<td>THPT Phan Đình Giót<\/td>/)
  const ld = JSON.parse(/<script type="application\/ld\+json">(.*?)<\/script>/s.exec(page.body)![1])
  assert.equal(ld['@type'], 'Dataset')
  assert.equal(ld.distribution.length, 3)
  // Portal search is diacritics-insensitive, like the API.
  const browse = await inject({ method: 'GET', url: `/data?q=${encodeURIComponent('dan so cac xa')}` })
  assert.match(browse.body, new RegExp(`/data/dataset/${d.name}`))
})

test('a new version of a resource swaps the DataStore table; the dataset keeps its history; every change is audited', async () => {
  const d = await newDataset(officer)
  const up = await upload(officer, d.name, { name: 'v', description: 'v' }, { name: 'v.csv', type: 'text/csv', data: Buffer.from('a,b\n1,x\n') })
  const rid = up.json().resource.id
  const m = multipart({}, { name: 'v2.csv', type: 'text/csv', data: Buffer.from('a,b\n1,x\n2,y\n3,z\n') })
  const rep = await inject({ method: 'PUT', url: `/api/data/resources/${rid}/data`, payload: m.payload, headers: { ...officer.headers, ...m.headers } })
  assert.equal(rep.statusCode, 200, rep.body)
  assert.equal(rep.json().resource.version, 3)
  const s = await ckan('datastore_search', { resource_id: rid })
  assert.equal(s.body.result.total, 3)
  const tables = await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = 'datastore' and tablename like ${`r_${rid.replace(/-/g, '')}%`}`.execute(platform.ctx.db)
  assert.equal(tables.rows[0].n, 1, 'the old table is dropped')
  const show = await inject({ method: 'GET', url: `/api/data/datasets/${d.name}` })
  assert.deepEqual(show.json().history.map((h: { change: string }) => h.change), ['resource_data_replaced', 'resource_added', 'created'])
  const audit = await sql<{ action: string }>`select action from audit_log where entity_id in (${d.id}, ${rid}) order by id`.execute(platform.ctx.db)
  assert.deepEqual(audit.rows.map((a) => a.action), ['data.dataset.created', 'data.resource.created', 'data.resource.data_replaced'])
})

test('package_search: q without diacritics, fq, sort, rows/start, facets; package_list, package_show, tag_list, organization_*, resource_show, status_show', async () => {
  const tag = `tag-${process.pid}-${seq}`
  const a = await newDataset(officer, { title: 'Trường học mầm non huyện Mường Nhé', tags: ['giáo dục', tag] })
  const b = await newDataset(officer, { title: 'Trạm y tế xã', tags: ['y tế', tag], license_id: 'odc-odbl' })
  let r = await ckan('package_search', { q: 'truong hoc mam non muong nhe' })
  assert.equal(r.status, 200)
  assert.ok(r.body.result.results.some((p: { name: string }) => p.name === a.name))
  r = await ckan('package_search', { fq: `tags:"${tag}"`, sort: 'metadata_created desc', rows: 1, start: 1, 'facet.field': ['license_id', 'tags'] })
  assert.equal(r.body.result.count, 2)
  assert.equal(r.body.result.results.length, 1)
  assert.equal(r.body.result.results[0].name, a.name) // b is newer, so second is a
  assert.equal(r.body.result.facets.license_id['odc-odbl'], 1)
  assert.equal(r.body.result.search_facets.tags.items.find((i: { name: string }) => i.name === tag).count, 2)
  const g = await inject({ method: 'GET', url: `/api/3/action/package_search?fq=${encodeURIComponent(`tags:${tag} license_id:odc-odbl`)}&facet.field=${encodeURIComponent('["organization"]')}` })
  assert.equal(g.json().result.count, 1)
  assert.equal(g.json().result.results[0].name, b.name)
  r = await ckan('package_search', { fq: 'nonsense:1' })
  assert.equal(r.status, 409)
  assert.equal(r.body.error.__type, 'Search Query Error')
  r = await ckan('package_search', { sort: 'hack desc' })
  assert.equal(r.status, 409)
  r = await ckan('package_search', { rows: 5000 })
  assert.equal(r.status, 409)

  r = await ckan('package_list', { limit: 1000 })
  assert.ok(r.body.result.includes(a.name))
  r = await ckan('package_show', { id: a.name })
  assert.equal(r.body.result.id, a.id)
  assert.equal(r.body.result.organization.name, '11')
  r = await ckan('package_show', { id: a.id })
  assert.equal(r.body.result.name, a.name)
  r = await ckan('package_show', { id: 'khong-co' })
  assert.equal(r.status, 404)
  assert.equal(r.body.error.__type, 'Not Found Error')
  r = await ckan('package_show', {})
  assert.equal(r.status, 409)
  assert.deepEqual(r.body.error.id, ['Missing value'])

  r = await ckan('tag_list', {})
  assert.ok(r.body.result.includes('giáo dục'))
  r = await ckan('tag_list', { query: 'giao', all_fields: true })
  assert.ok(r.body.result.some((t: { name: string; count: number }) => t.name === 'giáo dục' && t.count >= 1))
  r = await ckan('organization_list', {})
  assert.ok(r.body.result.includes('11'))
  r = await ckan('organization_list', { all_fields: true, sort: 'package_count desc', limit: 1 })
  assert.equal(r.body.result[0].name, '11')
  r = await ckan('organization_show', { id: '11', include_datasets: true })
  assert.ok(r.body.result.packages.some((p: { name: string }) => p.name === a.name))
  r = await ckan('organization_show', { id: 'nope' })
  assert.equal(r.status, 404)
  const up = await upload(officer, b.name, { name: 'r', description: 'd' }, { name: 'r.csv', type: 'text/csv', data: Buffer.from('x\n1\n') })
  r = await ckan('resource_show', { id: up.json().resource.id })
  assert.equal(r.body.result.package_id, b.id)
  assert.equal(r.body.result.datastore_active, true)
  r = await ckan('status_show')
  assert.equal(r.body.result.ckan_version.split('.')[0], '2')
  const unknown = await ckan('package_create', { name: 'x' })
  assert.equal(unknown.status, 400)
  assert.equal(unknown.body.success, false)
  const badJson = await inject({ method: 'POST', url: '/api/3/action/package_show', payload: '{bad', headers: { 'content-type': 'application/json' } })
  assert.equal(badJson.statusCode, 400)
  assert.equal(badJson.json().success, false)
})

test('access levels: restricted datasets are seen only by their agency, shared ones by agencies, open ones by everyone', async () => {
  const restricted = await newDataset(officer, { access_level: 'restricted' })
  const shared = await newDataset(officer, { access_level: 'shared' })
  await upload(officer, restricted.name, { name: 'r', description: 'r' }, { name: 'r.csv', type: 'text/csv', data: Buffer.from('x\n1\n') })
  for (const who of [undefined, citizen]) {
    const h = who?.headers ?? {}
    assert.equal((await ckan('package_show', { id: restricted.name }, h)).status, 403)
    assert.equal((await ckan('package_show', { id: shared.name }, h)).status, 403)
    assert.ok(!(await ckan('package_list', {}, h)).body.result.includes(restricted.name))
    assert.equal((await inject({ method: 'GET', url: `/api/data/datasets/${restricted.name}`, headers: h })).statusCode, 404)
    assert.equal((await inject({ method: 'GET', url: `/data/dataset/${restricted.name}`, headers: h })).statusCode, 404)
  }
  assert.equal((await ckan('package_show', { id: shared.name }, otherOfficer.headers)).status, 200)
  assert.equal((await ckan('package_show', { id: restricted.name }, otherOfficer.headers)).status, 403)
  assert.equal((await ckan('package_show', { id: restricted.name }, officer.headers)).status, 200)
  assert.equal((await ckan('package_show', { id: restricted.name }, admin.headers)).status, 200)
  const show = await ckan('package_show', { id: restricted.name }, officer.headers)
  const rid = show.body.result.resources[0].id
  assert.equal((await ckan('datastore_search', { resource_id: rid })).status, 403)
  assert.equal((await inject({ method: 'GET', url: `/api/data/resources/${rid}/export.csv` })).statusCode, 404)
  assert.equal((await inject({ method: 'GET', url: `/api/data/resources/${rid}/export.csv`, headers: officer.headers })).statusCode, 200)
  // Opening it later makes it public.
  const put = await inject({ method: 'PUT', url: `/api/data/datasets/${restricted.name}`, headers: officer.headers, payload: { title: 'Mở', access_level: 'open' } })
  assert.equal(put.statusCode, 200, put.body)
  assert.equal((await ckan('datastore_search', { resource_id: rid })).status, 200)
})

test('authorization of the management routes: roles and own/other unit, checked before the body', async () => {
  const d = await newDataset(officer)
  assert.equal((await inject({ method: 'POST', url: '/api/data/datasets', payload: {} })).statusCode, 401)
  assert.equal((await inject({ method: 'POST', url: '/api/data/datasets', payload: {}, headers: citizen.headers })).statusCode, 403)
  const foreign = await inject({ method: 'POST', url: '/api/data/datasets', headers: otherOfficer.headers, payload: { name: `x-${seq}-f`, title: 'x', owner_org: '11' } })
  assert.equal(foreign.statusCode, 403)
  assert.equal((await upload(otherOfficer, d.name, { name: 'x' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from('a\n1\n') })).statusCode, 403)
  assert.equal((await inject({ method: 'PUT', url: `/api/data/datasets/${d.name}`, headers: otherOfficer.headers, payload: { title: 'x' } })).statusCode, 403)
  assert.equal((await inject({ method: 'PUT', url: `/api/data/datasets/${d.name}`, headers: citizen.headers, payload: {} })).statusCode, 403)
  assert.equal((await inject({ method: 'PUT', url: '/api/data/shared-databases/CSDL-X', headers: officer.headers, payload: {} })).statusCode, 403)
  assert.equal((await inject({ method: 'POST', url: '/api/data/publish-plan', headers: officer.headers, payload: {} })).statusCode, 403)
  assert.equal((await inject({ method: 'POST', url: `/api/data/datasets/${d.name}/reuses`, payload: {} })).statusCode, 401)
  // Bad input: a clear 4xx with a code.
  const bad = await inject({ method: 'POST', url: '/api/data/datasets', headers: officer.headers, payload: { name: 'Có Dấu', title: '' } })
  assert.equal(bad.statusCode, 400)
  assert.equal(bad.json().error.code, 'VALIDATION_FAILED')
  const dup = await inject({ method: 'POST', url: '/api/data/datasets', headers: officer.headers, payload: { name: d.name, title: 'x' } })
  assert.equal(dup.statusCode, 409)
  // Idempotent retry of a create and of an upload.
  const key = `k-${seq}-${Date.now()}`
  const body = { name: `idem-${process.pid}-${seq}`, title: 'Idempotent' }
  const one = await inject({ method: 'POST', url: '/api/data/datasets', headers: { ...officer.headers, 'idempotency-key': key }, payload: body })
  const two = await inject({ method: 'POST', url: '/api/data/datasets', headers: { ...officer.headers, 'idempotency-key': key }, payload: body })
  assert.equal(one.statusCode, 201)
  assert.equal(two.json().id, one.json().id)
  assert.equal(two.headers['idempotent-replayed'], 'true')
  const m = multipart({ name: 'once' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from('a\n1\n') })
  const h = { ...officer.headers, ...m.headers, 'idempotency-key': `${key}-u` }
  const u1 = await inject({ method: 'POST', url: `/api/data/datasets/${d.name}/resources`, payload: m.payload, headers: h })
  const u2 = await inject({ method: 'POST', url: `/api/data/datasets/${d.name}/resources`, payload: m.payload, headers: h })
  assert.equal(u2.json().resource.id, u1.json().resource.id)
  assert.equal((await ckan('package_show', { id: d.name })).body.result.num_resources, 1)
  // An upload beyond the limit is refused (413) — the file part is streamed with a size limit.
  const notTabular = await upload(officer, d.name, { name: 'bin' }, { name: 'a.bin', type: 'application/octet-stream', data: Buffer.from([1, 2, 3]) })
  assert.equal(notTabular.statusCode, 201)
  assert.equal(notTabular.json().resource.datastore_active, false)
})

test('catalogue of shared databases and the publish plan; reuses and quality score', async () => {
  const put = await inject({
    method: 'PUT', url: '/api/data/shared-databases/CSDL-CBCC', headers: admin.headers,
    payload: { name: 'CSDL cán bộ, công chức, viên chức', owner_unit: '11', custodian: 'Sở Nội vụ', description: 'Hồ sơ CBCCVC', fields: [{ name: 'ho_ten', type: 'text' }], update_frequency: 'monthly', access_level: 'restricted', legal_basis: 'Nghị định 47/2020/NĐ-CP', systems_using: ['Quản lý cán bộ'], contact: 'snv@dienbien.gov.vn' },
  })
  assert.equal(put.statusCode, 200, put.body)
  await inject({
    method: 'PUT', url: '/api/data/shared-databases/CSDL-TTHC', headers: admin.headers,
    payload: { name: 'CSDL thủ tục hành chính', owner_unit: '11', custodian: 'VP UBND tỉnh', update_frequency: 'daily', access_level: 'open' },
  })
  const anon = (await inject({ method: 'GET', url: '/api/data/shared-databases' })).json().items.map((s: { code: string }) => s.code)
  assert.ok(anon.includes('CSDL-TTHC') && !anon.includes('CSDL-CBCC'))
  const mine = (await inject({ method: 'GET', url: '/api/data/shared-databases', headers: officer.headers })).json().items.map((s: { code: string }) => s.code)
  assert.ok(mine.includes('CSDL-CBCC'))

  const d = await newDataset(officer)
  const e1 = await inject({ method: 'POST', url: '/api/data/publish-plan', headers: admin.headers, payload: { title: 'Công bố dân số', owner_unit: '11', planned_date: '2099-12-31', shared_database_code: 'CSDL-TTHC' } })
  const e2 = await inject({ method: 'POST', url: '/api/data/publish-plan', headers: admin.headers, payload: { title: 'Công bố trường học', owner_unit: '11', planned_date: '2020-01-01' } })
  assert.equal(e1.statusCode, 201, e1.body)
  const pub = await inject({ method: 'POST', url: `/api/data/publish-plan/${e1.json().id}/published`, headers: admin.headers, payload: { dataset_name: d.name, published_date: '2026-11-01' } })
  assert.equal(pub.statusCode, 200, pub.body)
  const plan = (await inject({ method: 'GET', url: '/api/data/publish-plan' })).json()
  assert.equal(plan.items.find((i: { id: string }) => i.id === e1.json().id).status, 'met')
  assert.equal(plan.items.find((i: { id: string }) => i.id === e2.json().id).status, 'missed')
  const html = await inject({ method: 'GET', url: '/data/catalogue' })
  assert.match(html.body, /CSDL thủ tục hành chính/)
  assert.doesNotMatch(html.body, /CSDL cán bộ/)

  const q0 = (await inject({ method: 'GET', url: `/api/data/datasets/${d.name}/quality` })).json()
  await upload(officer, d.name, { name: 'csv', description: 'Bảng' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from(POP_CSV) })
  const q1 = (await inject({ method: 'GET', url: `/api/data/datasets/${d.name}/quality` })).json()
  assert.ok(q1.score > q0.score, `${q1.score} > ${q0.score}`)
  assert.equal(q1.open_format, 20)
  assert.equal(q1.license, 15)
  assert.equal(q1.freshness, 25)
  const reuse = await inject({ method: 'POST', url: `/api/data/datasets/${d.name}/reuses`, headers: citizen.headers, payload: { kind: 'application', title: 'Bản đồ dân số', url: 'https://example.vn/app' } })
  assert.equal(reuse.statusCode, 201, reuse.body)
  assert.equal((await inject({ method: 'GET', url: `/api/data/datasets/${d.name}` })).json().reuses[0].title, 'Bản đồ dân số')
})

test('DCAT-AP: JSON-LD and Turtle say the same, per dataset and as a paged catalogue', async () => {
  const d = await newDataset(officer)
  await upload(officer, d.name, { name: 'csv', description: 'Bảng' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from(POP_CSV) })
  const jl = (await inject({ method: 'GET', url: `/api/data/dcat/datasets/${d.name}/dcat.jsonld` })).json()
  const ds = jl['@graph'][0]
  assert.equal(ds['@type'], 'dcat:Dataset')
  assert.equal(ds['dct:identifier'], d.id)
  assert.equal(ds['dcat:distribution']['@type'], 'dcat:Distribution')
  const ttl = await inject({ method: 'GET', url: `/api/data/dcat/datasets/${d.name}/dcat.ttl` })
  assert.match(ttl.headers['content-type'] as string, /text\/turtle/)
  const quads = new N3.Parser().parse(ttl.body)
  const dcat = 'http://www.w3.org/ns/dcat#'
  assert.ok(quads.some((q) => q.predicate.value === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' && q.object.value === `${dcat}Dataset` && q.subject.value === ds['@id']))
  assert.ok(quads.some((q) => q.predicate.value === `${dcat}downloadURL`))
  const page = (await inject({ method: 'GET', url: '/api/data/dcat/catalog.jsonld?page=1&page_size=2' })).json()
  const view = page['@graph'].find((n: { '@type': string }) => n['@type'] === 'hydra:PartialCollectionView')
  assert.ok(Number(view['hydra:totalItems']['@value']) >= 2)
  assert.ok(view['hydra:next'])
  const catTtl = await inject({ method: 'GET', url: '/api/data/dcat/catalog.ttl?page=1&page_size=2' })
  assert.ok(new N3.Parser().parse(catTtl.body).length > 10)
})

test('datastore_search_sql: off by default; when on, one read-only SELECT over open resources, time-limited', async () => {
  const d = await newDataset(officer)
  const up = await upload(officer, d.name, { name: 'csv', description: 'x' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from(POP_CSV) })
  const rid = up.json().resource.id
  const off = await ckan('datastore_search_sql', { sql: `select * from "${rid}"` })
  assert.equal(off.status, 403)
  assert.equal(off.body.error.__type, 'Authorization Error')
  const cfg = { ...dataConfig({}), sqlEnabled: true, sqlTimeoutMs: 300 }
  const run = (s: string) => runCkanAction(platform.ctx, cfg, null, 'datastore_search_sql', { sql: s })
  const r = (await run(`select "Tên xã", "Dân số" from "${rid}" where "Dân số" > 6000 order by "Dân số"`)) as { records: Record<string, unknown>[] }
  assert.deepEqual(r.records.map((x) => x['Tên xã']), ['Mường Phăng', 'Thanh Bình', 'Mường Thanh'])
  await assert.rejects(run('select * from public.users'), (e: { type?: string }) => e.type === 'Authorization Error')
  await assert.rejects(run(`delete from "${rid}"`), (e: { type?: string }) => e.type === 'Validation Error')
  await assert.rejects(run(`select 1; select 2`), (e: { type?: string }) => e.type === 'Validation Error')
  // statement_timeout needs a server that can interrupt a query: PostgreSQL, not single-threaded PGlite.
  if (platform.ctx.dbKind === 'postgres') await assert.rejects(run('select pg_sleep(3)'), (e: { type?: string; message?: string }) => e.type === 'Validation Error' && /timeout/.test(e.message ?? ''))
  const restricted = await newDataset(officer, { access_level: 'restricted' })
  const ru = await upload(officer, restricted.name, { name: 'csv', description: 'x' }, { name: 'a.csv', type: 'text/csv', data: Buffer.from(POP_CSV) })
  await assert.rejects(run(`select * from "${ru.json().resource.id}"`), (e: { type?: string }) => e.type === 'Authorization Error')
})

test('platform datasets: refreshed from the geo and services modules and from report/dossier events; unchanged data makes no new version', async () => {
  const first = await refreshPlatformDatasets(platform.ctx, new Date())
  assert.deepEqual(first.map((x) => x.name), ['don-vi-hanh-chinh', 'thu-tuc-hanh-chinh', 'thong-ke-phan-anh-ho-so', 'to-cong-nghe-so-cong-dong'])
  const units = await ckan('package_show', { id: 'don-vi-hanh-chinh' })
  const csvRes = units.body.result.resources.find((r: { format: string }) => r.format === 'CSV')
  const s = await ckan('datastore_search', { resource_id: csvRes.id, filters: { 'Mã': '11' } })
  assert.equal(s.body.result.records.length, 1)
  const proc = await ckan('package_show', { id: 'thu-tuc-hanh-chinh' })
  assert.ok(proc.body.result.resources[0].datastore_rows > 0)
  await platform.ctx.db.transaction().execute(async (tx) => {
    // Payloads shaped as the reports and services modules write them (other modules handle them too).
    await publishEvent(tx, 'report.created', { code: 'PA-TEST', unit_code: '11', commune_code: null, category: 'other', channel: 'app', near_border: false, received_at: new Date().toISOString(), due_at: null })
    await publishEvent(tx, 'dossier.status_changed', { code: 'HS-TEST', action: 'receive', from: 1, to: 2, unit_code: '11', step: 'receive', from_unit: '11', at: new Date().toISOString() })
  })
  await platform.ctx.events.dispatchPending(platform.ctx.db)
  const second = await refreshPlatformDatasets(platform.ctx, new Date())
  assert.equal(second.find((x) => x.name === 'thong-ke-phan-anh-ho-so')!.changed, true)
  assert.equal(second.find((x) => x.name === 'thu-tuc-hanh-chinh')!.changed, false)
  const stats = await ckan('package_show', { id: 'thong-ke-phan-anh-ho-so' })
  const st = await ckan('datastore_search', { resource_id: stats.body.result.resources[0].id, filters: { 'Nguồn': 'reports', 'Chỉ tiêu': 'created' } })
  assert.ok(st.body.result.records[0]['Số lượng'] >= 1)
  // The community digital teams registry follows the community module: a new team is a new version, without members' personal data.
  const { createTeam, addMember } = await import('../community/community.ts')
  const team = await createTeam(platform.ctx.db, 'user:test', { name: 'Tổ CNS bản Him Lam (kiểm thử)', commune_code: '03127', partners: ['VNPT Điện Biên'] }, new Date())
  await addMember(platform.ctx.db, 'user:test', { team_id: team.id, full_name: 'Lò Văn Thành', role: 'leader', phone: '0912345678', organisation: 'youth_union' }, new Date())
  const third = await refreshPlatformDatasets(platform.ctx, new Date())
  assert.equal(third.find((x) => x.name === 'to-cong-nghe-so-cong-dong')!.changed, true)
  const teams = await ckan('package_show', { id: 'to-cong-nghe-so-cong-dong' })
  assert.equal(teams.body.result.license_id, 'cc-by-4.0')
  const tr = await ckan('datastore_search', { resource_id: teams.body.result.resources[0].id, q: 'Him Lam' })
  assert.equal(tr.body.result.records.length, 1, JSON.stringify(tr.body))
  const row = tr.body.result.records[0]
  assert.equal(row['Số thành viên'], 1)
  assert.equal(row['Doanh nghiệp đồng hành'], 'VNPT Điện Biên')
  assert.equal(row['Tổ chức tham gia'], 'youth_union')
  assert.ok(!JSON.stringify(tr.body).includes('0912345678') && !JSON.stringify(tr.body).includes('Lò Văn Thành'), 'no member name or phone')
  // The sector registries are listed in the catalogue of shared databases, once.
  const { listSharedDatabases } = await import('./repository.ts')
  const shared = (await listSharedDatabases(platform.ctx.db, admin.principal as never)).filter((x) => x.code.startsWith('registry.'))
  assert.ok(shared.some((x) => x.code === 'registry.schools' && x.fields.length > 0), 'the schools registry is in the catalogue')
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_log where entity_type = 'shared_database' and entity_id like 'registry.%'`.execute(platform.ctx.db)
  await refreshPlatformDatasets(platform.ctx, new Date())
  const { rows: again } = await sql<{ n: number }>`select count(*)::int as n from audit_log where entity_type = 'shared_database' and entity_id like 'registry.%'`.execute(platform.ctx.db)
  assert.equal(again[0].n, rows[0].n, 'an unchanged schema changes nothing')
})

test('ckanapi over a real socket: POST JSON to /api/action/{name}, the API key raw in Authorization, CKAN envelope parsed as ckanapi does', async () => {
  const restricted = await newDataset(officer, { access_level: 'restricted' })
  const client = await createApiClient(platform.ctx.db, admin.principal as never, { name: 'ckanapi test', unitCode: '11', scopes: [] })
  const address = await platform.app.listen({ port: 0, host: '127.0.0.1' })
  // What ckanapi.RemoteCKAN.call_action does: POST json.dumps(data_dict) with these headers…
  const callAction = async (action: string, data: Record<string, unknown>, apikey?: string) => {
    const res = await fetch(`${address}/api/action/${action}`, {
      method: 'POST', body: JSON.stringify(data),
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'ckanapi/4.7 (+https://github.com/ckan/ckanapi)', ...(apikey ? { Authorization: apikey, 'X-CKAN-API-Key': apikey } : {}) },
    })
    // …and what reverse_apicontroller_action does with the answer.
    const parsed = JSON.parse(await res.text()) as { success: boolean; result?: unknown; error?: { __type: string; message?: string } }
    if (parsed.success) return { ok: true as const, result: parsed.result }
    const kind = { 'Validation Error': 'ValidationError', 'Not Found Error': 'NotFound', 'Authorization Error': 'NotAuthorized', 'Search Query Error': 'SearchQueryError' }[parsed.error!.__type] ?? 'CKANAPIError'
    return { ok: false as const, kind, status: res.status }
  }
  const search = await callAction('package_search', { q: 'dan so', rows: 2 })
  assert.ok(search.ok && (search.result as { count: number }).count >= 1)
  assert.deepEqual(await callAction('package_show', { id: restricted.name }), { ok: false, kind: 'NotAuthorized', status: 403 })
  const withKey = await callAction('package_show', { id: restricted.name }, client.apiKey)
  assert.ok(withKey.ok)
  assert.deepEqual(await callAction('package_show', { id: restricted.name }, 'hb_000000000000_wrongwrongwrongwrongwrong'), { ok: false, kind: 'NotAuthorized', status: 403 })
  assert.deepEqual(await callAction('package_show', { id: 'khong-ton-tai' }), { ok: false, kind: 'NotFound', status: 404 })
  assert.deepEqual(await callAction('datastore_search', { resource_id: 'x', limit: -1 }), { ok: false, kind: 'ValidationError', status: 409 })
})
