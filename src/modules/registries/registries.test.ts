import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import ExcelJS from 'exceljs'
import fc from 'fast-check'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { createApiClient } from '../identity/index.ts'
import { createTestUser, type TestUser } from '../identity/test-factories.ts'
import { validateObject, type FieldDef } from './schema.ts'

let platform: Platform
let admin: TestUser
before(async () => {
  platform = await startTestPlatform()
  admin = await createTestUser(platform.ctx.db, 'province_admin')
})
after(async () => {
  await platform?.close()
})

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) => platform.app.inject({ method: method as 'GET', url, headers, payload: payload as object })
async function client(unitCode: string | null, scopes: string[]): Promise<Record<string, string>> {
  const c = await createApiClient(platform.ctx.db, admin.principal as never, { name: `sys-${Math.random()}`, unitCode, scopes })
  return { 'x-api-key': c.apiKey }
}

/** A fresh registry with one field at each access level, owned by the Department of Agriculture. */
async function makeRegistry(name: string, access: 'open' | 'shared' = 'open') {
  const res = await inject('PUT', `/api/registries/${name}`, admin.headers, {
    title_vi: 'Trang trại', title_en: 'Farms', owner_unit: '11.SNNMT', access, key_fields: ['code'],
    fields: [
      { name: 'code', type: 'string', label_vi: 'Mã', label_en: 'Code', access: 'open', required: true, pattern: '[A-Z0-9]{3,10}' },
      { name: 'name', type: 'string', label_vi: 'Tên', label_en: 'Name', access: 'open', required: true, max_length: 100 },
      { name: 'herd', type: 'integer', label_vi: 'Số con', label_en: 'Herd', access: 'shared', min: 0, max: 100000 },
      { name: 'owner_id_number', type: 'string', label_vi: 'CCCD chủ', label_en: 'Owner ID', access: 'restricted', pattern: '[0-9]{12}' },
      { name: 'opened', type: 'date', label_vi: 'Ngày', label_en: 'Opened', access: 'open' },
    ],
  })
  assert.equal(res.statusCode, 200, res.body)
}

describe('field-level access', () => {
  test('an agency client with "shared" rights never sees a restricted field; the public sees only open fields', async () => {
    await makeRegistry('farms_a')
    const owner = await createTestUser(platform.ctx.db, 'officer', '11.SNNMT')
    const created = await inject('POST', '/api/registries/farms_a/records', owner.headers, { data: { code: 'F001', name: 'Trang trại bò Mường Phăng', herd: 120, owner_id_number: '011234567890', opened: '2021-05-04' } })
    assert.equal(created.statusCode, 201, created.body)
    const shared = await client('11.SYT', ['registries:shared'])
    const asShared = (await inject('GET', '/api/registries/farms_a/records/F001', shared)).json()
    assert.equal(asShared.data.herd, 120)
    assert.equal(asShared.data.owner_id_number, undefined)
    const list = await inject('GET', '/api/registries/farms_a/records', shared)
    assert.ok(!list.body.includes('011234567890'))
    const hist = await inject('GET', '/api/registries/farms_a/records/F001/history', shared)
    assert.ok(!hist.body.includes('011234567890'), 'history diffs are projected too')
    const schema = (await inject('GET', '/api/registries/farms_a', shared)).json()
    assert.ok(!schema.fields.some((f: { name: string }) => f.name === 'owner_id_number'))
    // Filtering on a field you cannot see is refused (it would reveal its values).
    assert.equal((await inject('GET', '/api/registries/farms_a/records?filter=owner_id_number:011234567890', shared)).statusCode, 400)
    const anon = (await inject('GET', '/api/registries/farms_a/records/F001')).json()
    assert.deepEqual(Object.keys(anon.data).sort(), ['code', 'name', 'opened'])
    const restricted = await client('11.SYT', ['registry:farms_a:restricted'])
    assert.equal((await inject('GET', '/api/registries/farms_a/records/F001', restricted)).json().data.owner_id_number, '011234567890')
    assert.equal((await inject('GET', '/api/registries/farms_a/records/F001', owner.headers)).json().data.owner_id_number, '011234567890')
    const officerElsewhere = await createTestUser(platform.ctx.db, 'officer', '03127')
    assert.equal((await inject('GET', '/api/registries/farms_a/records/F001', officerElsewhere.headers)).json().data.owner_id_number, undefined)
  })

  test('a shared registry is hidden from the public and from clients without rights', async () => {
    await makeRegistry('farms_b', 'shared')
    assert.equal((await inject('GET', '/api/registries/farms_b/records')).statusCode, 401)
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    assert.equal((await inject('GET', '/api/registries/farms_b/records', citizen.headers)).statusCode, 403)
    assert.equal((await inject('GET', '/api/registries/farms_b/records', await client('11.SYT', []))).statusCode, 403)
    assert.equal((await inject('GET', '/api/registries/farms_b/records', await client('11.SYT', ['registries:shared']))).statusCode, 200)
    const publicList = (await inject('GET', '/api/registries')).json().items.map((r: { name: string }) => r.name)
    assert.ok(publicList.includes('schools') && !publicList.includes('farms_b') && !publicList.includes('civil_servants'))
  })
})

