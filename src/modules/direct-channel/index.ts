import { fileURLToPath } from 'node:url'
import type { Module } from '../../platform/module.ts'
import { directChannelConfig } from './config.ts'
import { seedGuides } from './guides.ts'
import { escalateOverdueQuestions, seedTopics } from './questions.ts'
import { directChannelRoutes } from './routes.ts'

/**
 * direct_channel (kênh thông tin trực tiếp): questions from people and businesses routed to the
 * responsible department with a working-day deadline, notices and events targeted by commune,
 * and digital-skills guides the app keeps offline.
 */
export const directChannelModule: Module = {
  name: 'direct_channel',
  migrations: fileURLToPath(new URL('./migrations', import.meta.url)),
  routes: directChannelRoutes,
  async setup(ctx) {
    const cfg = directChannelConfig(ctx.config.env)
    ctx.jobs.schedule({ name: 'direct_channel.escalate-overdue', cron: cfg.escalationCron }, async ({ db, now }) => {
      await escalateOverdueQuestions(db, now, cfg.escalateToUnit)
    })
  },
  async seedReference(ctx) {
    await seedTopics(ctx.db)
    await seedGuides(ctx.db)
  },
  routePolicy: {
    'GET /api/questions/topics': 'public',
    'POST /api/questions': 'public',
    'GET /api/questions': 'public',
    'GET /api/questions/queue': 'staff',
    'GET /api/questions/mine': 'signed-in',
    'GET /api/questions/{code}': 'public',
    'POST /api/questions/{code}/answer': 'staff',
    'POST /api/questions/{code}/transfer': 'staff',
    'POST /api/questions/{code}/reject': 'staff',
    'GET /api/notices': 'public',
    'GET /api/notices/unit': 'staff',
    'POST /api/notices': 'staff',
    'GET /api/notices/{id}': 'public',
    'POST /api/notices/{id}/publish': 'staff',
    'POST /api/notices/{id}/withdraw': 'staff',
    'GET /api/guides': 'public',
    'GET /api/guides/{slug}': 'public',
    'PUT /api/guides/{slug}': 'staff',
  },
  examplePathParams: { slug: 'cai-dat-ung-dung' },
}

export { escalateOverdueQuestions, redactPersonalData, submitQuestion, type QuestionInput } from './questions.ts'
export { NOTICE_KINDS, type NoticeKind } from './notices.ts'
