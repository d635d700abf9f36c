-- The day-keyed IOC roll-up tables partitioned by month on `day` (issue 10 §3; docs/scaling.md).
-- `day` is the Asia/Ho_Chi_Minh calendar day (a date), so a partition <t>_pYYYY_MM holds that
-- calendar month's days; <t>_default holds days outside the created months. Months are made by
-- ensure_month_partitions (platform/006; date keys: platform/010) from the month of the oldest
-- row to 3 months ahead here, then by the platform job `platform.month-partitions`, which finds
-- these tables in the catalogue like the others.
-- Every primary key already leads with or contains `day`, so no key changes: the rollups.ts bulk
-- upserts (`on conflict (<the primary key's columns>)`) and the analysis/indicator queries are
-- unchanged, and a `day` range prunes to its months.
-- Not partitioned: the month-keyed levels (ioc_monthly_facts, ioc_monthly_duration_buckets,
-- ioc_monthly_coarse, ioc_monthly_coarse_buckets, ioc_step_facts) — one row per key and month,
-- a fraction of the daily level, read by whole months through their primary keys; and
-- ioc_report_ratings — one row per rated report, keyed and read by the report code (a `day` key
-- would make every lookup by code probe every month).
-- Each table: rename, drop its key and indexes (names are reused), create it again with the same
-- columns, defaults, checks and key, `partition by range (day)`, copy the rows, drop the old one.

alter table ioc_daily_facts rename to ioc_daily_facts_unpartitioned;
select distribution_drop_constraints('ioc_daily_facts_unpartitioned', 'p');
drop index ioc_daily_facts_source_day;
create table ioc_daily_facts (like ioc_daily_facts_unpartitioned including defaults including constraints,
  primary key (day, source, unit_code, category, channel, commune_code)) partition by range (day);
create table ioc_daily_facts_default partition of ioc_daily_facts default;
select ensure_month_partitions('ioc_daily_facts', (select min(day) from ioc_daily_facts_unpartitioned)::timestamp at time zone 'UTC', now(), 3);
insert into ioc_daily_facts select * from ioc_daily_facts_unpartitioned;
drop table ioc_daily_facts_unpartitioned;
create index ioc_daily_facts_source_day on ioc_daily_facts (source, day);

alter table ioc_duration_buckets rename to ioc_duration_buckets_unpartitioned;
select distribution_drop_constraints('ioc_duration_buckets_unpartitioned', 'p');
create table ioc_duration_buckets (like ioc_duration_buckets_unpartitioned including defaults including constraints,
  primary key (day, source, unit_code, category, bucket)) partition by range (day);
create table ioc_duration_buckets_default partition of ioc_duration_buckets default;
select ensure_month_partitions('ioc_duration_buckets', (select min(day) from ioc_duration_buckets_unpartitioned)::timestamp at time zone 'UTC', now(), 3);
insert into ioc_duration_buckets select * from ioc_duration_buckets_unpartitioned;
drop table ioc_duration_buckets_unpartitioned;

alter table ioc_daily_coarse rename to ioc_daily_coarse_unpartitioned;
select distribution_drop_constraints('ioc_daily_coarse_unpartitioned', 'p');
create table ioc_daily_coarse (like ioc_daily_coarse_unpartitioned including defaults including constraints,
  primary key (level, source, day, unit_code, dim)) partition by range (day);
create table ioc_daily_coarse_default partition of ioc_daily_coarse default;
select ensure_month_partitions('ioc_daily_coarse', (select min(day) from ioc_daily_coarse_unpartitioned)::timestamp at time zone 'UTC', now(), 3);
insert into ioc_daily_coarse select * from ioc_daily_coarse_unpartitioned;
drop table ioc_daily_coarse_unpartitioned;

alter table ioc_daily_coarse_buckets rename to ioc_daily_coarse_buckets_unpartitioned;
select distribution_drop_constraints('ioc_daily_coarse_buckets_unpartitioned', 'p');
create table ioc_daily_coarse_buckets (like ioc_daily_coarse_buckets_unpartitioned including defaults including constraints,
  primary key (level, source, day, unit_code, dim, bucket)) partition by range (day);
create table ioc_daily_coarse_buckets_default partition of ioc_daily_coarse_buckets default;
select ensure_month_partitions('ioc_daily_coarse_buckets', (select min(day) from ioc_daily_coarse_buckets_unpartitioned)::timestamp at time zone 'UTC', now(), 3);
insert into ioc_daily_coarse_buckets select * from ioc_daily_coarse_buckets_unpartitioned;
drop table ioc_daily_coarse_buckets_unpartitioned;
