import { createHash } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Db } from '../../platform/db/database.ts'
import { notFound } from '../../platform/http/errors.ts'
import type { AppContext } from '../../platform/module.ts'
import { checkCoordinates, invalidCoordinates } from './coordinates.ts'
import { getLocator } from './locator-cache.ts'
import { boundaryFeatureJson, boundaryRows, getAdminUnit, layerSignature, listAdminUnits } from './repository.ts'

const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message_vi: Type.String(), message_en: Type.String(), details: Type.Optional(Type.Unknown()) }),
})

const Level = Type.Union([Type.Literal('province'), Type.Literal('district'), Type.Literal('commune')])

const LocatedUnit = Type.Object({ code: Type.String(), name: Type.String(), full_name: Type.String() })

const LocateResultSchema = Type.Object({
  status: Type.Union([Type.Literal('inside'), Type.Literal('nearest'), Type.Literal('outside')], {
    description: 'inside: in `unit`; nearest: in no unit but within 500 m of `unit`; outside: farther (unit null)',
  }),
  unit: Type.Union([LocatedUnit, Type.Null()]),
  distance_to_border_m: Type.Union([Type.Number(), Type.Null()], { description: "inside: to the unit's own border; nearest/outside: to the closest unit (outside: only within 5 km)" }),
  near_border: Type.Boolean({ description: 'within 30 m of a border: a GPS fix could belong to the neighbour named in `nearest`' }),
  boundary_version: Type.Union([Type.String(), Type.Null()], { description: 'id of the boundary version that answered; store it with the located item' }),
  nearest: Type.Optional(Type.Object({ code: Type.String(), name: Type.String(), distance_m: Type.Number() })),
})

const AdminUnitSchema = Type.Object({
  code: Type.String(),
  name: Type.String(),
  full_name: Type.String(),
  name_en: Type.Union([Type.String(), Type.Null()]),
  level: Level,
  parent_code: Type.Union([Type.String(), Type.Null()]),
  unit_type: Type.Union([Type.String(), Type.Null()]),
})

const AdminUnitDetailSchema = Type.Object({
  ...AdminUnitSchema.properties,
  merged_from: Type.Array(Type.Unknown(), { description: 'pre-merger units absorbed on 2025-07-01: {code, name, old_district_code, type}' }),
  boundary: Type.Union([
    Type.Object({ id: Type.String(), valid_from: Type.String(), valid_to: Type.Union([Type.String(), Type.Null()]), source: Type.String(), imported_at: Type.String() }),
    Type.Null(),
  ]),
})

const FeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.String(),
  properties: Type.Object({
    code: Type.String(),
    name: Type.String(),
    full_name: Type.String(),
    level: Level,
    unit_type: Type.Union([Type.String(), Type.Null()]),
    boundary_version: Type.String(),
    valid_from: Type.String(),
  }),
  geometry: Type.Unknown({ description: 'GeoJSON MultiPolygon, lon/lat (EPSG:4326), exterior rings counter-clockwise (RFC 7946)' }),
})

const FeatureCollectionSchema = Type.Object({ type: Type.Literal('FeatureCollection'), features: Type.Array(FeatureSchema) })

// 1/0 as well as true/false: the query-string coercion only knows the latter.
const Simplified = Type.Optional(
  Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')], {
    description: '1: the light phone-map geometry (shared borders simplified together, ±30 m, 5 decimals)',
  }),
)
const isOn = (v: string | undefined) => v === '1' || v === 'true'

