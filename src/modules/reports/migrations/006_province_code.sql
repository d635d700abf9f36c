-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): reports and their
-- children are distributed on province_code, colocated, so a report, its photos, supporters and
-- history live on one shard.
--
-- province_code defaults to the connection's province (hoaban.province_code, set by
-- openDatabase), which also backfills the existing rows; writers are unchanged.
-- Citus needs the column in every primary/unique key and in every foreign key between these
-- tables. It is put LAST in each key: the lookups by id, by code and by report_id keep using the
-- same leading columns as before (a key led by province_code would not serve `where code = $1`).
select distribution_add_province_code('reports');
select distribution_add_province_code('report_photos');
select distribution_add_province_code('report_supporters');
select distribution_add_province_code('report_history');

select distribution_drop_constraints('report_photos', 'f', 'reports');
select distribution_drop_constraints('report_supporters', 'f', 'reports');
select distribution_drop_constraints('report_history', 'f', 'reports');
select distribution_drop_constraints('reports', 'f', 'reports');

select distribution_drop_constraints('reports', 'p');
select distribution_drop_constraints('reports', 'u');
alter table reports add constraint reports_pkey primary key (id, province_code);
alter table reports add constraint reports_code_key unique (code, province_code);

select distribution_drop_constraints('report_photos', 'p');
alter table report_photos add constraint report_photos_pkey primary key (report_id, seq, province_code);
select distribution_drop_constraints('report_supporters', 'p');
alter table report_supporters add constraint report_supporters_pkey primary key (report_id, supporter_key, province_code);
select distribution_drop_constraints('report_history', 'p');
alter table report_history add constraint report_history_pkey primary key (id, at, province_code);

alter table reports add constraint reports_merged_into_fkey foreign key (merged_into, province_code) references reports (id, province_code);
alter table report_photos add constraint report_photos_report_id_fkey foreign key (report_id, province_code) references reports (id, province_code);
alter table report_supporters add constraint report_supporters_report_id_fkey foreign key (report_id, province_code) references reports (id, province_code);
alter table report_history add constraint report_history_report_id_fkey foreign key (report_id, province_code) references reports (id, province_code);