describe('writes, versions and history', () => {
  test('only the owner agency writes; each change is a version with its diff, audited', async () => {
    await makeRegistry('farms_c')
    const owner = await createTestUser(platform.ctx.db, 'officer', '11.SNNMT')
    const other = await createTestUser(platform.ctx.db, 'officer', '11.SYT')
    const citizen = await createTestUser(platform.ctx.db, 'citizen')
    const body = { data: { code: 'C001', name: 'Trại gà', herd: 10 } }
    assert.equal((await inject('POST', '/api/registries/farms_c/records', {}, body)).statusCode, 401)
    assert.equal((await inject('POST', '/api/registries/farms_c/records', citizen.headers, body)).statusCode, 403)
    assert.equal((await inject('POST', '/api/registries/farms_c/records', other.headers, body)).statusCode, 403)
    assert.equal((await inject('POST', '/api/registries/farms_c/records', await client('11.SYT', ['registries:shared']), body)).statusCode, 403)
    const first = await inject('POST', '/api/registries/farms_c/records', { ...owner.headers, 'idempotency-key': 'farm-c-1' }, body)
    assert.equal(first.statusCode, 201, first.body)
    const again = await inject('POST', '/api/registries/farms_c/records', { ...owner.headers, 'idempotency-key': 'farm-c-1' }, body)
    assert.equal(again.statusCode, 201)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal((await inject('POST', '/api/registries/farms_c/records', owner.headers, body)).statusCode, 409)
    assert.equal((await inject('PATCH', '/api/registries/farms_c/records/C001', other.headers, { data: { herd: 11 } })).statusCode, 403)
    const upd = await inject('PATCH', '/api/registries/farms_c/records/C001', owner.headers, { data: { herd: 12, owner_id_number: '001122334455' }, expected_version: 1 })
    assert.equal(upd.statusCode, 200, upd.body)
    assert.equal(upd.json().version, 2)
    assert.equal((await inject('PATCH', '/api/registries/farms_c/records/C001', owner.headers, { data: { herd: 13 }, expected_version: 1 })).statusCode, 409)
    const bad = await inject('PATCH', '/api/registries/farms_c/records/C001', owner.headers, { data: { herd: -1, colour: 'red' } })
    assert.equal(bad.statusCode, 400)
    assert.deepEqual(bad.json().error.details.errors.map((e: { field: string }) => e.field).sort(), ['colour', 'herd'])
    assert.equal((await inject('PATCH', '/api/registries/farms_c/records/C001', owner.headers, { data: { code: 'C002' } })).statusCode, 400)
    const h = (await inject('GET', '/api/registries/farms_c/records/C001/history', owner.headers)).json()
    assert.equal(h.versions.length, 2)
    assert.deepEqual(h.versions[1].changed.herd, { before: 10, after: 12 })
    assert.equal(h.versions[1].actor, `user:${owner.id}`)
    const publicHist = (await inject('GET', '/api/registries/farms_c/records/C001/history')).json()
    assert.equal(publicHist.versions[1].actor, undefined)
    assert.deepEqual(Object.keys(publicHist.versions[1].changed), [])
    const audit = await sql<{ action: string }>`select action from audit_log where entity_type = 'registry:farms_c' and entity_id = 'C001' order by id`.execute(platform.ctx.db)
    assert.deepEqual(audit.rows.map((r) => r.action), ['registry.record_created', 'registry.record_updated'])
    assert.ok((await verifyAuditChain(platform.ctx.db)).ok)
  })

  test('the schema itself is validated and only a province admin changes it', async () => {
    const unitAdmin = await createTestUser(platform.ctx.db, 'unit_admin', '11.SNNMT')
    const def = { title_vi: 'X', title_en: 'X', owner_unit: '11.SNNMT', access: 'open', key_fields: ['nope'], fields: [{ name: 'a', type: 'string', label_vi: 'a', label_en: 'a', access: 'open' }] }
    assert.equal((await inject('PUT', '/api/registries/bad_one', unitAdmin.headers, def)).statusCode, 403)
    const r = await inject('PUT', '/api/registries/bad_one', admin.headers, def)
    assert.equal(r.statusCode, 400)
    assert.equal(r.json().error.code, 'INVALID_SCHEMA')
    assert.equal((await inject('PUT', '/api/registries/civil_servants', admin.headers, { ...def, key_fields: ['a'] })).statusCode, 409)
  })
})

