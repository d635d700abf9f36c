/**
 * The guided Decree 85/2016 questionnaire (xác định cấp độ an toàn hệ thống thông tin): the
 * answers propose a security level 1–5, with the criteria that led to it. The approving
 * authority decides the approved level; this is only the proposal.
 */
export interface Answers {
  /** Whom the system serves: the agency's own work, citizens and businesses, or a sector/the nation. */
  serves: 'internal' | 'citizens_businesses' | 'sector_or_national'
  /** The most sensitive information processed. */
  information: 'public' | 'private_or_personal' | 'state_secret'
  /** Number of people whose personal data it processes. */
  personal_data_subjects: number
  /** Level of the online public services it provides (0 = none, 1–4 as in Decree 43/2011). */
  online_public_service_level: number
  /** A shared platform of the province (data centre, LGSP, shared document system, …). */
  shared_platform: boolean
  /** Disruption would seriously harm national defence, security or the economy (critical national system). */
  national_critical: boolean
}

export const QUESTIONS = [
  { id: 'serves', type: 'choice', options: ['internal', 'citizens_businesses', 'sector_or_national'], vi: 'Hệ thống phục vụ ai? (nội bộ cơ quan; người dân, doanh nghiệp; cả ngành/quốc gia)', en: 'Whom does the system serve? (the agency itself; citizens and businesses; a whole sector or the nation)' },
  { id: 'information', type: 'choice', options: ['public', 'private_or_personal', 'state_secret'], vi: 'Loại thông tin nhạy cảm nhất được xử lý (công cộng; riêng, cá nhân; bí mật nhà nước)', en: 'Most sensitive information processed (public; private or personal; state secret)' },
  { id: 'personal_data_subjects', type: 'integer', vi: 'Số chủ thể có thông tin cá nhân được xử lý', en: 'Number of people whose personal data is processed' },
  { id: 'online_public_service_level', type: 'integer', min: 0, max: 4, vi: 'Mức độ dịch vụ công trực tuyến cung cấp (0–4)', en: 'Level of online public services provided (0–4)' },
  { id: 'shared_platform', type: 'boolean', vi: 'Là hệ thống dùng chung của tỉnh (trung tâm dữ liệu, LGSP, …)?', en: 'Is it a shared platform of the province (data centre, LGSP, …)?' },
  { id: 'national_critical', type: 'boolean', vi: 'Sự cố gây tổn hại nghiêm trọng tới quốc phòng, an ninh, kinh tế quốc gia?', en: 'Would an incident seriously harm national defence, security or the economy?' },
] as const

export interface Proposal {
  level: 1 | 2 | 3 | 4 | 5
  /** The criteria met, highest level first (article of Decree 85/2016). */
  reasons: { level: number; article: string; en: string; vi: string }[]
}

export function proposeLevel(a: Answers): Proposal {
  const reasons: Proposal['reasons'] = []
  const add = (level: number, article: string, en: string, vi: string) => reasons.push({ level, article, en, vi })
  if (a.national_critical) add(5, 'Art. 11', 'critical national information system', 'hệ thống thông tin quan trọng quốc gia')
  if (a.information === 'state_secret') add(4, 'Art. 10', 'processes state secrets', 'xử lý thông tin bí mật nhà nước')
  if (a.serves === 'sector_or_national') add(4, 'Art. 10', 'serves a whole sector or the nation', 'phục vụ hoạt động của cả ngành hoặc quốc gia')
  if (a.personal_data_subjects >= 10_000) add(3, 'Art. 9', 'personal data of 10,000 people or more', 'xử lý thông tin cá nhân của từ 10.000 chủ thể trở lên')
  if (a.online_public_service_level >= 3) add(3, 'Art. 9', 'online public services at level 3 or 4', 'cung cấp dịch vụ công trực tuyến mức độ 3, 4')
  if (a.shared_platform) add(3, 'Art. 9', 'shared platform of the province', 'hệ thống dùng chung của tỉnh')
  if (a.information === 'private_or_personal') add(2, 'Art. 8', 'processes private or personal information', 'xử lý thông tin riêng, thông tin cá nhân')
  if (a.serves === 'citizens_businesses') add(2, 'Art. 8', 'serves citizens and businesses', 'phục vụ người dân, doanh nghiệp')
  if (a.online_public_service_level >= 1 && a.online_public_service_level < 3) add(2, 'Art. 8', 'online public services at level 1 or 2', 'cung cấp dịch vụ công trực tuyến mức độ 1, 2')
  if (reasons.length === 0) add(1, 'Art. 7', 'internal work with public information only', 'phục vụ hoạt động nội bộ, chỉ xử lý thông tin công cộng')
  reasons.sort((x, y) => y.level - x.level)
  return { level: reasons[0].level as Proposal['level'], reasons }
}
