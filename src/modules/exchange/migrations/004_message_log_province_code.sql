-- Distribution key (issue 10 §3, docs/scaling.md "Distribution key (Citus)"): the gateway's
-- message log is distributed on province_code, colocated with the other distributed tables, so
-- a province's calls live on its shard.
--
-- province_code defaults to the connection's province (hoaban.province_code, set by
-- openDatabase on every connection), which also fills the existing rows with this node's
-- province; the writer (message-log.ts insertRows) is unchanged but for its conflict target.
-- The key becomes (node, seq, at, province_code): province_code LAST, so the lookups by node and
-- seq keep their leading columns, and `at` stays in it (the table is partitioned by month on at,
-- exchange/003; the partitions get the column and the key from their parent).
select distribution_add_province_code('exchange_message_log');
select distribution_drop_constraints('exchange_message_log', 'p');
alter table exchange_message_log add constraint exchange_message_log_pkey primary key (node, seq, at, province_code);
