import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { sql } from 'kysely'
import type { Platform } from '../../../platform/runtime.ts'
import { startTestPlatform } from '../../../platform/testing/test-platform.ts'
import { calendarModule } from '../../calendar/index.ts'
import { documentsModule } from '../../documents/index.ts'
import { geoModule } from '../../geo/index.ts'
import { identityModule } from '../../identity/index.ts'
import { createTestUser, type TestUser } from '../../identity/test-factories.ts'
import { multipart, PDF_BYTES, PNG_BYTES, saveTestProcedures, testProcedure, testServicesModule } from '../dossiers/test-helpers.ts'
import { countReusedComponents } from './repository.ts'

const vn = (s: string) => new Date(`${s}+07:00`)
let now = vn('2026-04-01T09:00:00')
let platform: Platform
let citizen: TestUser
let other: TestUser
let officer: TestUser
let otherUnitOfficer: TestUser
const UNIT = '03127'

before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, documentsModule, testServicesModule], clock: () => now })
  await saveTestProcedures(platform.ctx.db, [testProcedure('T.STORE')])
  citizen = await createTestUser(platform.ctx.db, 'citizen')
  other = await createTestUser(platform.ctx.db, 'citizen')
  officer = await createTestUser(platform.ctx.db, 'officer', UNIT)
  otherUnitOfficer = await createTestUser(platform.ctx.db, 'officer', '11.SXD')
})
after(async () => {
  await platform?.close()
})

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, user: TestUser | null, extra: { payload?: Buffer; headers?: Record<string, string> } = {}) =>
  platform.app.inject({ method, url, payload: extra.payload, headers: { ...(user?.headers ?? {}), ...(extra.headers ?? {}) } })

async function upload(user: TestUser, data: Buffer, name: string, key?: string) {
  const { payload, headers } = multipart({ title: 'Tờ khai của tôi' }, [{ field: 'file', name, data }])
  return inject('POST', '/api/me/store', user, { payload, headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) } })
}

async function submit(user: TestUser, fields: Record<string, string>, files: { field: string; name: string; data: Buffer }[]) {
  const { payload, headers } = multipart({ procedure_code: 'T.STORE', commune_code: UNIT, applicant_name: 'Lò Thị Hoa', ...fields }, files)
  return inject('POST', '/api/dossiers', user, { payload, headers })
}

