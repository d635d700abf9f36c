-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): the IOC fact
-- tables are distributed on province_code, colocated with the reports and dossiers they count,
-- so a province's roll-ups, open items and ratings live on its shard.
--
-- province_code defaults to the connection's province (hoaban.province_code, set by
-- openDatabase on every connection), which also fills the existing rows with this node's
-- province; the writers (rollups.ts) do not name the column, only their conflict targets do.
-- Citus needs the column in every primary key. It is put LAST, so the reads by day/month range,
-- by (source, code) and by report code keep the same leading columns. The day-keyed tables stay
-- partitioned by month on day (ioc/006): `day` stays in their keys and the partitions get the
-- column and the key from their parent. None of these tables has a foreign key or another unique
-- key.

select distribution_add_province_code('ioc_daily_facts');
select distribution_drop_constraints('ioc_daily_facts', 'p');
alter table ioc_daily_facts add constraint ioc_daily_facts_pkey primary key (day, source, unit_code, category, channel, commune_code, province_code);

select distribution_add_province_code('ioc_duration_buckets');
select distribution_drop_constraints('ioc_duration_buckets', 'p');
alter table ioc_duration_buckets add constraint ioc_duration_buckets_pkey primary key (day, source, unit_code, category, bucket, province_code);

select distribution_add_province_code('ioc_daily_coarse');
select distribution_drop_constraints('ioc_daily_coarse', 'p');
alter table ioc_daily_coarse add constraint ioc_daily_coarse_pkey primary key (level, source, day, unit_code, dim, province_code);

select distribution_add_province_code('ioc_daily_coarse_buckets');
select distribution_drop_constraints('ioc_daily_coarse_buckets', 'p');
alter table ioc_daily_coarse_buckets add constraint ioc_daily_coarse_buckets_pkey primary key (level, source, day, unit_code, dim, bucket, province_code);

select distribution_add_province_code('ioc_monthly_facts');
select distribution_drop_constraints('ioc_monthly_facts', 'p');
alter table ioc_monthly_facts add constraint ioc_monthly_facts_pkey primary key (month, source, unit_code, category, channel, commune_code, province_code);

select distribution_add_province_code('ioc_monthly_duration_buckets');
select distribution_drop_constraints('ioc_monthly_duration_buckets', 'p');
alter table ioc_monthly_duration_buckets add constraint ioc_monthly_duration_buckets_pkey primary key (month, source, unit_code, category, bucket, province_code);

select distribution_add_province_code('ioc_step_facts');
select distribution_drop_constraints('ioc_step_facts', 'p');
alter table ioc_step_facts add constraint ioc_step_facts_pkey primary key (month, procedure_code, unit_code, step, province_code);

select distribution_add_province_code('ioc_monthly_coarse');
select distribution_drop_constraints('ioc_monthly_coarse', 'p');
alter table ioc_monthly_coarse add constraint ioc_monthly_coarse_pkey primary key (level, source, month, unit_code, dim, province_code);

select distribution_add_province_code('ioc_monthly_coarse_buckets');
select distribution_drop_constraints('ioc_monthly_coarse_buckets', 'p');
alter table ioc_monthly_coarse_buckets add constraint ioc_monthly_coarse_buckets_pkey primary key (level, source, month, unit_code, dim, bucket, province_code);

select distribution_add_province_code('ioc_open_items');
select distribution_drop_constraints('ioc_open_items', 'p');
alter table ioc_open_items add constraint ioc_open_items_pkey primary key (source, code, province_code);

select distribution_add_province_code('ioc_report_ratings');
select distribution_drop_constraints('ioc_report_ratings', 'p');
alter table ioc_report_ratings add constraint ioc_report_ratings_pkey primary key (code, province_code);
