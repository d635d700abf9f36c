-- Shared sector databases (cơ sở dữ liệu dùng chung): a schema per registry, its records as
-- validated jsonb, every version of every record, and the outbox of civil-servant changes sent
-- to the national database (CSDL quốc gia về cán bộ, công chức, viên chức).

create table registry_schemas (
  name text primary key,
  title_vi text not null,
  title_en text not null,
  description text not null default '',
  -- The agency that owns the data (cơ quan chủ quản), an org unit code.
  owner_unit text not null,
  -- open: the public sees its open fields; shared: agencies only; restricted: the owner only.
  access text not null check (access in ('open', 'shared', 'restricted')),
  key_fields text[] not null,
  fields jsonb not null,
  schema_version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table registry_records (
  registry text not null references registry_schemas (name),
  record_key text not null,
  data jsonb not null,
  -- The unit a record belongs to when the registry is kept per unit (a civil servant's unit).
  unit_code text,
  -- The platform account linked to the record (a civil servant's own account).
  linked_user_id uuid,
  version int not null,
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null,
  updated_by text not null,
  primary key (registry, record_key)
);
create index registry_records_updated on registry_records (registry, updated_at desc);
create index registry_records_unit on registry_records (registry, unit_code);
create index registry_records_data on registry_records using gin (data jsonb_path_ops);
create unique index registry_records_linked_user on registry_records (registry, linked_user_id) where linked_user_id is not null;

-- Every version of every record: who, when, what (the full data) and the diff from the previous.
create table registry_record_versions (
  registry text not null,
  record_key text not null,
  version int not null,
  at timestamptz not null,
  actor text not null,
  action text not null,
  diff jsonb not null,
  data jsonb not null,
  unit_code text,
  primary key (registry, record_key, version)
);

-- Changes to send to the national database, written in the transaction of the change.
create table national_sync_changes (
  id bigserial primary key,
  registry text not null,
  record_key text not null,
  version int not null,
  -- Sent as the Idempotency-Key header: the national side applies each change once.
  idempotency_key text not null unique,
  payload jsonb not null,
  created_at timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  locked_until timestamptz,
  sent_at timestamptz,
  last_error text
);
create index national_sync_changes_due on national_sync_changes (next_attempt_at, id) where status <> 'sent';

-- Each attempt to send a change, with the answer.
create table national_sync_attempts (
  id bigserial primary key,
  change_id bigint not null references national_sync_changes (id),
  at timestamptz not null,
  url text not null,
  status_code int,
  ok boolean not null,
  error text,
  response_excerpt text
);
create index national_sync_attempts_change on national_sync_attempts (change_id);
