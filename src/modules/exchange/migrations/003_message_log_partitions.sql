-- exchange_message_log partitioned by month on `at` (issue 10 §3). The key becomes
-- (node, seq, at) because a partitioned table's keys must contain the partition column; a
-- record's `at` is fixed when it is signed, so a journal replay of the same record still hits
-- the key (message-log.ts inserts with `on conflict (node, seq, at) do nothing`). The per-node
-- chain (prev_hash/hash/signature, exchange:verify-log) is unchanged.
alter table exchange_message_log rename to exchange_message_log_unpartitioned;
alter table exchange_message_log_unpartitioned drop constraint exchange_message_log_pkey;
drop index exchange_message_log_at;
drop index exchange_message_log_service;

create table exchange_message_log (like exchange_message_log_unpartitioned including defaults, primary key (node, seq, at)) partition by range (at);
create table exchange_message_log_default partition of exchange_message_log default;
select ensure_month_partitions('exchange_message_log', (select min(at) from exchange_message_log_unpartitioned), now(), 3);
insert into exchange_message_log select * from exchange_message_log_unpartitioned;
drop table exchange_message_log_unpartitioned;
create index exchange_message_log_at on exchange_message_log (at);
create index exchange_message_log_service on exchange_message_log (provider, service, at);
