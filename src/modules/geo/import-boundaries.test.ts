// Import, versioning, seed and the DB-backed Locator, on one fresh database (PGlite, or
// PostgreSQL with TEST_DATABASE_URL).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Database } from '../../platform/db/database.ts'
import { migrate } from '../../platform/db/migrate.ts'
import { AppError } from '../../platform/http/errors.ts'
import { PLATFORM_MIGRATIONS } from '../../platform/runtime.ts'
import { openTestDatabase } from '../../platform/testing/test-platform.ts'
import type { BoundaryFeature } from './geojson.ts'
import { importBoundaries } from './import-boundaries.ts'
import { GEO_MIGRATIONS } from './index.ts'
import { getLocator } from './locator-cache.ts'
import { Locator } from './locator.ts'
import { findUnitsByLegacyCode, getAdminUnit, listAdminUnits, vietnamToday } from './repository.ts'
import { SHIPPED_SOURCE, seedShippedBoundaries, shippedDienBien } from './seed.ts'
import { mulberry32 } from './test-helpers.ts'

let database: Database
const db = () => database.db

before(async () => {
  database = await openTestDatabase()
  await migrate(database, [PLATFORM_MIGRATIONS, GEO_MIGRATIONS])
})
after(async () => {
  await database?.close()
})

const count = async (table: string) => (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db())).rows[0].n

const valid: BoundaryFeature = {
  type: 'Feature',
  properties: { code: '03998', name: 'Hợp lệ', level: 'commune' },
  geometry: { type: 'Polygon', coordinates: [[[103, 21], [103.1, 21], [103.1, 21.1], [103, 21.1], [103, 21]]] },
}
const bowtie: BoundaryFeature = {
  type: 'Feature',
  properties: { code: '03999', name: 'Nơ', level: 'commune' },
  geometry: { type: 'Polygon', coordinates: [[[103, 21], [103.1, 21.1], [103.1, 21], [103, 21.1], [103, 21]]] },
}
const withRing = (ring: number[][]): BoundaryFeature => ({ ...valid, properties: { ...valid.properties, code: '03997', name: 'Lỗi' }, geometry: { type: 'Polygon', coordinates: [ring] } })

async function refusal(input: unknown): Promise<AppError> {
  try {
    await importBoundaries(db(), input, { source: 'test', validFrom: '2025-07-01', actor: 'user:test' })
  } catch (err) {
    assert.ok(err instanceof AppError)
    return err
  }
  assert.fail('import was accepted')
}

