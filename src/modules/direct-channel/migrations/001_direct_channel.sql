-- The direct channel (kênh thông tin trực tiếp) between the province, businesses and people:
-- questions routed by topic and answered by a deadline, notices targeted by commune, and
-- digital-skills guides.

-- Topics (lĩnh vực hỏi đáp): which department answers, and in how many working days.
create table dc_topics (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  unit_code text not null,
  answer_days int not null check (answer_days between 1 and 60),
  sort_order int not null default 100
);

create table dc_question_counters (
  year int primary key,
  last int not null
);

create table dc_questions (
  id bigserial primary key,
  code text not null unique,
  topic text not null references dc_topics (code),
  unit_code text not null,
  asker_kind text not null check (asker_kind in ('person', 'business')),
  asker_user_id uuid,
  asker_name text not null,
  asker_phone text,
  asker_email text,
  business_name text,
  business_tax_code text,
  commune_code text,
  title text not null,
  body text not null,
  allow_publish boolean not null default true,
  status text not null check (status in ('received', 'answered', 'rejected')),
  submitted_at timestamptz not null,
  due_at timestamptz not null,
  answered_at timestamptz,
  answered_by text,
  answer text,
  reject_reason text,
  published_at timestamptz,
  -- What the public sees, personal data removed when published.
  public_title text,
  public_body text,
  -- Lower-cased, diacritics-stripped public text (PGlite has no unaccent).
  search_text text,
  escalation_level int not null default 0,
  escalated_at timestamptz
);
create index dc_questions_queue on dc_questions (unit_code, status, due_at);
create index dc_questions_published on dc_questions (published_at desc, id desc) where published_at is not null;
create index dc_questions_asker on dc_questions (asker_user_id, submitted_at desc);
create index dc_questions_overdue on dc_questions (due_at) where status = 'received' and escalation_level = 0;

-- Notices and events: investment conferences, outages, campaigns; empty commune list = whole province.
create table dc_notices (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('announcement', 'investment_conference', 'outage', 'campaign', 'event')),
  title text not null,
  body text not null,
  location text,
  unit_code text not null,
  commune_codes text[] not null default '{}',
  starts_at timestamptz,
  ends_at timestamptz,
  status text not null default 'draft' check (status in ('draft', 'published', 'withdrawn')),
  created_by text not null,
  created_at timestamptz not null,
  published_at timestamptz,
  withdrawn_at timestamptz,
  check (ends_at is null or starts_at is null or ends_at >= starts_at)
);
create index dc_notices_published on dc_notices (published_at desc) where status = 'published';
create index dc_notices_communes on dc_notices using gin (commune_codes);

-- Digital-skills guides (hướng dẫn kỹ năng số): short illustrated step-by-step pages.
create table dc_guides (
  slug text primary key,
  title_vi text not null,
  title_en text not null,
  summary_vi text not null,
  summary_en text not null,
  steps jsonb not null,
  sort_order int not null default 100,
  version int not null default 1,
  updated_at timestamptz not null,
  updated_by text not null
);
