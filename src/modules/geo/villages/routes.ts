import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requireUser } from '../../../platform/auth/principal.ts'
import { AppError } from '../../../platform/http/errors.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext, RoutePolicy } from '../../../platform/module.ts'
import { loadGazetteer, importInfrastructureCsv, importVillagesCsv, infrastructureCsv, listVillages, whiteZoneGaps, MAX_IMPORT_ROWS, type ImportResult, type Village } from './villages.ts'
import { searchGazetteer } from './gazetteer.ts'

export const villagesRoutePolicy: Record<string, RoutePolicy> = {
  'GET /api/places/villages': 'public',
  'GET /api/places/villages.geojson': 'public',
  'GET /api/places/villages/infrastructure.csv': 'public',
  'GET /api/places/white-zones': 'public',
  'GET /api/places/search': 'public',
  'POST /api/places/villages/import': 'admin',
  'POST /api/places/villages/infrastructure/import': 'admin',
}

const CSV_BODY_LIMIT = 4 * 1_048_576
const CommuneCode = Type.String({ pattern: '^[0-9]{5}$' })
const Infrastructure = Type.Union([
  Type.Object({
    fixed_broadband: Type.Boolean(),
    broadband_provider: Type.Union([Type.String(), Type.Null()]),
    mobile_coverage: Type.Union([Type.Literal('none'), Type.Literal('2g'), Type.Literal('3g'), Type.Literal('4g')]),
    grid_power: Type.Boolean(),
    as_of: Type.String({ description: 'survey date YYYY-MM-DD' }),
    source: Type.String(),
  }),
  Type.Null(),
])
const VillageSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  commune_code: Type.String(),
  commune_name: Type.String(),
  aliases: Type.Array(Type.String()),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lon: Type.Union([Type.Number(), Type.Null()]),
  source: Type.String(),
  is_sample: Type.Boolean({ description: 'illustrative sample data, not an official list' }),
  infrastructure: Infrastructure,
})
const Gaps = Type.Array(Type.Union([Type.Literal('no_broadband'), Type.Literal('no_mobile_data'), Type.Literal('no_power')]))
const ImportAnswer = Type.Object({
  imported: Type.Boolean(),
  rows: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), code: Type.String(), message_vi: Type.String(), message_en: Type.String() })),
})
const PlaceHit = Type.Object({
  kind: Type.Union([Type.Literal('commune'), Type.Literal('village')]),
  id: Type.String({ description: 'commune: GSO code; village: village id' }),
  name: Type.String(),
  commune_code: Type.String(),
  commune_name: Type.String(),
  lat: Type.Union([Type.Number(), Type.Null()]),
  lon: Type.Union([Type.Number(), Type.Null()]),
})

function importRefused(r: ImportResult): AppError {
  return new AppError(422, 'IMPORT_ROWS_INVALID', `Có ${r.errors.length} dòng lỗi; chưa nhập dòng nào.`, `${r.errors.length} row(s) refused; nothing was imported.`, r)
}

