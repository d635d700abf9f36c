-- Files sent with an e-mail notification (e.g. the IOC's monthly analysis as PDF), kept with the
-- message so a retry sends exactly the same bytes.
create table notification_attachments (
  message_id bigint not null references notification_messages (id),
  position int not null,
  filename text not null,
  content_type text not null,
  content bytea not null,
  primary key (message_id, position)
);
