-- Community digital technology teams (tổ công nghệ số cộng đồng): teams per village or
-- residential group, their members, partner companies, the help they record (with the
-- resident's consent when acting on their behalf) and campaigns with targets per commune.

create table community_teams (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  commune_code text not null,                -- geo commune (GSO code); no FK: another module's table
  village_id text,                           -- geo village id, null for a residential group / whole commune
  residential_group text,                    -- tổ dân phố / khu, when not a village
  partners jsonb not null default '[]'::jsonb, -- partner technology companies: ["Viettel Điện Biên", …]
  created_at timestamptz not null,
  created_by text not null,
  is_demo boolean not null default false
);
create index community_teams_commune on community_teams (commune_code);

create table community_members (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references community_teams (id),
  full_name text not null,
  role text not null check (role in ('leader', 'member')),
  phone text,                                -- private: team leaders and commune staff only
  organisation text not null check (organisation in ('youth_union', 'women_union', 'police', 'telecom_post', 'village_head', 'other')),
  user_id uuid,                              -- the member's own account, if any (lets a leader sign in and record)
  created_at timestamptz not null
);
create index community_members_team on community_members (team_id);
create index community_members_user on community_members (user_id);

-- A resident's consent to be acted for (đồng ý cho thao tác thay): who, how, when, for what; revocable.
create table community_consents (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references community_teams (id),
  resident_name text not null,
  method text not null check (method in ('signed_paper_photo', 'verbal_with_witness', 'sms_otp')),
  evidence text not null,                    -- photo file reference, witness name, or OTP message reference
  scope jsonb not null,                      -- activity kinds allowed: ["dossier_on_behalf", …]
  given_at timestamptz not null,
  recorded_by_member uuid not null references community_members (id),
  revoked_at timestamptz,
  revoked_reason text
);

create table community_campaigns (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  activity_kind text not null,
  starts_on date not null,
  ends_on date not null check (ends_on >= starts_on),
  description text not null default '',
  created_at timestamptz not null,
  created_by text not null,
  is_demo boolean not null default false
);

create table community_campaign_targets (
  campaign_id uuid not null references community_campaigns (id),
  commune_code text not null,
  target integer not null check (target > 0),
  primary key (campaign_id, commune_code)
);

create table community_activities (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references community_teams (id),
  member_id uuid not null references community_members (id),
  commune_code text not null,
  kind text not null check (kind in ('app_install', 'vneid_account', 'epayment_account', 'public_services_account', 'dossier_on_behalf', 'report_on_behalf', 'digital_skills_guidance')),
  platform text,                             -- e.g. 'Điện Biên Smart', 'VNeID', 'Viettel Money'
  resident_name text,
  consent_id uuid references community_consents (id),
  reference text,                            -- dossier or report code submitted on behalf
  campaign_id uuid references community_campaigns (id),
  occurred_at timestamptz not null,
  created_at timestamptz not null,
  created_by text not null,
  check (kind not in ('dossier_on_behalf', 'report_on_behalf') or consent_id is not null)
);
create index community_activities_commune on community_activities (commune_code, kind, occurred_at);
create index community_activities_team on community_activities (team_id, occurred_at);
