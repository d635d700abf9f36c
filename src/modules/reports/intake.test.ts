import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import sharp from 'sharp'
import exifr from 'exifr'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'

// Phường Điện Biên Phủ (03127), about 0.6 km inside its border.
const DBP = { lat: 21.3856, lon: 103.0167 }
let platform: Platform

before(async () => {
  platform = await startTestPlatform()
})
after(async () => {
  await platform?.close()
})

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  platform.app.inject({ method: 'POST', url: '/api/reports', payload: payload as object, headers: { 'content-type': 'application/json', ...headers } })

function multipart(fields: Record<string, string>, files: { name: string; data: Buffer; type?: string }[]) {
  const boundary = '----hoaban' + Math.random().toString(16).slice(2)
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="${f.name}"\r\nContent-Type: ${f.type ?? 'image/jpeg'}\r\n\r\n`), f.data, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

async function jpegWithGps(lat: number, lon: number): Promise<Buffer> {
  // A real JPEG with EXIF GPS (and a camera owner name) written by libvips.
  const toDms = (x: number) => {
    const d = Math.floor(x)
    const m = Math.floor((x - d) * 60)
    const s = ((x - d) * 60 - m) * 60
    return `${d}/1 ${m}/1 ${Math.round(s * 1000)}/1000`
  }
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .jpeg()
    .withExif({ IFD0: { Artist: 'Nguyen Van A', Make: 'TestCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: toDms(lat), GPSLongitudeRef: 'E', GPSLongitude: toDms(lon) } })
    .toBuffer()
}

describe('intake: routed in the same request', () => {
  test('a report inside a commune goes to that commune with a tracking code and due times', async () => {
    const res = await post({ category: 'traffic', description: 'Ổ gà lớn giữa đường', channel: 'app', ...DBP })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json()
    assert.match(body.code, /^PA-\d{4}-\d{6}$/)
    assert.equal(body.unit.code, '03127')
    assert.equal(body.commune.code, '03127')
    assert.equal(body.locate_status, 'inside')
    assert.equal(body.status, 'received')
    assert.ok(new Date(body.state_due_at) > new Date())
    assert.ok(new Date(body.due_at) > new Date(body.state_due_at))
    const audit = await sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'report.created' and entity_id = ${body.code}`.execute(platform.ctx.db)
    assert.equal(audit.rows[0].n, 1)
    const events = await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = 'report.created' and payload->>'code' = ${body.code}`.execute(platform.ctx.db)
    assert.equal(events.rows[0].n, 1)
  })

  test('a department category goes to the department, keeping the commune', async () => {
    const res = await post({ category: 'electricity', description: 'Đèn đường hỏng cả đoạn', ...DBP })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().unit.code, '11.PCDB')
    assert.equal(res.json().commune.code, '03127')
  })

  test('tracking codes increase within the year', async () => {
    const a = (await post({ category: 'other', description: 'Một', ...DBP })).json().code
    const b = (await post({ category: 'other', description: 'Hai', ...DBP })).json().code
    assert.ok(Number(b.slice(8)) > Number(a.slice(8)))
  })

  test('a point far outside the province is refused clearly', async () => {
    const res = await post({ category: 'traffic', description: 'Hà Nội', lat: 21.0285, lon: 105.8542 })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().error.code, 'OUTSIDE_PROVINCE')
    assert.ok(res.json().error.message_vi && res.json().error.message_en)
  })

  test('outside, but with a commune picked by hand, it waits in the province unlocated queue', async () => {
    const res = await post({ category: 'traffic', description: 'Vị trí GPS sai', lat: 21.0285, lon: 105.8542, commune_code: '03127' })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().locate_status, 'unlocated')
    assert.equal(res.json().unit.code, '11')
  })

  test('without a position, a picked commune routes it (SMS/hotline style)', async () => {
    const res = await post({ category: 'water', description: 'Mất nước', commune_code: '03127' })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().locate_status, 'manual')
    assert.equal(res.json().unit.code, '03127')
  })

  test('no position and no commune is a 400', async () => {
    const res = await post({ category: 'water', description: 'Mất nước' })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().error.code, 'LOCATION_REQUIRED')
  })
})

describe('intake: idempotency', () => {
  test('same key and same body: the same answer, no duplicate', async () => {
    const payload = { category: 'environment', description: 'Rác ven suối (idem)', ...DBP }
    const a = await post(payload, { 'idempotency-key': 'idem-same-1' })
    const b = await post(payload, { 'idempotency-key': 'idem-same-1' })
    assert.equal(a.statusCode, 201)
    assert.equal(b.statusCode, 201)
    assert.equal(b.json().code, a.json().code)
    assert.equal(b.headers['idempotent-replayed'], 'true')
    const n = await sql<{ n: number }>`select count(*)::int as n from reports where description = 'Rác ven suối (idem)'`.execute(platform.ctx.db)
    assert.equal(n.rows[0].n, 1)
  })

  test('same key with another body is a 409', async () => {
    await post({ category: 'environment', description: 'Lần một', ...DBP }, { 'idempotency-key': 'idem-diff-1' })
    const res = await post({ category: 'environment', description: 'Lần hai', ...DBP }, { 'idempotency-key': 'idem-diff-1' })
    assert.equal(res.statusCode, 409)
    assert.equal(res.json().error.code, 'IDEMPOTENCY_KEY_REUSED')
  })

  test('concurrent retries with one key make one report', async () => {
    const payload = { category: 'environment', description: 'Đồng thời (idem)', ...DBP }
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(payload, { 'idempotency-key': 'idem-conc-1' })))
    assert.ok(answers.every((r) => r.statusCode === 201))
    assert.equal(new Set(answers.map((r) => r.json().code)).size, 1)
    const n = await sql<{ n: number }>`select count(*)::int as n from reports where description = 'Đồng thời (idem)'`.execute(platform.ctx.db)
    assert.equal(n.rows[0].n, 1)
  })

  test('an invalid key is a 400', async () => {
    const res = await post({ category: 'other', description: 'x key', ...DBP }, { 'idempotency-key': 'bad key with spaces' })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().error.code, 'INVALID_IDEMPOTENCY_KEY')
  })
})

describe('intake: bad input gets a clear 4xx, never a 500', () => {
  const cases: [string, unknown, number, string][] = [
    ['lat is not a number', { category: 'traffic', description: 'abc', lat: 'abc', lon: 103 }, 400, 'VALIDATION_FAILED'],
    ['lat out of range', { category: 'traffic', description: 'abc', lat: 95, lon: 10 }, 400, 'INVALID_COORDINATES'],
    ['lon without lat', { category: 'traffic', description: 'abc', lon: 103 }, 400, 'INVALID_COORDINATES'],
    ['lat/lon swapped', { category: 'traffic', description: 'abc', lat: 103.0167, lon: 21.3856 }, 400, 'COORDINATES_SWAPPED'],
    ['unknown category', { category: 'nope', description: 'abc', ...DBP }, 400, 'UNKNOWN_CATEGORY'],
    ['unknown commune', { category: 'traffic', description: 'abc', commune_code: '99999' }, 400, 'UNKNOWN_COMMUNE'],
    ['empty description', { category: 'traffic', description: '', ...DBP }, 400, 'VALIDATION_FAILED'],
    ['bad channel', { category: 'traffic', description: 'abc', channel: 'fax', ...DBP }, 400, 'VALIDATION_FAILED'],
    ['sms channel from the public', { category: 'traffic', description: 'abc', channel: 'sms', ...DBP }, 403, 'FORBIDDEN'],
  ]
  for (const [name, payload, status, code] of cases) {
    test(name, async () => {
      const res = await post(payload)
      assert.equal(res.statusCode, status, res.body)
      assert.equal(res.json().error.code, code)
      assert.ok(res.json().error.message_vi.length > 0)
    })
  }

  test('malformed JSON', async () => {
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: '{"category": ', headers: { 'content-type': 'application/json' } })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().error.code, 'MALFORMED_BODY')
  })

  test('a huge body is refused with 413', async () => {
    const res = await post({ category: 'traffic', description: 'x'.repeat(2_000_000), ...DBP })
    assert.equal(res.statusCode, 413)
    assert.equal(res.json().error.code, 'PAYLOAD_TOO_LARGE')
  })

  test('a wrong content type is refused with 415', async () => {
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: 'category=traffic', headers: { 'content-type': 'text/plain' } })
    assert.equal(res.statusCode, 415)
    assert.equal(res.json().error.code, 'UNSUPPORTED_MEDIA_TYPE')
  })

  test('a "JPEG" that is not a JPEG is refused and nothing is written', async () => {
    const before = (await sql<{ n: number }>`select count(*)::int as n from reports`.execute(platform.ctx.db)).rows[0].n
    const m = multipart({ category: 'traffic', description: 'ảnh giả', lat: String(DBP.lat), lon: String(DBP.lon) }, [{ name: 'x.jpg', data: Buffer.from('<?php echo "hi"; ?>') }])
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: m.payload, headers: m.headers })
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(res.json().error.code, 'INVALID_IMAGE')
    const afterN = (await sql<{ n: number }>`select count(*)::int as n from reports`.execute(platform.ctx.db)).rows[0].n
    assert.equal(afterN, before)
  })

  test('more than 3 photos is refused', async () => {
    const img = await jpegWithGps(DBP.lat, DBP.lon)
    const m = multipart({ category: 'traffic', description: 'bốn ảnh', lat: String(DBP.lat), lon: String(DBP.lon) }, [1, 2, 3, 4].map((i) => ({ name: `${i}.jpg`, data: img })))
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: m.payload, headers: m.headers })
    assert.equal(res.statusCode, 413)
  })

  test('SQL and HTML in text are stored as text and returned safely as JSON', async () => {
    const evil = `'); drop table reports; -- <script>alert("x")</script> <img src=x onerror=alert(1)>`
    const res = await post({ category: 'other', description: evil, address_text: evil.slice(0, 100), ...DBP })
    assert.equal(res.statusCode, 201, res.body)
    const got = await platform.app.inject({ method: 'GET', url: `/api/reports/${res.json().code}` })
    assert.equal(got.statusCode, 200)
    assert.match(String(got.headers['content-type']), /application\/json/)
    assert.equal(got.json().description, evil)
    assert.equal(got.headers['x-content-type-options'], 'nosniff')
  })
})

