-- Version 4: the outbox flush reads a link's due writes oldest first, 100 at a time; walking
-- this index in id order stops after the batch instead of sorting every due write each time.
CREATE INDEX IF NOT EXISTS outbox_in_order ON outbox (link, target, id);
