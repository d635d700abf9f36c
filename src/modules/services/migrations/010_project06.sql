-- Project 06 (Đề án 06/QĐ-TTg): procedures that are one of the 53 essential online public
-- services (Quyết định 422/QĐ-TTg), and the province's yearly targets for them.
create table project06_services (
  procedure_code text primary key references procedures (code),
  service_name_vi text not null,
  service_name_en text not null,
  service_group text not null
);

create table project06_targets (
  year int not null check (year between 2020 and 2100),
  indicator text not null check (indicator in ('online_availability', 'online_dossier_rate', 'on_time_rate')),
  target_pct numeric(5, 2) not null check (target_pct between 0 and 100),
  primary key (year, indicator)
);
