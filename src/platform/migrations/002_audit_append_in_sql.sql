-- Appending to the audit chain in one statement: the lock, the predecessor's hash and the insert
-- happen in the database, so the chain lock is held for one round trip instead of three.
-- A row's hash covers a JSON array of its fields (so no field can bleed into the next).

create function audit_row_hash(prev_hash text, at timestamptz, actor text, action text, entity_type text, entity_id text, data jsonb)
returns text language sql immutable as $$
  select encode(sha256(convert_to(jsonb_build_array(
    prev_hash,
    to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    actor, action, entity_type, entity_id, data)::text, 'UTF8')), 'hex')
$$;

create function audit_append(p_at timestamptz, p_actor text, p_action text, p_entity_type text, p_entity_id text, p_data jsonb)
returns text language plpgsql as $$
declare
  prev text;
  h text;
begin
  perform pg_advisory_xact_lock(727274002);
  select hash into prev from audit_log order by id desc limit 1;
  prev := coalesce(prev, repeat('0', 64));
  h := audit_row_hash(prev, p_at, p_actor, p_action, p_entity_type, p_entity_id, p_data);
  insert into audit_log (at, actor, action, entity_type, entity_id, data, prev_hash, hash)
    values (p_at, p_actor, p_action, p_entity_type, p_entity_id, p_data, prev, h);
  return h;
end $$;
