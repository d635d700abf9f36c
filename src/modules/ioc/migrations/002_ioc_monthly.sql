-- Monthly roll-up level (tổng hợp theo tháng): the same counters as ioc_daily_facts, summed per
-- Asia/Ho_Chi_Minh calendar month (month = its first day). Fed by the same deltas, in the same
-- transaction, as the daily level; indicator queries read whole months here and only the
-- partial edge months from the daily table.
create table ioc_monthly_facts (
  month date not null,
  source text not null check (source in ('report', 'dossier')),
  unit_code text not null,
  category text not null,
  channel text not null,
  commune_code text not null default '',
  received int not null default 0,
  resolved int not null default 0,
  early int not null default 0,
  on_time int not null default 0,
  late int not null default 0,
  rating_count int not null default 0,
  rating_sum int not null default 0,
  satisfied int not null default 0,
  fee_required int not null default 0,
  paid_online int not null default 0,
  digitised int not null default 0,
  primary key (month, source, unit_code, category, channel, commune_code)
);
create index ioc_monthly_facts_source_month on ioc_monthly_facts (source, month);

create table ioc_monthly_duration_buckets (
  month date not null,
  source text not null,
  unit_code text not null,
  category text not null,
  bucket smallint not null,
  n int not null default 0,
  primary key (month, source, unit_code, category, bucket)
);

-- Existing daily rows folded into months once.
insert into ioc_monthly_facts (month, source, unit_code, category, channel, commune_code, received, resolved, early, on_time, late,
  rating_count, rating_sum, satisfied, fee_required, paid_online, digitised)
select date_trunc('month', day)::date, source, unit_code, category, channel, commune_code, sum(received), sum(resolved), sum(early), sum(on_time),
  sum(late), sum(rating_count), sum(rating_sum), sum(satisfied), sum(fee_required), sum(paid_online), sum(digitised)
from ioc_daily_facts group by 1, 2, 3, 4, 5, 6;

insert into ioc_monthly_duration_buckets (month, source, unit_code, category, bucket, n)
select date_trunc('month', day)::date, source, unit_code, category, bucket, sum(n)
from ioc_duration_buckets group by 1, 2, 3, 4, 5;
