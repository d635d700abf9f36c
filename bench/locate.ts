/**
 * Point location bench: our in-memory Locator vs a Turf linear scan vs a PostGIS ST_Contains
 * round trip per point (GiST index, through Kysely), on the Điện Biên communes and, given the
 * path, on the nationwide layer (3,321 communes, 6.9 M vertices).
 *
 *   npx tsx bench/locate.ts [path/to/vietnam-communes-2025.geojson.gz]
 *
 * PostGIS runs on PostgreSQL when BENCH_DATABASE_URL (or DATABASE_URL) is set, in a scratch
 * database created on that server and dropped afterwards; otherwise on embedded PGlite (WASM).
 * BENCH_POINTS, BENCH_TURF_POINTS, BENCH_PG_POINTS override the sample sizes.
 */
import { createReadStream, readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createGunzip } from 'node:zlib'
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { sql } from 'kysely'
import { openDatabase, type Database } from '../src/platform/db/database.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { AppError } from '../src/platform/http/errors.ts'
import { PLATFORM_MIGRATIONS } from '../src/platform/runtime.ts'
import type { BoundaryCollection, BoundaryFeature } from '../src/modules/geo/geojson.ts'
import { importBoundaries } from '../src/modules/geo/import-boundaries.ts'
import { GEO_MIGRATIONS } from '../src/modules/geo/index.ts'
import { Locator } from '../src/modules/geo/locator.ts'
import { mulberry32 } from '../src/modules/geo/test-helpers.ts'
import { createScratchDatabase } from '../src/platform/testing/scratch-database.ts'

export interface LocateBenchOptions {
  /** The nationwide layer (gzip, one feature per line); omitted: Điện Biên only. */
  nationwidePath?: string
  /** Random points per layer for the Locator (default 100,000). */
  points?: number
  /** Points for the Turf linear scan (default 10,000 Điện Biên, 2,000 nationwide). */
  turfPoints?: number
  /** Points for the PostGIS round trips (default 2,000). */
  postgisPoints?: number
  /** PostgreSQL server for PostGIS (a scratch database is created and dropped); omitted: PGlite. */
  databaseUrl?: string
  seed?: number
  log?: (line: string) => void
}

export interface LocateBenchRow {
  layer: string
  method: string
  points: number
  usPerLookup: number
  /** PostGIS round-trip µs / this method's µs (how many times faster than PostGIS). */
  vsPostgis: number | null
  note?: string
}

export interface LocateBenchResult {
  machine: string
  postgis: string
  rows: LocateBenchRow[]
  layers: { layer: string; units: number; vertices: number; buildMs: number; locatorMB: number; importMs: number | null; importNote?: string; agreement: string }[]
  markdown: string
}

type Pt = [number, number]

async function readLayer(path: string): Promise<BoundaryFeature[]> {
  if (!path.endsWith('.gz')) return (JSON.parse(readFileSync(path, 'utf8')) as BoundaryCollection).features
  // One feature per line: stream it rather than hold the 145 MB text and its parse at once.
  const features: BoundaryFeature[] = []
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity })
  for await (const line of lines) {
    const s = line.trim()
    if (s.startsWith('{"type":"Feature"')) features.push(JSON.parse(s.endsWith(',') ? s.slice(0, -1) : s))
  }
  return features
}

function bboxOf(features: BoundaryFeature[]): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity]
  for (const f of features) {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates
    for (const poly of polys)
      for (const ring of poly)
        for (const [x, y] of ring) {
          if (x < b[0]) b[0] = x
          if (y < b[1]) b[1] = y
          if (x > b[2]) b[2] = x
          if (y > b[3]) b[3] = y
        }
  }
  return b
}

