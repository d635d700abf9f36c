-- Coarse roll-up levels (tổng hợp thô): the same counters as ioc_daily_facts / ioc_monthly_facts
-- with fewer key columns, so the indicator queries sum a few thousand rows instead of a table
-- almost as large as the data. Fed by the same deltas, in the same transaction, as the fine
-- levels (rollups.ts applyFactDeltas). One row per level × period × source × unit × dim:
--   level 'channel'  — dim = channel, dossiers only (Decision 766 dossier indicators: group by
--                      unit; online = channel 'online');
--   level 'unit'     — dim = '', reports only (766 rating indicators; report indicators by unit);
--   level 'category' — dim = category, reports only (report indicators by category);
--   level 'commune'  — dim = commune_code, reports only (report indicators by commune).
-- Durations: level 'unit' (dim '') and level 'category' (unit_code '' = every unit, dim =
-- category), reports only, for the medians of the report indicators without a unit filter.
create table ioc_daily_coarse (
  level text not null check (level in ('channel', 'unit', 'category', 'commune')),
  day date not null,
  source text not null check (source in ('report', 'dossier')),
  unit_code text not null,
  dim text not null,
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
  reused int not null default 0,
  primary key (level, source, day, unit_code, dim)
);

create table ioc_monthly_coarse (
  level text not null check (level in ('channel', 'unit', 'category', 'commune')),
  month date not null,
  source text not null check (source in ('report', 'dossier')),
  unit_code text not null,
  dim text not null,
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
  reused int not null default 0,
  primary key (level, source, month, unit_code, dim)
);

create table ioc_daily_coarse_buckets (
  level text not null check (level in ('unit', 'category')),
  day date not null,
  source text not null,
  unit_code text not null,
  dim text not null,
  bucket smallint not null,
  n int not null default 0,
  primary key (level, source, day, unit_code, dim, bucket)
);

create table ioc_monthly_coarse_buckets (
  level text not null check (level in ('unit', 'category')),
  month date not null,
  source text not null,
  unit_code text not null,
  dim text not null,
  bucket smallint not null,
  n int not null default 0,
  primary key (level, source, month, unit_code, dim, bucket)
);

-- backfill: the coarse levels from the fine ones already there (daily from daily, monthly from
-- monthly), with the same level rules as rollups.ts coarseKeys.
insert into ioc_daily_coarse (level, day, source, unit_code, dim, received, resolved, early, on_time, late, rating_count, rating_sum, satisfied, fee_required, paid_online, digitised, reused)
select l.level, f.day, f.source, f.unit_code, case l.level when 'channel' then f.channel when 'unit' then '' when 'category' then f.category else f.commune_code end,
  sum(received), sum(resolved), sum(early), sum(on_time), sum(late), sum(rating_count), sum(rating_sum), sum(satisfied), sum(fee_required), sum(paid_online), sum(digitised), sum(reused)
from ioc_daily_facts f join (values ('channel'), ('unit'), ('category'), ('commune')) as l (level) on (l.level = 'channel') = (f.source = 'dossier')
group by 1, 2, 3, 4, 5;

insert into ioc_monthly_coarse (level, month, source, unit_code, dim, received, resolved, early, on_time, late, rating_count, rating_sum, satisfied, fee_required, paid_online, digitised, reused)
select l.level, f.month, f.source, f.unit_code, case l.level when 'channel' then f.channel when 'unit' then '' when 'category' then f.category else f.commune_code end,
  sum(received), sum(resolved), sum(early), sum(on_time), sum(late), sum(rating_count), sum(rating_sum), sum(satisfied), sum(fee_required), sum(paid_online), sum(digitised), sum(reused)
from ioc_monthly_facts f join (values ('channel'), ('unit'), ('category'), ('commune')) as l (level) on (l.level = 'channel') = (f.source = 'dossier')
group by 1, 2, 3, 4, 5;

insert into ioc_daily_coarse_buckets (level, day, source, unit_code, dim, bucket, n)
select l.level, b.day, b.source, case l.level when 'unit' then b.unit_code else '' end, case l.level when 'unit' then '' else b.category end, b.bucket, sum(b.n)
from ioc_duration_buckets b cross join (values ('unit'), ('category')) as l (level)
where b.source = 'report'
group by 1, 2, 3, 4, 5, 6;

insert into ioc_monthly_coarse_buckets (level, month, source, unit_code, dim, bucket, n)
select l.level, b.month, b.source, case l.level when 'unit' then b.unit_code else '' end, case l.level when 'unit' then '' else b.category end, b.bucket, sum(b.n)
from ioc_monthly_duration_buckets b cross join (values ('unit'), ('category')) as l (level)
where b.source = 'report'
group by 1, 2, 3, 4, 5, 6;
