import { readFileSync } from 'node:fs'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { Db } from '../../../platform/db/database.ts'
import { ErrorSchema } from '../../../platform/http/schemas.ts'
import type { AppContext } from '../../../platform/module.ts'

/**
 * Project 06 (Đề án 06) essential services: which procedures are flagged, the yearly targets,
 * and the indicators the IOC tracks per unit and year: online availability (share of the
 * flagged procedures a unit handles that are fully online), online-dossier rate and on-time
 * rate. Read-only over the services module's own tables (procedures, versions, dossiers).
 */

export const PROJECT06_INDICATORS = ['online_availability', 'online_dossier_rate', 'on_time_rate'] as const
export type Project06Indicator = (typeof PROJECT06_INDICATORS)[number]

interface Project06File {
  services: { procedure_code: string; service_group: string; service_name_vi: string; service_name_en: string }[]
  targets: ({ year: number } & Record<Project06Indicator, number>)[]
}

/** Loads the flagged procedures (those in the catalogue) and the targets; keeps targets already set. */
export async function seedProject06(db: Db): Promise<void> {
  const file = JSON.parse(readFileSync(new URL('../data/project06-essential-services.json', import.meta.url), 'utf8')) as Project06File
  await db.transaction().execute(async (tx) => {
    for (const s of file.services) {
      await sql`insert into project06_services (procedure_code, service_name_vi, service_name_en, service_group)
        select ${s.procedure_code}, ${s.service_name_vi}, ${s.service_name_en}, ${s.service_group}
        where exists (select 1 from procedures where code = ${s.procedure_code})
        on conflict (procedure_code) do nothing`.execute(tx)
    }
    for (const t of file.targets) {
      for (const ind of PROJECT06_INDICATORS) {
        await sql`insert into project06_targets (year, indicator, target_pct) values (${t.year}, ${ind}, ${t[ind]}) on conflict do nothing`.execute(tx)
      }
    }
  })
}

export interface Project06UnitIndicators {
  unit_code: string
  essential_procedures: number
  online_procedures: number
  online_availability: number | null
  dossiers: number
  online_dossiers: number
  online_dossier_rate: number | null
  resolved: number
  resolved_on_time: number
  on_time_rate: number | null
}

export interface Project06Report {
  year: number
  as_of: string
  targets: Partial<Record<Project06Indicator, number>>
  services: { procedure_code: string; service_name_vi: string; service_name_en: string; service_group: string; handling_unit: string | null; fully_online: boolean }[]
  province: Project06UnitIndicators & { meets_target: Partial<Record<Project06Indicator, boolean>> }
  units: (Project06UnitIndicators & { meets_target: Partial<Record<Project06Indicator, boolean>> })[]
}

const pct = (a: number, b: number) => (b === 0 ? null : Math.round((1000 * a) / b) / 10)

/**
 * The indicators of a year, per unit and for the province. `communeCodes` are the units that
 * handle commune-level procedures (handling_unit 'commune'). Dossiers count by their Vietnam
 * submission year; the on-time rate is over the dossiers resolved so far (early or on time).
 */
