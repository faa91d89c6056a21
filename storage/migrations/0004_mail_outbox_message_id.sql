-- A mail job may run more than once (a worker can die after writing but before the job row
-- records it); the message id, derived from the job id, makes the outbox write idempotent.
alter table mail_outbox add column message_id text;
create unique index mail_outbox_message_id_key on mail_outbox (message_id) where message_id is not null;
