-- IOC automatic operations: rules as data, every firing with its inputs (once per fact), the
-- tasks and unit flags that rules create, and the update times of data feeds seen in events.

create table ioc_rules (
  id bigserial primary key,
  code text not null unique,
  name_vi text not null,
  name_en text not null,
  enabled boolean not null default true,
  -- {"fact": "report_overdue", "min_working_days": 1, "where": [...]} or {"event": "report.escalated", "where": [...]}
  condition jsonb not null,
  -- [{"type": "notify", ...}, {"type": "escalate"}, {"type": "create_task", ...}, {"type": "apology_letter"}, {"type": "flag_unit", ...}]
  actions jsonb not null,
  version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table ioc_rule_firings (
  id bigserial primary key,
  rule_id bigint not null references ioc_rules (id),
  rule_version int not null,
  -- What the rule fired about, e.g. 'report:PA-2026-000123:2026-03-02T09:00:00.000Z'. Once per rule and fact.
  fact_key text not null,
  unit_code text,
  fired_at timestamptz not null,
  inputs jsonb not null,
  outcome jsonb not null,
  unique (rule_id, fact_key)
);
create index ioc_rule_firings_rule on ioc_rule_firings (rule_id, id desc);
create index ioc_rule_firings_unit on ioc_rule_firings (unit_code, id desc);

-- Tasks (nhiệm vụ) created by rules, listed per unit.
create table ioc_tasks (
  id bigserial primary key,
  unit_code text not null,
  title text not null,
  detail text,
  rule_id bigint references ioc_rules (id),
  firing_id bigint references ioc_rule_firings (id),
  due_at timestamptz,
  status text not null default 'open' check (status in ('open', 'done')),
  created_at timestamptz not null,
  done_at timestamptz,
  done_by text
);
create index ioc_tasks_unit on ioc_tasks (unit_code, status, id desc);

-- A unit marked on the IOC wall by a rule, until cleared.
create table ioc_unit_flags (
  id bigserial primary key,
  unit_code text not null,
  level text not null check (level in ('info', 'warning', 'critical')),
  reason_vi text not null,
  reason_en text not null,
  rule_id bigint references ioc_rules (id),
  firing_id bigint references ioc_rule_firings (id),
  created_at timestamptz not null,
  cleared_at timestamptz
);
create index ioc_unit_flags_active on ioc_unit_flags (unit_code, id desc) where cleared_at is null;

-- Every update of a data feed announced by a `data.feed_updated` event (for "feed stale" rules).
create table ioc_feed_updates (
  feed_code text not null,
  updated_at timestamptz not null,
  unit_code text,
  primary key (feed_code, updated_at)
);