describe('import', () => {
  test('CSV: row-level errors; all_or_nothing writes nothing, valid_rows writes the good rows', async () => {
    await makeRegistry('farms_d')
    const owner = await createTestUser(platform.ctx.db, 'unit_admin', '11.SNNMT')
    const csv = '\uFEFFcode;name;herd;opened\nD001;Trại một;10;04/05/2021\nbad code;Trại hai;x;2021-02-30\nD003;Trại ba;;\nD001;Trùng;1;\n'
    const all = await inject('POST', '/api/registries/farms_d/import', owner.headers, { format: 'csv', content: csv })
    assert.equal(all.statusCode, 422, all.body)
    const report = all.json().error.details
    assert.deepEqual(report.errors.map((e: { row: number }) => e.row), [3, 5])
    assert.deepEqual(report.errors[0].errors.map((e: { field: string }) => e.field).sort(), ['code', 'herd', 'opened'])
    assert.equal(report.errors[1].errors[0].code, 'DUPLICATE_KEY')
    assert.equal((await inject('GET', '/api/registries/farms_d/records')).json().items.length, 0)
    const some = await inject('POST', '/api/registries/farms_d/import', owner.headers, { format: 'csv', content: csv, mode: 'valid_rows' })
    assert.equal(some.statusCode, 200, some.body)
    assert.equal(some.json().created, 2)
    const d1 = (await inject('GET', '/api/registries/farms_d/records/D001')).json()
    assert.equal(d1.data.opened, '2021-05-04')
    // Importing again updates changed rows (new version) and leaves the same ones alone.
    const again = await inject('POST', '/api/registries/farms_d/import', owner.headers, { format: 'csv', content: 'code,name,herd\nD001,Trại một,11\nD003,Trại ba,\n', mode: 'valid_rows' })
    assert.deepEqual([again.json().updated, again.json().unchanged], [1, 1])
    assert.equal((await inject('GET', '/api/registries/farms_d/records/D001')).json().version, 2)
  })

  test('XLSX: the first sheet, typed cells', async () => {
    await makeRegistry('farms_e')
    const owner = await createTestUser(platform.ctx.db, 'officer', '11.SNNMT')
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('Trang trại')
    ws.addRow(['code', 'name', 'herd', 'opened'])
    ws.addRow(['E001', 'Trại Thanh Nưa', 45, new Date(Date.UTC(2020, 0, 15))])
    ws.addRow(['E002', 'Trại Noong Hẹt', 'nhiều', null])
    const content = Buffer.from(await wb.xlsx.writeBuffer()).toString('base64')
    const r = await inject('POST', '/api/registries/farms_e/import', owner.headers, { format: 'xlsx', content, mode: 'valid_rows' })
    assert.equal(r.statusCode, 200, r.body)
    assert.equal(r.json().created, 1)
    assert.equal(r.json().errors[0].row, 3)
    const e1 = (await inject('GET', '/api/registries/farms_e/records/E001', owner.headers)).json()
    assert.deepEqual([e1.data.herd, e1.data.opened], [45, '2020-01-15'])
    assert.equal((await inject('POST', '/api/registries/farms_e/import', owner.headers, { format: 'xlsx', content: 'bm90IGEgemlw' })).statusCode, 400)
  })
})

describe('seeded sector databases', () => {
  test('schools, cooperatives and crop areas are loaded and filterable', async () => {
    const schools = (await inject('GET', '/api/registries/schools/records?filter=commune_code:03127&limit=50')).json()
    assert.ok(schools.items.length >= 3)
    assert.ok(schools.items.every((s: { data: Record<string, unknown> }) => s.data.commune_code === '03127' && s.data.principal_phone === undefined))
    const coops = (await inject('GET', '/api/registries/cooperatives/records?limit=500')).json()
    assert.equal(coops.items.length, 24)
    assert.equal(coops.items[0].data.revenue_mvnd, undefined)
    const areas = (await inject('GET', '/api/registries/crop_areas/records?filter=season_year:2025&limit=2')).json()
    assert.equal(areas.items.length, 2)
    assert.ok(areas.next_after)
    const next = (await inject('GET', `/api/registries/crop_areas/records?filter=season_year:2025&limit=2&after=${encodeURIComponent(areas.next_after)}`)).json()
    assert.ok(next.items[0].key > areas.items[1].key)
    assert.equal((await inject('GET', '/api/registries/schools/records?filter=pupils:many')).statusCode, 400)
    assert.equal((await inject('GET', '/api/registries/nope/records')).statusCode, 401)
  })
})

test('validation: whatever is accepted has the declared types (property)', () => {
  const fields: FieldDef[] = [
    { name: 'n', type: 'integer', label_vi: 'n', label_en: 'n', access: 'open', min: 0, max: 100 },
    { name: 'd', type: 'date', label_vi: 'd', label_en: 'd', access: 'open' },
    { name: 'b', type: 'boolean', label_vi: 'b', label_en: 'b', access: 'open' },
  ]
  fc.assert(fc.property(fc.record({ n: fc.oneof(fc.integer(), fc.string(), fc.double()), d: fc.oneof(fc.string(), fc.date().map((x) => (Number.isNaN(x.getTime()) ? 'x' : x.toISOString().slice(0, 10)))), b: fc.oneof(fc.boolean(), fc.string()) }), (input) => {
    const { data, errors } = validateObject(fields, input)
    if (errors.length > 0) return
    if (data.n !== undefined) assert.ok(Number.isInteger(data.n) && (data.n as number) >= 0 && (data.n as number) <= 100)
    if (data.d !== undefined) assert.match(data.d as string, /^\d{4}-\d{2}-\d{2}$/)
    if (data.b !== undefined) assert.equal(typeof data.b, 'boolean')
  }))
})
