-- The procedure catalogue (danh mục thủ tục hành chính): procedures, their dated versions,
-- the fields (lĩnh vực) they belong to, and fee policies (e.g. 50% off when done online).

create table procedure_fields (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  sort_order int not null default 100
);

create table procedures (
  code text primary key,
  field text not null references procedure_fields (code),
  level text not null check (level in ('commune', 'province')),
  active boolean not null default true,
  created_at timestamptz not null default now()
);

-- One row per version; the version in force on a (Vietnam) date is the one with the latest
-- valid_from not after it whose valid_to (inclusive) is null or not before it.
create table procedure_versions (
  procedure_code text not null references procedures (code),
  version int not null check (version >= 1),
  valid_from date not null,
  valid_to date,
  name_vi text not null,
  name_en text not null,
  handling_unit text not null,
  components jsonb not null,
  legal_basis jsonb not null,
  duration jsonb not null,
  priority boolean not null default false,
  priority_duration jsonb,
  fee_vnd bigint not null check (fee_vnd >= 0),
  fully_online boolean not null,
  steps jsonb not null,
  -- Lower-cased, diacritics-stripped name, field name and code (normalised in JS: PGlite has no unaccent).
  search_text text not null,
  primary key (procedure_code, version),
  check (valid_to is null or valid_to >= valid_from)
);

create index procedure_versions_valid_idx on procedure_versions (procedure_code, valid_from desc);

-- A fee policy reduces (percent_off) or replaces (fixed_vnd) the fee on a channel between two
-- dates (inclusive), for all procedures, one field, or one procedure.
create table fee_policies (
  code text primary key,
  name_vi text not null,
  name_en text not null,
  legal_basis text,
  channel text not null check (channel in ('online', 'in_person', 'any')),
  percent_off numeric(5, 2) check (percent_off > 0 and percent_off <= 100),
  fixed_vnd bigint check (fixed_vnd >= 0),
  valid_from date not null,
  valid_to date,
  procedure_code text references procedures (code),
  field text references procedure_fields (code),
  check ((percent_off is null) <> (fixed_vnd is null)),
  check (valid_to is null or valid_to >= valid_from)
);
