-- Monthly range partitions for the tables that grow without bound (issue 10 §3).
-- Months are UTC calendar months: partition <t>_pYYYY_MM holds [first of month, first of next
-- month) in UTC; <t>_default holds anything outside the created months.
--
-- month_partition_create makes one month's partition of a parent partitioned by range on a
-- timestamptz column. It is idempotent and safe when several nodes run it at once (a transaction
-- advisory lock per parent serialises them, and an existing partition is left alone). When the
-- default partition already holds rows of that month, PostgreSQL cannot attach the month without
-- moving them, and moving audit rows would need the append-only trigger disabled: the month is
-- skipped (returns 'skipped-default-has-rows') and those rows stay, correctly, in the default.
create function month_partition_create(p_parent text, p_month date) returns text language plpgsql as $$
declare
  m date := date_trunc('month', p_month)::date;
  part text := format('%s_p%s', p_parent, to_char(m, 'YYYY_MM'));
  lo timestamptz := (m::timestamp at time zone 'UTC');
  hi timestamptz := ((m + interval '1 month')::timestamp at time zone 'UTC');
  col text;
  n int;
begin
  perform pg_advisory_xact_lock(727274003, hashtext(p_parent));
  if to_regclass(part) is not null then
    return 'exists';
  end if;
  select a.attname into col
    from pg_partitioned_table p
    join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
    where p.partrelid = p_parent::regclass;
  if col is null then
    raise exception '% is not partitioned', p_parent;
  end if;
  if to_regclass(p_parent || '_default') is not null then
    execute format('select count(*) from (select 1 from %I where %I >= $1 and %I < $2 limit 1) s', p_parent || '_default', col, col)
      into n using lo, hi;
    if n > 0 then
      return 'skipped-default-has-rows';
    end if;
  end if;
  execute format('create table %I partition of %I for values from (%L) to (%L)', part, p_parent, lo, hi);
  return 'created';
end $$;

-- Creates the months from p_from's month through p_now's month + p_ahead (inclusive) for one
-- parent; returns how many partitions were created.
create function ensure_month_partitions(p_parent text, p_from timestamptz, p_now timestamptz, p_ahead int) returns int language plpgsql as $$
declare
  m date := date_trunc('month', coalesce(p_from, p_now) at time zone 'UTC')::date;
  last_m date := (date_trunc('month', p_now at time zone 'UTC') + make_interval(months => p_ahead))::date;
  created int := 0;
begin
  while m <= last_m loop
    if month_partition_create(p_parent, m) = 'created' then
      created := created + 1;
    end if;
    m := (m + interval '1 month')::date;
  end loop;
  return created;
end $$;

-- audit_log: primary key (id, at) and unique (hash, at) because a partitioned table's unique keys
-- must contain the partition column. Hash uniqueness is then enforced per month; the chain
-- (each row's prev_hash = the previous row's hash, verified by audit:verify) still detects any
-- altered, removed or inserted row. The append-only trigger is created on the parent and
-- applies to every partition.
alter table audit_log rename to audit_log_unpartitioned;
alter table audit_log_unpartitioned drop constraint audit_log_pkey;
alter table audit_log_unpartitioned drop constraint audit_log_hash_key;
drop index audit_log_entity;
drop trigger audit_log_append_only on audit_log_unpartitioned;

create table audit_log (
  id bigint not null default nextval('audit_log_id_seq'),
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  entity_type text not null,
  entity_id text not null,
  data jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null,
  primary key (id, at),
  unique (hash, at)
) partition by range (at);
create table audit_log_default partition of audit_log default;
select ensure_month_partitions('audit_log', (select min(at) from audit_log_unpartitioned), now(), 3);
insert into audit_log (id, at, actor, action, entity_type, entity_id, data, prev_hash, hash)
  select id, at, actor, action, entity_type, entity_id, data, prev_hash, hash from audit_log_unpartitioned;
alter sequence audit_log_id_seq owned by audit_log.id;
drop table audit_log_unpartitioned;
create index audit_log_entity on audit_log (entity_type, entity_id);
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_refuse_change();
