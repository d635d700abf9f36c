-- report_history partitioned by month on `at` (issue 10 §3). The primary key becomes (id, at)
-- because a partitioned table's keys must contain the partition column; no table references
-- report_history ids. The FK to reports stays (allowed from a partitioned table).
-- Months: see platform/006_month_partitions.sql (the platform job creates months ahead).
alter table report_history rename to report_history_unpartitioned;
alter table report_history_unpartitioned drop constraint report_history_pkey;
drop index report_history_report;

create table report_history (
  id bigint not null default nextval('report_history_id_seq'),
  report_id uuid not null references reports (id),
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  from_status text,
  to_status text,
  from_unit text,
  to_unit text,
  note text,
  primary key (id, at)
) partition by range (at);
create table report_history_default partition of report_history default;
select ensure_month_partitions('report_history', (select min(at) from report_history_unpartitioned), now(), 3);
insert into report_history (id, report_id, at, actor, action, from_status, to_status, from_unit, to_unit, note)
  select id, report_id, at, actor, action, from_status, to_status, from_unit, to_unit, note from report_history_unpartitioned;
alter sequence report_history_id_seq owned by report_history.id;
drop table report_history_unpartitioned;
create index report_history_report on report_history (report_id, id);
