-- Organisational units that people work in: the province, each commune's People's Committee
-- (same code as the administrative unit) and the provincial departments (sở).
create table org_units (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  kind text not null check (kind in ('province', 'commune', 'department')),
  parent_code text references org_units (code)
);

create table users (
  id uuid primary key default gen_random_uuid(),
  username text not null unique,
  display_name text not null,
  role text not null check (role in ('citizen', 'officer', 'unit_admin', 'province_admin', 'ioc_viewer')),
  unit_code text references org_units (code),
  phone text,
  email text,
  password_hash text,
  failed_logins int not null default 0,
  locked_until timestamptz,
  is_demo boolean not null default false,
  disabled_at timestamptz,
  created_at timestamptz not null default now(),
  check ((role in ('officer', 'unit_admin')) = (unit_code is not null) or role = 'province_admin')
);

-- Links a user to an identity at an external provider (an OpenID Connect SSO such as VNeID).
create table user_identities (
  provider text not null,
  subject text not null,
  user_id uuid not null references users (id),
  created_at timestamptz not null default now(),
  primary key (provider, subject)
);

-- Sessions: the token is given to the client once; only its SHA-256 is stored.
create table sessions (
  token_hash text primary key,
  user_id uuid not null references users (id),
  kind text not null check (kind in ('cookie', 'bearer')),
  provider text not null default 'password',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index sessions_user on sessions (user_id);

-- Machine clients (agency systems, Open311 clients) with API keys; only the key's hash is stored.
create table api_clients (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  key_prefix text not null unique,
  key_hash text not null,
  unit_code text references org_units (code),
  scopes text[] not null default '{}',
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
