import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, requireUser } from '../../platform/auth/principal.ts'
import { badRequest, notFound } from '../../platform/http/errors.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext } from '../../platform/module.ts'
import { parseIsoInstant } from './civil-date.ts'
import { MAX_YEAR, MIN_YEAR } from './holidays.ts'
import type { ScheduleDayRow } from './repository.ts'
import { listSchedule, loadWorkingCalendar, removeScheduleDay, setScheduleDay, validateDate } from './schedule.ts'

export const MAX_ADD_DAYS = 3650
export const MAX_ADD_HOURS = 87_600

const Year = Type.Integer({ minimum: MIN_YEAR, maximum: MAX_YEAR, description: 'Gregorian year' })
const Instant = Type.String({ minLength: 1, maxLength: 64, description: "ISO 8601 instant with an offset, e.g. '2026-04-29T09:00:00+07:00' or '…Z'" })
const Kind = Type.Union([Type.Literal('day_off'), Type.Literal('working_day')])
const HolidaySchema = Type.Object({
  date: Type.String({ description: 'YYYY-MM-DD (local date)' }),
  name_vi: Type.String(),
  name_en: Type.String(),
  kind: Type.Union([Type.Literal('public_holiday'), Type.Literal('compensatory'), Type.Literal('day_off'), Type.Literal('working_day')]),
})
const ScheduleDaySchema = Type.Object({ date: Type.String(), kind: Kind, note_vi: Type.String(), note_en: Type.String() })
const ScheduleDayAdminSchema = Type.Object({ ...ScheduleDaySchema.properties, updated_at: Type.String(), updated_by: Type.String() })
const DateParams = Type.Object({ date: Type.String({ maxLength: 10, description: 'YYYY-MM-DD' }) })

