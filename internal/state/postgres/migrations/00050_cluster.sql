-- Clustered mode: leases get a fencing epoch and a handover request, and
-- nodes record heartbeats. Numbered 50 so that other features' migrations
-- (00002 onwards) can be added before it without colliding. Times are the
-- database's (now()).

-- +goose Up
ALTER TABLE leases ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN handover_to TEXT NOT NULL DEFAULT '';

CREATE TABLE nodes (
    name      TEXT COLLATE "C" PRIMARY KEY,
    address   TEXT NOT NULL,
    version   TEXT NOT NULL,
    serves    TEXT NOT NULL,
    started   TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE nodes;
ALTER TABLE leases DROP COLUMN handover_to;
ALTER TABLE leases DROP COLUMN epoch;
