-- accountd schema, SQLite. Released migrations are never edited: change
-- the schema with a new numbered file.
--
-- Timestamps are Unix milliseconds UTC, 0 for "never". Text compares and
-- sorts by bytes (BINARY), as PostgreSQL's columns do under "C".

CREATE TABLE users (
    id                  TEXT    NOT NULL PRIMARY KEY,
    email               TEXT    NOT NULL,
    email_key           TEXT    NOT NULL UNIQUE, -- lower-cased, trimmed email
    first_name          TEXT    NOT NULL DEFAULT '',
    last_name           TEXT    NOT NULL DEFAULT '',
    company_name        TEXT    NOT NULL DEFAULT '',
    title               TEXT    NOT NULL DEFAULT '',
    phone_number        TEXT    NOT NULL DEFAULT '',
    location            TEXT    NOT NULL DEFAULT '',
    url                 TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL,
    email_verified      INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    token_cutoff        INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    password_updated_at INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    scope        TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    status       TEXT    NOT NULL,
    creator_type TEXT    NOT NULL DEFAULT '',
    creator_id   TEXT    NOT NULL DEFAULT '',
    creator_name TEXT    NOT NULL DEFAULT '',
    expires_at   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Lists and counts per user and kind; also what ON DELETE CASCADE uses.
CREATE INDEX tokens_user_id_kind ON tokens (user_id, kind);
-- The periodic sweep of expired sessions.
CREATE INDEX tokens_kind_expires_at ON tokens (kind, expires_at) WHERE expires_at > 0;

-- Changes every instance must see to drop what it has cached. Rows outlive
-- the user or token they name, so there is no foreign key. AUTOINCREMENT
-- keeps seq from being reused after a prune.
CREATE TABLE auth_events (
    seq      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id  TEXT    NOT NULL,
    token_id TEXT    NOT NULL DEFAULT '', -- '': every token of the user
    at_ms    INTEGER NOT NULL             -- database clock at insert
) STRICT;

CREATE INDEX auth_events_at_ms ON auth_events (at_ms);
