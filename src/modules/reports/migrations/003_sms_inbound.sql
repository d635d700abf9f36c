-- Inbound SMS (tin nhắn đến) from the SMS gateway webhook: one row per gateway message id, so a
-- gateway retry finds the stored reply instead of making a second report; also the store the
-- per-number rate limit counts. The phone number is personal data: never published.
create table sms_inbound_messages (
  provider text not null,                -- gateway format that delivered it: 'generic-json', 'twilio-form'
  message_id text not null,              -- the gateway's id of the message (retries repeat it)
  phone text not null,                   -- sender, normalised (+84…)
  body text not null,
  received_at timestamptz not null,
  command jsonb not null,                -- what the parser understood (report / status / help / error)
  -- pending: received, answer not yet stored (a retry finishes it); then the outcome.
  outcome text not null check (outcome in ('pending', 'report_created', 'status', 'help', 'rejected', 'rate_limited')),
  report_code text,
  reply text,                            -- the SMS sent back (GSM-7, no diacritics); null = no reply
  primary key (provider, message_id)
);
create index sms_inbound_messages_phone on sms_inbound_messages (phone, received_at);
