import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { actorOf, canSeeUnit, isStaff, requireUser, STAFF_ROLES, type UserPrincipal } from '../../platform/auth/principal.ts'
import { badRequest, forbidden, notFound } from '../../platform/http/errors.ts'
import { readIdempotencyKey, requestFingerprint, runIdempotent } from '../../platform/http/idempotency.ts'
import { ErrorSchema } from '../../platform/http/schemas.ts'
import type { AppContext, RoutePolicy } from '../../platform/module.ts'
import {
  ACTIVITY_KINDS,
  addMember,
  campaignProgress,
  CONSENT_METHODS,
  consentTeam,
  coverageByCommune,
  createCampaign,
  createTeam,
  getTeam,
  listActivities,
  listCampaigns,
  listMembers,
  listTeams,
  ORGANISATIONS,
  recordActivityInTransaction,
  revokeConsent,
  teamAccess,
} from './community.ts'

export const communityRoutePolicy: Record<string, RoutePolicy> = {
  'GET /api/community/teams': 'public',
  'POST /api/community/teams': 'staff',
  'GET /api/community/teams/{id}': 'public',
  'GET /api/community/members': 'signed-in',
  'POST /api/community/members': 'signed-in',
  'GET /api/community/activities': 'signed-in',
  'POST /api/community/activities': 'signed-in',
  'POST /api/community/consents/{id}/revoke': 'signed-in',
  'GET /api/community/campaigns': 'public',
  'POST /api/community/campaigns': 'staff',
  'GET /api/community/campaigns/{id}': 'public',
  'GET /api/community/coverage': 'public',
}

const Uuid = Type.String({ format: 'uuid' })
const CommuneCode = Type.String({ pattern: '^[0-9]{5}$' })
const Kind = Type.Union(ACTIVITY_KINDS.map((k) => Type.Literal(k)))
const Paging = { limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }), offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }) }
const Instant = Type.String({ format: 'date-time' })
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }

const TeamSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  commune_code: Type.String(),
  village_id: Type.Union([Type.String(), Type.Null()]),
  residential_group: Type.Union([Type.String(), Type.Null()]),
  partners: Type.Array(Type.String(), { description: 'partner technology companies' }),
  members_count: Type.Integer(),
  created_at: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }),
})
const MemberSchema = Type.Object({
  id: Type.String(),
  team_id: Type.String(),
  full_name: Type.String(),
  role: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  organisation: Type.String(),
  user_id: Type.Union([Type.String(), Type.Null()]),
})
const ActivitySchema = Type.Object({
  id: Type.String(),
  team_id: Type.String(),
  member_id: Type.String(),
  commune_code: Type.String(),
  kind: Type.String(),
  platform: Type.Union([Type.String(), Type.Null()]),
  resident_name: Type.Union([Type.String(), Type.Null()]),
  consent_id: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([Type.String(), Type.Null()]),
  campaign_id: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }),
})
const CampaignSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  activity_kind: Type.String(),
  starts_on: Type.String(),
  ends_on: Type.String(),
  description: Type.String(),
  targets: Type.Array(Type.Object({ commune_code: Type.String(), target: Type.Integer() })),
})

async function teamOr404(ctx: AppContext, id: string) {
  const t = await getTeam(ctx.db, id)
  if (!t) throw notFound('Team', 'tổ công nghệ số')
  return t
}

/** Writes for a team: its commune's staff (or a province admin), or — where allowed — its leader / members. */
async function requireTeamRole(ctx: AppContext, req: FastifyRequest, teamId: string, allowed: ('staff' | 'leader' | 'member')[]) {
  const p = requireUser(req)
  const team = await teamOr404(ctx, teamId)
  const access = await teamAccess(ctx.db, p, team)
  if (!access || !allowed.includes(access)) throw forbidden('Only the commune staff or the team leader may do this.', 'Chỉ cán bộ xã/phường hoặc tổ trưởng được thực hiện.')
  return { p, team, access }
}

function bodyField(req: FastifyRequest, name: string): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[name]
  return typeof v === 'string' ? v : undefined
}

