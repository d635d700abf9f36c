import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { XMLParser } from 'fast-xml-parser'
import { sql } from 'kysely'
import sharp from 'sharp'
import type { Principal, UserPrincipal } from '../../../platform/auth/principal.ts'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { createApiClient, createUser } from '../../identity/index.ts'
import { getReportByCode, insertHistory, updateReport } from '../repository.ts'
import { applyReportAction } from '../workflow.ts'

// Phường Điện Biên Phủ (03127).
const DBP = { lat: '21.3856', long: '103.0167' }
// Hà Nội: far outside Điện Biên.
const HANOI = { lat: '21.0278', long: '105.8342' }
const PERSONAL = { first_name: 'Quàng Thị', last_name: 'Riêng Tư', phone: '0912 345 678', email: 'rieng.tu@example.vn' }
const CODE = /^PA-\d{4}-\d{6}$/

let platform: Platform
let apiKey: string
let officer: Principal

const xml = new XMLParser({
  parseTagValue: false,
  isArray: (tag) => ['service', 'request', 'error', 'request_update', 'endpoint', 'format', 'attribute'].includes(tag),
})

before(async () => {
  platform = await startTestPlatform()
  const db = platform.ctx.db
  // A real province admin (created by a stand-in admin), who registers the Open311 client.
  const bootstrap: UserPrincipal = { kind: 'user', userId: randomUUID(), role: 'province_admin', unitCode: '11', displayName: 'bootstrap', sessionId: 'test' }
  const admin = await createUser(db, bootstrap, { username: 'o311.admin', displayName: 'Quản trị tỉnh', role: 'province_admin', unitCode: '11', password: 'mat-khau-rat-dai-1' })
  const adminP: UserPrincipal = { kind: 'user', userId: admin.id, role: 'province_admin', unitCode: '11', displayName: admin.display_name, sessionId: 'test' }
  apiKey = (await createApiClient(db, adminP, { name: 'FixMyStreet Điện Biên', unitCode: null, scopes: ['open311'] })).apiKey
  const o = await createUser(db, adminP, { username: 'o311.officer', displayName: 'Cán bộ phường', role: 'officer', unitCode: '03127', password: 'mat-khau-rat-dai-2' })
  officer = { kind: 'user', userId: o.id, role: 'officer', unitCode: '03127', displayName: o.display_name, sessionId: 'test' }
})
after(async () => {
  await platform?.close()
})

const get = (url: string, headers: Record<string, string> = {}) => platform.app.inject({ method: 'GET', url: `/open311/v2/${url}`, headers })

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}

