import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import { actorOf, canSeeUnit, type Principal } from '../../platform/auth/principal.ts'
import type { Db } from '../../platform/db/database.ts'
import { publishEvent } from '../../platform/events/outbox.ts'
import { badRequest, conflict, forbidden, notFound } from '../../platform/http/errors.ts'
import { escapeLike, normalizeSearchText } from '../../platform/vietnamese-text.ts'
import { loadWorkingCalendar } from '../calendar/index.ts'

export interface Topic {
  code: string
  name_vi: string
  name_en: string
  unit_code: string
  answer_days: number
}

/** Topics (lĩnh vực) and the department that answers each, with its deadline in working days. */
export const TOPICS: (Topic & { sort_order: number })[] = [
  ['dau_tu_doanh_nghiep', 'Đầu tư, thành lập và hỗ trợ doanh nghiệp', 'Investment and business support', '11.STC', 5],
  ['tai_chinh_ngan_sach', 'Tài chính, ngân sách, giá', 'Finance, budget and prices', '11.STC', 7],
  ['dat_dai_moi_truong', 'Đất đai, tài nguyên, môi trường', 'Land, resources and environment', '11.SNNMT', 7],
  ['nong_nghiep', 'Nông nghiệp, hợp tác xã, OCOP', 'Agriculture, cooperatives, OCOP', '11.SNNMT', 7],
  ['xay_dung_giao_thong', 'Xây dựng, quy hoạch, giao thông', 'Construction, planning and transport', '11.SXD', 7],
  ['cong_thuong_dien', 'Công thương, điện, xúc tiến thương mại', 'Industry, trade and electricity', '11.SCT', 5],
  ['y_te', 'Y tế, bảo hiểm y tế', 'Health and health insurance', '11.SYT', 5],
  ['giao_duc', 'Giáo dục, đào tạo', 'Education and training', '11.SGDDT', 5],
  ['lao_dong_noi_vu', 'Lao động, việc làm, nội vụ', 'Labour, employment and home affairs', '11.SNV', 7],
  ['chuyen_doi_so', 'Chuyển đổi số, dịch vụ công trực tuyến', 'Digital transformation and online services', '11.SKHCN', 3],
  ['tu_phap_ho_tich', 'Tư pháp, hộ tịch, chứng thực', 'Justice, civil status and certification', '11.STP', 5],
  ['van_hoa_du_lich', 'Văn hoá, thể thao, du lịch', 'Culture, sports and tourism', '11.SVHTTDL', 5],
  ['khac', 'Vấn đề khác', 'Other matters', '11', 7],
].map(([code, name_vi, name_en, unit_code, answer_days], i) => ({ code: code as string, name_vi: name_vi as string, name_en: name_en as string, unit_code: unit_code as string, answer_days: answer_days as number, sort_order: i }))

export async function seedTopics(db: Db): Promise<void> {
  for (const t of TOPICS) {
    await sql`insert into dc_topics (code, name_vi, name_en, unit_code, answer_days, sort_order)
      values (${t.code}, ${t.name_vi}, ${t.name_en}, ${t.unit_code}, ${t.answer_days}, ${t.sort_order}) on conflict (code) do nothing`.execute(db)
  }
}

export async function listTopics(db: Db): Promise<Topic[]> {
  return (await sql<Topic>`select code, name_vi, name_en, unit_code, answer_days from dc_topics order by sort_order, code`.execute(db)).rows
}

async function getTopic(db: Db, code: string): Promise<Topic | undefined> {
  return (await sql<Topic>`select code, name_vi, name_en, unit_code, answer_days from dc_topics where code = ${code}`.execute(db)).rows[0]
}

export interface QuestionRow {
  id: string
  code: string
  topic: string
  unit_code: string
  asker_kind: 'person' | 'business'
  asker_user_id: string | null
  asker_name: string
  asker_phone: string | null
  asker_email: string | null
  business_name: string | null
  business_tax_code: string | null
  commune_code: string | null
  title: string
  body: string
  allow_publish: boolean
  status: 'received' | 'answered' | 'rejected'
  submitted_at: Date
  due_at: Date
  answered_at: Date | null
  answered_by: string | null
  answer: string | null
  reject_reason: string | null
  published_at: Date | null
  public_title: string | null
  public_body: string | null
  escalation_level: number
  escalated_at: Date | null
}