export async function communityRoutes(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/api/community/teams', {
    schema: { tags: ['community'], summary: 'Community digital technology teams (tổ công nghệ số cộng đồng); no personal data', querystring: Type.Object({ commune_code: Type.Optional(CommuneCode), ...Paging }), response: { 200: Type.Object({ items: Type.Array(TeamSchema) }), 400: ErrorSchema } },
  }, async (req) => ({ items: await listTeams(ctx.db, { communeCode: req.query.commune_code, limit: req.query.limit, offset: req.query.offset }) }))

  app.get('/api/community/teams/:id', {
    schema: { tags: ['community'], summary: 'One team (public fields)', params: Type.Object({ id: Uuid }), response: { 200: TeamSchema, ...Errors } },
  }, async (req) => teamOr404(ctx, req.params.id))

  app.post('/api/community/teams', {
    preValidation: async (req) => {
      const p = requireUser(req, ...STAFF_ROLES)
      const commune = bodyField(req, 'commune_code')
      if (commune && !canSeeUnit(p, commune)) throw forbidden('Only staff of this commune may create its teams.', 'Chỉ cán bộ xã/phường này được lập tổ.')
    },
    schema: {
      tags: ['community'],
      summary: 'Create a team for a village or residential group (staff of the commune)',
      body: Type.Object({
        name: Type.String({ minLength: 2, maxLength: 200 }),
        commune_code: CommuneCode,
        village_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
        residential_group: Type.Optional(Type.String({ maxLength: 200 })),
        partners: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, default: [] }),
      }),
      response: { 201: TeamSchema, ...Errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, ...STAFF_ROLES)
    if (!canSeeUnit(p, req.body.commune_code)) throw forbidden()
    return reply.code(201).send(await createTeam(ctx.db, actorOf(p), req.body, ctx.clock()))
  })

  app.get('/api/community/members', {
    preValidation: async (req) => void requireUser(req),
    schema: { tags: ['community'], summary: "A team's members with phones (the commune's staff and the team's own members)", querystring: Type.Object({ team_id: Uuid }), response: { 200: Type.Object({ items: Type.Array(MemberSchema) }), ...Errors } },
  }, async (req) => {
    await requireTeamRole(ctx, req, req.query.team_id, ['staff', 'leader', 'member'])
    return { items: await listMembers(ctx.db, req.query.team_id) }
  })

  app.post('/api/community/members', {
    preValidation: async (req) => {
      requireUser(req)
      const teamId = bodyField(req, 'team_id')
      if (teamId && /^[0-9a-f-]{36}$/i.test(teamId)) await requireTeamRole(ctx, req, teamId, ['staff', 'leader'])
    },
    schema: {
      tags: ['community'],
      summary: 'Add a member to a team (staff of the commune or the team leader)',
      body: Type.Object({
        team_id: Uuid,
        full_name: Type.String({ minLength: 2, maxLength: 120 }),
        role: Type.Union([Type.Literal('leader'), Type.Literal('member')]),
        phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 .-]{6,20}$' })),
        organisation: Type.Union(ORGANISATIONS.map((o) => Type.Literal(o)), { description: 'youth_union (Đoàn thanh niên), women_union (Hội phụ nữ), police (công an), telecom_post (viễn thông/bưu điện), village_head (trưởng thôn/bản), other' }),
        user_id: Type.Optional(Uuid),
      }),
      response: { 201: MemberSchema, ...Errors },
    },
  }, async (req, reply) => {
    const { p, access } = await requireTeamRole(ctx, req, req.body.team_id, ['staff', 'leader'])
    if (access === 'leader' && req.body.role === 'leader') throw forbidden('Only commune staff may appoint a leader.', 'Chỉ cán bộ xã/phường được chỉ định tổ trưởng.')
    return reply.code(201).send(await addMember(ctx.db, actorOf(p), req.body, ctx.clock()))
  })

  app.get('/api/community/activities', {
    preValidation: async (req) => void requireUser(req),
    schema: {
      tags: ['community'],
      summary: "Help recorded by teams: a team's (its members, commune staff) or a commune's (its staff)",
      querystring: Type.Object({ team_id: Type.Optional(Uuid), commune_code: Type.Optional(CommuneCode), ...Paging }),
      response: { 200: Type.Object({ items: Type.Array(ActivitySchema) }), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    const q = req.query
    if (q.team_id) await requireTeamRole(ctx, req, q.team_id, ['staff', 'leader', 'member'])
    else if (!q.commune_code) throw badRequest('FILTER_REQUIRED', 'Cần team_id hoặc commune_code.', 'Give team_id or commune_code.')
    else if (!isStaff(p) || !canSeeUnit(p, q.commune_code)) throw forbidden()
    return { items: await listActivities(ctx.db, { teamId: q.team_id, communeCode: q.commune_code, limit: q.limit, offset: q.offset }) }
  })

  const ConsentBody = Type.Object(
    {
      resident_name: Type.String({ minLength: 2, maxLength: 120 }),
      method: Type.Union(CONSENT_METHODS.map((m) => Type.Literal(m))),
      evidence: Type.String({ minLength: 2, maxLength: 500, description: 'signed_paper_photo: photo file reference; verbal_with_witness: witness full name; sms_otp: OTP message reference' }),
      scope: Type.Array(Kind, { minItems: 1, maxItems: 7 }),
      given_at: Instant,
    },
    { description: "the resident's consent, recorded now (who, how, when, for what)" },
  )

  app.post('/api/community/activities', {
    preValidation: async (req) => {
      requireUser(req)
      const teamId = bodyField(req, 'team_id')
      if (teamId && /^[0-9a-f-]{36}$/i.test(teamId)) await requireTeamRole(ctx, req, teamId, ['staff', 'leader', 'member'])
    },
    schema: {
      tags: ['community'],
      summary: "Record help given (install, accounts, on-behalf submissions with the resident's consent); a member records their own, staff and leaders for any member",
      description: 'dossier_on_behalf and report_on_behalf need consent (new) or consent_id (earlier, unrevoked, scope covering the kind), plus reference. Send an Idempotency-Key header to retry safely.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
      body: Type.Object({
        team_id: Uuid,
        member_id: Uuid,
        kind: Kind,
        platform: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "'Điện Biên Smart', 'VNeID', 'Dịch vụ công', 'Viettel Money', …" })),
        resident_name: Type.Optional(Type.String({ maxLength: 120 })),
        reference: Type.Optional(Type.String({ maxLength: 64 })),
        campaign_id: Type.Optional(Uuid),
        occurred_at: Instant,
        consent_id: Type.Optional(Uuid),
        consent: Type.Optional(ConsentBody),
      }),
      response: { 201: Type.Object({ activity: ActivitySchema, consent_id: Type.Union([Type.String(), Type.Null()]) }), ...Errors, 409: ErrorSchema },
    },
  }, async (req, reply) => {
    const { p, access } = await requireTeamRole(ctx, req, req.body.team_id, ['staff', 'leader', 'member'])
    if (access === 'member') {
      const mine = (await listMembers(ctx.db, req.body.team_id)).find((m) => m.user_id === p.userId)
      if (mine?.id !== req.body.member_id) throw forbidden('A member records only their own help.', 'Thành viên chỉ ghi nhận hoạt động của chính mình.')
    }
    const key = readIdempotencyKey(req.headers['idempotency-key'])
    const r = await runIdempotent(ctx.db, { scope: `community.activity|user:${p.userId}`, key, fingerprint: requestFingerprint(req.body) }, async (tx) => {
      const out = await recordActivityInTransaction(tx, actorOf(p), req.body, ctx.clock())
      return { statusCode: 201, body: { activity: { ...out.activity, occurred_at: out.activity.occurred_at.toISOString() as unknown as Date }, consent_id: out.consent_id } }
    })
    if (r.replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(201).send(r.body)
  })

  app.post('/api/community/consents/:id/revoke', {
    preValidation: async (req) => {
      requireUser(req)
      const teamId = await consentTeam(ctx.db, (req.params as { id: string }).id)
      if (!teamId) throw notFound('Consent', 'sự đồng ý')
      await requireTeamRole(ctx, req, teamId, ['staff', 'leader', 'member'])
    },
    schema: {
      tags: ['community'],
      summary: "Record that a resident withdrew their consent (the team's members, commune staff)",
      params: Type.Object({ id: Uuid }),
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }),
      response: { 200: Type.Object({ id: Type.String(), revoked_at: Type.Unsafe<Date>({ type: 'string', format: 'date-time' }) }), ...Errors },
    },
  }, async (req) => {
    const p = requireUser(req)
    return revokeConsent(ctx.db, actorOf(p), req.params.id, req.body.reason, ctx.clock())
  })

  app.get('/api/community/campaigns', {
    schema: { tags: ['community'], summary: 'Campaigns with targets per commune', response: { 200: Type.Object({ items: Type.Array(CampaignSchema) }) } },
  }, async () => ({ items: await listCampaigns(ctx.db) }))

  app.get('/api/community/campaigns/:id', {
    schema: {
      tags: ['community'],
      summary: 'A campaign with its progress per commune (activities of its kind between its dates / target)',
      params: Type.Object({ id: Uuid }),
      response: { 200: Type.Object({ campaign: CampaignSchema, communes: Type.Array(Type.Object({ commune_code: Type.String(), target: Type.Integer(), done: Type.Integer(), progress: Type.Number() })), total: Type.Object({ target: Type.Integer(), done: Type.Integer(), progress: Type.Number() }) }), ...Errors },
    },
  }, async (req) => {
    const r = await campaignProgress(ctx.db, req.params.id)
    if (!r) throw notFound('Campaign', 'chiến dịch')
    return r
  })

  app.post('/api/community/campaigns', {
    preValidation: async (req) => void requireUser(req, ...STAFF_ROLES),
    schema: {
      tags: ['community'],
      summary: 'Create a campaign with targets per commune (staff; targets only for communes they see, any for a province admin)',
      body: Type.Object({
        name: Type.String({ minLength: 2, maxLength: 200 }),
        activity_kind: Kind,
        starts_on: Day,
        ends_on: Day,
        description: Type.Optional(Type.String({ maxLength: 2000 })),
        targets: Type.Array(Type.Object({ commune_code: CommuneCode, target: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }), { minItems: 1, maxItems: 200 }),
      }),
      response: { 201: CampaignSchema, ...Errors },
    },
  }, async (req, reply) => {
    const p = requireUser(req, ...STAFF_ROLES) as UserPrincipal
    return reply.code(201).send(await createCampaign(ctx.db, p, actorOf(p), req.body, ctx.clock()))
  })

  app.get('/api/community/coverage', {
    schema: {
      tags: ['community'],
      summary: 'Coverage and results per commune: share of villages with a team, teams, members, help per kind and per platform',
      querystring: Type.Object({ from: Type.Optional(Instant), to: Type.Optional(Instant) }),
      response: {
        200: Type.Object({
          totals: Type.Object({ villages: Type.Integer(), villages_with_team: Type.Integer(), village_coverage: Type.Union([Type.Number(), Type.Null()]), teams: Type.Integer(), members: Type.Integer() }),
          communes: Type.Array(Type.Object({ commune_code: Type.String(), villages: Type.Integer(), villages_with_team: Type.Integer(), village_coverage: Type.Union([Type.Number(), Type.Null()]), teams: Type.Integer(), members: Type.Integer(), activities: Type.Record(Type.String(), Type.Integer()), by_platform: Type.Record(Type.String(), Type.Integer()) })),
        }),
        400: ErrorSchema,
      },
    },
  }, async (req) => {
    const communes = await coverageByCommune(ctx.db, { from: req.query.from ? new Date(req.query.from) : undefined, to: req.query.to ? new Date(req.query.to) : undefined })
    const sum = (k: 'villages' | 'villages_with_team' | 'teams' | 'members') => communes.reduce((s, c) => s + c[k], 0)
    const villages = sum('villages')
    return { totals: { villages, villages_with_team: sum('villages_with_team'), village_coverage: villages > 0 ? sum('villages_with_team') / villages : null, teams: sum('teams'), members: sum('members') }, communes }
  })
}
