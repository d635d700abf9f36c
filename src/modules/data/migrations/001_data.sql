-- Shared data (dữ liệu dùng chung) and open data (dữ liệu mở): the catalogue of shared
-- databases, the open-data publish plan, CKAN-style datasets (packages) and resources, and the
-- DataStore (one typed table per tabular resource in the `datastore` schema).

-- Catalogue of shared databases (danh mục cơ sở dữ liệu dùng chung).
create table data_shared_databases (
  id uuid primary key default gen_random_uuid(),
  code text not null unique check (code ~ '^[A-Za-z0-9._-]{1,64}$'),
  name text not null check (length(name) between 1 and 300),
  owner_unit text not null,            -- cơ quan chủ quản (org unit code)
  custodian text not null,             -- đơn vị quản lý, vận hành
  description text not null default '',
  fields jsonb not null default '[]',  -- [{name, type, description}]
  update_frequency text not null check (update_frequency in ('realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular')),
  access_level text not null check (access_level in ('open', 'shared', 'restricted')),
  legal_basis text not null default '', -- căn cứ pháp lý
  systems_using text[] not null default '{}',
  contact text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Open-data publish plan (kế hoạch công bố dữ liệu mở): what is to be published by when.
create table data_publish_plan (
  id uuid primary key default gen_random_uuid(),
  title text not null check (length(title) between 1 and 300),
  shared_database_id uuid references data_shared_databases (id),
  owner_unit text not null,
  planned_date date not null,
  dataset_name text,                   -- the dataset that fulfils it, once published
  published_date date,
  note text not null default '',
  created_at timestamptz not null default now()
);

-- Datasets (CKAN packages).
create table data_datasets (
  id uuid primary key default gen_random_uuid(),
  name text not null unique check (name ~ '^[a-z0-9_-]{2,100}$'),
  title text not null check (length(title) between 1 and 300),
  notes text not null default '',
  owner_org text not null,             -- org unit code (identity module)
  license_id text not null default 'cc-by-4.0',
  tags text[] not null default '{}',
  access_level text not null default 'open' check (access_level in ('open', 'shared', 'restricted')),
  update_frequency text not null default 'irregular' check (update_frequency in ('realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular')),
  author text not null default '',
  maintainer_email text not null default '',
  spatial_coverage text not null default 'Điện Biên',
  source_system text,                  -- set for datasets produced by the platform itself
  version int not null default 1,
  -- title + notes + tags + organisation, without diacritics (normalizeSearchText), for search
  search_text text not null default '',
  search_tsv tsvector generated always as (to_tsvector('simple', search_text)) stored,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  data_updated_at timestamptz
);
create index data_datasets_tsv on data_datasets using gin (search_tsv);
create index data_datasets_org on data_datasets (owner_org);
create index data_datasets_tags on data_datasets using gin (tags);

create table data_resources (
  id uuid primary key default gen_random_uuid(),
  dataset_id uuid not null references data_datasets (id),
  position int not null default 0,
  name text not null check (length(name) between 1 and 300),
  description text not null default '',
  format text not null,                -- CSV, XLSX, JSON, GeoJSON, or what the URL serves
  url text,                            -- an external URL (no upload)
  file_sha256 text check (file_sha256 is null or file_sha256 ~ '^[0-9a-f]{64}$'),
  file_name text,
  size bigint,
  mimetype text,
  datastore_active boolean not null default false,
  datastore_table text check (datastore_table is null or datastore_table ~ '^r_[0-9a-f]{32}(_[0-9]+)?$'),
  fields jsonb not null default '[]',  -- [{id, type, column}] column = f1..fN
  row_count bigint not null default 0,
  load_report jsonb,
  version int not null default 1,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now()
);
create index data_resources_dataset on data_resources (dataset_id, position);

-- Versions and change history of datasets and their resources.
create table data_dataset_history (
  id bigserial primary key,
  dataset_id uuid not null references data_datasets (id),
  version int not null,
  at timestamptz not null,
  actor text not null,
  change text not null,
  detail jsonb not null default '{}'
);
create index data_dataset_history_dataset on data_dataset_history (dataset_id, id);

-- Reuses (apps and articles that use a dataset).
create table data_reuses (
  id uuid primary key default gen_random_uuid(),
  dataset_id uuid not null references data_datasets (id),
  kind text not null check (kind in ('application', 'article', 'visualization', 'api')),
  title text not null check (length(title) between 1 and 300),
  url text not null check (url ~ '^https?://'),
  description text not null default '',
  created_at timestamptz not null default now()
);

-- Monthly statistics produced by the platform itself, kept from outbox events
-- (report.created, report.status_changed, dossier.status_changed).
create table data_platform_stats (
  month text not null check (month ~ '^[0-9]{4}-[0-9]{2}$'),
  source text not null,                -- 'reports' | 'dossiers'
  metric text not null,                -- e.g. created, resolved, status:<to>
  unit_code text not null default '',
  count bigint not null default 0,
  primary key (month, source, metric, unit_code)
);

-- The DataStore: one table per tabular resource, named by the resource id (never by user input),
-- columns f1..fN; and a view per resource, named by its id, with the field names as columns,
-- for datastore_search_sql. A login-less role may read only the views of open datasets.
create schema if not exists datastore;
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'hoaban_datastore_reader') then
    create role hoaban_datastore_reader nologin;
  end if;
end $$;
grant usage on schema datastore to hoaban_datastore_reader;
