-- Dossiers (hồ sơ thủ tục hành chính): submission, the ten national status codes, control slips
-- for every hand-off, gapless numbering per agency per day, pauses, deadline changes, letters.

create table dossiers (
  id bigserial primary key,
  code text not null unique,
  procedure_code text not null,
  procedure_version int not null,
  -- The procedure version as it was at submission: the dossier never changes with the catalogue.
  procedure jsonb not null,
  unit_code text not null,
  commune_code text,
  channel text not null check (channel in ('online', 'in_person')),
  status smallint not null check (status between 1 and 10),
  current_step text not null,
  assignee_user_id uuid,
  applicant_user_id uuid,
  applicant_name text not null,
  applicant_id_number text,
  applicant_phone text,
  applicant_email text,
  applicant_address text,
  form jsonb not null default '{}'::jsonb,
  submitted_by uuid,
  submitted_at timestamptz not null,
  received_at timestamptz,
  clock_started_at timestamptz,
  -- Stored when set: later calendar edits never move it; only pauses and approved changes do.
  due_at timestamptz,
  -- Due instant of the current processing step (its share of the total), for the work queue.
  step_due_at timestamptz,
  warn_at timestamptz,
  warned_at timestamptz,
  paused_since timestamptz,
  resolved_at timestamptz,
  returned_at timestamptz,
  closed_at timestamptz,
  timeliness text check (timeliness in ('early', 'on_time', 'late')),
  forced_late boolean not null default false,
  refusal_reason text,
  supplement_reason text,
  stop_reason text,
  fee_vnd bigint not null default 0,
  fee_policy_code text,
  fee_policy_name_vi text,
  payment_status text not null default 'unpaid' check (payment_status in ('not_required', 'unpaid', 'paid_online', 'paid_at_desk')),
  payment_reference text,
  paid_at timestamptz,
  -- The result document issued in the agency's outgoing register at resolution (documents module).
  result_document_id text,
  result_document_symbol text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index dossiers_unit_queue on dossiers (unit_code, status, due_at);
create index dossiers_applicant on dossiers (applicant_user_id, submitted_at desc);
create index dossiers_warn on dossiers (warn_at) where warned_at is null and status in (2, 4);

create table dossier_files (
  id bigserial primary key,
  dossier_id bigint not null references dossiers (id),
  component_key text not null,
  -- 0: with the submission; n: the n-th supplement.
  round int not null default 0,
  original_name text not null,
  stored_name text not null,
  mime text not null,
  bytes int not null,
  sha256 text not null,
  uploaded_at timestamptz not null,
  uploaded_by uuid
);
create index dossier_files_dossier on dossier_files (dossier_id);

-- Phiếu kiểm soát quá trình giải quyết hồ sơ: one row per hand-off.
create table dossier_control_slips (
  id bigserial primary key,
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
  unique (dossier_id, seq)
);

-- Dossier numbers: one counter row per agency per (Vietnam) day, incremented in the submitting
-- transaction, so numbers are gapless and unique.
create table dossier_counters (
  agency_code text not null,
  day text not null,
  last int not null,
  primary key (agency_code, day)
);

-- Clock stops: waiting for a supplement or for fees.
create table dossier_pauses (
  id bigserial primary key,
  dossier_id bigint not null references dossiers (id),
  kind text not null check (kind in ('supplement', 'fee')),
  unit_code text not null,
  reason text,
  requested_by uuid,
  from_at timestamptz not null,
  to_at timestamptz,
  -- A second supplement request by one unit does not stop the clock and makes the dossier late.
  counted_late boolean not null default false
);
create index dossier_pauses_dossier on dossier_pauses (dossier_id);

create table dossier_deadline_changes (
  id bigserial primary key,
  dossier_id bigint not null references dossiers (id),
  old_due timestamptz,
  new_due timestamptz not null,
  reason text not null,
  approver_user_id uuid not null,
  changed_by uuid not null,
  at timestamptz not null
);

-- Phiếu xin lỗi và hẹn lại ngày trả kết quả: at most one per dossier.
create table dossier_letters (
  id bigserial primary key,
  dossier_id bigint not null references dossiers (id),
  kind text not null check (kind in ('apology')),
  proposed_due timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'approved')),
  created_at timestamptz not null,
  approved_by uuid,
  approved_at timestamptz,
  unique (dossier_id, kind)
);

-- Bank accounts receiving fees (VietQR), per handling unit.
create table dossier_bank_accounts (
  unit_code text primary key,
  bank_bin text not null check (bank_bin ~ '^[0-9]{6}$'),
  account_no text not null check (account_no ~ '^[0-9A-Za-z]{1,19}$'),
  account_name text not null
);
