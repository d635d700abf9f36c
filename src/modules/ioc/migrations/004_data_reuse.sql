-- Decision 766 indicator 4.3 (tái sử dụng dữ liệu): dossiers received that reused at least one
-- item of the applicant's data store instead of a new upload, counted at receipt.
alter table ioc_daily_facts add column reused int not null default 0;
alter table ioc_monthly_facts add column reused int not null default 0;
