-- Villages (thôn, bản, tổ dân phố): named places inside communes, used to locate reports that
-- come without GPS (SMS, hotline), and their infrastructure (broadband, mobile, grid power).

create table geo_villages (
  id bigint generated always as identity primary key,
  commune_code text not null references geo_units (code),
  name text not null,                                   -- 'Bản Mển', 'Thôn Đồng Tâm'
  -- normalizeSearchText(name): no diacritics, lower case, one space; unique within a commune.
  name_search text not null,
  aliases jsonb not null default '[]'::jsonb,           -- other spellings: ["Ban Men"]
  location geometry(Point, 4326),                       -- null when the CSV gave no coordinates
  source text not null,
  is_sample boolean not null default false,             -- illustrative sample data, not an official list
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (commune_code, name_search)
);
create index geo_villages_commune on geo_villages (commune_code);

-- One row per survey of a village's infrastructure; the latest (as_of, id) is the current state.
create table geo_village_infrastructure (
  id bigint generated always as identity primary key,
  village_id bigint not null references geo_villages (id),
  fixed_broadband boolean not null,
  broadband_provider text,
  mobile_coverage text not null check (mobile_coverage in ('none', '2g', '3g', '4g')),
  grid_power boolean not null,
  as_of date not null,                                  -- the day the facts were true (survey date)
  source text not null,
  recorded_at timestamptz not null default now()
);
create index geo_village_infrastructure_village on geo_village_infrastructure (village_id, as_of desc, id desc);
