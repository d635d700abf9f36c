-- dossier_control_slips partitioned by month on `at` (issue 10 §3). Keys must contain the
-- partition column: primary key (id, at) and unique (dossier_id, seq, at), so the database no
-- longer refuses two slips with the same (dossier_id, seq) at different times. The slip number
-- is max(seq)+1 taken while the dossier row is locked (dossiers/actions.ts reads the dossier
-- FOR UPDATE before a hand-off), which keeps it unique; the unique index still serves the
-- per-dossier lookups (dossier_id leads). No table references slip ids.
alter table dossier_control_slips rename to dossier_control_slips_unpartitioned;
alter table dossier_control_slips_unpartitioned drop constraint dossier_control_slips_pkey;
alter table dossier_control_slips_unpartitioned drop constraint dossier_control_slips_dossier_id_seq_key;

create table dossier_control_slips (
  id bigint not null default nextval('dossier_control_slips_id_seq'),
  dossier_id bigint not null references dossiers (id),
  seq int not null,
  action text not null,
  step text not null,
  from_status smallint,
  to_status smallint not null,
  from_unit text,
  from_user uuid,
  to_unit text,
  to_user uuid,
  at timestamptz not null,
  due_at timestamptz,
  note text,
  primary key (id, at),
  unique (dossier_id, seq, at)
) partition by range (at);
create table dossier_control_slips_default partition of dossier_control_slips default;
select ensure_month_partitions('dossier_control_slips', (select min(at) from dossier_control_slips_unpartitioned), now(), 3);
insert into dossier_control_slips (id, dossier_id, seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note)
  select id, dossier_id, seq, action, step, from_status, to_status, from_unit, from_user, to_unit, to_user, at, due_at, note from dossier_control_slips_unpartitioned;
alter sequence dossier_control_slips_id_seq owned by dossier_control_slips.id;
drop table dossier_control_slips_unpartitioned;
