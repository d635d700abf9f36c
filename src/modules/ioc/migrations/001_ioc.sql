-- IOC (trung tâm điều hành thông minh): roll-ups fed by outbox events, DX registry, analyses.

-- Events already folded into the roll-ups: an event delivered twice counts once.
create table ioc_processed_events (
  event_id bigint primary key,
  processed_at timestamptz not null default now()
);

-- Daily facts per source (report | dossier) × unit × category (report category or procedure
-- code) × channel × commune. Day is the Asia/Ho_Chi_Minh calendar day of the fact.
create table ioc_daily_facts (
  day date not null,
  source text not null check (source in ('report', 'dossier')),
  unit_code text not null,
  category text not null,
  channel text not null,
  commune_code text not null default '',
  received int not null default 0,
  resolved int not null default 0,
  early int not null default 0,
  on_time int not null default 0,
  late int not null default 0,
  rating_count int not null default 0,
  rating_sum int not null default 0,
  satisfied int not null default 0,
  fee_required int not null default 0,
  paid_online int not null default 0,
  digitised int not null default 0,
  primary key (day, source, unit_code, category, channel, commune_code)
);
create index ioc_daily_facts_source_day on ioc_daily_facts (source, day);

-- Resolve durations as log-scale buckets (hours: <1, <2, <4, ... ), for medians without scans.
create table ioc_duration_buckets (
  day date not null,
  source text not null,
  unit_code text not null,
  category text not null,
  bucket smallint not null,
  n int not null default 0,
  primary key (day, source, unit_code, category, bucket)
);

-- Time spent per dossier step (bước xử lý on the control slip), per month.
create table ioc_step_facts (
  month date not null,
  procedure_code text not null,
  unit_code text not null,
  step text not null,
  n int not null default 0,
  seconds double precision not null default 0,
  primary key (month, procedure_code, unit_code, step)
);

-- Items still open, for live open / overdue counts (small: closed items leave).
create table ioc_open_items (
  source text not null,
  code text not null,
  unit_code text not null,
  category text not null,
  channel text not null,
  commune_code text not null default '',
  received_at timestamptz not null,
  due_at timestamptz,
  last_step text,
  last_at timestamptz,
  primary key (source, code)
);
create index ioc_open_items_due on ioc_open_items (source, unit_code, due_at);

-- Ratings folded in (one per report; a changed rating replaces the old one in the facts).
create table ioc_report_ratings (
  code text primary key,
  day date not null,
  unit_code text not null,
  category text not null,
  channel text not null,
  commune_code text not null,
  rating int not null
);

-- Digital-transformation indicators (chuyển đổi số): registry and dated values.
create table ioc_dx_indicators (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  unit text not null,
  direction text not null check (direction in ('up', 'down')),
  method text not null,
  created_at timestamptz not null default now()
);
create table ioc_dx_values (
  indicator_code text not null references ioc_dx_indicators (code),
  period text not null,
  value double precision not null,
  target double precision,
  source text not null,
  method text,
  recorded_at timestamptz not null default now(),
  primary key (indicator_code, period)
);

-- Monthly analyses (phân tích tháng), kept in history.
create table ioc_analyses (
  id uuid primary key default gen_random_uuid(),
  period text not null,
  trigger text not null check (trigger in ('schedule', 'on_demand')),
  created_at timestamptz not null default now(),
  created_by text not null,
  result jsonb not null,
  narrative text
);
create index ioc_analyses_created on ioc_analyses (created_at desc);
