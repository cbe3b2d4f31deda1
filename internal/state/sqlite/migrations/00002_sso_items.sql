-- +goose Up
-- The identity provider's sessions, sign-ins in progress, answered request
-- ids and lockout counters; expires is Unix nanoseconds.
CREATE TABLE sso_items (
    key     TEXT PRIMARY KEY,
    value   BLOB NOT NULL,
    count   INTEGER NOT NULL DEFAULT 0,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sso_items_expires ON sso_items (expires);

-- +goose Down
DROP TABLE sso_items;
