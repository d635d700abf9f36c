-- Notifications: every message on every channel (e-mail, SMS, web push, in-app inbox), each
-- delivery attempt, dead letters after the last attempt, PWA push subscriptions and the VAPID
-- key pair when none is configured.

create table notification_messages (
  id bigserial primary key,
  channel text not null check (channel in ('email', 'sms', 'push', 'in_app')),
  -- Recipient: a user (push, in-app), an address (e-mail), a number (SMS), or a unit's staff (in-app).
  to_user_id uuid,
  to_email text,
  to_phone text,
  to_unit_code text,
  subject text,
  body text not null,
  link text,
  dedupe_key text unique,
  status text not null default 'queued' check (status in ('queued', 'sent', 'dead', 'skipped')),
  attempts int not null default 0,
  max_attempts int not null default 5,
  last_error text,
  provider_reply text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  read_at timestamptz,
  check (to_user_id is not null or to_email is not null or to_phone is not null or to_unit_code is not null)
);
create index notification_inbox_user on notification_messages (to_user_id, id desc) where channel = 'in_app';
create index notification_inbox_unit on notification_messages (to_unit_code, id desc) where channel = 'in_app' and to_unit_code is not null;

-- Every delivery attempt, successful or not.
create table notification_attempts (
  id bigserial primary key,
  message_id bigint not null references notification_messages (id),
  at timestamptz not null default now(),
  ok boolean not null,
  detail text
);
create index notification_attempts_message on notification_attempts (message_id, id);

-- A message given up after its last attempt (or refused for good), kept for an operator to see.
create table notification_dead_letters (
  id bigserial primary key,
  message_id bigint not null unique references notification_messages (id),
  channel text not null,
  attempts int not null,
  error text not null,
  created_at timestamptz not null default now()
);

-- Web push subscriptions of the PWA (PushSubscription.toJSON()).
create table push_subscriptions (
  id bigserial primary key,
  user_id uuid not null,
  endpoint text not null unique,
  p256dh text not null,
  auth text not null,
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);
create index push_subscriptions_user on push_subscriptions (user_id) where disabled_at is null;

-- Generated secrets kept by the platform, e.g. the VAPID key pair when none is configured.
create table platform_keys (
  name text primary key,
  value jsonb not null,
  created_at timestamptz not null default now()
);
