-- Version 2: the file says it is orderlink's ("OLNK"), and indexes for what `status`,
-- `dead-letters` and the outbox flush ask.
PRAGMA application_id = 1330400843;
CREATE INDEX IF NOT EXISTS dead_letters_by_link ON dead_letters (link, id);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (link, target, next_attempt_ms);