describe('citizen data store (kho dữ liệu của công dân)', () => {
  test('upload is idempotent, listed, downloadable by the owner only, and audited', async () => {
    const data = Buffer.concat([PDF_BYTES, Buffer.from('store-1')])
    const first = await upload(citizen, data, 'to-khai.pdf', 'store-key-1')
    assert.equal(first.statusCode, 201, first.body)
    const again = await upload(citizen, data, 'to-khai.pdf', 'store-key-1')
    assert.equal(again.statusCode, 201)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    const item = first.json()
    assert.equal(again.json().id, item.id)
    assert.match(item.id, /^u\d+$/)
    const mine = (await inject('GET', '/api/me/store', citizen)).json().items
    assert.equal(mine.filter((x: { id: string }) => x.id === item.id).length, 1)
    const file = await inject('GET', `/api/me/store/${item.id}/file`, citizen)
    assert.equal(file.statusCode, 200)
    assert.deepEqual(file.rawPayload, data)
    // Privacy: another citizen and any officer get 404 (the item is not theirs); anonymous 401.
    assert.equal((await inject('GET', `/api/me/store/${item.id}/file`, other)).statusCode, 404)
    assert.equal((await inject('GET', `/api/me/store/${item.id}/file`, officer)).statusCode, 404)
    assert.equal((await inject('GET', `/api/me/store/${item.id}/file`, null)).statusCode, 401)
    assert.equal((await inject('GET', '/api/me/store', null)).statusCode, 401)
    assert.equal((await inject('GET', '/api/me/store', other)).json().items.some((x: { id: string }) => x.id === item.id), false)
    assert.equal((await inject('DELETE', `/api/me/store/${item.id}`, other)).statusCode, 404)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_log where entity_id = ${item.id} and action = 'citizen_store.uploaded'`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 1)
  })

  test('bad uploads: wrong type 415, no multipart 415, same key for another file 409', async () => {
    assert.equal((await upload(citizen, Buffer.from('not a pdf'), 'x.pdf')).statusCode, 415)
    assert.equal((await inject('POST', '/api/me/store', citizen, { payload: Buffer.from('{}'), headers: { 'content-type': 'application/json' } })).statusCode, 415)
    assert.equal((await upload(citizen, PNG_BYTES, 'anh.png', 'store-key-2')).statusCode, 201)
    const clash = await upload(citizen, Buffer.concat([PDF_BYTES, Buffer.from('other')]), 'b.pdf', 'store-key-2')
    assert.equal(clash.statusCode, 409)
    assert.equal(clash.json().error.code, 'IDEMPOTENCY_KEY_REUSED')
  })

  test('a new dossier reuses a stored item without uploading; the reuse is recorded and counted; officers see it only through the dossier of their unit', async () => {
    const from = new Date(now.getTime() - 1000)
    const data = Buffer.concat([PDF_BYTES, Buffer.from('store-reuse')])
    const item = (await upload(citizen, data, 'to-khai-luu.pdf')).json()
    // Another citizen cannot reuse it.
    const stolen = await submit(other, { 'reuse.to_khai': item.id }, [])
    assert.equal(stolen.statusCode, 400)
    assert.equal(stolen.json().error.code, 'UNKNOWN_STORE_ITEM')
    const before = await countReusedComponents(platform.ctx.db, platform.ctx.config.provinceCode, { unitCode: UNIT, from, to: new Date(now.getTime() + 1000) })
    const res = await submit(citizen, { 'reuse.to_khai': item.id }, [])
    assert.equal(res.statusCode, 201, res.body)
    const code = res.json().code
    const d = (await inject('GET', `/api/dossiers/${code}`, citizen)).json()
    assert.equal(d.files.length, 1)
    assert.equal(d.files[0].reused_from, item.id)
    assert.equal(d.files[0].sha256, item.sha256)
    assert.equal(await countReusedComponents(platform.ctx.db, platform.ctx.config.provinceCode, { unitCode: UNIT, from, to: new Date(now.getTime() + 1000) }), before + 1)
    assert.equal(await countReusedComponents(platform.ctx.db, platform.ctx.config.provinceCode, { unitCode: '11.SXD', from, to: new Date(now.getTime() + 1000) }), 0)
    // The file of the dossier: its owner and the unit's officer; another unit 403; another citizen 404.
    const url = `/api/dossiers/${code}/files/${d.files[0].id}`
    assert.deepEqual((await inject('GET', url, citizen)).rawPayload, data)
    assert.deepEqual((await inject('GET', url, officer)).rawPayload, data)
    assert.equal((await inject('GET', url, otherUnitOfficer)).statusCode, 403)
    assert.equal((await inject('GET', url, other)).statusCode, 404)
    assert.equal((await inject('GET', url, null)).statusCode, 401)
    assert.equal((await inject('GET', `/api/dossiers/${code}/files/999999999`, citizen)).statusCode, 404)
    // The store item stays the citizen's: the officer cannot open it in the store.
    assert.equal((await inject('GET', `/api/me/store/${item.id}/file`, officer)).statusCode, 404)
  })

  test("files of the citizen's past dossiers are in the store, reusable, and cannot be deleted; uploads can", async () => {
    const data = Buffer.concat([PDF_BYTES, Buffer.from('past-dossier')])
    const res = await submit(citizen, {}, [{ field: 'to_khai', name: 'cu.pdf', data }])
    assert.equal(res.statusCode, 201, res.body)
    const items = (await inject('GET', '/api/me/store?limit=200', citizen)).json().items as { id: string; dossier_code: string | null; source: string }[]
    const past = items.find((x) => x.dossier_code === res.json().code)
    assert.ok(past && past.source === 'dossier' && /^f\d+$/.test(past.id))
    assert.equal((await inject('DELETE', `/api/me/store/${past.id}`, citizen)).statusCode, 409)
    const again = await submit(citizen, { 'reuse.to_khai': past.id }, [])
    assert.equal(again.statusCode, 201, again.body)
    // A reuse must still fit the component: a PNG is not an allowed format for to_khai.
    const png = (await upload(citizen, PNG_BYTES, 'anh.png')).json()
    const wrong = await submit(citizen, { 'reuse.to_khai': png.id }, [])
    assert.equal(wrong.statusCode, 415)
    assert.equal((await inject('DELETE', `/api/me/store/${png.id}`, citizen)).statusCode, 204)
    assert.equal((await inject('GET', `/api/me/store/${png.id}/file`, citizen)).statusCode, 404)
    assert.equal((await inject('DELETE', `/api/me/store/${png.id}`, citizen)).statusCode, 404)
  })

  test('the results of returned dossiers enter the owner\'s store (signed PDF or the rendered result notice), are reusable, and nobody else sees them', async () => {
    const act = async (code: string, action: string, body?: { payload: Buffer; headers: Record<string, string> }) => {
      const r = body
        ? await inject('POST', `/api/dossiers/${code}/${action}`, officer, body)
        : await platform.app.inject({ method: 'POST', url: `/api/dossiers/${code}/${action}`, headers: officer.headers, payload: {} })
      assert.equal(r.statusCode, 200, `${action}: ${r.body}`)
    }
    const file = (tag: string) => [{ field: 'to_khai', name: `${tag}.pdf`, data: Buffer.concat([PDF_BYTES, Buffer.from(tag)]) }]
    const signed = (await submit(citizen, {}, file('result-signed'))).json().code
    const plain = (await submit(citizen, {}, file('result-plain'))).json().code
    const signedPdf = Buffer.concat([PDF_BYTES, Buffer.from('signed result: giấy chứng nhận')])
    for (const code of [signed, plain]) {
      await act(code, 'receive')
      await act(code, 'process')
    }
    await act(signed, 'resolve', multipart({}, [{ field: 'result', name: 'giay-chung-nhan.pdf', data: signedPdf }]))
    await act(plain, 'resolve')
    const results = async (u: TestUser) => ((await inject('GET', '/api/me/store?limit=200', u)).json().items as { id: string; source: string; dossier_code: string; document_symbol: string | null; name: string }[]).filter((x) => x.source === 'result')
    assert.equal((await results(citizen)).length, 0, 'resolved is not yet returned: nothing in the store')
    await act(signed, 'return')
    await act(plain, 'return')
    const mine = await results(citizen)
    const rs = mine.find((x) => x.dossier_code === signed)!
    const rp = mine.find((x) => x.dossier_code === plain)!
    assert.ok(rs && rp, JSON.stringify(mine))
    assert.match(rs.id, /^r\d+$/)
    assert.ok(rs.document_symbol && rs.document_symbol.includes('KQ'), `document symbol ${rs.document_symbol}`)
    assert.deepEqual((await inject('GET', `/api/me/store/${rs.id}/file`, citizen)).rawPayload, signedPdf, 'the signed result the unit uploaded')
    const rendered = (await inject('GET', `/api/me/store/${rp.id}/file`, citizen)).rawPayload
    assert.equal(rendered.subarray(0, 5).toString(), '%PDF-', 'the rendered result notice')
    assert.ok(rendered.length > 1000)
    // Only the owner: another citizen, an officer (even of the unit), anonymous.
    assert.equal((await results(other)).length, 0)
    assert.equal((await inject('GET', `/api/me/store/${rs.id}/file`, other)).statusCode, 404)
    assert.equal((await inject('GET', `/api/me/store/${rs.id}/file`, officer)).statusCode, 404)
    assert.equal((await inject('GET', `/api/me/store/${rs.id}/file`, null)).statusCode, 401)
    assert.equal((await inject('DELETE', `/api/me/store/${rs.id}`, citizen)).statusCode, 409)
    // Reused in a new dossier instead of uploading (another citizen cannot), and counted for 766.
    assert.equal((await submit(other, { 'reuse.to_khai': rs.id }, [])).json().error.code, 'UNKNOWN_STORE_ITEM')
    const from = new Date(now.getTime() - 1000)
    const before = await countReusedComponents(platform.ctx.db, platform.ctx.config.provinceCode, { unitCode: UNIT, from, to: new Date(now.getTime() + 1000) })
    const reuse = await submit(citizen, { 'reuse.to_khai': rs.id }, [])
    assert.equal(reuse.statusCode, 201, reuse.body)
    const d = (await inject('GET', `/api/dossiers/${reuse.json().code}`, citizen)).json()
    assert.equal(d.files[0].reused_from, rs.id)
    assert.equal(await countReusedComponents(platform.ctx.db, platform.ctx.config.provinceCode, { unitCode: UNIT, from, to: new Date(now.getTime() + 1000) }), before + 1)
    // One result per dossier, whatever is retried.
    const n = (await sql<{ n: number }>`select count(*)::int as n from dossier_results where owner_user_id = ${citizen.principal.kind === 'user' ? citizen.principal.userId : ''}::uuid`.execute(platform.ctx.db)).rows[0].n
    assert.equal(n, 2)
  })
})
