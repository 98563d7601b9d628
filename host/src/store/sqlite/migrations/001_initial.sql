-- Version 1: the schema of the first releases (created with IF NOT EXISTS, no version stamp).
CREATE TABLE IF NOT EXISTS cursors (
    link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (link, side));
CREATE TABLE IF NOT EXISTS orders (
    link TEXT NOT NULL, key TEXT NOT NULL,
    shop_id TEXT, shop_status TEXT, erp_id TEXT, erp_status TEXT,
    created_at TEXT, fulfilled INTEGER, shop_written TEXT, erp_written TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (link, key));
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, from_status TEXT, source_status TEXT NOT NULL, expected_version TEXT,
    reason TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, created_at TEXT NOT NULL,
    UNIQUE (link, target, key));
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, source_status TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
    attempts INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, link TEXT NOT NULL, key TEXT NOT NULL,
    target TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, action TEXT NOT NULL, why TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_key ON audit (key, id);
CREATE TABLE IF NOT EXISTS link_stats (
    link TEXT PRIMARY KEY, last_cycle_at TEXT, last_cycle_ms INTEGER, applied_total INTEGER NOT NULL DEFAULT 0,
    last_error TEXT);
