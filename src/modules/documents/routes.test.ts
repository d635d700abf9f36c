import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import PDFDocument from 'pdfkit'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { calendarModule } from '../calendar/index.ts'
import { geoModule } from '../geo/index.ts'
import { identityModule } from '../identity/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { documentsModule } from './index.ts'

const A = '03127'
const B = '11.SYT'
let platform: Platform
let officerA: TestUser, leaderA: TestUser, officerB: TestUser, citizen: TestUser, admin: TestUser

before(async () => {
  // A ticking clock in June 2026, so register years do not depend on when the tests run.
  const started = Date.now()
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, documentsModule], clock: () => new Date(Date.parse('2026-06-20T02:00:00Z') + Date.now() - started) })
  const db = platform.ctx.db
  ;[officerA, leaderA, officerB, citizen, admin] = await Promise.all([
    createTestUser(db, 'officer', A), createTestUser(db, 'unit_admin', A), createTestUser(db, 'officer', B), createTestUser(db, 'citizen'), createTestUser(db, 'province_admin'),
  ])
})
after(async () => {
  await platform?.close()
})

function makePdf(lines: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ info: { CreationDate: new Date('2026-01-01T00:00:00Z') } })
    const chunks: Buffer[] = []
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
    doc.font('node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf').fontSize(14)
    for (const l of lines) doc.text(l)
    doc.end()
  })
}

function multipart(fields: Record<string, string | string[]>, file?: { field?: string; name: string; data: Buffer; type: string }) {
  const boundary = '----hoaban' + Math.random().toString(16).slice(2)
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) {
    for (const x of Array.isArray(v) ? v : [v]) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${x}\r\n`))
  }
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`), file.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

const incoming = (user: TestUser | null, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: body, headers: { ...(user?.headers ?? {}), ...headers } })

const baseIncoming = { doc_type: 'CV', symbol: '125/SXD-QLXD', issuer: 'Sở Xây dựng tỉnh Điện Biên', issued_at: '2026-06-10', summary: 'V/v rà soát công trình' }

let pdfDoc: { id: string; sha256: string; bytes: Buffer }

test('an incoming PDF is registered untouched and returned byte for byte with its sha256', async () => {
  const pdf = await makePdf(['ỦY BAN NHÂN DÂN TỈNH ĐIỆN BIÊN', 'Về việc sửa chữa đường giao thông xã Mường Phăng', 'Kính gửi: Ủy ban nhân dân phường Điện Biên Phủ'])
  const sha = createHash('sha256').update(pdf).digest('hex')
  const mp = multipart({ doc_type: 'CV', symbol: '45/UBND-KT', issuer: 'UBND tỉnh Điện Biên', signer: 'Lê Văn B', issued_at: '2026-06-12', summary: 'Công văn về kế hoạch năm', urgency: 'urgent', recipients: ['Phòng Kinh tế', 'Văn phòng'] }, { name: 'cong-van-45.pdf', data: pdf, type: 'application/pdf' })
  const res = await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: mp.payload, headers: { ...mp.headers, ...officerA.headers } })
  assert.equal(res.statusCode, 201, res.body)
  const d = res.json()
  assert.equal(d.direction, 'incoming')
  assert.equal(d.agency_code, A)
  assert.equal(d.number, 1)
  assert.equal(d.symbol, '45/UBND-KT')
  assert.equal(d.urgency, 'urgent')
  assert.deepEqual(d.recipients, ['Phòng Kinh tế', 'Văn phòng'])
  assert.deepEqual(d.file, { name: 'cong-van-45.pdf', mime: 'application/pdf', size: pdf.length, sha256: sha, url: `/api/documents/${d.id}/file` })
  pdfDoc = { id: d.id, sha256: sha, bytes: pdf }

  const file = await platform.app.inject({ method: 'GET', url: `/api/documents/${d.id}/file`, headers: officerA.headers })
  assert.equal(file.statusCode, 200)
  assert.ok(file.rawPayload.equals(pdf), 'byte-identical')
  assert.equal(createHash('sha256').update(file.rawPayload).digest('hex'), sha)
  assert.equal(file.headers.etag, `"${sha}"`)
  assert.equal(file.headers.digest, `sha-256=${Buffer.from(sha, 'hex').toString('base64')}`)
  assert.match(String(file.headers['content-type']), /^application\/pdf/)
  const again = await platform.app.inject({ method: 'GET', url: `/api/documents/${d.id}/file`, headers: { ...officerA.headers, 'if-none-match': `"${sha}"` } })
  assert.equal(again.statusCode, 304)
})

