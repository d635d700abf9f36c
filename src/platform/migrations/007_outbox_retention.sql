-- Retention of delivered outbox events (platform.outbox-retention): the job deletes delivered
-- events older than OUTBOX_RETENTION_DAYS in id order; this index finds them without reading the
-- pending ones or the recent ones.
create index outbox_dispatched_created on outbox_events (created_at, id) where dispatched_at is not null;
