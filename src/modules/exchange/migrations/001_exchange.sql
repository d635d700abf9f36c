-- Exchange gateway (LGSP): members, their systems, services, access rights, the signed message log.

create table exchange_members (
  code text primary key check (code ~ '^[A-Za-z0-9._-]{1,40}$'),
  name text not null,
  unit_code text not null,
  created_at timestamptz not null default now()
);

create table exchange_systems (
  id uuid primary key default gen_random_uuid(),
  member_code text not null references exchange_members (code),
  code text not null check (code ~ '^[A-Za-z0-9._-]{1,40}$'),
  name text not null,
  api_key_prefix text not null unique,
  api_key_hash text not null,
  tls_client_fingerprint text,
  created_at timestamptz not null default now(),
  unique (member_code, code)
);

create table exchange_services (
  id uuid primary key default gen_random_uuid(),
  system_id uuid not null references exchange_systems (id),
  -- The provider's member code, repeated so that /gw/{member}/{service} names one service.
  member_code text not null references exchange_members (code),
  code text not null check (code ~ '^[A-Za-z0-9._-]{1,60}$'),
  name text not null,
  base_url text not null,
  openapi_url text,
  version text not null default 'v1',
  timeout_ms integer not null default 10000 check (timeout_ms between 100 and 120000),
  max_request_bytes integer not null default 1048576 check (max_request_bytes between 0 and 52428800),
  max_response_bytes integer not null default 10485760 check (max_response_bytes between 0 and 52428800),
  store_bodies boolean not null default false,
  health_path text,
  created_at timestamptz not null default now(),
  unique (member_code, code)
);

create table exchange_groups (
  code text primary key check (code ~ '^[A-Za-z0-9._-]{1,40}$'),
  name text not null
);

create table exchange_group_systems (
  group_code text not null references exchange_groups (code),
  system_id uuid not null references exchange_systems (id),
  primary key (group_code, system_id)
);

-- Quyền truy cập: a right to call a service, for one system or for a group, within dates.
create table exchange_rights (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references exchange_services (id),
  system_id uuid references exchange_systems (id),
  group_code text references exchange_groups (code),
  valid_from timestamptz not null,
  valid_until timestamptz,
  revoked_at timestamptz,
  created_by text not null,
  created_at timestamptz not null default now(),
  check ((system_id is null) <> (group_code is null))
);
create index exchange_rights_service on exchange_rights (service_id);

-- The gateway's copy of compliance suspensions (from compliance events; never compliance's tables).
create table exchange_suspensions (
  finding_id text primary key,
  subject_kind text not null check (subject_kind in ('unit', 'system')),
  subject_ref text not null,
  rule_code text not null,
  reason_vi text not null,
  reason_en text not null,
  fix_vi text not null,
  fix_en text not null,
  since timestamptz not null
);

-- Nhật ký thông điệp: one record per call, hash-chained per gateway node and signed (Ed25519).
create table exchange_message_log (
  node text not null,
  seq bigint not null,
  at timestamptz not null,
  client text not null,
  provider text not null,
  service text not null,
  method text not null,
  status integer not null,
  duration_ms double precision not null,
  record text not null,
  prev_hash text not null,
  hash text not null,
  signature text not null,
  request_body bytea,
  response_body bytea,
  primary key (node, seq)
);
create index exchange_message_log_at on exchange_message_log (at);
create index exchange_message_log_service on exchange_message_log (provider, service, at);

create table exchange_health_checks (
  service_id uuid not null references exchange_services (id),
  checked_at timestamptz not null,
  ok boolean not null,
  status integer,
  duration_ms double precision not null,
  error text,
  primary key (service_id, checked_at)
);
