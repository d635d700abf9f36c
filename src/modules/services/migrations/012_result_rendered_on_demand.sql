-- The result notice a unit did not upload as a signed PDF is rendered when the citizen first opens
-- or reuses it, not inside the transaction that returns the dossier (rendering a PDF with an
-- embedded Vietnamese font costs ~100 ms of CPU, measured as 40% of the lifecycle bench's CPU).
-- Until then the row has no file: stored_name, bytes and sha256 are null.
alter table dossier_results alter column stored_name drop not null;
alter table dossier_results alter column bytes drop not null;
alter table dossier_results alter column sha256 drop not null;
