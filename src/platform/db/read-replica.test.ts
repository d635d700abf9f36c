// Read replica (DATABASE_READ_URL): read-only routes read through a second, read-only pool, with
// the primary as fallback when the replica cannot be reached. The driver's logic is tested with
// in-memory drivers (any machine); the routes on PostgreSQL with a second read-only pool on the
// test database (TEST_DATABASE_URL, `npm run test:pg`); on PGlite, that `readDb` is `db`.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { DatabaseConnection, Driver } from 'kysely'
import { sql } from 'kysely'
import type { Platform } from '../runtime.ts'
import { startTestPlatform } from '../testing/test-platform.ts'
import { openDatabase } from './database.ts'
import { ReplicaFallbackDriver } from './read-replica.ts'

/** A driver handing out numbered connections, or failing to connect while `down`. */
class FakeDriver implements Driver {
  down = false
  acquired = 0
  released: DatabaseConnection[] = []
  destroyed = false
  constructor(readonly name: string) {}
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.down) throw Object.assign(new Error(`connect ECONNREFUSED (${this.name})`), { code: 'ECONNREFUSED' })
    this.acquired++
    const from = this.name
    return { executeQuery: async () => ({ rows: [{ from }] }), streamQuery: async function* () {} } as unknown as DatabaseConnection
  }
  async beginTransaction() {}
  async commitTransaction() {}
  async rollbackTransaction() {}
  async releaseConnection(c: DatabaseConnection) {
    this.released.push(c)
  }
  async destroy() {
    this.destroyed = true
  }
}

describe('read replica driver', () => {
  test('reads go to the replica; each connection goes back to the pool it came from', async () => {
    const replica = new FakeDriver('replica')
    const primary = new FakeDriver('primary')
    const d = new ReplicaFallbackDriver(replica, primary)
    const c = await d.acquireConnection()
    assert.equal(replica.acquired, 1)
    assert.equal(primary.acquired, 0)
    await d.releaseConnection(c)
    assert.deepEqual(replica.released, [c])
    assert.deepEqual(primary.released, [])
    assert.equal(d.fallingBack, false)
  })

  test('an unreachable replica sends reads to the primary for retryMs, then is tried again; both moves are told once', async () => {
    let now = 1_000
    const events: string[] = []
    const replica = new FakeDriver('replica')
    const primary = new FakeDriver('primary')
    const d = new ReplicaFallbackDriver(replica, primary, { onFallback: (e) => events.push(`fallback: ${(e as Error).message}`), onRecovered: () => events.push('recovered') }, 5_000, () => now)
    replica.down = true
    const c1 = await d.acquireConnection()
    assert.equal(primary.acquired, 1, 'the read went to the primary')
    assert.equal(d.fallingBack, true)
    await d.releaseConnection(c1)
    assert.deepEqual(primary.released, [c1], 'released to the primary, where it came from')
    // within the window the replica is not tried (no connect timeout paid per read)
    replica.down = false
    now += 4_999
    await d.acquireConnection()
    assert.equal(replica.acquired, 0)
    assert.equal(primary.acquired, 2)
    // after it, the replica is tried again and used
    now += 1
    assert.equal(d.fallingBack, true, 'still on the primary until the replica answers')
    await d.acquireConnection()
    assert.equal(replica.acquired, 1)
    assert.equal(d.fallingBack, false)
    assert.deepEqual(events, ['fallback: connect ECONNREFUSED (replica)', 'recovered'])
  })

  test('destroy ends the replica pool only (the primary belongs to the primary handle)', async () => {
    const replica = new FakeDriver('replica')
    const primary = new FakeDriver('primary')
    await new ReplicaFallbackDriver(replica, primary).destroy()
    assert.equal(replica.destroyed, true)
    assert.equal(primary.destroyed, false)
  })
})

const onPostgres = Boolean(process.env.TEST_DATABASE_URL)

