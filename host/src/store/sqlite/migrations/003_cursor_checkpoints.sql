-- Version 3: cursor checkpoints with times (for resync) and audit pruning by time.
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
CREATE TABLE IF NOT EXISTS cursor_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL,
    at TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cursor_checkpoints_by_time ON cursor_checkpoints (link, side, at_ms);