export async function getQuestion(db: Db, code: string, opts: { forUpdate?: boolean } = {}): Promise<QuestionRow | undefined> {
  const { rows } = await sql<QuestionRow>`select *, id::text as id from dc_questions where code = ${code} ${opts.forUpdate ? sql`for update` : sql``}`.execute(db)
  return rows[0]
}

const REDACTED = '[đã ẩn]'

/**
 * Removes personal data from text to publish: the asker's name, phone and e-mail wherever they
 * appear, and anything shaped like a phone number, an e-mail address or a personal ID number
 * (9 or 12 digits). Business names and tax codes stay: they are public.
 */
export function redactPersonalData(text: string, q: Pick<QuestionRow, 'asker_name' | 'asker_phone' | 'asker_email'>): string {
  let out = text
  for (const s of [q.asker_name, q.asker_phone, q.asker_email]) {
    if (s && s.trim().length >= 3) out = out.split(s.trim()).join(REDACTED)
  }
  return out
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, REDACTED)
    .replace(/(\+84|\b0)(?:[\s.-]?\d){8,10}\b/g, REDACTED)
    .replace(/\b\d{12}\b|\b\d{9}\b/g, REDACTED)
}

export interface QuestionInput {
  topic: string
  title: string
  body: string
  asker_kind: 'person' | 'business'
  name?: string
  phone?: string
  email?: string
  business_name?: string
  business_tax_code?: string
  commune_code?: string
  allow_publish: boolean
}

async function nextCode(tx: Db, year: number): Promise<string> {
  const { rows } = await sql<{ last: number }>`insert into dc_question_counters (year, last) values (${year}, 1)
    on conflict (year) do update set last = dc_question_counters.last + 1 returning last`.execute(tx)
  return `HD-${year}-${String(rows[0].last).padStart(6, '0')}`
}

/**
 * Receives a question and routes it in the same transaction: to the department of its topic,
 * due after the topic's working days counted on the working calendar from the submission.
 */
export async function submitQuestion(tx: Db, input: QuestionInput, p: Principal | null, now: Date): Promise<QuestionRow> {
  const topic = await getTopic(tx, input.topic)
  if (!topic) throw badRequest('UNKNOWN_TOPIC', 'Lĩnh vực không tồn tại.', `Unknown topic ${input.topic}.`)
  const user = p?.kind === 'user' ? p : null
  const name = input.name?.trim() || user?.displayName
  if (!name) throw badRequest('NAME_REQUIRED', 'Vui lòng cho biết họ tên.', 'Please give your name.')
  if (!user && !input.phone && !input.email) throw badRequest('CONTACT_REQUIRED', 'Vui lòng để lại số điện thoại hoặc email để nhận trả lời.', 'Leave a phone number or e-mail to receive the answer.')
  if (input.asker_kind === 'business' && !input.business_name) throw badRequest('BUSINESS_REQUIRED', 'Vui lòng cho biết tên doanh nghiệp.', 'Please give the business name.')
  const cal = await loadWorkingCalendar(tx)
  const due = cal.addWorkingDays(now, topic.answer_days)
  const code = await nextCode(tx, Number(cal.localDate(now).slice(0, 4)))
  await sql`insert into dc_questions (code, topic, unit_code, asker_kind, asker_user_id, asker_name, asker_phone, asker_email, business_name, business_tax_code,
      commune_code, title, body, allow_publish, status, submitted_at, due_at)
    values (${code}, ${topic.code}, ${topic.unit_code}, ${input.asker_kind}, ${user?.userId ?? null}, ${name}, ${input.phone ?? null}, ${input.email ?? null},
      ${input.business_name ?? null}, ${input.business_tax_code ?? null}, ${input.commune_code ?? null}, ${input.title}, ${input.body}, ${input.allow_publish},
      'received', ${now.toISOString()}, ${due.toISOString()})`.execute(tx)
  await publishEvent(tx, 'question.received', { code, topic: topic.code, unit_code: topic.unit_code, due_at: due.toISOString() })
  await appendAudit(tx, { actor: actorOf(p), action: 'question.received', entityType: 'question', entityId: code, data: { topic: topic.code, unit_code: topic.unit_code, due_at: due.toISOString() } }, now)
  return (await getQuestion(tx, code))!
}