test('invalid geometry is refused with the feature and the problem named, and nothing is written', async () => {
  const self = await refusal({ type: 'FeatureCollection', features: [valid, bowtie] })
  assert.equal(self.code, 'INVALID_BOUNDARIES')
  assert.equal(self.statusCode, 400)
  assert.match(self.messageEn, /feature #2 \(03999 Nơ\): invalid geometry \(PostGIS ST_IsValid\): Self-intersection\[103\.05 21\.05\]/)
  assert.match(self.messageVi, /03999 Nơ.*hình học không hợp lệ/)
  assert.match(self.messageEn, /nothing was written/)

  const unclosed = await refusal({ type: 'FeatureCollection', features: [valid, withRing([[103, 21], [103.1, 21], [103.1, 21.1], [103, 21.1]])] })
  assert.match(unclosed.messageEn, /feature #2 \(03997 Lỗi\): ring 1 \(outer\): ring is not closed/)

  const range = await refusal({ type: 'FeatureCollection', features: [withRing([[183, 21], [103.1, 21], [103.1, 21.1], [183, 21]])] })
  assert.match(range.messageEn, /position 1: \[183, 21\] is outside lon/)
  assert.equal((range.details as { problems: { kind: string }[] }).problems[0].kind, 'position_out_of_range')

  for (const t of ['geo_units', 'geo_boundary_versions', 'audit_log']) assert.equal(await count(t), 0, t)
})

test('a bad valid_from is refused', async () => {
  const err = await importBoundaries(db(), { type: 'FeatureCollection', features: [valid] }, { source: 't', validFrom: '2025-02-30', actor: 'system' }).catch((e) => e)
  assert.equal(err.code, 'INVALID_VALID_FROM')
  assert.equal(await count('geo_units'), 0)
})

test('the first-start seed imports the shipped units and boundaries, audited', async () => {
  const summary = await seedShippedBoundaries(db())
  assert.ok(summary)
  assert.equal(summary.features, 46)
  assert.equal(summary.versions_created, 46)
  assert.equal(summary.units_created, 46)
  assert.equal(await count('geo_boundary_versions'), 46)
  const communes = await listAdminUnits(db(), { level: 'commune' })
  assert.equal(communes.length, 45)
  assert.deepEqual(communes.find((u) => u.code === '03127'), {
    code: '03127', name: 'Điện Biên Phủ', full_name: 'Phường Điện Biên Phủ', name_en: 'Dien Bien Phu', level: 'commune', parent_code: '11', unit_type: 'phường',
  })
  const province = await getAdminUnit(db(), '11')
  assert.equal(province?.level, 'province')
  assert.equal(province?.boundary?.valid_from, '2025-07-01')
  assert.equal(province?.boundary?.source, SHIPPED_SOURCE)
  const dbp = await getAdminUnit(db(), '03127')
  assert.deepEqual((dbp?.merged_from as { code: string; name: string }[]).find((m) => m.code === '03130')?.name, 'Phường Thanh Bình')
  assert.deepEqual((await findUnitsByLegacyCode(db(), '03130')).map((u) => u.code), ['03127'])
  const audit = (await sql<{ actor: string; action: string; data: { versions_created: number } }>`select actor, action, data from audit_log`.execute(db())).rows
  assert.equal(audit.length, 1)
  assert.equal(audit[0].action, 'geo.boundaries_imported')
  assert.equal(audit[0].actor, 'system')
  assert.equal(audit[0].data.versions_created, 46)
  // Every open version has its phone-map geometry.
  assert.equal((await sql<{ n: number }>`select count(*)::int as n from geo_boundary_versions where geom_simplified is null`.execute(db())).rows[0].n, 0)
})

test('seeding again does nothing; re-importing the same geometry adds no version', async () => {
  assert.equal(await seedShippedBoundaries(db()), null)
  const again = await importBoundaries(db(), shippedDienBien(), { source: 'again', validFrom: vietnamToday(), actor: 'user:ops' })
  assert.equal(again.unchanged, 46)
  assert.equal(again.versions_created, 0)
  assert.equal(again.units_updated, 0)
  assert.equal(await count('geo_boundary_versions'), 46)
})

test('the DB-backed Locator answers like one built from the file, and names the boundary version', async () => {
  const fromDb = await getLocator(db())
  assert.equal(await getLocator(db()), fromDb, 'cached')
  const fromFile = Locator.fromFeatures(shippedDienBien().features.filter((f) => f.properties.level === 'commune'))
  const rnd = mulberry32(3)
  for (let i = 0; i < 5000; i++) {
    const lat = 20.88 + rnd() * 1.67, lon = 102.14 + rnd() * 1.46
    assert.equal(fromDb.unitAt(lat, lon)?.code, fromFile.unitAt(lat, lon)?.code)
  }
  const r = fromDb.locate(21.3856, 103.0167)
  assert.equal(r.unit?.code, '03127')
  const version = (await getAdminUnit(db(), '03127'))!.boundary!.id
  assert.equal(r.boundary_version, version)
})

test('a changed geometry adds a version, closes the previous one, and the Locator is rebuilt', async () => {
  const before = await getLocator(db())
  const oldVersion = before.locate(21.3856, 103.0167).boundary_version
  const f = shippedDienBien().features.find((x) => x.properties.code === '03127')!
  // Drop one of the source's consecutive duplicate vertices: same shape, different coordinates.
  const ring = (f.geometry.coordinates as number[][][][])[0][0]
  const dup = ring.findIndex((p, i) => i > 0 && p[0] === ring[i - 1][0] && p[1] === ring[i - 1][1])
  ring.splice(dup, 1)
  const today = vietnamToday()
  const summary = await importBoundaries(db(), { type: 'FeatureCollection', features: [f] }, { source: 'survey 2026', validFrom: today, actor: 'user:ops' })
  assert.equal(summary.versions_created, 1)
  assert.equal(summary.versions_closed, 1)
  assert.deepEqual(summary.changed_codes, ['03127'])
  const versions = (await sql<{ id: string; valid_from: string; valid_to: string | null; source: string }>`
    select id::text as id, valid_from::text as valid_from, valid_to::text as valid_to, source from geo_boundary_versions where unit_code = '03127' order by id`.execute(db())).rows
  assert.equal(versions.length, 2)
  assert.deepEqual([versions[0].id, versions[0].valid_from, versions[0].valid_to], [oldVersion, '2025-07-01', today])
  assert.deepEqual([versions[1].valid_from, versions[1].valid_to, versions[1].source], [today, null, 'survey 2026'])
  const afterImport = await getLocator(db())
  assert.notEqual(afterImport, before, 'rebuilt after the import')
  assert.equal(afterImport.locate(21.3856, 103.0167).boundary_version, versions[1].id)
  assert.equal((await getAdminUnit(db(), '03127'))!.boundary!.id, versions[1].id)
})

test('a version cannot be slipped in before the one in force', async () => {
  const f = shippedDienBien().features.find((x) => x.properties.code === '03127')!
  const err = await importBoundaries(db(), { type: 'FeatureCollection', features: [f] }, { source: 'old', validFrom: '2025-01-01', actor: 'user:ops' }).catch((e) => e)
  assert.equal(err.code, 'BOUNDARY_VERSION_CONFLICT')
  assert.equal(err.statusCode, 409)
  assert.equal(await count('geo_boundary_versions'), 47)
})

test('the audit chain of all these imports verifies', async () => {
  const v = await verifyAuditChain(db())
  assert.equal(v.ok, true)
  assert.equal(v.rows, 3)
})