/** HTTP routes of the calendar: public look-ups and the province admin's schedule. */
export async function calendarRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // Refuse before body validation, so an anonymous caller learns nothing about the body format.
  const adminOnly = async (req: FastifyRequest) => {
    requireUser(req, 'province_admin')
  }

  app.get('/api/calendar/holidays', {
    schema: {
      tags: ['calendar'],
      summary: 'Public holidays, compensatory days and the announced schedule of a year',
      querystring: Type.Object({ year: Year }),
      response: { 200: Type.Object({ year: Type.Integer(), holidays: Type.Array(HolidaySchema) }), 400: ErrorSchema },
    },
  }, async (req) => {
    const cal = await loadWorkingCalendar(ctx.db)
    return { year: req.query.year, holidays: cal.holidays(req.query.year) }
  })

  app.get('/api/calendar/add', {
    schema: {
      tags: ['calendar'],
      summary: 'Deadline: an instant plus working days or office hours',
      description:
        'Exactly one of `days` or `hours`. Days: `from` moves to the next office period if the office is closed, then the result is the same local time on the N-th working day after. Hours: counts office time only.',
      querystring: Type.Object({
        from: Instant,
        days: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ADD_DAYS })),
        hours: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_ADD_HOURS })),
      }),
      response: {
        200: Type.Object({
          from: Type.String(),
          days: Type.Optional(Type.Integer()),
          hours: Type.Optional(Type.Number()),
          result: Type.String({ description: 'ISO 8601 UTC' }),
          result_local: Type.String({ description: 'ISO 8601 with +07:00' }),
        }),
        400: ErrorSchema,
      },
    },
  }, async (req) => {
    const { days, hours } = req.query
    if ((days === undefined) === (hours === undefined)) {
      throw badRequest('DAYS_OR_HOURS', 'Cần đúng một trong hai tham số days hoặc hours.', 'Give exactly one of days or hours.')
    }
    const from = instantParam(req.query.from, 'from')
    const cal = await loadWorkingCalendar(ctx.db)
    const result = inRange(() => (days !== undefined ? cal.addWorkingDays(from, days) : cal.addWorkingHours(from, hours!)))
    return { from: from.toISOString(), ...(days !== undefined ? { days } : { hours }), result: result.toISOString(), result_local: cal.formatLocal(result) }
  })

  app.get('/api/calendar/working-time', {
    schema: {
      tags: ['calendar'],
      summary: 'Office time between two instants',
      querystring: Type.Object({ from: Instant, to: Instant }),
      response: {
        200: Type.Object({ from: Type.String(), to: Type.String(), working_ms: Type.Integer(), working_hours: Type.Number() }),
        400: ErrorSchema,
      },
    },
  }, async (req) => {
    const from = instantParam(req.query.from, 'from')
    const to = instantParam(req.query.to, 'to')
    if (to < from) throw badRequest('INVALID_RANGE', '`to` phải sau `from`.', '`to` must not be before `from`.')
    const cal = await loadWorkingCalendar(ctx.db)
    const ms = inRange(() => cal.workingMillisBetween(from, to))
    return { from: from.toISOString(), to: to.toISOString(), working_ms: ms, working_hours: ms / 3_600_000 }
  })

  app.get('/api/calendar/schedule', {
    schema: {
      tags: ['calendar'],
      summary: 'The announced schedule (extra days off, make-up working days) of a year',
      querystring: Type.Object({ year: Type.Optional(Year) }),
      response: { 200: Type.Object({ year: Type.Integer(), days: Type.Array(ScheduleDaySchema) }), 400: ErrorSchema },
    },
  }, async (req) => {
    const cal = await loadWorkingCalendar(ctx.db)
    const year = req.query.year ?? Number(cal.localDate(ctx.clock()).slice(0, 4))
    const rows = await listSchedule(ctx.db, year)
    return { year, days: rows.map(({ date, kind, note_vi, note_en }) => ({ date, kind, note_vi, note_en })) }
  })

  app.put('/api/calendar/schedule/:date', {
    preValidation: adminOnly,
    schema: {
      tags: ['calendar'],
      summary: 'Set the announced schedule of a date (province admin)',
      params: DateParams,
      body: Type.Object({
        kind: Kind,
        note_vi: Type.Optional(Type.String({ maxLength: 500 })),
        note_en: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      response: { 200: ScheduleDayAdminSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    requireUser(req, 'province_admin')
    const row = await setScheduleDay(ctx.db, { date: req.params.date, ...req.body }, actorOf(req.principal), { now: ctx.clock() })
    return presentAdmin(row)
  })

  app.delete('/api/calendar/schedule/:date', {
    preValidation: adminOnly,
    schema: {
      tags: ['calendar'],
      summary: 'Remove the announced schedule of a date; the computed calendar applies again (province admin)',
      params: DateParams,
      response: { 204: Type.Null(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
    },
  }, async (req, reply) => {
    requireUser(req, 'province_admin')
    validateDate(req.params.date)
    const removed = await removeScheduleDay(ctx.db, req.params.date, actorOf(req.principal), { now: ctx.clock() })
    if (!removed) throw notFound('Schedule entry', 'ngày trong lịch thông báo')
    return reply.status(204).send(null)
  })
}

function presentAdmin(r: ScheduleDayRow) {
  return { date: r.date, kind: r.kind, note_vi: r.note_vi, note_en: r.note_en, updated_at: new Date(r.updated_at).toISOString(), updated_by: r.updated_by }
}

function instantParam(value: string, name: string): Date {
  const d = parseIsoInstant(value)
  if (!d) {
    throw badRequest(
      'INVALID_INSTANT',
      `Tham số ${name} phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-04-29T09:00:00+07:00.`,
      `${name} must be an ISO 8601 instant with an offset, e.g. 2026-04-29T09:00:00+07:00.`,
      { [name]: value },
    )
  }
  return d
}

// The calendar throws RangeError beyond the supported years, e.g. when adding 87 600 hours to 2190.
function inRange<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof RangeError) throw outOfRange()
    throw err
  }
}

function outOfRange() {
  return badRequest('OUT_OF_RANGE', `Lịch chỉ hỗ trợ các năm ${MIN_YEAR}–${MAX_YEAR}.`, `The calendar supports the years ${MIN_YEAR}–${MAX_YEAR}.`)
}