/** Staff who handle a question: its unit's officers and admins, province admins. */
export function canHandle(p: Principal | null, q: Pick<QuestionRow, 'unit_code'>): boolean {
  return canSeeUnit(p, q.unit_code)
}

async function lockForHandling(tx: Db, code: string, p: Principal | null): Promise<QuestionRow> {
  const q = await getQuestion(tx, code, { forUpdate: true })
  if (!q) throw notFound('Question', 'câu hỏi')
  if (!canHandle(p, q)) throw forbidden('Only the responsible unit handles this question.', 'Chỉ đơn vị được giao mới xử lý câu hỏi này.')
  if (q.status !== 'received') throw conflict('QUESTION_CLOSED', 'Câu hỏi đã được trả lời hoặc từ chối.', 'This question was already answered or rejected.')
  return q
}

/**
 * Answers a question. With `publish` (and the asker's consent) it is published with the answer,
 * personal data removed from the question and the answer.
 */
export async function answerQuestion(tx: Db, code: string, input: { answer: string; publish: boolean }, p: Principal | null, now: Date): Promise<QuestionRow> {
  const q = await lockForHandling(tx, code, p)
  const publish = input.publish && q.allow_publish
  const publicTitle = publish ? redactPersonalData(q.title, q) : null
  const publicBody = publish ? redactPersonalData(q.body, q) : null
  const search = publish ? normalizeSearchText(`${publicTitle} ${publicBody} ${redactPersonalData(input.answer, q)}`) : null
  await sql`update dc_questions set status = 'answered', answer = ${input.answer}, answered_at = ${now.toISOString()}, answered_by = ${actorOf(p)},
      published_at = ${publish ? now.toISOString() : null}, public_title = ${publicTitle}, public_body = ${publicBody}, search_text = ${search}
    where id = ${q.id}::bigint`.execute(tx)
  const late = now > new Date(q.due_at)
  await publishEvent(tx, 'question.answered', { code, unit_code: q.unit_code, asker_user_id: q.asker_user_id, published: publish, late })
  await appendAudit(tx, { actor: actorOf(p), action: 'question.answered', entityType: 'question', entityId: code, data: { published: publish, late } }, now)
  return (await getQuestion(tx, code))!
}

/** The public answer text: stored answer with personal data removed. */
export function publicAnswer(q: QuestionRow): string | null {
  return q.published_at && q.answer ? redactPersonalData(q.answer, q) : null
}

/** Sends a question to another topic's department (wrongly routed); the deadline stays. */
export async function transferQuestion(tx: Db, code: string, topicCode: string, note: string | undefined, p: Principal | null, now: Date): Promise<QuestionRow> {
  const q = await lockForHandling(tx, code, p)
  const topic = await getTopic(tx, topicCode)
  if (!topic) throw badRequest('UNKNOWN_TOPIC', 'Lĩnh vực không tồn tại.', `Unknown topic ${topicCode}.`)
  await sql`update dc_questions set topic = ${topic.code}, unit_code = ${topic.unit_code} where id = ${q.id}::bigint`.execute(tx)
  await publishEvent(tx, 'question.transferred', { code, from_unit: q.unit_code, to_unit: topic.unit_code })
  await appendAudit(tx, { actor: actorOf(p), action: 'question.transferred', entityType: 'question', entityId: code, data: { from: q.unit_code, to: topic.unit_code, topic: topic.code, note: note ?? null } }, now)
  return (await getQuestion(tx, code))!
}

export async function rejectQuestion(tx: Db, code: string, reason: string, p: Principal | null, now: Date): Promise<QuestionRow> {
  const q = await lockForHandling(tx, code, p)
  await sql`update dc_questions set status = 'rejected', reject_reason = ${reason}, answered_at = ${now.toISOString()}, answered_by = ${actorOf(p)} where id = ${q.id}::bigint`.execute(tx)
  await appendAudit(tx, { actor: actorOf(p), action: 'question.rejected', entityType: 'question', entityId: code, data: { reason } }, now)
  return (await getQuestion(tx, code))!
}

/**
 * Escalates unanswered questions past their deadline to the province office, once each: on the
 * question, in the audit log and as a `question.escalated` event. Safe on several nodes (row
 * locks, re-checked). Returns how many.
 */