// Boundaries change a few times a year: let phones and proxies keep them an hour, and revalidate
// cheaply with the ETag after that.
const CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400'

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`

function notModified(req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match']
  if (!header) return false
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '')
    return tag === etag || tag === '*'
  })
}

function sendCachedJson(req: FastifyRequest, reply: FastifyReply, body: string, etag: string) {
  reply.header('cache-control', CACHE_CONTROL).header('etag', etag)
  if (notModified(req, etag)) return reply.code(304).send()
  return reply.type('application/geo+json; charset=utf-8').send(body)
}

// The served layer, per database and variant, rebuilt when the layer's signature changes.
const layerCache = new WeakMap<Db, Map<string, { signature: string; body: string; etag: string }>>()

async function layerJson(db: Db, level: 'province' | 'district' | 'commune', simplified: boolean) {
  const signature = await layerSignature(db, { level })
  let perDb = layerCache.get(db)
  if (!perDb) layerCache.set(db, (perDb = new Map()))
  const key = `${level}|${simplified}`
  const hit = perDb.get(key)
  if (hit && hit.signature === signature) return hit
  const rows = await boundaryRows(db, { level, simplified, forDisplay: true })
  const body = `{"type":"FeatureCollection","features":[${rows.map(boundaryFeatureJson).join(',')}]}`
  const entry = { signature, body, etag: etagOf(body) }
  perDb.set(key, entry)
  return entry
}

const unitNotFound = () => notFound('Administrative unit', 'đơn vị hành chính')

/** Public geo API: locate a point, list units, serve boundaries for maps. */
export async function geoRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>()

  r.get(
    '/api/geo/locate',
    {
      attachValidation: true,
      schema: {
        tags: ['geo'],
        summary: 'Which commune a point is in',
        description:
          'Locates a WGS 84 point among the communes in force today. Errors: INVALID_COORDINATES (not numbers, out of range), COORDINATES_SWAPPED (lat/lon given the wrong way round; details.hint has the corrected pair). A valid point far from every commune is not an error: 200 with status "outside".',
        querystring: Type.Object({
          lat: Type.Number({ description: 'latitude, decimal degrees (−90…90)', examples: [21.3856] }),
          lon: Type.Number({ description: 'longitude, decimal degrees (−180…180)', examples: [103.0167] }),
        }),
        response: { 200: LocateResultSchema, 400: ErrorSchema },
      },
    },
    async (req) => {
      // Schema failures (missing, "abc", "NaN") get the same domain code as a range error.
      if (req.validationError) throw invalidCoordinates(req.validationError.message)
      const { lat, lon } = checkCoordinates(req.query.lat, req.query.lon)
      const locator = await getLocator(ctx.db)
      return locator.locate(lat, lon)
    },
  )

  r.get(
    '/api/geo/units',
    {
      schema: {
        tags: ['geo'],
        summary: 'Administrative units (province, communes)',
        querystring: Type.Object({ level: Type.Optional(Level), parent_code: Type.Optional(Type.String({ pattern: '^[0-9]{2,5}$' })) }),
        response: { 200: Type.Object({ items: Type.Array(AdminUnitSchema) }), 400: ErrorSchema },
      },
    },
    async (req) => ({ items: await listAdminUnits(ctx.readDb, { level: req.query.level, parentCode: req.query.parent_code }) }),
  )

  r.get(
    '/api/geo/units/:code',
    {
      schema: {
        tags: ['geo'],
        summary: 'One administrative unit, its merge history and boundary version in force',
        params: Type.Object({ code: Type.String({ pattern: '^[0-9]{2,5}$' }) }),
        response: { 200: AdminUnitDetailSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req) => {
      const unit = await getAdminUnit(ctx.readDb, req.params.code)
      if (!unit) throw unitNotFound()
      return unit
    },
  )

  r.get(
    '/api/geo/units/:code/boundary',
    {
      schema: {
        tags: ['geo'],
        summary: 'Boundary in force of one unit (GeoJSON Feature)',
        params: Type.Object({ code: Type.String({ pattern: '^[0-9]{2,5}$' }) }),
        querystring: Type.Object({ simplified: Simplified }),
        response: { 200: FeatureSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const rows = await boundaryRows(ctx.readDb, { code: req.params.code, simplified: isOn(req.query.simplified), forDisplay: true })
      if (rows.length === 0) {
        if (!(await getAdminUnit(ctx.readDb, req.params.code))) throw unitNotFound()
        throw notFound('Boundary in force for this unit', 'ranh giới đang có hiệu lực của đơn vị này')
      }
      const body = boundaryFeatureJson(rows[0])
      return sendCachedJson(req, reply, body, etagOf(body))
    },
  )

  r.get(
    '/api/geo/boundaries',
    {
      schema: {
        tags: ['geo'],
        summary: 'Boundaries in force of all units of a level, for maps (GeoJSON FeatureCollection)',
        description: 'Default level: commune. `simplified=1` is the phone variant. Cache-Control and a strong ETag are set; send If-None-Match to get 304.',
        querystring: Type.Object({ simplified: Simplified, level: Type.Optional(Level) }),
        response: { 200: FeatureCollectionSchema, 400: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { body, etag } = await layerJson(ctx.readDb, req.query.level ?? 'commune', isOn(req.query.simplified))
      return sendCachedJson(req, reply, body, etag)
    },
  )
}
