-- Provider credentials and graded rights.
-- A service may carry a credential the gateway presents to its provider, so that a provider
-- answers only calls that came through the gateway. The gateway must send it, so it is kept
-- encrypted (AES-256-GCM, key outside the database) and, for the provider to check a presented
-- value, as its SHA-256.
alter table exchange_services add column provider_credential_enc text;
alter table exchange_services add column provider_credential_sha256 text unique;

-- A right grants a level of access to the provider's data (open / shared among agencies /
-- restricted) and, separately, whether the caller may write.
alter table exchange_rights add column access_level text not null default 'shared' check (access_level in ('open', 'shared', 'restricted'));
alter table exchange_rights add column can_write boolean not null default false;
