import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import { appendAudit } from '../../platform/audit/audit-log.ts'
import type { Db } from '../../platform/db/database.ts'

export interface GuideStep {
  title_vi: string
  title_en: string
  body_vi: string
  body_en: string
  /** A small inline SVG, so the page is whole offline with no further download. */
  illustration_svg: string
  illustration_alt_vi: string
}

export interface Guide {
  slug: string
  title_vi: string
  title_en: string
  summary_vi: string
  summary_en: string
  steps: GuideStep[]
  sort_order: number
  version: number
  updated_at: Date
  updated_by: string
}

const GLYPHS: Record<string, string> = {
  globe: '<circle cx="60" cy="62" r="18" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M42 62h36M60 44c-8 10-8 26 0 36M60 44c8 10 8 26 0 36" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  plus: '<rect x="44" y="46" width="32" height="32" rx="6" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M60 52v20M50 62h20" stroke="#1b5e20" stroke-width="4"/>',
  phone: '<circle cx="60" cy="62" r="14" fill="#e8f5e9" stroke="#1b5e20" stroke-width="3"/><path d="M52 62l6 6 10-12" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  download: '<path d="M60 44v26M50 60l10 10 10-10M46 78h28" fill="none" stroke="#1b5e20" stroke-width="4"/>',
  'id-card': '<rect x="40" y="48" width="40" height="28" rx="4" fill="none" stroke="#1b5e20" stroke-width="3"/><circle cx="52" cy="60" r="5" fill="#1b5e20"/><path d="M62 56h12M62 64h10" stroke="#1b5e20" stroke-width="3"/>',
  camera: '<rect x="42" y="50" width="36" height="26" rx="4" fill="none" stroke="#1b5e20" stroke-width="3"/><circle cx="60" cy="63" r="7" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  shield: '<path d="M60 44l16 6v12c0 10-7 16-16 20-9-4-16-10-16-20V50z" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  search: '<circle cx="56" cy="58" r="10" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M63 65l10 10" stroke="#1b5e20" stroke-width="4"/>',
  form: '<rect x="46" y="44" width="28" height="36" rx="3" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M52 54h16M52 62h16M52 70h10" stroke="#1b5e20" stroke-width="3"/>',
  paperclip: '<path d="M66 52l-14 14a5 5 0 0 0 7 7l16-16a8 8 0 0 0-11-11L48 62" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  receipt: '<path d="M48 44h24v36l-4-3-4 3-4-3-4 3-4-3-4 3z" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M53 54h14M53 62h14" stroke="#1b5e20" stroke-width="3"/>',
  qr: '<rect x="44" y="46" width="12" height="12" fill="#1b5e20"/><rect x="64" y="46" width="12" height="12" fill="#1b5e20"/><rect x="44" y="66" width="12" height="12" fill="#1b5e20"/><rect x="66" y="68" width="4" height="4" fill="#1b5e20"/><rect x="72" y="74" width="4" height="4" fill="#1b5e20"/>',
  bank: '<path d="M42 56l18-10 18 10zM46 58v16M54 58v16M66 58v16M74 58v16M42 78h36" fill="none" stroke="#1b5e20" stroke-width="3"/>',
  check: '<circle cx="60" cy="62" r="16" fill="none" stroke="#1b5e20" stroke-width="3"/><path d="M52 62l6 6 11-12" fill="none" stroke="#1b5e20" stroke-width="3"/>',
}

/** A phone outline with the step number and a pictogram: small (≈1 KB), inline, cacheable. */
export function stepIllustration(stepNo: number, icon: string): string {
  const glyph = GLYPHS[icon] ?? GLYPHS.check
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" role="img"><rect x="30" y="14" width="60" height="96" rx="10" fill="#fff" stroke="#33691e" stroke-width="3"/><circle cx="44" cy="28" r="9" fill="#fbc02d"/><text x="44" y="32" font-size="12" font-family="sans-serif" text-anchor="middle" fill="#000">${stepNo}</text>${glyph}</svg>`
}

interface GuideFile {
  guides: { slug: string; title_vi: string; title_en: string; summary_vi: string; summary_en: string; steps: { icon: string; title_vi: string; title_en: string; body_vi: string; body_en: string }[] }[]
}

/** Loads the shipped guides once; guides staff already edited are left alone. */
export async function seedGuides(db: Db): Promise<void> {
  const file = JSON.parse(readFileSync(new URL('./data/guides.json', import.meta.url), 'utf8')) as GuideFile
  let order = 0
  for (const g of file.guides) {
    const steps: GuideStep[] = g.steps.map((s, i) => ({ title_vi: s.title_vi, title_en: s.title_en, body_vi: s.body_vi, body_en: s.body_en, illustration_svg: stepIllustration(i + 1, s.icon), illustration_alt_vi: `Bước ${i + 1}: ${s.title_vi}` }))
    await sql`insert into dc_guides (slug, title_vi, title_en, summary_vi, summary_en, steps, sort_order, updated_at, updated_by)
      values (${g.slug}, ${g.title_vi}, ${g.title_en}, ${g.summary_vi}, ${g.summary_en}, ${JSON.stringify(steps)}::jsonb, ${order++}, now(), 'system')
      on conflict (slug) do nothing`.execute(db)
  }
}

export async function listGuides(db: Db): Promise<Guide[]> {
  return (await sql<Guide>`select * from dc_guides order by sort_order, slug`.execute(db)).rows
}

export async function getGuide(db: Db, slug: string): Promise<Guide | undefined> {
  return (await sql<Guide>`select * from dc_guides where slug = ${slug}`.execute(db)).rows[0]
}

/** Creates or changes a guide (a new version), audited. */
export async function saveGuide(tx: Db, slug: string, g: Omit<Guide, 'slug' | 'version' | 'updated_at' | 'updated_by' | 'sort_order'> & { sort_order?: number }, actor: string, now: Date): Promise<Guide> {
  const before = await getGuide(tx, slug)
  await sql`insert into dc_guides (slug, title_vi, title_en, summary_vi, summary_en, steps, sort_order, updated_at, updated_by)
    values (${slug}, ${g.title_vi}, ${g.title_en}, ${g.summary_vi}, ${g.summary_en}, ${JSON.stringify(g.steps)}::jsonb, ${g.sort_order ?? 100}, ${now.toISOString()}, ${actor})
    on conflict (slug) do update set title_vi = excluded.title_vi, title_en = excluded.title_en, summary_vi = excluded.summary_vi, summary_en = excluded.summary_en,
      steps = excluded.steps, sort_order = ${g.sort_order ?? before?.sort_order ?? 100}, version = dc_guides.version + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by`.execute(tx)
  const after = (await getGuide(tx, slug))!
  await appendAudit(tx, { actor, action: before ? 'guide.changed' : 'guide.created', entityType: 'guide', entityId: slug, data: { version: after.version, steps: g.steps.length } }, now)
  return after
}

export function presentGuide(g: Guide) {
  return { slug: g.slug, title_vi: g.title_vi, title_en: g.title_en, summary_vi: g.summary_vi, summary_en: g.summary_en, steps: g.steps, version: g.version, updated_at: new Date(g.updated_at).toISOString() }
}

/** A strong validator of a set of guides (slug and version of each), for conditional requests. */
export function guidesEtag(guides: Guide[]): string {
  return `"${createHash('sha256').update(guides.map((g) => `${g.slug}@${g.version}`).join(',')).digest('base64url').slice(0, 22)}"`
}