describe('read-only routes on a read replica', () => {
  let platform: Platform
  before(async () => {
    // One connection per pool: the replica pool's one backend shows the last statement it ran.
    platform = await startTestPlatform({ database: { readReplica: 'same', poolSize: 1 } })
  })
  after(async () => platform?.close())

  /** The last statement the read pool's backend ran and when it started (pg_stat_activity keeps both while idle). */
  const lastReplicaQuery = async () => {
    const { rows } = await sql<{ query: string; started: string }>`select query, query_start::text as started from pg_stat_activity
      where application_name = 'hoaban-read' and datname = current_database()`.execute(platform.ctx.db)
    assert.equal(rows.length, 1, 'one read-only backend')
    return `${rows[0].started} ${rows[0].query}`
  }

  test('on PGlite there is no replica: readDb is the primary handle', { skip: onPostgres }, () => {
    assert.equal(platform.ctx.readDb, platform.ctx.db)
    assert.equal(platform.ctx.replica, undefined)
  })

  test('the public feeds, catalogue, geo, IOC indicators and CKAN actions read through the replica pool', { skip: !onPostgres }, async () => {
    const code = (await platform.app.inject({ method: 'GET', url: '/api/procedures?limit=1' })).json().items[0].code as string
    const reads: [string, RegExp][] = [
      ['/api/procedures?q=khai%20sinh', /procedure/],
      ['/api/procedures/fields', /procedure_fields/],
      [`/api/procedures/${encodeURIComponent(code)}`, /procedure_versions/],
      ['/api/reports', /from "?reports"?/],
      ['/api/reports.geojson', /from "?reports"?/],
      ['/api/reports/nearby?lat=21.3856&lon=103.0167', /reports/],
      ['/api/geo/units?level=province', /geo_units/],
      ['/api/ioc/indicators/766', /ioc_|procedure_versions/],
      ['/api/ioc/indicators/reports?group=category', /ioc_/],
      ['/api/ioc/indicators/dx', /ioc_dx/],
      ['/api/3/action/package_search?q=*:*', /data_datasets|org_units/],
      ['/api/3/action/organization_list', /org_units|data_datasets/],
      ['/data', /data_datasets|org_units|data_resources/],
    ]
    for (const [url, table] of reads) {
      const before = await lastReplicaQuery()
      const res = await platform.app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`)
      const q = await lastReplicaQuery()
      assert.notEqual(q, before, `${url} ran a statement on the replica pool`)
      assert.match(q, table, `${url} read through the replica pool (last: ${q.slice(0, 120)}; before: ${before.slice(0, 80)})`)
    }
  })

  test('writes stay on the primary: a report is filed and the replica pool ran none of it', { skip: !onPostgres }, async () => {
    await platform.app.inject({ method: 'GET', url: '/api/geo/units?level=province' })
    const before = await lastReplicaQuery()
    const res = await platform.app.inject({ method: 'POST', url: '/api/reports', payload: { category: 'traffic', description: 'Ổ gà trên đường Võ Nguyên Giáp', channel: 'app', lat: 21.3856, lon: 103.0167 } })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(await lastReplicaQuery(), before)
    // and the replica (here: the same database, no lag) serves it in the public feed
    const feed = await platform.app.inject({ method: 'GET', url: '/api/reports?limit=50' })
    assert.ok(feed.json().items.some((r: { code: string }) => r.code === res.json().code))
  })

  test('the read pool is read-only, as a hot standby is: a write through it is refused by PostgreSQL', { skip: !onPostgres }, async () => {
    await assert.rejects(sql`create table replica_write_probe (x int)`.execute(platform.ctx.readDb), /read-only transaction/)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'replica_write_probe'`.execute(platform.ctx.db)
    assert.equal(rows[0].n, 0)
  })

  test('readyz and /metrics say the replica is in use', { skip: !onPostgres }, async () => {
    const ready = await platform.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.json().read_replica, 'in use')
    const metrics = await platform.app.inject({ method: 'GET', url: '/metrics' })
    assert.match(metrics.body, /hoaban_read_replica_fallback 0/)
  })
})

describe('an unreachable read replica', () => {
  let platform: Platform
  before(async () => {
    // port 1: nothing listens, the connection is refused at once (PostgreSQL only: no platform needed on PGlite)
    if (onPostgres) platform = await startTestPlatform({ database: { readReplica: 'postgres://postgres@127.0.0.1:1/test' } })
  })
  after(async () => platform?.close())

  test('reads are answered from the primary; readyz stays ready and says so; the metric is 1', { skip: !onPostgres }, async () => {
    for (const url of ['/api/procedures?limit=5', '/api/reports', '/api/3/action/package_list']) {
      const res = await platform.app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
    }
    const ready = await platform.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 200)
    assert.equal(ready.json().read_replica, 'unreachable: reads on the primary')
    assert.match((await platform.app.inject({ method: 'GET', url: '/metrics' })).body, /hoaban_read_replica_fallback 1/)
  })

  test('PGlite has no replicas: DATABASE_READ_URL without DATABASE_URL is refused at start', { skip: onPostgres }, async () => {
    await assert.rejects(openDatabase({ dataDir: 'memory://', readUrl: 'postgres://127.0.0.1/x' }), /DATABASE_READ_URL needs DATABASE_URL/)
  })
})