describe('intake: photos', () => {
  test('EXIF GPS places a report with no position, and all EXIF is stripped before storing', async () => {
    const img = await jpegWithGps(DBP.lat, DBP.lon)
    assert.ok((await exifr.gps(img))?.latitude, 'fixture has GPS')
    const m = multipart({ category: 'traffic', description: 'ảnh có GPS', channel: 'app' }, [{ name: 'a.jpg', data: img }])
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: m.payload, headers: m.headers })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().commune.code, '03127')
    const view = (await platform.app.inject({ method: 'GET', url: `/api/reports/${res.json().code}` })).json()
    assert.equal(view.photos.length, 1)
    const photo = await platform.app.inject({ method: 'GET', url: view.photos[0].url })
    assert.equal(photo.statusCode, 200)
    assert.equal(photo.headers['content-type'], 'image/jpeg')
    const stored = photo.rawPayload
    assert.equal(await exifr.gps(stored).catch(() => undefined), undefined)
    const tags = await exifr.parse(stored).catch(() => undefined)
    assert.ok(!tags || (!tags.Artist && !tags.Make), 'no EXIF left')
    const thumb = await platform.app.inject({ method: 'GET', url: view.photos[0].thumb_url })
    assert.equal(thumb.statusCode, 200)
    const meta = await sharp(thumb.rawPayload).metadata()
    assert.ok(meta.width! <= 320)
  })
})