test('search ignores diacritics over the summary and the PDF text, scoped to the unit', async () => {
  await incoming(officerA, { ...baseIncoming, summary: 'Quyết định phê duyệt quy hoạch chi tiết' })
  const search = (user: TestUser, qs: string) => platform.app.inject({ method: 'GET', url: `/api/documents?${qs}`, headers: user.headers })
  const byPdf = await search(officerA, `q=${encodeURIComponent('duong giao thong muong phang')}`)
  assert.equal(byPdf.statusCode, 200)
  assert.deepEqual(byPdf.json().items.map((x: { id: string }) => x.id), [pdfDoc.id])
  const bySummary = (await search(officerA, 'q=quyet+dinh+phe+duyet')).json().items
  assert.equal(bySummary.length, 1)
  assert.equal(bySummary[0].summary, 'Quyết định phê duyệt quy hoạch chi tiết')
  assert.equal((await search(officerA, `q=${encodeURIComponent('QUYẾT ĐỊNH')}`)).json().items.length, 1)
  assert.equal((await search(officerA, 'q=100%25')).json().items.length, 0)
  assert.equal((await search(officerB, 'q=muong+phang')).json().items.length, 0, 'another unit sees nothing')
  assert.equal((await search(admin, 'q=muong+phang')).json().items.length, 1, 'province admin sees all')
  assert.equal((await search(officerA, 'direction=outgoing&q=muong')).json().items.length, 0)

  const p1 = (await search(officerA, 'limit=1')).json()
  assert.equal(p1.items.length, 1)
  assert.ok(p1.next_cursor)
  const p2 = (await search(officerA, `limit=1&cursor=${p1.next_cursor}`)).json()
  assert.equal(p2.items.length, 1)
  assert.notEqual(p2.items[0].id, p1.items[0].id)
  assert.equal((await search(officerA, 'cursor=nonsense')).statusCode, 400)
})

test('authorization: anonymous 401, citizen 403 before validation, other units see nothing', async () => {
  const anon = await platform.app.inject({ method: 'GET', url: '/api/documents' })
  assert.equal(anon.statusCode, 401)
  assert.equal(anon.json().error.code, 'UNAUTHENTICATED')
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/documents/registers', headers: citizen.headers })).statusCode, 403)
  assert.equal((await incoming(citizen, {})).statusCode, 403, 'authorization before body validation')
  assert.equal((await incoming(null, {})).statusCode, 401)
  const mp = multipart({ summary: 'x' }, { name: 'a.pdf', data: Buffer.from('%PDF-1.4'), type: 'application/pdf' })
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: mp.payload, headers: mp.headers })).statusCode, 401)
  assert.equal((await platform.app.inject({ method: 'POST', url: `/api/documents/${pdfDoc.id}/assign`, payload: {}, headers: citizen.headers })).statusCode, 403)

  const other = await platform.app.inject({ method: 'GET', url: `/api/documents/${pdfDoc.id}`, headers: officerB.headers })
  assert.equal(other.statusCode, 404)
  assert.equal((await platform.app.inject({ method: 'GET', url: `/api/documents/${pdfDoc.id}/file`, headers: officerB.headers })).statusCode, 404)
  assert.equal((await platform.app.inject({ method: 'GET', url: `/api/documents/${pdfDoc.id}/file`, headers: citizen.headers })).statusCode, 403)
  const foreign = await platform.app.inject({ method: 'POST', url: '/api/documents/outgoing', payload: { agency_code: A, doc_type: 'QĐ', summary: 'x' }, headers: officerB.headers })
  assert.equal(foreign.statusCode, 403)
  const regs = (await platform.app.inject({ method: 'GET', url: '/api/documents/registers', headers: officerB.headers })).json()
  assert.ok(regs.items.every((r: { agency_code: string }) => r.agency_code === B))
  assert.equal((await platform.app.inject({ method: 'GET', url: `/api/documents/registers?unit_code=${A}`, headers: officerB.headers })).statusCode, 403)
  const mine = (await platform.app.inject({ method: 'GET', url: '/api/documents/registers', headers: officerA.headers })).json()
  assert.deepEqual(mine.items.find((r: { direction: string }) => r.direction === 'incoming'), { agency_code: A, direction: 'incoming', year: 2026, last_number: 2, documents: 2 })
})

