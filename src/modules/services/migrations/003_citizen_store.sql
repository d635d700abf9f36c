-- Citizen data store (kho dữ liệu của công dân): files a citizen uploaded directly. The files of
-- their own past dossiers are listed from dossier_files; a new dossier may reuse either as a
-- component without uploading again, and records which stored item it reused (Decision 766, 4.3).
create table citizen_store_items (
  id bigserial primary key,
  owner_user_id uuid not null,
  title text not null,
  original_name text not null,
  stored_name text not null,
  mime text not null,
  bytes int not null,
  sha256 text not null,
  created_at timestamptz not null,
  deleted_at timestamptz
);
create index citizen_store_items_owner on citizen_store_items (owner_user_id, created_at desc) where deleted_at is null;

-- 'u<id>': a citizen_store_items row; 'f<id>': a dossier_files row of an earlier dossier.
alter table dossier_files add column reused_from text;
create index dossier_files_reused on dossier_files (dossier_id) where reused_from is not null;