/** Uniform points in the layer's box, and points within ~50 m of random border vertices (the slow path). */
function samplePoints(features: BoundaryFeature[], n: number, seed: number): { uniform: Pt[]; border: Pt[] } {
  const rnd = mulberry32(seed)
  const [x0, y0, x1, y1] = bboxOf(features)
  const uniform: Pt[] = Array.from({ length: n }, () => [x0 + rnd() * (x1 - x0), y0 + rnd() * (y1 - y0)])
  const rings = features.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat())
  const border: Pt[] = Array.from({ length: n }, () => {
    const ring = rings[Math.floor(rnd() * rings.length)]
    const v = ring[Math.floor(rnd() * ring.length)]
    return [v[0] + (rnd() - 0.5) * 0.001, v[1] + (rnd() - 0.5) * 0.001]
  })
  return { uniform, border }
}

/** Median µs per call of fn over the points, over `reps` passes. */
function timeIt(points: Pt[], reps: number, fn: (lon: number, lat: number) => number): number {
  const runs: number[] = []
  let sink = 0
  for (let r = 0; r < reps; r++) {
    const t = performance.now()
    for (const [lon, lat] of points) sink += fn(lon, lat)
    runs.push(((performance.now() - t) * 1000) / points.length)
  }
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink) // keep the calls observable
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]
}

/** A scratch database: on the PostgreSQL server of `url` (dropped at close), else PGlite in memory. */
async function scratchDatabase(url: string | undefined, name: string): Promise<Database> {
  if (!url) return openDatabase({ dataDir: 'memory://' })
  const scratch = await createScratchDatabase(url, name)
  const database = await openDatabase({ databaseUrl: scratch.url, dataDir: '', poolSize: 2 })
  return {
    ...database,
    async close() {
      await database.close()
      await scratch.drop()
    },
  }
}

/** Bench only: units and boundaries straight into the tables, without the importer's checks. */
async function loadUnvalidated(db: Database['db'], features: BoundaryFeature[]): Promise<void> {
  for (let i = 0; i < features.length; i += 200) {
    const chunk = JSON.stringify(features.slice(i, i + 200).map((f) => ({ code: f.properties.code, name: f.properties.name, geometry: f.geometry })))
    await sql`insert into geo_units (code, name, full_name, level)
      select f->>'code', f->>'name', f->>'name', 'commune' from jsonb_array_elements(${chunk}::jsonb) f on conflict do nothing`.execute(db)
    await sql`insert into geo_boundary_versions (unit_code, geom, geom_hash, valid_from, source, imported_by)
      select f->>'code', ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(f->>'geometry'), 4326)), 'unvalidated', '2025-07-01', 'bench', 'system'
      from jsonb_array_elements(${chunk}::jsonb) f`.execute(db)
  }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3))