export async function project06Indicators(db: Db, opts: { year: number; communeCodes: string[]; now: Date; unitCode?: string }): Promise<Project06Report> {
  const todayVn = new Date(opts.now.getTime() + 7 * 3600_000).toISOString().slice(0, 10)
  const asOf = `${opts.year}-12-31` < todayVn ? `${opts.year}-12-31` : todayVn
  const { rows: services } = await sql<Project06Report['services'][number]>`
    select s.procedure_code, s.service_name_vi, s.service_name_en, s.service_group, v.handling_unit, coalesce(v.fully_online, false) as fully_online
    from project06_services s
    left join lateral (select handling_unit, fully_online from procedure_versions pv
      where pv.procedure_code = s.procedure_code and pv.valid_from <= ${asOf}::date and (pv.valid_to is null or pv.valid_to >= ${asOf}::date)
      order by pv.valid_from desc, pv.version desc limit 1) v on true
    order by s.procedure_code`.execute(db)
  const start = new Date(`${opts.year}-01-01T00:00:00+07:00`).toISOString()
  const end = new Date(`${opts.year + 1}-01-01T00:00:00+07:00`).toISOString()
  const { rows: counts } = await sql<{ unit_code: string; dossiers: string; online: string; resolved: string; on_time: string }>`
    select d.unit_code, count(*)::text as dossiers, count(*) filter (where d.channel = 'online')::text as online,
      count(*) filter (where d.timeliness is not null)::text as resolved,
      count(*) filter (where d.timeliness in ('early', 'on_time'))::text as on_time
    from dossiers d join project06_services s on s.procedure_code = d.procedure_code
    where d.submitted_at >= ${start} and d.submitted_at < ${end}
    group by d.unit_code`.execute(db)
  const { rows: targetRows } = await sql<{ indicator: Project06Indicator; target_pct: string }>`select indicator, target_pct::text as target_pct from project06_targets where year = ${opts.year}`.execute(db)
  const targets: Report['targets'] = Object.fromEntries(targetRows.map((t) => [t.indicator, Number(t.target_pct)]))
  type Report = Project06Report
  const communes = new Set(opts.communeCodes)
  const units = new Set<string>([...communes, ...services.map((s) => s.handling_unit).filter((u): u is string => !!u && u !== 'commune'), ...counts.map((c) => c.unit_code)])
  const applicable = (unit: string) => services.filter((s) => s.handling_unit === unit || (s.handling_unit === 'commune' && communes.has(unit)))
  const meets = (r: Project06UnitIndicators) => Object.fromEntries(PROJECT06_INDICATORS.filter((i) => targets[i] !== undefined && r[i] !== null).map((i) => [i, (r[i] as number) >= targets[i]!]))
  const build = (unit: string, procs: typeof services, c: { dossiers: number; online: number; resolved: number; on_time: number }): Project06UnitIndicators => {
    const online = procs.filter((s) => s.fully_online).length
    return {
      unit_code: unit, essential_procedures: procs.length, online_procedures: online, online_availability: pct(online, procs.length),
      dossiers: c.dossiers, online_dossiers: c.online, online_dossier_rate: pct(c.online, c.dossiers), resolved: c.resolved, resolved_on_time: c.on_time, on_time_rate: pct(c.on_time, c.resolved),
    }
  }
  const countOf = (unit: string) => {
    const c = counts.find((x) => x.unit_code === unit)
    return { dossiers: Number(c?.dossiers ?? 0), online: Number(c?.online ?? 0), resolved: Number(c?.resolved ?? 0), on_time: Number(c?.on_time ?? 0) }
  }
  const unitRows = [...units].filter((u) => !opts.unitCode || u === opts.unitCode).sort().map((u) => {
    const r = build(u, applicable(u), countOf(u))
    return { ...r, meets_target: meets(r) }
  })
  const total = counts.reduce((a, c) => ({ dossiers: a.dossiers + Number(c.dossiers), online: a.online + Number(c.online), resolved: a.resolved + Number(c.resolved), on_time: a.on_time + Number(c.on_time) }), { dossiers: 0, online: 0, resolved: 0, on_time: 0 })
  const province = build('11', services, total)
  return { year: opts.year, as_of: asOf, targets, services, province: { ...province, meets_target: meets(province) }, units: unitRows }
}

/** `GET /api/services/project06`: the indicators, public (aggregates, no personal data). */
export async function project06Routes(fastify: FastifyInstance, ctx: AppContext, communeCodes: () => Promise<string[]>): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/api/services/project06', {
    schema: {
      tags: ['services'],
      summary: 'Project 06 essential services: online availability, online-dossier rate and on-time rate per unit and year, with the year’s targets',
      querystring: Type.Object({ year: Type.Optional(Type.Integer({ minimum: 2020, maximum: 2100 })), unit_code: Type.Optional(Type.String({ maxLength: 32 })) }),
      response: { 200: Type.Unknown(), 400: ErrorSchema },
    },
  }, async (req) => {
    const now = ctx.clock()
    const year = req.query.year ?? Number(new Date(now.getTime() + 7 * 3600_000).toISOString().slice(0, 4))
    return project06Indicators(ctx.db, { year, communeCodes: await communeCodes(), now, unitCode: req.query.unit_code })
  })
}
