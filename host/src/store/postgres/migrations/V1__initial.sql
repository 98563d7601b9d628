-- Version 1 of the PostgreSQL store: the state of the SQLite store (version 4), plus the leases
-- that let several hosts share the links, and the hosts' heartbeats.
CREATE TABLE orderlink_identity (
    application TEXT NOT NULL CHECK (application = 'orderlink'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now());
INSERT INTO orderlink_identity (application) VALUES ('orderlink');
CREATE TABLE cursors (
    link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (link, side));
CREATE TABLE orders (
    link TEXT NOT NULL, key TEXT NOT NULL,
    shop_id TEXT, shop_status TEXT, erp_id TEXT, erp_status TEXT,
    created_at TEXT, fulfilled BOOLEAN, shop_written TEXT, erp_written TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (link, key));
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, from_status TEXT, source_status TEXT NOT NULL, expected_version TEXT,
    reason TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms BIGINT NOT NULL DEFAULT 0,
    last_error TEXT, created_at TEXT NOT NULL,
    UNIQUE (link, target, key));
CREATE INDEX outbox_due ON outbox (link, target, next_attempt_ms);
CREATE INDEX outbox_in_order ON outbox (link, target, id);
CREATE TABLE dead_letters (
    id BIGSERIAL PRIMARY KEY, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, source_status TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
    attempts INTEGER NOT NULL, at TEXT NOT NULL);
CREATE INDEX dead_letters_by_link ON dead_letters (link, id);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, link TEXT NOT NULL, key TEXT NOT NULL,
    target TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, action TEXT NOT NULL, why TEXT NOT NULL);
CREATE INDEX audit_by_key ON audit (key, id);
CREATE INDEX audit_by_link ON audit (link, target, key, id);
CREATE INDEX audit_by_time ON audit (at);
CREATE TABLE cursor_checkpoints (
    id BIGSERIAL PRIMARY KEY, link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL,
    at TEXT NOT NULL, at_ms BIGINT NOT NULL);
CREATE INDEX cursor_checkpoints_by_time ON cursor_checkpoints (link, side, at_ms);
CREATE TABLE link_stats (
    link TEXT PRIMARY KEY, last_cycle_at TEXT, last_cycle_ms BIGINT, applied_total BIGINT NOT NULL DEFAULT 0,
    last_error TEXT);
-- One row per link ever leased: who holds it until when, and the fencing epoch, incremented on
-- every change of holder. Times are the database's clock (one clock for every host).
CREATE TABLE leases (
    link TEXT PRIMARY KEY, holder TEXT, epoch BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL DEFAULT now());
-- Hosts alive: each renews its row with its leases; an expired row is a host gone.
CREATE TABLE hosts (
    host TEXT PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), expires_at TIMESTAMPTZ NOT NULL);