async function benchLayer(layer: string, features: BoundaryFeature[], opts: Required<Omit<LocateBenchOptions, 'nationwidePath' | 'databaseUrl' | 'log'>> & LocateBenchOptions, nationwide: boolean) {
  const log = opts.log ?? (() => {})
  const rows: LocateBenchRow[] = []
  const communes = features.filter((f) => f.properties.level === 'commune')
  const rssBefore = process.memoryUsage().rss
  const locator = Locator.fromFeatures(communes)
  const rssAfter = process.memoryUsage().rss
  log(`${layer}: ${communes.length} units, ${locator.stats.vertices} vertices; Locator built in ${locator.stats.buildMs} ms, ${(locator.stats.bytes / 1e6).toFixed(0)} MB typed arrays (RSS +${((rssAfter - rssBefore) / 1e6).toFixed(0)} MB)`)
  const { uniform, border } = samplePoints(communes, opts.points, opts.seed)

  const uniformUs = timeIt(uniform, 7, (lon, lat) => locator.unitIndexAt(lat, lon))
  const borderUs = timeIt(border, 7, (lon, lat) => locator.unitIndexAt(lat, lon))
  const fullUs = timeIt(uniform.slice(0, Math.min(uniform.length, 50_000)), 3, (lon, lat) => (locator.locate(lat, lon).near_border ? 1 : 0))
  const fullBorderUs = timeIt(border.slice(0, Math.min(border.length, 50_000)), 3, (lon, lat) => (locator.locate(lat, lon).near_border ? 1 : 0))
  const inside = uniform.reduce((n, [lon, lat]) => n + (locator.unitIndexAt(lat, lon) >= 0 ? 1 : 0), 0)
  log(`${layer}: Locator ${fmt(uniformUs)} µs (uniform, ${((100 * inside) / uniform.length).toFixed(0)}% inside a unit), ${fmt(borderUs)} µs (near borders)`)

  // Turf: the obvious linear scan (each feature's own bbox is checked first by Turf).
  const turfFeatures = communes as unknown as Parameters<typeof booleanPointInPolygon>[1][]
  const turfAt = (lon: number, lat: number) => {
    for (let i = 0; i < turfFeatures.length; i++) if (booleanPointInPolygon([lon, lat], turfFeatures[i])) return i
    return -1
  }
  const turfN = Math.min(opts.turfPoints, uniform.length)
  const turfUs = timeIt(uniform.slice(0, turfN), 1, turfAt)
  const turfBorderUs = timeIt(border.slice(0, turfN), 1, turfAt)
  log(`${layer}: Turf linear scan ${fmt(turfUs)} µs (uniform), ${fmt(turfBorderUs)} µs (near borders)`)

  // PostGIS: import through the module (one transaction, validity checks), then one round trip per point.
  const dbName = `hb_bench_geo_${nationwide ? 'vn' : 'db'}_${process.pid}`
  let pgUs = NaN, pgBorderUs = NaN, pgBatchUs = NaN, importMs: number | null = null
  let agreement = 'not checked'
  let importNote: string | undefined
  let database: Database | undefined
  try {
    database = await scratchDatabase(opts.databaseUrl, dbName)
    await migrate(database, [PLATFORM_MIGRATIONS, GEO_MIGRATIONS])
    const t0 = performance.now()
    try {
      await importBoundaries(database.db, { type: 'FeatureCollection', features: communes }, { source: 'bench', validFrom: '2025-07-01', actor: 'system' })
      importMs = Math.round(performance.now() - t0)
      log(`${layer}: imported into ${database.kind} in ${importMs} ms`)
    } catch (err) {
      // The nationwide layer was rounded to 5 decimals, which makes some rings self-intersect:
      // the importer rightly refuses it. The bench still needs it in PostGIS: load it as is.
      if (!(err instanceof AppError && err.code === 'INVALID_BOUNDARIES')) throw err
      const problems = (err.details as { problems: { kind: string }[] }).problems
      importNote = `importBoundaries refused it in ${Math.round(performance.now() - t0)} ms (${problems.length} features invalid per ST_IsValid, e.g. ${problems[0].kind}: ${err.messageEn.split(': ').slice(1, 3).join(': ').slice(0, 120)}…); loaded unvalidated for the bench`
      log(`${layer}: ${importNote}`)
      await loadUnvalidated(database.db, communes)
    }
    await sql`analyze geo_boundary_versions`.execute(database.db)
    const db = database.db
    const pgAt = async (lon: number, lat: number) =>
      (await sql<{ unit_code: string }>`select unit_code from geo_boundary_versions
        where valid_to is null and ST_Contains(geom, ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)) order by unit_code`.execute(db)).rows.map((r) => r.unit_code)
    const pgN = Math.min(opts.postgisPoints, uniform.length)
    for (const [lon, lat] of uniform.slice(0, 50)) await pgAt(lon, lat) // warm-up
    const timePg = async (pts: Pt[]) => {
      const out: string[][] = []
      const t = performance.now()
      for (const [lon, lat] of pts) out.push(await pgAt(lon, lat))
      return { us: ((performance.now() - t) * 1000) / pts.length, out }
    }
    const u = await timePg(uniform.slice(0, pgN))
    const b = await timePg(border.slice(0, pgN))
    pgUs = u.us
    pgBorderUs = b.us
    // The same lookups as one server-side statement: PostGIS's own cost without the round trips.
    const sample = uniform.slice(0, pgN)
    const t1 = performance.now()
    await sql`select count(v.unit_code) from jsonb_array_elements(${JSON.stringify(sample)}::jsonb) p
      left join lateral (select unit_code from geo_boundary_versions where valid_to is null
        and ST_Contains(geom, ST_SetSRID(ST_MakePoint((p->>0)::float8, (p->>1)::float8), 4326)) limit 1) v on true`.execute(db)
    pgBatchUs = ((performance.now() - t1) * 1000) / sample.length
    log(`${layer}: PostGIS round trip ${fmt(pgUs)} µs (uniform), ${fmt(pgBorderUs)} µs (near borders), server-side batch ${fmt(pgBatchUs)} µs`)

    // Do the three agree? Uniform and near-border samples.
    let checked = 0, disagree = 0
    const examples: string[] = []
    ;[
      [sample, u.out],
      [border.slice(0, pgN), b.out],
    ].forEach(([pts, pgOut]) => {
      ;(pts as Pt[]).forEach(([lon, lat], i) => {
        const ours = locator.unitAt(lat, lon)?.code ?? null
        const t = turfAt(lon, lat)
        const turf = t < 0 ? null : communes[t].properties.code
        const post = (pgOut as string[][])[i][0] ?? null
        checked++
        if (ours !== turf || ours !== post) {
          disagree++
          if (examples.length < 3) examples.push(`(${lon}, ${lat}): locator ${ours}, turf ${turf}, postgis ${post}`)
        }
      })
    })
    agreement = `${checked - disagree}/${checked} agree${examples.length ? `; e.g. ${examples.join('; ')}` : ''}`
    log(`${layer}: agreement ${agreement}`)
  } catch (err) {
    agreement = `PostGIS part failed: ${(err as Error).message.split('\n')[0]}`
    log(`${layer}: ${agreement}`)
  } finally {
    await database?.close()
  }

  const vs = (us: number) => (Number.isFinite(pgUs) ? pgUs / us : null)
  const kind = opts.databaseUrl ? 'PostgreSQL' : 'PGlite'
  rows.push(
    { layer, method: 'Locator.unitIndexAt (containment)', points: uniform.length, usPerLookup: uniformUs, vsPostgis: vs(uniformUs), note: 'uniform in bbox' },
    { layer, method: 'Locator.unitIndexAt (containment)', points: border.length, usPerLookup: borderUs, vsPostgis: Number.isFinite(pgBorderUs) ? pgBorderUs / borderUs : null, note: '≤ 50 m from a border vertex' },
    { layer, method: 'Locator.locate (containment + distances)', points: Math.min(uniform.length, 50_000), usPerLookup: fullUs, vsPostgis: vs(fullUs), note: 'uniform in bbox' },
    { layer, method: 'Locator.locate (containment + distances)', points: Math.min(border.length, 50_000), usPerLookup: fullBorderUs, vsPostgis: Number.isFinite(pgBorderUs) ? pgBorderUs / fullBorderUs : null, note: '≤ 50 m from a border vertex' },
    { layer, method: '@turf/boolean-point-in-polygon linear scan', points: turfN, usPerLookup: turfUs, vsPostgis: vs(turfUs), note: 'uniform in bbox' },
    { layer, method: '@turf/boolean-point-in-polygon linear scan', points: turfN, usPerLookup: turfBorderUs, vsPostgis: Number.isFinite(pgBorderUs) ? pgBorderUs / turfBorderUs : null, note: '≤ 50 m from a border vertex' },
    { layer, method: `PostGIS ST_Contains + GiST, 1 round trip/point (${kind})`, points: Math.min(opts.postgisPoints, uniform.length), usPerLookup: pgUs, vsPostgis: 1, note: 'uniform in bbox' },
    { layer, method: `PostGIS ST_Contains + GiST, 1 round trip/point (${kind})`, points: Math.min(opts.postgisPoints, border.length), usPerLookup: pgBorderUs, vsPostgis: 1, note: '≤ 50 m from a border vertex' },
    { layer, method: `PostGIS ST_Contains, one batched statement (${kind})`, points: Math.min(opts.postgisPoints, uniform.length), usPerLookup: pgBatchUs, vsPostgis: vs(pgBatchUs), note: 'no round trips; server cost only' },
  )
  return {
    rows,
    layer: { layer, units: communes.length, vertices: locator.stats.vertices, buildMs: locator.stats.buildMs, locatorMB: Math.round(locator.stats.bytes / 1e6), importMs, importNote, agreement },
  }
}

