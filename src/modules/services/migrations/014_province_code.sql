-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): dossiers and their
-- children are distributed on province_code, colocated, so a dossier, its files, slips, pauses,
-- deadline changes, letters and result live on one shard. dossier_counters (the receipt number of
-- an agency and day) is distributed with them. Not distributed: citizen_store_items (a citizen's
-- own files, keyed by user; stays on the coordinator) and dossier_bank_accounts (reference).
--
-- province_code defaults to the connection's province (hoaban.province_code, set by
-- openDatabase), which also backfills the existing rows; writers are unchanged. The column is put
-- LAST in each key, so the lookups by id, by code and by dossier_id keep their leading columns.
-- The `on conflict` targets naming these keys (numbering.ts, jobs.ts, citizen-store/results.ts)
-- name province_code too.
select distribution_add_province_code('dossiers');
select distribution_add_province_code('dossier_files');
select distribution_add_province_code('dossier_control_slips');
select distribution_add_province_code('dossier_counters');
select distribution_add_province_code('dossier_pauses');
select distribution_add_province_code('dossier_deadline_changes');
select distribution_add_province_code('dossier_letters');
select distribution_add_province_code('dossier_results');

select distribution_drop_constraints('dossier_files', 'f', 'dossiers');
select distribution_drop_constraints('dossier_control_slips', 'f', 'dossiers');
select distribution_drop_constraints('dossier_pauses', 'f', 'dossiers');
select distribution_drop_constraints('dossier_deadline_changes', 'f', 'dossiers');
select distribution_drop_constraints('dossier_letters', 'f', 'dossiers');
select distribution_drop_constraints('dossier_results', 'f', 'dossiers');

select distribution_drop_constraints('dossiers', 'p');
select distribution_drop_constraints('dossiers', 'u');
alter table dossiers add constraint dossiers_pkey primary key (id, province_code);
alter table dossiers add constraint dossiers_code_key unique (code, province_code);

select distribution_drop_constraints('dossier_files', 'p');
alter table dossier_files add constraint dossier_files_pkey primary key (id, province_code);
select distribution_drop_constraints('dossier_control_slips', 'p');
select distribution_drop_constraints('dossier_control_slips', 'u');
alter table dossier_control_slips add constraint dossier_control_slips_pkey primary key (id, at, province_code);
alter table dossier_control_slips add constraint dossier_control_slips_dossier_id_seq_at_key unique (dossier_id, seq, at, province_code);
select distribution_drop_constraints('dossier_counters', 'p');
alter table dossier_counters add constraint dossier_counters_pkey primary key (agency_code, day, province_code);
select distribution_drop_constraints('dossier_pauses', 'p');
alter table dossier_pauses add constraint dossier_pauses_pkey primary key (id, province_code);
select distribution_drop_constraints('dossier_deadline_changes', 'p');
alter table dossier_deadline_changes add constraint dossier_deadline_changes_pkey primary key (id, province_code);
select distribution_drop_constraints('dossier_letters', 'p');
select distribution_drop_constraints('dossier_letters', 'u');
alter table dossier_letters add constraint dossier_letters_pkey primary key (id, province_code);
alter table dossier_letters add constraint dossier_letters_dossier_id_kind_key unique (dossier_id, kind, province_code);
select distribution_drop_constraints('dossier_results', 'p');
alter table dossier_results add constraint dossier_results_pkey primary key (dossier_id, province_code);

alter table dossier_files add constraint dossier_files_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
alter table dossier_control_slips add constraint dossier_control_slips_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
alter table dossier_pauses add constraint dossier_pauses_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
alter table dossier_deadline_changes add constraint dossier_deadline_changes_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
alter table dossier_letters add constraint dossier_letters_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
alter table dossier_results add constraint dossier_results_dossier_id_fkey foreign key (dossier_id, province_code) references dossiers (id, province_code);
