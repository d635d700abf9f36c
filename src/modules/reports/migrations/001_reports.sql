-- Field reports (phản ánh hiện trường): categories, reports, photos, history, supporters.

create table report_categories (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  icon text not null,
  -- Who handles it by default: the commune where it was sent, or a named department.
  handling text not null check (handling in ('commune', 'department')),
  department_code text,
  -- Working hours allowed in each state, e.g. {"received": 4, "assigned": 8, "in_progress": 40}.
  deadlines jsonb not null,
  sort_order int not null default 0,
  active boolean not null default true,
  check ((handling = 'department') = (department_code is not null))
);

-- Gapless yearly numbering for tracking codes PA-<year>-<number>; the row lock orders writers.
create table report_sequences (
  year int primary key,
  last_number int not null
);

create table reports (
  id uuid primary key default gen_random_uuid(),
  code text not null unique,
  category_code text not null references report_categories (code),
  description text not null,
  channel text not null check (channel in ('app', 'web', 'open311', 'sms', 'hotline')),
  -- Where: the point (null when the citizen only named a commune) and how it was found.
  location geometry(Point, 4326),
  location_source text not null check (location_source in ('gps', 'exif', 'manual')),
  address_text text,
  commune_code text,
  locate_status text not null check (locate_status in ('inside', 'nearest', 'manual', 'unlocated')),
  near_border boolean not null default false,
  distance_to_border_m double precision,
  boundary_version text,
  -- Who handles it now.
  unit_code text not null,
  assignee_user_id uuid,
  status text not null check (status in ('received', 'assigned', 'in_progress', 'resolved', 'rejected', 'closed')),
  outcome text check (outcome in ('fixed', 'not_fixed', 'rejected', 'duplicate')),
  public_answer text,
  reject_reason text,
  -- Reporter: never shown publicly; shown to the handling unit only with share_identity.
  reporter_user_id uuid,
  reporter_name text,
  reporter_phone text,
  reporter_email text,
  anonymous boolean not null default false,
  share_identity boolean not null default false,
  -- Time (UTC): when the current state started and is due, and the overall due time.
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  state_entered_at timestamptz not null default now(),
  state_due_at timestamptz,
  due_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  escalation_level int not null default 0,
  escalated_at timestamptz,
  location_confirmed_at timestamptz,
  rating int check (rating between 1 and 5),
  rating_comment text,
  reopen_count int not null default 0,
  merged_into uuid references reports (id),
  supporters_count int not null default 0,
  is_demo boolean not null default false
);
create index reports_location on reports using gist (location);
create index reports_feed on reports (created_at desc, id desc);
create index reports_unit_queue on reports (unit_code, status, state_due_at);
create index reports_open_category on reports (category_code) where status not in ('closed', 'rejected');
create index reports_reporter on reports (reporter_user_id) where reporter_user_id is not null;
create index reports_overdue on reports (state_due_at) where status in ('received', 'assigned', 'in_progress');

create table report_photos (
  report_id uuid not null references reports (id),
  seq int not null,
  file_name text not null,
  thumb_name text not null,
  mime text not null,
  width int not null,
  height int not null,
  bytes int not null,
  sha256 text not null,
  primary key (report_id, seq)
);

-- Every change of a report, for the timeline (public view shows status and answers, not actors).
create table report_history (
  id bigserial primary key,
  report_id uuid not null references reports (id),
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  from_status text,
  to_status text,
  from_unit text,
  to_unit text,
  note text
);
create index report_history_report on report_history (report_id, id);

-- "Me too": one row per supporter (a user id, or a device key for anonymous supporters).
create table report_supporters (
  report_id uuid not null references reports (id),
  supporter_key text not null,
  created_at timestamptz not null default now(),
  primary key (report_id, supporter_key)
);