test('incoming handling: assign to a leader, direct to a unit with a deadline, progress, done', async () => {
  const id = pdfDoc.id
  const act = (user: TestUser, action: string, payload: object) => platform.app.inject({ method: 'POST', url: `/api/documents/${id}/${action}`, payload, headers: user.headers })
  assert.equal((await act(officerA, 'assign', { leader_user_id: officerB.id })).statusCode, 400, 'leader of another unit')
  assert.equal((await act(officerA, 'assign', { leader_user_id: officerA.id })).json().error.code, 'INVALID_LEADER', 'an officer of the unit who is not its leader')
  const assigned = await act(officerA, 'assign', { leader_user_id: leaderA.id, note: 'Kính trình' })
  assert.equal(assigned.statusCode, 200, assigned.body)
  assert.equal(assigned.json().status, 'assigned')
  assert.equal((await act(officerA, 'direct', { unit_code: B, deadline: '2026-07-01' })).statusCode, 403, 'only the leader directs')
  assert.equal((await act(leaderA, 'direct', { unit_code: B, user_id: officerB.id, deadline: '2026-07-01' })).statusCode, 400)
  assert.equal((await act(leaderA, 'direct', { unit_code: B, deadline: '2026-02-30' })).statusCode, 400)
  const directed = await act(leaderA, 'direct', { unit_code: B, deadline: '2026-07-01', note: 'Sở Y tế chủ trì' })
  assert.equal(directed.statusCode, 200, directed.body)
  assert.equal(directed.json().handler_unit_code, B)
  assert.equal(directed.json().handling_deadline, '2026-07-01')
  // The unit directed to handle it now sees it.
  assert.equal((await platform.app.inject({ method: 'GET', url: `/api/documents/${id}`, headers: officerB.headers })).statusCode, 200)
  assert.equal((await act(officerB, 'handling', {})).statusCode, 400)
  assert.equal((await act(officerB, 'handling', { note: 'Đang kiểm tra hiện trường' })).json().status, 'in_progress')
  const done = await act(officerB, 'handling', { done: true, note: 'Đã xử lý' })
  assert.equal(done.json().status, 'done')
  assert.equal((await act(officerB, 'handling', { note: 'again' })).statusCode, 409)
  const detail = (await platform.app.inject({ method: 'GET', url: `/api/documents/${id}`, headers: officerA.headers })).json()
  assert.deepEqual(detail.history.map((h: { action: string }) => h.action), ['registered', 'assigned', 'directed', 'progress', 'done'])
})

test('outgoing: numbered in the register with its symbol, links shown on the document', async () => {
  const r1 = await platform.app.inject({ method: 'POST', url: '/api/documents/outgoing', payload: { doc_type: 'TB', summary: 'Thông báo lịch tiếp công dân', signer: 'Chủ tịch', links: [{ kind: 'report', ref: 'PA-2026-000007' }] }, headers: officerA.headers })
  assert.equal(r1.statusCode, 201, r1.body)
  assert.equal(r1.json().symbol, '01/TB-UBND')
  assert.equal(r1.json().status, 'issued')
  const r2 = await platform.app.inject({ method: 'POST', url: '/api/documents/outgoing', payload: { doc_type: 'QĐ', summary: 'Quyết định khác' }, headers: officerA.headers })
  assert.equal(r2.json().symbol, '02/QĐ-UBND')
  const detail = (await platform.app.inject({ method: 'GET', url: `/api/documents/${r1.json().id}`, headers: officerA.headers })).json()
  assert.deepEqual(detail.links.map((l: { kind: string; ref: string }) => [l.kind, l.ref]), [['report', 'PA-2026-000007']])
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/documents/outgoing', payload: { doc_type: 'TB', summary: 'x' }, headers: admin.headers })).statusCode, 400, 'admin must name the agency')
  const byAdmin = await platform.app.inject({ method: 'POST', url: '/api/documents/outgoing', payload: { agency_code: '11.SXD', doc_type: 'TB', summary: 'x' }, headers: admin.headers })
  assert.equal(byAdmin.json().symbol, '01/TB-SXD')
  assert.equal((await platform.app.inject({ method: 'POST', url: `/api/documents/${r1.json().id}/assign`, payload: { leader_user_id: leaderA.id }, headers: officerA.headers })).statusCode, 409)
})

