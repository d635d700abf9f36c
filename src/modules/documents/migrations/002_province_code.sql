-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): documents, their
-- handling steps and links, and the register counters are distributed on province_code,
-- colocated. Foreign keys to org_units and users stay: those are reference tables.
--
-- province_code defaults to the connection's province (hoaban.province_code, set by
-- openDatabase), which also backfills the existing rows; writers are unchanged. The column is put
-- LAST in each key, so the lookups by id, by register number and by document_id keep their
-- leading columns. The `on conflict` target of the register counter (repository.ts) names it too.
select distribution_add_province_code('documents');
select distribution_add_province_code('document_register_counters');
select distribution_add_province_code('document_handling');
select distribution_add_province_code('document_links');

select distribution_drop_constraints('document_handling', 'f', 'documents');
select distribution_drop_constraints('document_links', 'f', 'documents');

select distribution_drop_constraints('documents', 'p');
select distribution_drop_constraints('documents', 'u');
alter table documents add constraint documents_pkey primary key (id, province_code);
alter table documents add constraint documents_agency_code_direction_register_year_number_key unique (agency_code, direction, register_year, number, province_code);

select distribution_drop_constraints('document_register_counters', 'p');
alter table document_register_counters add constraint document_register_counters_pkey primary key (agency_code, direction, year, province_code);
select distribution_drop_constraints('document_handling', 'p');
alter table document_handling add constraint document_handling_pkey primary key (id, province_code);
select distribution_drop_constraints('document_links', 'p');
alter table document_links add constraint document_links_pkey primary key (document_id, kind, ref, province_code);

alter table document_handling add constraint document_handling_document_id_fkey foreign key (document_id, province_code) references documents (id, province_code);
alter table document_links add constraint document_links_document_id_fkey foreign key (document_id, province_code) references documents (id, province_code);
