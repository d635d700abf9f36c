-- Helpers for the modules' distribution-key migrations (docs/scaling.md "Distribution key
-- (Citus)"). Constraint names differ between databases that were migrated along different paths
-- (a table rebuilt as partitioned keeps `…_fkey1`), so the constraints to rebuild are found in the
-- catalogue instead of by name.

-- Drops p_table's constraints of kind p_kind ('p' primary key, 'u' unique, 'f' foreign key; for
-- 'f' only those referencing p_ref when given). Only top-level constraints (a partitioned
-- table's constraint takes its partitions' with it). Returns how many were dropped.
create function distribution_drop_constraints(p_table regclass, p_kind "char", p_ref regclass default null) returns int language plpgsql as $$
declare
  c record;
  n int := 0;
begin
  for c in select conname from pg_constraint
    where conrelid = p_table and contype = p_kind and conparentid = 0 and (p_ref is null or confrelid = p_ref)
  loop
    execute format('alter table %s drop constraint %I', p_table, c.conname);
    n := n + 1;
  end loop;
  return n;
end $$;

-- Adds the distribution column to a table: the connection's province (hoaban.province_code),
-- which also fills the existing rows, and a check that it looks like a province code.
create function distribution_add_province_code(p_table regclass) returns void language plpgsql as $$
begin
  execute format($f$alter table %s add column province_code text not null default current_setting('hoaban.province_code')
    constraint %I check (province_code ~ '^[0-9]{2,3}$')$f$, p_table, p_table::text || '_province_code_check');
end $$;
