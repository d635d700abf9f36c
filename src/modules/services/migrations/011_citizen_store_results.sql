-- Kết quả giải quyết in the citizen data store (Decree 45/2020 art. 17: the electronic results of
-- administrative procedures are kept in the person's data store and may be reused). The result of a
-- resolved dossier — the signed PDF the unit uploaded, or else the result notice the platform
-- renders — is kept here; it enters the applicant's store when the dossier is returned (status 10).
create table dossier_results (
  dossier_id bigint primary key references dossiers (id),
  owner_user_id uuid,
  title text not null,
  document_symbol text,
  original_name text not null,
  stored_name text not null,
  mime text not null,
  bytes int not null,
  sha256 text not null,
  -- true: the signed result uploaded at resolution; false: the rendered result notice.
  signed_upload boolean not null,
  resolved_at timestamptz not null,
  returned_at timestamptz
);
create index dossier_results_owner on dossier_results (owner_user_id, returned_at desc) where returned_at is not null;
