-- Security compliance (Decree 85/2016 levels, 4-layer protection model, central anti-malware).

-- Per information system: classification, level, approval decision, plan, assessments.
create table compliance_systems (
  id uuid primary key default gen_random_uuid(),
  -- The system as the exchange gateway names it: {member}/{system}.
  system_ref text not null unique check (system_ref ~ '^[A-Za-z0-9._-]{1,40}/[A-Za-z0-9._-]{1,40}$'),
  unit_code text not null,
  name text not null,
  info_types text[] not null default '{}',
  serves text not null default 'internal',
  personal_data_subjects integer not null default 0 check (personal_data_subjects >= 0),
  questionnaire jsonb not null default '{}',
  proposed_level integer not null check (proposed_level between 1 and 5),
  proposed_reasons jsonb not null default '[]',
  approved_level integer check (approved_level between 1 and 5),
  decision_number text,
  decision_date date,
  decision_signer text,
  decision_file_name text,
  decision_file_sha256 text,
  security_plan text,
  reassessment_triggers text[] not null default '{}',
  last_assessment_date date,
  next_assessment_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index compliance_systems_unit on compliance_systems (unit_code);

-- Per unit: evidence of the 4-layer protection model (mô hình 4 lớp) and the computer inventory.
create table compliance_units (
  unit_code text primary key,
  onsite_team text,
  monitoring_provider text,
  monitoring_contract_end date,
  independent_assessor text,
  national_monitoring_connected boolean not null default false,
  national_monitoring_ref text,
  registered_computers integer not null default 0 check (registered_computers >= 0),
  coverage_below_since timestamptz,
  updated_at timestamptz not null default now()
);

-- Computers (máy trạm) with their anti-malware agent, as last reported by the agent or console.
create table compliance_endpoints (
  id uuid primary key default gen_random_uuid(),
  unit_code text not null,
  hostname text not null,
  agent_id text,
  agent_version text not null,
  signatures_date date not null,
  last_scan_at timestamptz,
  threats_found integer not null default 0,
  last_heartbeat_at timestamptz not null,
  reported_by text not null,
  unique (unit_code, hostname)
);

-- The policy, as data: each rule names the check it applies, its parameters and its grace period.
create table compliance_rules (
  code text primary key,
  subject_kind text not null check (subject_kind in ('unit', 'system')),
  check_name text not null,
  params jsonb not null default '{}',
  grace_working_days integer not null check (grace_working_days >= 0),
  title_vi text not null,
  title_en text not null,
  fix_vi text not null,
  fix_en text not null,
  enabled boolean not null default true
);

-- Findings: warned (with a deadline) → suspended → resolved (compliant again or exempted).
create table compliance_findings (
  id uuid primary key default gen_random_uuid(),
  subject_kind text not null check (subject_kind in ('unit', 'system')),
  subject_ref text not null,
  rule_code text not null references compliance_rules (code),
  status text not null check (status in ('warned', 'suspended', 'resolved')),
  reason_vi text not null,
  reason_en text not null,
  evidence jsonb not null,
  warned_at timestamptz not null,
  deadline timestamptz not null,
  suspended_at timestamptz,
  resolved_at timestamptz,
  resolution text
);
create unique index compliance_findings_open on compliance_findings (subject_kind, subject_ref, rule_code) where status <> 'resolved';

-- Miễn trừ: an administrator's dated exemption from one rule (or all) for a subject.
create table compliance_exemptions (
  id uuid primary key default gen_random_uuid(),
  subject_kind text not null check (subject_kind in ('unit', 'system')),
  subject_ref text not null,
  rule_code text references compliance_rules (code),
  valid_from timestamptz not null,
  valid_until timestamptz not null,
  reason text not null,
  granted_by text not null,
  created_at timestamptz not null default now(),
  check (valid_until > valid_from)
);