/** Runs the bench and returns the figures and a markdown report (bench/run.ts prints it). */
export async function runLocateBench(options: LocateBenchOptions = {}): Promise<LocateBenchResult> {
  const opts = {
    ...options,
    points: options.points ?? 100_000,
    turfPoints: options.turfPoints ?? 10_000,
    postgisPoints: options.postgisPoints ?? 2_000,
    seed: options.seed ?? 20250701,
  }
  const log = opts.log ?? (() => {})
  const cpu = cpus()
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}`
  let postgis = 'PGlite (PostGIS in WASM, in-process)'
  if (opts.databaseUrl) {
    const probe = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: '', poolSize: 1 })
    try {
      const v = await sql<{ v: string }>`select version() as v`.execute(probe.db)
      postgis = `PostgreSQL: ${v.rows[0].v.split(' on ')[0]} (scratch database, dropped after)`
    } finally {
      await probe.close()
    }
  }
  log(`machine: ${machine}; PostGIS on ${postgis}`)
  const rows: LocateBenchRow[] = []
  const layers: LocateBenchResult['layers'] = []
  const dienBien = fileURLToPath(new URL('../src/modules/geo/data/dien-bien-communes.geojson', import.meta.url))
  const a = await benchLayer('Điện Biên (45 communes)', await readLayer(dienBien), opts, false)
  rows.push(...a.rows)
  layers.push(a.layer)
  if (opts.nationwidePath) {
    const b = await benchLayer('Vietnam (3,321 communes)', await readLayer(opts.nationwidePath), { ...opts, turfPoints: options.turfPoints ?? 2_000 }, true)
    rows.push(...b.rows)
    layers.push(b.layer)
  }
  const table = [
    '| layer | method | points | µs / lookup | × faster than PostGIS round trip |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.layer} | ${r.method}${r.note ? ` — ${r.note}` : ''} | ${r.points.toLocaleString('en')} | ${Number.isFinite(r.usPerLookup) ? fmt(r.usPerLookup) : 'n/a'} | ${r.vsPostgis === null ? 'n/a' : r.vsPostgis === 1 ? '1' : `${fmt(r.vsPostgis)}×`} |`),
  ]
  const layerTable = [
    '| layer | units | vertices | Locator build | Locator memory (typed arrays) | import (importBoundaries) | Locator vs Turf vs PostGIS |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...layers.map((l) => `| ${l.layer} | ${l.units.toLocaleString('en')} | ${l.vertices.toLocaleString('en')} | ${l.buildMs} ms | ${l.locatorMB} MB | ${l.importMs === null ? (l.importNote ?? 'n/a') : `${l.importMs} ms`} | ${l.agreement} |`),
  ]
  const markdown = [`### Point location (\`bench/locate.ts\`)`, '', `Machine: ${machine}. PostGIS: ${postgis}.`, '', ...table, '', ...layerTable, ''].join('\n')
  return { machine, postgis, rows, layers, markdown }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const num = (v: string | undefined) => (v ? Number(v) : undefined)
  const result = await runLocateBench({
    nationwidePath: process.argv[2],
    databaseUrl: process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || undefined,
    points: num(process.env.BENCH_POINTS),
    turfPoints: num(process.env.BENCH_TURF_POINTS),
    postgisPoints: num(process.env.BENCH_PG_POINTS),
    log: (line) => console.error(line),
  })
  console.log(result.markdown)
}