const postForm = (fields: Record<string, string>, opts: { suffix?: string; headers?: Record<string, string> } = {}) =>
  platform.app.inject({
    method: 'POST',
    url: `/open311/v2/requests${opts.suffix ?? '.json'}`,
    payload: form(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
  })

async function submit(fields: Record<string, string> = {}): Promise<string> {
  const res = await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Ổ gà lớn trước chợ', ...DBP, ...fields })
  assert.equal(res.statusCode, 201, res.body)
  return res.json()[0].service_request_id
}

function assertJsonError(res: { statusCode: number; json: () => any; headers: Record<string, unknown> }, status: number) {
  assert.equal(res.statusCode, status)
  assert.match(String(res.headers['content-type']), /application\/json/)
  const body = res.json()
  assert.ok(Array.isArray(body) && body.length === 1, JSON.stringify(body))
  assert.equal(body[0].code, status)
  assert.equal(typeof body[0].description, 'string')
  assert.ok(body[0].description.length > 0)
}

function assertXmlError(res: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number) {
  assert.equal(res.statusCode, status)
  assert.match(String(res.headers['content-type']), /text\/xml/)
  assert.match(res.body, /^<\?xml version="1.0" encoding="UTF-8"\?>/)
  const doc = xml.parse(res.body)
  assert.equal(doc.errors.error.length, 1)
  assert.equal(doc.errors.error[0].code, String(status))
  assert.ok(doc.errors.error[0].description.length > 0)
}

describe('discovery and services', () => {
  test('discovery in JSON and XML', async () => {
    const j = await get('discovery.json')
    assert.equal(j.statusCode, 200)
    const d = j.json()
    assert.equal(d.endpoints[0].specification, 'http://wiki.open311.org/GeoReport_v2')
    assert.equal(d.endpoints[0].type, 'production')
    assert.deepEqual(d.endpoints[0].formats, ['text/xml', 'application/json'])
    assert.match(d.endpoints[0].url, /^http:\/\/[^/]+\/open311\/v2$/)
    assert.ok(d.changeset && d.contact && d.key_service)

    const x = await get('discovery.xml')
    assert.equal(x.statusCode, 200)
    assert.match(String(x.headers['content-type']), /^text\/xml; charset=utf-8/)
    const doc = xml.parse(x.body).discovery
    assert.equal(doc.endpoints.endpoint[0].specification, 'http://wiki.open311.org/GeoReport_v2')
    assert.deepEqual(doc.endpoints.endpoint[0].formats.format, ['text/xml', 'application/json'])

    // No suffix: JSON.
    assert.deepEqual((await get('discovery')).json(), d)
  })

  test('services: categories with Vietnamese names, English on request, in JSON and XML', async () => {
    const vi = (await get('services.json')).json()
    const traffic = vi.find((s: any) => s.service_code === 'traffic')
    assert.equal(traffic.service_name, 'Hạ tầng giao thông (đường, cầu, sạt lở)')
    assert.equal(traffic.metadata, false)
    assert.equal(traffic.type, 'realtime')
    assert.ok(traffic.keywords.includes('đường'))
    assert.ok(traffic.group && traffic.description)

    const en = (await get('services.json?locale=en')).json()
    assert.equal(en.find((s: any) => s.service_code === 'traffic').service_name, 'Traffic infrastructure (roads, bridges, landslides)')
    const byHeader = (await get('services.json', { 'accept-language': 'en-GB,en;q=0.9,vi;q=0.5' })).json()
    assert.equal(byHeader.find((s: any) => s.service_code === 'traffic').service_name, 'Traffic infrastructure (roads, bridges, landslides)')

    const x = await get('services.xml')
    assert.equal(x.statusCode, 200)
    const services = xml.parse(x.body).services.service
    assert.equal(services.length, vi.length)
    const t = services.find((s: any) => s.service_code === 'traffic')
    assert.equal(t.service_name, traffic.service_name)
    assert.equal(t.metadata, 'false')
    assert.equal(t.type, 'realtime')
  })

  test('service definition, and 404 in the Open311 format for an unknown service', async () => {
    assert.deepEqual((await get('services/traffic.json')).json(), { service_code: 'traffic', attributes: [] })
    const x = await get('services/traffic.xml')
    assert.equal(x.statusCode, 200)
    assert.equal(xml.parse(x.body).service_definition.service_code, 'traffic')
    assertJsonError(await get('services/no_such_thing.json'), 404)
    assertXmlError(await get('services/no_such_thing.xml'), 404)
  })

  test('an unknown Open311 path answers 404 in the Open311 format', async () => {
    assertJsonError(await get('nothing-here.json'), 404)
    assertXmlError(await get('nothing-here.xml'), 404)
  })
})

describe('POST requests', () => {
  test('form-encoded with api_key in the body → 201, routed, readable back without personal data', async () => {
    const res = await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Sạt lở taluy dương đoạn qua bản', ...DBP, ...PERSONAL, address_string: 'Tổ 5, phường Điện Biên Phủ', 'attribute[severity]': 'high', jurisdiction_id: 'dienbien.gov.vn', media_url: '' })
    assert.equal(res.statusCode, 201, res.body)
    const [answer] = res.json()
    assert.match(answer.service_request_id, CODE)
    assert.match(answer.service_notice, /Điện Biên Phủ/)
    assert.equal(answer.account_id, null)
    const id = answer.service_request_id

    // Stored on the open311 channel, from the client, with the contact kept for the unit.
    const { rows } = await sql<any>`select channel, unit_code, reporter_name, reporter_phone, reporter_email, address_text from reports where code = ${id}`.execute(platform.ctx.db)
    assert.equal(rows[0].channel, 'open311')
    assert.equal(rows[0].unit_code, '03127')
    assert.equal(rows[0].reporter_name, 'Quàng Thị Riêng Tư')
    assert.equal(rows[0].reporter_phone, PERSONAL.phone)
    assert.equal(rows[0].address_text, 'Tổ 5, phường Điện Biên Phủ')

    const one = await get(`requests/${id}.json`)
    assert.equal(one.statusCode, 200)
    const [r] = one.json()
    assert.equal(r.service_request_id, id)
    assert.equal(r.status, 'open')
    assert.equal(r.service_code, 'traffic')
    assert.equal(r.service_name, 'Hạ tầng giao thông (đường, cầu, sạt lở)')
    assert.equal(r.description, 'Sạt lở taluy dương đoạn qua bản')
    assert.match(r.agency_responsible, /Điện Biên Phủ/)
    assert.equal(r.lat, 21.3856)
    assert.equal(r.long, 103.0167)
    assert.equal(r.address, 'Tổ 5, phường Điện Biên Phủ')
    assert.equal(r.address_id, '03127')
    assert.match(r.requested_datetime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/)
    assert.match(r.expected_datetime, /\+07:00$/)
    assert.equal(r.media_url, '')

    const oneXml = await get(`requests/${id}.xml`)
    const req = xml.parse(oneXml.body).service_requests.request
    assert.equal(req.length, 1)
    assert.equal(req[0].service_request_id, id)
    assert.equal(req[0].long, '103.0167')

    const lists = [
      `requests.json?service_code=traffic,water&status=open`,
      `requests.json?agency_responsible=03127`,
      `requests.json?service_request_id=${id},PA-1999-000001`,
      `requests.json?start_date=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`,
      `requests.xml?service_code=traffic`,
      `requests?page_size=5`,
    ]
    for (const url of lists) {
      const l = await get(url)
      assert.equal(l.statusCode, 200, `${url}: ${l.body}`)
      const items = url.startsWith('requests.xml') ? xml.parse(l.body).service_requests.request : l.json()
      assert.ok(items.some((x: any) => x.service_request_id === id), url)
    }
    for (const url of ['requests.json?status=closed', 'requests.json?service_code=water', 'requests.json?agency_responsible=11.SYT', `requests.json?start_date=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`]) {
      const l = await get(url)
      assert.equal(l.statusCode, 200, l.body)
      assert.ok(!l.json().some((x: any) => x.service_request_id === id), url)
    }

    // No personal data anywhere Open311 answers.
    const everything = [
      one.body,
      oneXml.body,
      (await get('requests.json')).body,
      (await get('requests.xml')).body,
      (await get(`tokens/${id}.json`)).body,
      (await get('servicerequestupdates.json')).body,
    ].join('\n')
    for (const secret of ['Quàng', 'Riêng Tư', '0912', '345 678', 'rieng.tu', 'example.vn']) assert.ok(!everything.includes(secret), `leaked ${secret}`)
  })

  test('JSON body with the key in the X-API-Key header; XML answer', async () => {
    const res = await platform.app.inject({
      method: 'POST',
      url: '/open311/v2/requests.xml',
      headers: { 'x-api-key': apiKey },
      payload: { service_code: 'electricity', description: 'Đèn đường tắt cả dãy', lat: 21.3856, long: 103.0167 },
    })
    assert.equal(res.statusCode, 201, res.body)
    const [r] = xml.parse(res.body).service_requests.request
    assert.match(r.service_request_id, CODE)
    assert.ok(r.service_notice.length > 0)
    const one = (await get(`requests/${r.service_request_id}.json?locale=en`)).json()[0]
    assert.equal(one.service_name, 'Electricity and street lighting')
  })

  test('missing or invalid api_key → 403 in the Open311 format (JSON and XML)', async () => {
    const fields = { service_code: 'traffic', description: 'Không có khoá', ...DBP }
    assertJsonError(await postForm(fields), 403)
    assertXmlError(await postForm(fields, { suffix: '.xml' }), 403)
    assertJsonError(await postForm({ ...fields, api_key: 'hb_000000000000_wrong' }), 403)
    assertXmlError(await postForm({ ...fields, api_key: 'not-a-key' }, { suffix: '.xml' }), 403)
    // The key in the query string is checked by the platform; the answer is still Open311's.
    assertJsonError(await platform.app.inject({ method: 'POST', url: '/open311/v2/requests.json?api_key=hb_000000000000_wrong', payload: form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 403)
    // Even with no body at all.
    assertJsonError(await platform.app.inject({ method: 'POST', url: '/open311/v2/requests.json' }), 403)
  })

  test('bad service_code, bad input and a position outside the province → 400 in the Open311 format', async () => {
    assertJsonError(await postForm({ api_key: apiKey, service_code: 'potholes', description: 'Ổ gà', ...DBP }), 400)
    assertXmlError(await postForm({ api_key: apiKey, service_code: 'potholes', description: 'Ổ gà', ...DBP }, { suffix: '.xml' }), 400)
    assertJsonError(await postForm({ api_key: apiKey, description: 'Thiếu mã dịch vụ', ...DBP }), 400)
    assertJsonError(await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Chỉ có vĩ độ', lat: '21.3856' }), 400)
    assertJsonError(await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Không vị trí', address_string: 'Chợ trung tâm' }), 400)
    assertJsonError(await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Vĩ độ chữ', lat: 'abc', long: '103' }), 400)
    const outside = await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Ở Hà Nội', ...HANOI })
    assertJsonError(outside, 400)
    assert.match(outside.json()[0].description, /outside the province/)
    assertXmlError(await postForm({ api_key: apiKey, service_code: 'traffic', description: 'Ở Hà Nội', ...HANOI }, { suffix: '.xml' }), 400)
  })

  test('a retry with the same Idempotency-Key returns the same id and creates nothing', async () => {
    const fields = { api_key: apiKey, service_code: 'environment', description: `Rác thải ứ đọng ${randomUUID()}`, ...DBP }
    const headers = { 'idempotency-key': `fms-${randomUUID()}` }
    const first = await postForm(fields, { headers })
    const second = await postForm(fields, { headers })
    assert.equal(first.statusCode, 201, first.body)
    assert.equal(second.statusCode, 201, second.body)
    assert.equal(second.headers['idempotent-replayed'], 'true')
    assert.equal(second.json()[0].service_request_id, first.json()[0].service_request_id)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from reports where description = ${fields.description}`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1)
    // Same key, different request: a conflict, still in the Open311 format.
    assertJsonError(await postForm({ ...fields, description: 'Khác hẳn' }, { headers }), 409)
  })

  test('a photo sent through the main API shows as an absolute media_url', async () => {
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 10, g: 120, b: 40 } } }).jpeg().toBuffer()
    const boundary = 'open311test'
    const fields = { category: 'traffic', description: 'Ảnh ổ gà', lat: DBP.lat, lon: DBP.long }
    const parts: Buffer[] = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), jpeg, Buffer.from(`\r\n--${boundary}--\r\n`))
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } })
    assert.equal(res.statusCode, 201, res.body)
    const code = res.json().code
    const r = (await get(`requests/${code}.json`)).json()[0]
    assert.equal(r.media_url, `http://localhost:80/api/reports/${code}/photos/0`)
  })
})

describe('GET requests and tokens', () => {
  test('one request: 404 in the Open311 format when missing', async () => {
    assertJsonError(await get('requests/PA-1999-000001.json'), 404)
    assertXmlError(await get('requests/PA-1999-000001.xml'), 404)
    assertJsonError(await get('requests/garbage.json'), 404)
  })

  test('list filters are checked', async () => {
    assertJsonError(await get('requests.json?status=pending'), 400)
    assertJsonError(await get('requests.json?start_date=yesterday'), 400)
    assertXmlError(await get('requests.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z'), 400)
    assertJsonError(await get('requests.json?page_size=5000'), 400)
  })

  test('tokens: the token is the service_request_id', async () => {
    const id = await submit()
    assert.deepEqual((await get(`tokens/${id}.json`)).json(), [{ service_request_id: id, token: id }])
    const x = xml.parse((await get(`tokens/${id}.xml`)).body)
    assert.equal(x.service_requests.request[0].token, id)
    assertJsonError(await get('tokens/PA-1999-000001.json'), 404)
  })
})

describe('servicerequestupdates (FixMyStreet extension)', () => {
  test('status changes appear with extended statuses and public text only', async () => {
    const start = new Date(Date.now() - 1000)
    const id = await submit({ description: 'Cống thoát nước bị tắc', ...PERSONAL })
    const deps = { db: platform.ctx.db, now: new Date(), provinceCode: '11', uploadDir: platform.ctx.config.uploadDir }
    await applyReportAction(deps, id, 'start', { note: 'ghi chú nội bộ: gọi anh Tư' }, officer)
    await applyReportAction({ ...deps, now: new Date(Date.now() + 5) }, id, 'resolve', { answer: 'Đã nạo vét cống, nước thoát bình thường.' }, officer)
    const window = `start_date=${encodeURIComponent(start.toISOString())}&end_date=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`

    const res = await get(`servicerequestupdates.json?${window}`)
    assert.equal(res.statusCode, 200, res.body)
    const mine = res.json().filter((u: any) => u.service_request_id === id)
    assert.deepEqual(mine.map((u: any) => u.status), ['IN_PROGRESS', 'FIXED'])
    assert.equal(mine[1].description, 'Đã nạo vét cống, nước thoát bình thường.')
    for (const u of mine) {
      assert.match(u.update_id, /^\d+$/)
      assert.match(u.updated_datetime, /\+07:00$/)
      assert.equal(u.media_url, '')
    }
    // Neither the internal note, the officer nor the reporter.
    for (const secret of ['nội bộ', 'anh Tư', 'Cán bộ phường', officer.kind === 'user' ? officer.userId : '', 'Quàng', '0912']) assert.ok(!res.body.includes(secret), `leaked ${secret}`)

    const x = await get(`servicerequestupdates.xml?${window}`)
    const updates = xml.parse(x.body).service_request_updates.request_update.filter((u: any) => u.service_request_id === id)
    assert.deepEqual(updates.map((u: any) => u.status), ['IN_PROGRESS', 'FIXED'])

    // The request itself is now closed, with the answer as its status notes.
    const r = (await get(`requests/${id}.json`)).json()[0]
    assert.equal(r.status, 'closed')
    assert.equal(r.status_notes, 'Đã nạo vét cống, nước thoát bình thường.')
    assert.ok((await get('requests.json?status=closed')).json().some((x: any) => x.service_request_id === id))

    // Limited range.
    assertJsonError(await get('servicerequestupdates.json?start_date=2026-01-01&end_date=2026-03-01'), 400)
  })

  test('transfers, rejections and duplicates map to OPEN, NO_FURTHER_ACTION and DUPLICATE', async () => {
    // History rows as the workflow writes them (written directly here, with the repository's own functions).
    const start = new Date(Date.now() - 1000)
    const db = platform.ctx.db
    const province = platform.ctx.config.provinceCode
    const [a, b, c] = [await submit({ description: 'Lấn chiếm vỉa hè' }), await submit({ description: 'Biển báo đổ' }), await submit({ description: 'Biển báo đổ (gửi lại)' })]
    const at = (ms: number) => new Date(Date.now() + ms)
    const ra = (await getReportByCode(db, province, a))!
    await updateReport(db, province, ra.id, { unit_code: '11.SXD' })
    await insertHistory(db, { reportId: ra.id, at: at(1), actor: 'user:x', action: 'transfer', fromStatus: 'received', toStatus: 'received', fromUnit: '03127', toUnit: '11.SXD', note: 'lý do nội bộ' })
    const rb = (await getReportByCode(db, province, b))!
    await updateReport(db, province, rb.id, { status: 'rejected', reject_reason: 'Không thuộc thẩm quyền của phường.', outcome: 'rejected' })
    await insertHistory(db, { reportId: rb.id, at: at(2), actor: 'user:x', action: 'reject', fromStatus: 'received', toStatus: 'rejected', fromUnit: '03127', toUnit: '03127', note: 'Không thuộc thẩm quyền của phường.' })
    const rc = (await getReportByCode(db, province, c))!
    await updateReport(db, province, rc.id, { status: 'closed', outcome: 'duplicate', merged_into: rb.id })
    await insertHistory(db, { reportId: rc.id, at: at(3), actor: 'user:x', action: 'merge', fromStatus: 'received', toStatus: 'closed', fromUnit: '03127', toUnit: '03127', note: `merged into ${b}` })

    const res = await get(`servicerequestupdates.json?locale=en&start_date=${encodeURIComponent(start.toISOString())}&end_date=${encodeURIComponent(at(60_000).toISOString())}`)
    assert.equal(res.statusCode, 200, res.body)
    const byId = (id: string) => res.json().filter((u: any) => u.service_request_id === id)
    assert.deepEqual(byId(a).map((u: any) => [u.status, u.description]), [['OPEN', 'Transferred to Department of Construction.']])
    assert.deepEqual(byId(b).map((u: any) => [u.status, u.description]), [['NO_FURTHER_ACTION', 'Không thuộc thẩm quyền của phường.']])
    assert.deepEqual(byId(c).map((u: any) => [u.status, u.description]), [['DUPLICATE', `Duplicate of ${b}; merged into it.`]])
    assert.ok(!res.body.includes('lý do nội bộ'))
    // The merged duplicate is closed, and only listed when asked for by id.
    assert.equal((await get(`requests/${c}.json`)).json()[0].status_notes, `Trùng với phản ánh ${b}.`)
    assert.ok(!(await get('requests.json')).json().some((x: any) => x.service_request_id === c))
  })
})