export async function escalateOverdueQuestions(db: Db, now: Date, toUnit: string): Promise<number> {
  let n = 0
  const { rows } = await sql<{ code: string }>`select code from dc_questions where status = 'received' and escalation_level = 0 and due_at < ${now.toISOString()} order by due_at limit 500`.execute(db)
  for (const { code } of rows) {
    const done = await db.transaction().execute(async (tx) => {
      const q = await getQuestion(tx, code, { forUpdate: true })
      if (!q || q.status !== 'received' || q.escalation_level > 0 || new Date(q.due_at) >= now) return false
      await sql`update dc_questions set escalation_level = 1, escalated_at = ${now.toISOString()} where id = ${q.id}::bigint`.execute(tx)
      await publishEvent(tx, 'question.escalated', { code, unit_code: q.unit_code, escalated_to: toUnit, due_at: new Date(q.due_at).toISOString() })
      await appendAudit(tx, { actor: 'system', action: 'question.escalated', entityType: 'question', entityId: code, data: { unit: q.unit_code, to: toUnit } }, now)
      return true
    })
    if (done) n++
  }
  return n
}

/** Published questions, newest first; `q` matches words without regard to diacritics. */
export async function searchPublished(db: Db, f: { q?: string; topic?: string; limit: number; offset: number }): Promise<QuestionRow[]> {
  const words = f.q ? normalizeSearchText(f.q).split(' ').filter(Boolean).slice(0, 8) : []
  const { rows } = await sql<QuestionRow>`select *, id::text as id from dc_questions where published_at is not null
    ${f.topic ? sql`and topic = ${f.topic}` : sql``}
    and ${sql.join([sql`true`, ...words.map((w) => sql`search_text like ${`%${escapeLike(w)}%`}`)], sql` and `)}
    order by published_at desc, dc_questions.id desc limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows
}

export async function listQueue(db: Db, f: { unitCode?: string; status?: string; overdueAt?: Date; limit: number; offset: number }): Promise<QuestionRow[]> {
  const { rows } = await sql<QuestionRow>`select *, id::text as id from dc_questions where true
    ${f.unitCode ? sql`and unit_code = ${f.unitCode}` : sql``}
    and status = ${f.status ?? 'received'}
    ${f.overdueAt ? sql`and due_at < ${f.overdueAt.toISOString()}` : sql``}
    order by due_at, dc_questions.id limit ${f.limit} offset ${f.offset}`.execute(db)
  return rows
}

export async function listMine(db: Db, userId: string, limit: number, offset: number): Promise<QuestionRow[]> {
  const { rows } = await sql<QuestionRow>`select *, id::text as id from dc_questions where asker_user_id = ${userId}::uuid order by submitted_at desc limit ${limit} offset ${offset}`.execute(db)
  return rows
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)

export function presentPublicQuestion(q: QuestionRow) {
  return { code: q.code, topic: q.topic, unit_code: q.unit_code, asker_kind: q.asker_kind, business_name: q.asker_kind === 'business' ? q.business_name : null, title: q.public_title, body: q.public_body, answer: publicAnswer(q), submitted_at: iso(q.submitted_at), answered_at: iso(q.answered_at), published_at: iso(q.published_at) }
}

export function presentInternalQuestion(q: QuestionRow, now: Date) {
  return {
    code: q.code, topic: q.topic, unit_code: q.unit_code, status: q.status, asker_kind: q.asker_kind,
    asker: { name: q.asker_name, phone: q.asker_phone, email: q.asker_email, business_name: q.business_name, business_tax_code: q.business_tax_code, user_id: q.asker_user_id },
    commune_code: q.commune_code, title: q.title, body: q.body, allow_publish: q.allow_publish, answer: q.answer, reject_reason: q.reject_reason,
    submitted_at: iso(q.submitted_at), due_at: iso(q.due_at), overdue: q.status === 'received' && now > new Date(q.due_at), answered_at: iso(q.answered_at),
    published_at: iso(q.published_at), public: q.published_at ? presentPublicQuestion(q) : null, escalation_level: q.escalation_level, escalated_at: iso(q.escalated_at),
  }
}

export function presentOwnQuestion(q: QuestionRow) {
  return { code: q.code, topic: q.topic, status: q.status, title: q.title, body: q.body, answer: q.answer, reject_reason: q.reject_reason, submitted_at: iso(q.submitted_at), due_at: iso(q.due_at), answered_at: iso(q.answered_at), published_at: iso(q.published_at) }
}
