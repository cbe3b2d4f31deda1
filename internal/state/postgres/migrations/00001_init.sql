-- The first schema, the same tables as the SQLite store's. Keys that are
-- listed in order use COLLATE "C": the Store contract orders them bytewise,
-- whatever the database's locale. NULL is the zero time.

-- +goose Up
CREATE TABLE channels (
    name           TEXT COLLATE "C" PRIMARY KEY,
    watermark      BYTEA,
    last_cycle     TIMESTAMPTZ,
    last_full_sync TIMESTAMPTZ
);

-- record is the whole object (internal/state/internal/codec) and the only
-- column reads decode; the other columns copy its fields, for lookups and
-- for people querying the database.
CREATE TABLE objects (
    channel    TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    guid       TEXT COLLATE "C" NOT NULL,
    record     BYTEA NOT NULL,
    dn         TEXT NOT NULL,
    dn_key     TEXT COLLATE "C" NOT NULL, -- DN lower-cased by the store (Unicode)
    graph_id   TEXT COLLATE "C",          -- NULL until created or linked
    lifecycle  TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    next_retry TIMESTAMPTZ,
    last_error TEXT NOT NULL,
    deleted_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    PRIMARY KEY (channel, kind, guid)
);
-- Lookups by DN and Graph id want the object updated last.
CREATE INDEX objects_by_dn ON objects (channel, kind, dn_key, updated_at DESC NULLS LAST, guid DESC);
CREATE INDEX objects_by_graph_id ON objects (channel, graph_id, updated_at DESC NULLS LAST, kind DESC, guid DESC)
    WHERE graph_id IS NOT NULL;
CREATE INDEX objects_due ON objects (channel, next_retry NULLS FIRST, kind, guid)
    WHERE status IN ('failed', 'pending');

CREATE TABLE members (
    channel     TEXT COLLATE "C" NOT NULL,
    group_guid  TEXT COLLATE "C" NOT NULL,
    member_guid TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (channel, group_guid, member_guid)
);
CREATE INDEX members_by_member ON members (channel, member_guid, group_guid);

CREATE TABLE cycles (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel  TEXT COLLATE "C" NOT NULL,
    kind     TEXT NOT NULL,
    started  TIMESTAMPTZ NOT NULL,
    finished TIMESTAMPTZ,
    result   TEXT NOT NULL,
    stats    JSONB NOT NULL,
    plan_id  TEXT NOT NULL,
    error    TEXT NOT NULL
);
CREATE INDEX cycles_by_channel ON cycles (channel, id);
CREATE INDEX cycles_by_started ON cycles (started);

CREATE TABLE plans (
    id         TEXT COLLATE "C" PRIMARY KEY,
    channel    TEXT COLLATE "C" NOT NULL,
    created    TIMESTAMPTZ NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    summary    JSONB NOT NULL,
    body       BYTEA NOT NULL, -- the engine's JSON, byte for byte
    decided_at TIMESTAMPTZ,
    decided_by TEXT NOT NULL
);
CREATE INDEX plans_by_channel ON plans (channel, created, id);
CREATE INDEX plans_by_created ON plans (created, id);

CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time       TIMESTAMPTZ NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    cycle      BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    guid       TEXT COLLATE "C" NOT NULL,
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
    key   TEXT COLLATE "C" PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE leases (
    name    TEXT COLLATE "C" PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE settings;
DROP TABLE audit;
DROP TABLE plans;
DROP TABLE cycles;
DROP TABLE members;
DROP TABLE objects;
DROP TABLE channels;
