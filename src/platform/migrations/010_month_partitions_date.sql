-- month_partition_create (platform/006) for a partition key of type date as well as timestamptz.
-- 006 built the bounds as timestamptz values and wrote them with %L, i.e. in the session's time
-- zone: for a date column ('2026-11-01 07:00:00+07' read as a date) that happens to give the
-- right day east of UTC but the day before west of it, and the default-partition check compared
-- a date with a timestamptz (cast in the session's time zone). The bounds are now written as
-- literals of the key's own type: a date column gets [first of month, first of next month) as
-- dates (a calendar month, no time zone: the IOC fact tables' `day` is already the
-- Asia/Ho_Chi_Minh calendar day), a timestamptz column the same UTC instants as before
-- ('YYYY-MM-01 00:00:00+00'), so partitions created by 006 and by this function agree.
-- Any other key type is refused. Same name, arguments and results as 006.
create or replace function month_partition_create(p_parent text, p_month date) returns text language plpgsql as $$
declare
  m date := date_trunc('month', p_month)::date;
  part text := format('%s_p%s', p_parent, to_char(m, 'YYYY_MM'));
  col text;
  typ regtype;
  lo text;
  hi text;
  n int;
begin
  perform pg_advisory_xact_lock(727274003, hashtext(p_parent));
  if to_regclass(part) is not null then
    return 'exists';
  end if;
  select a.attname, a.atttypid::regtype into col, typ
    from pg_partitioned_table p
    join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
    where p.partrelid = p_parent::regclass;
  if col is null then
    raise exception '% is not partitioned', p_parent;
  end if;
  if typ = 'date'::regtype then
    lo := to_char(m, 'YYYY-MM-DD');
    hi := to_char(m + interval '1 month', 'YYYY-MM-DD');
  elsif typ = 'timestamptz'::regtype then
    lo := to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00';
    hi := to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
  else
    raise exception '% is partitioned on % of type %: month partitions need date or timestamptz', p_parent, col, typ;
  end if;
  if to_regclass(p_parent || '_default') is not null then
    execute format('select count(*) from (select 1 from %I where %I >= %L::%s and %I < %L::%s limit 1) s',
      p_parent || '_default', col, lo, typ, col, hi, typ) into n;
    if n > 0 then
      return 'skipped-default-has-rows';
    end if;
  end if;
  execute format('create table %I partition of %I for values from (%L) to (%L)', part, p_parent, lo, hi);
  return 'created';
end $$;
