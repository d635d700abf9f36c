-- Administrative units (GSO codes) and their boundaries, versioned over time so that a report
-- located last year still points at the geometry that located it.

create table geo_units (
  code text primary key check (code ~ '^[0-9]{2,5}$'),   -- GSO code: '11' province, '03127' commune
  name text not null,                                      -- short name: 'Điện Biên Phủ'
  full_name text not null,                                 -- 'Phường Điện Biên Phủ'
  name_en text,
  level text not null check (level in ('province', 'district', 'commune')),
  unit_type text,                                          -- 'tỉnh', 'phường', 'xã', 'đặc khu', …
  -- No foreign key: a commune layer may be imported before (or without) its province row.
  parent_code text,
  -- Pre-merger units absorbed on 2025-07-01: [{code, name, old_district_code, type}] or [{code}].
  merged_from jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index geo_units_level on geo_units (level, code);
create index geo_units_parent on geo_units (parent_code);
-- Old addresses: which current unit absorbed old commune X (merged_from @> '[{"code": "X"}]').
create index geo_units_merged_from on geo_units using gin (merged_from jsonb_path_ops);

create table geo_boundary_versions (
  id bigint generated always as identity primary key,
  unit_code text not null references geo_units (code),
  geom geometry(MultiPolygon, 4326) not null,
  -- A lighter copy for phone maps. Simplified together with the neighbours (shared borders stay
  -- shared), so recomputed for every open version after each import; display only, never located.
  geom_simplified geometry(MultiPolygon, 4326),
  -- SHA-256 of the coordinates as imported: a re-import of the same geometry adds no version.
  geom_hash text not null,
  valid_from date not null,
  valid_to date,                                           -- exclusive; null = still in force
  source text not null,
  imported_at timestamptz not null default now(),
  imported_by text not null,
  check (valid_to is null or valid_to >= valid_from)
);
create index geo_boundary_versions_geom on geo_boundary_versions using gist (geom);
create index geo_boundary_versions_unit on geo_boundary_versions (unit_code, valid_from);
-- At most one open version per unit; the import closes the previous one first.
create unique index geo_boundary_versions_open on geo_boundary_versions (unit_code) where valid_to is null;
