-- +goose Up
-- The identity provider's sessions, sign-ins in progress, answered request
-- ids and lockout counters; expires is Unix nanoseconds.
CREATE TABLE sso_items (
    key     TEXT COLLATE "C" PRIMARY KEY,
    value   BYTEA NOT NULL,
    count   BIGINT NOT NULL DEFAULT 0,
    expires BIGINT NOT NULL
);
CREATE INDEX sso_items_expires ON sso_items (expires);

-- +goose Down
DROP TABLE sso_items;
