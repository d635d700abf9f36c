-- Shared machinery: PostGIS, the hash-chained audit log, the outbox of domain events,
-- idempotency keys, background jobs and schedules.
create extension if not exists postgis;

create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,            -- 'user:<id>', 'client:<id>', 'system', 'anonymous'
  action text not null,           -- 'report.created', 'user.login_failed', ...
  entity_type text not null,
  entity_id text not null,
  data jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null unique
);
create index audit_log_entity on audit_log (entity_type, entity_id);

-- Append-only: updates and deletes are refused by the database itself.
create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_refuse_change();

create table outbox_events (
  id bigserial primary key,
  topic text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  dispatched_at timestamptz,
  attempts int not null default 0,
  last_error text
);
create index outbox_pending on outbox_events (id) where dispatched_at is null;

create table idempotency_keys (
  scope text not null,            -- the route and the caller, e.g. 'POST /api/reports|ip:1.2.3.4'
  key text not null,
  request_hash text not null,
  status_code int not null,
  response jsonb not null,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);

create table jobs (
  id bigserial primary key,
  name text not null,
  payload jsonb not null default '{}'::jsonb,
  run_at timestamptz not null default now(),
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
  attempts int not null default 0,
  max_attempts int not null default 5,
  locked_by text,
  locked_until timestamptz,
  last_error text,
  dedupe_key text unique,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index jobs_ready on jobs (run_at) where status in ('queued', 'running');

create table job_schedules (
  name text primary key,
  cron text not null,
  next_run_at timestamptz not null,
  last_run_at timestamptz
);