/** Villages, their infrastructure, white zones and place search under /api/places. */
export async function villagesRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  await fastify.register(async (scope) => {
    scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT }, (_req, body, done) => done(null, body))
    const app = scope.withTypeProvider<TypeBoxTypeProvider>()

    app.get('/api/places/villages', {
      schema: {
        tags: ['places'],
        summary: 'Villages (thôn, bản, tổ dân phố): search by name (no diacritics needed, typos tolerated) or list by commune',
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 100 })),
          commune_code: Type.Optional(CommuneCode),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(VillageSchema) }), 400: ErrorSchema },
      },
    }, async (req) => {
      const { q, commune_code, limit, offset } = req.query
      if (!q?.trim()) return { items: await listVillages(ctx.db, { communeCode: commune_code, limit, offset }) }
      const hits = searchGazetteer(await loadGazetteer(ctx.db), q, { kind: 'village', communeCode: commune_code, limit: limit + offset }).slice(offset)
      const byId = new Map((await listVillages(ctx.db, { ids: hits.map((h) => h.place.id) })).map((v) => [v.id, v]))
      return { items: hits.map((h) => byId.get(h.place.id)).filter((v): v is Village => !!v) }
    })

    app.get('/api/places/search', {
      schema: {
        tags: ['places'],
        summary: 'Find a place by name: communes (also by the old names merged into them) and villages; for hotline operators and forms',
        querystring: Type.Object({
          q: Type.String({ minLength: 1, maxLength: 100 }),
          kind: Type.Optional(Type.Union([Type.Literal('commune'), Type.Literal('village')])),
          limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(PlaceHit) }), 400: ErrorSchema },
      },
    }, async (req) => {
      const hits = searchGazetteer(await loadGazetteer(ctx.db), req.query.q, { kind: req.query.kind, limit: req.query.limit })
      return { items: hits.map(({ place: p }) => ({ kind: p.kind, id: p.id, name: p.name, commune_code: p.commune_code, commune_name: p.commune_name, lat: p.lat, lon: p.lon })) }
    })

    app.get('/api/places/villages.geojson', {
      schema: {
        tags: ['places'],
        summary: 'Map layer: villages with coordinates as GeoJSON points, with infrastructure and white-zone gaps',
        querystring: Type.Object({ commune_code: Type.Optional(CommuneCode) }),
        response: { 200: Type.Unknown(), 400: ErrorSchema },
      },
    }, async (req, reply) => {
      const villages = (await listVillages(ctx.db, { communeCode: req.query.commune_code })).filter((v) => v.lat !== null)
      reply.type('application/geo+json; charset=utf-8')
      return {
        type: 'FeatureCollection',
        features: villages.map((v) => ({
          type: 'Feature',
          id: v.id,
          geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
          properties: {
            name: v.name,
            commune_code: v.commune_code,
            commune_name: v.commune_name,
            is_sample: v.is_sample,
            ...(v.infrastructure ?? {}),
            white_zone_gaps: whiteZoneGaps(v.infrastructure),
          },
        })),
      }
    })

    app.get('/api/places/white-zones', {
      schema: {
        tags: ['places'],
        summary: 'White zones (vùng trắng) for coverage planning: villages with no fixed broadband, no mobile data (none/2G) or no grid power',
        querystring: Type.Object({ commune_code: Type.Optional(CommuneCode) }),
        response: {
          200: Type.Object({
            totals: Type.Object({ villages_surveyed: Type.Integer(), white_zones: Type.Integer(), no_broadband: Type.Integer(), no_mobile_data: Type.Integer(), no_power: Type.Integer() }),
            items: Type.Array(Type.Object({ ...VillageSchema.properties, gaps: Gaps })),
          }),
          400: ErrorSchema,
        },
      },
    }, async (req) => {
      const all = await listVillages(ctx.db, { communeCode: req.query.commune_code })
      const surveyed = all.filter((v) => v.infrastructure)
      const items = surveyed.map((v) => ({ ...v, gaps: whiteZoneGaps(v.infrastructure) })).filter((v) => v.gaps.length > 0)
      const count = (g: string) => items.filter((v) => v.gaps.includes(g as never)).length
      return { totals: { villages_surveyed: surveyed.length, white_zones: items.length, no_broadband: count('no_broadband'), no_mobile_data: count('no_mobile_data'), no_power: count('no_power') }, items }
    })

    app.get('/api/places/villages/infrastructure.csv', {
      schema: {
        tags: ['places'],
        summary: 'Export: villages and their current infrastructure as CSV (white_zone_gaps column), UTF-8 with BOM',
        querystring: Type.Object({ commune_code: Type.Optional(CommuneCode), white_zones_only: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.String(), 400: ErrorSchema },
      },
    }, async (req, reply) => {
      const villages = await listVillages(ctx.db, { communeCode: req.query.commune_code, whiteZones: req.query.white_zones_only })
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="village-infrastructure.csv"')
      return `\uFEFF${infrastructureCsv(villages)}`
    })

    app.post('/api/places/villages/import', {
      preValidation: async (req) => void requireUser(req, 'province_admin'),
      bodyLimit: CSV_BODY_LIMIT,
      schema: {
        tags: ['places'],
        summary: 'Import villages from CSV (province admin): name, commune_code, lon, lat, aliases; all or nothing, errors per line',
        description: `Content-Type: text/csv. At most ${MAX_IMPORT_ROWS} rows and 4 MiB. Lon/lat optional (both or neither) and must lie in the commune. Re-importing a village (same commune, same name without diacritics) updates it. 422 with details.errors[] when any row is refused.`,
        querystring: Type.Object({ source: Type.String({ minLength: 1, maxLength: 300, default: 'CSV import' }) }),
        body: Type.String({ maxLength: CSV_BODY_LIMIT }),
        response: { 200: ImportAnswer, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema },
      },
    }, async (req) => {
      const p = requireUser(req, 'province_admin')
      const r = await importVillagesCsv(ctx.db, req.body, { source: req.query.source, actor: actorOf(p), now: ctx.clock() })
      if (!r.imported) throw importRefused(r)
      return r
    })

    app.post('/api/places/villages/infrastructure/import', {
      preValidation: async (req) => void requireUser(req, 'province_admin'),
      bodyLimit: CSV_BODY_LIMIT,
      schema: {
        tags: ['places'],
        summary: 'Import village infrastructure surveys from CSV (province admin); each row is a dated survey, the latest is current',
        description: 'Content-Type: text/csv with columns commune_code, village, fixed_broadband (yes/no), broadband_provider, mobile_coverage (none/2g/3g/4g), grid_power (yes/no), as_of (YYYY-MM-DD), source. All or nothing; 422 with details.errors[].',
        body: Type.String({ maxLength: CSV_BODY_LIMIT }),
        response: { 200: ImportAnswer, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema },
      },
    }, async (req) => {
      const p = requireUser(req, 'province_admin')
      const r = await importInfrastructureCsv(ctx.db, req.body, { actor: actorOf(p), defaultSource: 'CSV import', now: ctx.clock() })
      if (!r.imported) throw importRefused(r)
      return r
    })
  })
}
