-- The first schema. Times are INTEGER microseconds since the Unix epoch, UTC;
-- NULL is the zero time. Text keys compare bytewise (BINARY collation).

-- +goose Up
CREATE TABLE channels (
    name           TEXT PRIMARY KEY,
    watermark      BLOB,
    last_cycle     INTEGER,
    last_full_sync INTEGER
) WITHOUT ROWID;

-- record is the whole object (internal/state/internal/codec) and the only
-- column reads decode: a dozen columns cost several times more to scan. The
-- other columns copy its fields, for lookups and for people reading the file.
-- objects keeps a rowid: a record is often larger than a WITHOUT ROWID
-- b-tree stores without overflow pages.
CREATE TABLE objects (
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    guid       TEXT NOT NULL,
    record     BLOB NOT NULL,
    dn         TEXT NOT NULL,
    dn_key     TEXT NOT NULL, -- DN lower-cased by the store (Unicode), for lookups by DN
    graph_id   TEXT,          -- NULL until created or linked
    lifecycle  TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    next_retry INTEGER,
    last_error TEXT NOT NULL,
    deleted_at INTEGER,
    updated_at INTEGER,
    UNIQUE (channel, kind, guid)
);
-- Lookups by DN and Graph id want the object updated last: the index order
-- answers that, without a sort.
CREATE INDEX objects_by_dn ON objects (channel, kind, dn_key, updated_at, guid);
CREATE INDEX objects_by_graph_id ON objects (channel, graph_id, updated_at, kind, guid) WHERE graph_id IS NOT NULL;
-- Only failed and pending objects are ever due, and they are few.
CREATE INDEX objects_due ON objects (channel, next_retry, kind, guid) WHERE status IN ('failed', 'pending');

CREATE TABLE members (
    channel     TEXT NOT NULL,
    group_guid  TEXT NOT NULL,
    member_guid TEXT NOT NULL,
    PRIMARY KEY (channel, group_guid, member_guid)
) WITHOUT ROWID;
CREATE INDEX members_by_member ON members (channel, member_guid, group_guid);

CREATE TABLE cycles (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    channel  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    started  INTEGER NOT NULL,
    finished INTEGER,
    result   TEXT NOT NULL,
    stats    TEXT NOT NULL, -- JSON object
    plan_id  TEXT NOT NULL,
    error    TEXT NOT NULL
);
CREATE INDEX cycles_by_channel ON cycles (channel, id);
CREATE INDEX cycles_by_started ON cycles (started);

CREATE TABLE plans (
    id         TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    created    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    summary    TEXT NOT NULL, -- JSON object
    body       BLOB NOT NULL,
    decided_at INTEGER,
    decided_by TEXT NOT NULL
);
CREATE INDEX plans_by_channel ON plans (channel, created, id);
CREATE INDEX plans_by_created ON plans (created, id);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    cycle      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    guid       TEXT NOT NULL,
    dn         TEXT NOT NULL,
    operation  TEXT NOT NULL,
    result     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_by_channel ON audit (channel, id);
CREATE INDEX audit_by_channel_time ON audit (channel, time);
CREATE INDEX audit_by_guid ON audit (guid, id);
CREATE INDEX audit_by_cycle ON audit (cycle, id);
CREATE INDEX audit_by_time ON audit (time);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE leases;
DROP TABLE settings;
DROP TABLE audit;
DROP TABLE plans;
DROP TABLE cycles;
DROP TABLE members;
DROP TABLE objects;
DROP TABLE channels;