test('idempotent retries replay the first answer; a different request with the key is refused', async () => {
  const h = { 'idempotency-key': 'doc-retry-1' }
  const a = await incoming(officerA, { ...baseIncoming, summary: 'Giấy mời họp' }, h)
  const b = await incoming(officerA, { ...baseIncoming, summary: 'Giấy mời họp' }, h)
  assert.equal(a.statusCode, 201)
  assert.equal(b.statusCode, 201)
  assert.equal(b.headers['idempotent-replayed'], 'true')
  assert.equal(b.json().id, a.json().id)
  assert.equal((await incoming(officerA, { ...baseIncoming, summary: 'Khác' }, h)).statusCode, 409)
})

test('bad input is refused with 4xx in the platform shape', async () => {
  const cases: [Record<string, unknown>, number][] = [
    [{ ...baseIncoming, summary: 'x'.repeat(2001) }, 400],
    [{ ...baseIncoming, summary: '' }, 400],
    [{ ...baseIncoming, doc_type: 'Q Đ!' }, 400],
    [{ ...baseIncoming, issued_at: '12/06/2026' }, 400],
    [{ ...baseIncoming, urgency: 'asap' }, 400],
    [{ ...baseIncoming, file: 'JVBERi0=' }, 400],
    [{ ...baseIncoming, agency_code: B }, 403],
  ]
  for (const [body, status] of cases) {
    const res = await incoming(officerA, body)
    assert.equal(res.statusCode, status, `${JSON.stringify(body).slice(0, 80)}: ${res.body}`)
    assert.ok(res.json().error.message_vi && res.json().error.message_en)
  }
  const wrongField = multipart(baseIncoming, { field: 'attachment', name: 'a.pdf', data: Buffer.from('%PDF-1.4'), type: 'application/pdf' })
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: wrongField.payload, headers: { ...wrongField.headers, ...officerA.headers } })).statusCode, 400)
  // A damaged "PDF" is still registered; its text just cannot be read.
  const broken = multipart(baseIncoming, { name: 'broken.pdf', data: Buffer.from('%PDF-1.7 not really a pdf'), type: 'application/pdf' })
  assert.equal((await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: broken.payload, headers: { ...broken.headers, ...officerA.headers } })).statusCode, 201)
  const huge = multipart(baseIncoming, { name: 'huge.pdf', data: Buffer.alloc(20 * 1_048_576 + 1, 0x20), type: 'application/pdf' })
  const tooLarge = await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: huge.payload, headers: { ...huge.headers, ...officerA.headers } })
  assert.equal(tooLarge.statusCode, 413, tooLarge.body)
  // Above the app-wide 10 MB photo limit but within the 20 MB document limit.
  const big = multipart(baseIncoming, { name: 'scan.pdf', data: Buffer.alloc(15 * 1_048_576, 0x20), type: 'application/pdf' })
  const bigRes = await platform.app.inject({ method: 'POST', url: '/api/documents/incoming', payload: big.payload, headers: { ...big.headers, ...officerA.headers } })
  assert.equal(bigRes.statusCode, 201, bigRes.body)
  assert.equal(bigRes.json().file.size, 15 * 1_048_576)
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/documents/not-a-uuid', headers: officerA.headers })).statusCode, 400)
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/documents/00000000-0000-4000-8000-000000000000', headers: officerA.headers })).statusCode, 404)
  assert.equal((await platform.app.inject({ method: 'GET', url: '/api/documents?limit=1000', headers: officerA.headers })).statusCode, 400)
})

test('every documents route refuses anonymous callers (401) and citizens (403), as route-policy expects for "staff"', async () => {
  const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json()
  const routes = Object.entries<Record<string, unknown>>(doc.paths).filter(([p]) => p.startsWith('/api/documents')).flatMap(([path, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), path] as const))
  assert.equal(routes.length, 9)
  for (const [method, path] of routes) {
    const url = path.replace(/\{(\w+)\}/g, 'x')
    const payload = method === 'GET' ? undefined : {}
    assert.equal((await platform.app.inject({ method: method as 'GET', url, payload })).statusCode, 401, `${method} ${path}`)
    assert.equal((await platform.app.inject({ method: method as 'GET', url, payload, headers: citizen.headers })).statusCode, 403, `${method} ${path}`)
  }
})
