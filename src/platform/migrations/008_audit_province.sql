-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): the audit log is
-- distributed on province_code, with one hash chain per province.
--
-- The column defaults to the connection's `hoaban.province_code` (set by openDatabase on every
-- connection and by the migration runner), so existing rows are backfilled with this
-- installation's province by the `add column` itself and every writer stays unchanged.
-- Citus requires the distribution column in every primary and unique key: (province_code, id, at)
-- and (province_code, hash, at). The partition key stays `at`.
alter table audit_log add column province_code text not null default current_setting('hoaban.province_code')
  constraint audit_log_province_code_check check (province_code ~ '^[0-9]{2,3}$');

alter table audit_log drop constraint audit_log_pkey;
alter table audit_log add constraint audit_log_pkey primary key (province_code, id, at);
alter table audit_log drop constraint audit_log_hash_at_key;
alter table audit_log add constraint audit_log_hash_at_key unique (province_code, hash, at);

-- One chain per province: the lock and the predecessor are the province's, so provinces never
-- wait on each other (a national chain would serialise every write of the country on one lock)
-- and on Citus the predecessor lookup goes to the one shard holding the province. The row hash
-- is unchanged (the province is not in it): moving a row to another province's chain breaks
-- both chains' prev_hash links, which verification finds.
create or replace function audit_append(p_at timestamptz, p_actor text, p_action text, p_entity_type text, p_entity_id text, p_data jsonb)
returns text language plpgsql as $$
declare
  p text := current_setting('hoaban.province_code');
  prev text;
  h text;
begin
  perform pg_advisory_xact_lock(727274002, hashtext(p));
  select hash into prev from audit_log where province_code = p order by id desc limit 1;
  prev := coalesce(prev, repeat('0', 64));
  h := audit_row_hash(prev, p_at, p_actor, p_action, p_entity_type, p_entity_id, p_data);
  insert into audit_log (province_code, at, actor, action, entity_type, entity_id, data, prev_hash, hash)
    values (p, p_at, p_actor, p_action, p_entity_type, p_entity_id, p_data, prev, h);
  return h;
end $$;
