-- Clustered mode: leases get a fencing epoch and a handover request, and
-- nodes record heartbeats. Numbered 50 so that other features' migrations
-- (00002 onwards) can be added before it without colliding. Times are the
-- database's, in microseconds since the epoch.

-- +goose Up
ALTER TABLE leases ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN handover_to TEXT NOT NULL DEFAULT '';

CREATE TABLE nodes (
    name      TEXT PRIMARY KEY,
    address   TEXT NOT NULL,
    version   TEXT NOT NULL,
    serves    TEXT NOT NULL,
    started   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE nodes;
ALTER TABLE leases DROP COLUMN handover_to;
ALTER TABLE leases DROP COLUMN epoch;