describe('duplicates and "me too"', () => {
  test('a second report nearby suggests the first; support adds a supporter once per device', async () => {
    const first = (await post({ category: 'land', description: 'Xây lấn hành lang', lat: 21.39, lon: 103.02 })).json()
    const second = (await post({ category: 'land', description: 'Xây lấn hành lang nữa', lat: 21.3905, lon: 103.0201 })).json()
    assert.ok(second.possible_duplicates.some((d: { code: string }) => d.code === first.code))
    const nearby = await platform.app.inject({ method: 'GET', url: `/api/reports/nearby?lat=21.3901&lon=103.0201&category=land` })
    assert.ok(nearby.json().items.some((r: { code: string }) => r.code === first.code))
    const s1 = await platform.app.inject({ method: 'POST', url: `/api/reports/${first.code}/support`, headers: { 'x-device-id': 'device-abc-123' } })
    const s2 = await platform.app.inject({ method: 'POST', url: `/api/reports/${first.code}/support`, headers: { 'x-device-id': 'device-abc-123' } })
    assert.equal(s1.json().added, true)
    assert.equal(s2.json().added, false)
    assert.equal(s2.json().supporters_count, 1)
  })
})

describe('public feed', () => {
  test('filters by category and bbox, pages by keyset without repeats, and carries no personal data', async () => {
    for (let i = 0; i < 5; i++) await post({ category: 'education', description: `Trường học ${i}`, ...DBP, contact: { name: 'Lò Thị Bí Mật', phone: '0912345678' } })
    const seen = new Set<string>()
    let cursor: string | null = null
    do {
      const res: { statusCode: number; body: string; json: () => any } = await platform.app.inject({ method: 'GET', url: `/api/reports?category=education&bbox=102.9,21.3,103.1,21.5&limit=2${cursor ? `&cursor=${cursor}` : ''}` })
      assert.equal(res.statusCode, 200, res.body)
      assert.ok(!res.body.includes('Bí Mật') && !res.body.includes('0912345678'))
      for (const r of res.json().items) {
        assert.equal(r.category, 'education')
        assert.ok(!seen.has(r.code))
        seen.add(r.code)
      }
      cursor = res.json().next_cursor
    } while (cursor)
    assert.ok(seen.size >= 5)
    const geo = await platform.app.inject({ method: 'GET', url: '/api/reports.geojson?category=education' })
    assert.equal(geo.json().type, 'FeatureCollection')
    assert.ok(!geo.body.includes('0912345678'))
  })

  test('bad filters are 400s', async () => {
    for (const q of ['bbox=1,2,3', 'status=nope', 'from=yesterday', 'cursor=%%%', 'limit=100000']) {
      const res = await platform.app.inject({ method: 'GET', url: `/api/reports?${q}` })
      assert.equal(res.statusCode, 400, q)
    }
  })
})

test('the audit chain still verifies after all of the above', async () => {
  assert.equal((await verifyAuditChain(platform.ctx.db)).ok, true)
})
