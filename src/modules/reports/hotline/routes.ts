import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { requireUser, STAFF_ROLES } from '../../../platform/auth/principal.ts'
import { badRequest } from '../../../platform/http/errors.ts'
import { readIdempotencyKey } from '../../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext, RoutePolicy } from '../../../platform/module.ts'
import { getVillage } from '../../geo/index.ts'
import { submitReport } from '../intake.ts'

export const hotlineRoutePolicy: Record<string, RoutePolicy> = {
  'POST /api/reports/hotline': 'staff',
}

const HotlineBody = Type.Object({
  category: Type.String({ minLength: 1, maxLength: 64, description: 'report category code (GET /api/reports/categories)' }),
  description: Type.String({ minLength: 3, maxLength: 4000, description: "what the caller reports, in the operator's words" }),
  place: Type.Object(
    {
      village_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'from GET /api/places/search?kind=village' })),
      commune_code: Type.Optional(Type.String({ pattern: '^[0-9]{5}$', description: 'from GET /api/places/search (a commune hit, or the commune of a village without coordinates)' })),
      lat: Type.Optional(Type.Number({ description: 'map pin' })),
      lon: Type.Optional(Type.Number({ description: 'map pin' })),
      address_text: Type.Optional(Type.String({ maxLength: 300, description: 'landmark said by the caller' })),
    },
    { description: 'One of: a village, a commune, or a map pin (lat+lon); a pin may come with the commune the caller named.' },
  ),
  caller: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.String({ maxLength: 120 })),
      phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$', description: 'private: shown only to the handling unit' })),
    }),
  ),
  anonymous: Type.Boolean({ default: false, description: 'the caller does not give a name or number' }),
})

const Answer = Type.Object({
  code: Type.String(),
  status: Type.String(),
  channel: Type.Literal('hotline'),
  unit: Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String() }),
  commune: Type.Union([Type.Object({ code: Type.String(), name: Type.String() }), Type.Null()]),
  locate_status: Type.String(),
  due_at: Type.String(),
  possible_duplicates: Type.Array(Type.Object({ code: Type.String(), distance_m: Type.Number(), status: Type.String(), description: Type.String() })),
  read_back_vi: Type.String({ description: 'what the operator reads to the caller' }),
})

/**
 * POST /api/reports/hotline: a hotline operator (any staff role) enters a report for a caller.
 * Channel `hotline`; the operator is the report's recorded submitter (reporter_user_id, and the
 * actor in the audit log); the caller's phone is private contact data.
 */
export async function hotlineRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/api/reports/hotline', {
    preValidation: async (req) => void requireUser(req, ...STAFF_ROLES),
    schema: {
      tags: ['reports'],
      summary: 'Hotline (đường dây nóng): an operator enters a report for a caller; place by village, commune or map pin',
      description: 'Find the place with GET /api/places/search?q=… (communes, old commune names and villages, typo-tolerant). Send an Idempotency-Key header to retry safely. Answers 201 with the tracking code to read back to the caller.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: HotlineBody,
      response: { 201: Answer, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req, reply) => {
    const operator = requireUser(req, ...STAFF_ROLES)
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const b = req.body
    const pl = b.place
    const hasPin = pl.lat !== undefined || pl.lon !== undefined
    if ([!!pl.village_id, hasPin].filter(Boolean).length > 1) throw badRequest('AMBIGUOUS_PLACE', 'Chọn thôn/bản hoặc ghim bản đồ, không cả hai.', 'Give a village or a map pin, not both.')
    if (!pl.village_id && !hasPin && !pl.commune_code) throw badRequest('LOCATION_REQUIRED', 'Cần thôn/bản, xã/phường hoặc ghim bản đồ.', 'A village, a commune or a map pin is required.')
    let lat = pl.lat
    let lon = pl.lon
    let communeCode = pl.commune_code
    let address = pl.address_text
    if (pl.village_id) {
      const v = await getVillage(ctx.db, pl.village_id)
      if (!v) throw badRequest('UNKNOWN_VILLAGE', 'Thôn/bản không tồn tại.', `Unknown village ${pl.village_id}.`)
      if (communeCode && communeCode !== v.commune_code) throw badRequest('VILLAGE_NOT_IN_COMMUNE', 'Thôn/bản không thuộc xã/phường đã chọn.', 'The village is not in the given commune.')
      lat = v.lat ?? undefined
      lon = v.lon ?? undefined
      communeCode = v.commune_code
      address = [address, `${v.name}, ${v.commune_name}`].filter(Boolean).join(' — ')
    }
    const contact = b.anonymous ? undefined : { name: b.caller?.name, phone: b.caller?.phone }
    const r = await submitReport(
      { db: ctx.db, uploadDir: ctx.config.uploadDir, provinceCode: ctx.config.provinceCode, now: ctx.clock() },
      { category: b.category, description: b.description, channel: 'hotline', lat, lon, commune_code: communeCode, address_text: address, anonymous: b.anonymous, share_identity: false, contact },
      operator,
      { scope: `hotline|user:${operator.userId}`, key },
    )
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    const a = r.body
    const due = new Date(new Date(a.due_at).getTime() + 7 * 3600_000).toISOString().slice(0, 10).split('-').reverse().join('/')
    return reply.code(201).send({
      code: a.code,
      status: a.status,
      channel: 'hotline' as const,
      unit: a.unit,
      commune: a.commune,
      locate_status: a.locate_status,
      due_at: a.due_at,
      possible_duplicates: a.possible_duplicates,
      read_back_vi: `Mã phản ánh của ông/bà là ${a.code}. Đơn vị xử lý: ${a.unit.name_vi}. Hạn xử lý: ${due}. Tra cứu bằng tin nhắn: TT ${a.code}.`,
    })
  })
}
