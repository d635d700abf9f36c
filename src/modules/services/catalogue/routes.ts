import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { badRequest, notFound } from '../../../platform/http/errors.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext } from '../../../platform/module.ts'
import { computeFee, getProcedureVersion, listProcedureFields, listProcedureVersions, searchProcedures } from './repository.ts'
import { instantOfVietnamDate, vietnamDate } from './text.ts'

const DurationSchema = Type.Object({
  amount: Type.Number(),
  unit: Type.Union([Type.Literal('working_days'), Type.Literal('working_hours'), Type.Literal('calendar_days')]),
})
const Durations = Type.Object({ online: DurationSchema, in_person: DurationSchema })
const Level = Type.Union([Type.Literal('commune'), Type.Literal('province')])
const Code = Type.String({ pattern: '^[0-9A-Za-z._-]{1,40}$', description: 'procedure code, e.g. 1.001193' })

const Summary = Type.Object({
  code: Type.String(),
  version: Type.Integer(),
  name_vi: Type.String(),
  name_en: Type.String(),
  field: Type.String(),
  field_name_vi: Type.String(),
  level: Level,
  handling_unit: Type.String({ description: "'commune' (the applicant's commune) or an org unit code" }),
  fully_online: Type.Boolean({ description: 'can be done fully online (dịch vụ công trực tuyến toàn trình)' }),
  priority: Type.Boolean(),
  duration: Durations,
  priority_duration: Type.Union([DurationSchema, Type.Null()]),
  fee_vnd: Type.Number({ description: 'base fee before any fee policy' }),
})

const FeeQuoteSchema = Type.Object({ amount_vnd: Type.Number(), policy_code: Type.Union([Type.String(), Type.Null()]), policy_name_vi: Type.Union([Type.String(), Type.Null()]) })

const Detail = Type.Object({
  procedure_code: Type.String(),
  version: Type.Integer(),
  valid_from: Type.String(),
  valid_to: Type.Union([Type.String(), Type.Null()]),
  name_vi: Type.String(),
  name_en: Type.String(),
  field: Type.String(),
  level: Level,
  handling_unit: Type.String(),
  components: Type.Array(Type.Object({
    key: Type.String(),
    name_vi: Type.String(),
    name_en: Type.String(),
    required: Type.Boolean(),
    template_url: Type.Union([Type.String(), Type.Null()]),
    formats: Type.Array(Type.String()),
    max_bytes: Type.Integer(),
  })),
  legal_basis: Type.Array(Type.String()),
  duration: Durations,
  priority: Type.Boolean(),
  priority_duration: Type.Union([DurationSchema, Type.Null()]),
  fee_vnd: Type.Number(),
  fully_online: Type.Boolean(),
  steps: Type.Array(Type.Object({ key: Type.String(), name_vi: Type.String(), name_en: Type.String(), share: Type.Number() })),
  as_of: Type.String({ description: 'the Vietnam date the version and fees are for' }),
  fees: Type.Object({ online: FeeQuoteSchema, in_person: FeeQuoteSchema }),
  versions: Type.Array(Type.Object({ version: Type.Integer(), valid_from: Type.String(), valid_to: Type.Union([Type.String(), Type.Null()]) })),
})

/** Public browse and search of the catalogue (no sign-in needed). */
export async function catalogueRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/api/procedures', {
    schema: {
      tags: ['services'],
      summary: 'Search and browse administrative procedures (thủ tục hành chính); q ignores case and diacritics',
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 200 })),
        field: Type.Optional(Type.String({ maxLength: 64 })),
        level: Type.Optional(Level),
        fully_online: Type.Optional(Type.Boolean()),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
        offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Summary), total: Type.Integer() }), 400: ErrorSchema },
    },
  }, async (req) => {
    const q = req.query
    return searchProcedures(ctx.readDb, { text: q.q, field: q.field, level: q.level, fully_online: q.fully_online, limit: q.limit, offset: q.offset, at: ctx.clock() })
  })

  app.get('/api/procedures/fields', {
    schema: {
      tags: ['services'],
      summary: 'Procedure fields (lĩnh vực) with the number of procedures in force in each',
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name_vi: Type.String(), name_en: Type.String(), count: Type.Integer() })) }) },
    },
  }, async () => ({ items: await listProcedureFields(ctx.readDb, ctx.clock()) }))

  app.get('/api/procedures/:code', {
    schema: {
      tags: ['services'],
      summary: 'A procedure as in force on a date (today by default), with its fee per channel on that date',
      params: Type.Object({ code: Code }),
      querystring: Type.Object({ at: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (Vietnam date)' })) }),
      response: { 200: Detail, 400: ErrorSchema, 404: ErrorSchema },
    },
  }, async (req) => {
    let at = ctx.clock()
    if (req.query.at !== undefined) {
      const d = instantOfVietnamDate(req.query.at)
      if (!d) throw badRequest('INVALID_DATE', `Ngày "${req.query.at}" không hợp lệ.`, `"${req.query.at}" is not a valid date.`)
      at = d
    }
    const v = await getProcedureVersion(ctx.readDb, req.params.code, at)
    if (!v) throw notFound('Procedure', 'thủ tục hành chính')
    const [online, inPerson, versions] = await Promise.all([
      computeFee(ctx.db, v, 'online', at),
      computeFee(ctx.db, v, 'in_person', at),
      listProcedureVersions(ctx.db, v.procedure_code),
    ])
    return { ...v, as_of: vietnamDate(at), fees: { online, in_person: inPerson }, versions }
  })
}
