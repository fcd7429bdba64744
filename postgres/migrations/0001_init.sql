-- accountd schema, PostgreSQL. Released migrations are never edited:
-- change the schema with a new numbered file. Each runs in a transaction.
--
-- Timestamps are Unix milliseconds UTC, 0 for "never". Columns that are
-- sorted or matched are COLLATE "C": bytewise, like SQLite, whatever the
-- database's locale, and LOWER folds ASCII only, also like SQLite.

CREATE TABLE users (
    id                  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email               TEXT    NOT NULL,
    email_key           TEXT COLLATE "C" NOT NULL UNIQUE, -- lower-cased, trimmed email
    first_name          TEXT    NOT NULL DEFAULT '',
    last_name           TEXT    NOT NULL DEFAULT '',
    company_name        TEXT    NOT NULL DEFAULT '',
    title               TEXT    NOT NULL DEFAULT '',
    phone_number        TEXT    NOT NULL DEFAULT '',
    location            TEXT    NOT NULL DEFAULT '',
    url                 TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL,
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    token_cutoff        BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    password_updated_at BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    scope        TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    status       TEXT COLLATE "C" NOT NULL,
    creator_type TEXT    NOT NULL DEFAULT '',
    creator_id   TEXT    NOT NULL DEFAULT '',
    creator_name TEXT    NOT NULL DEFAULT '',
    expires_at   BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL DEFAULT 0
);

-- Lists and counts per user and kind; also what ON DELETE CASCADE uses.
CREATE INDEX tokens_user_id_kind ON tokens (user_id, kind);
-- The periodic sweep of expired sessions.
CREATE INDEX tokens_kind_expires_at ON tokens (kind, expires_at) WHERE expires_at > 0;

-- Changes every instance must see to drop what it has cached. Rows outlive
-- the user or token they name, so there is no foreign key.
CREATE TABLE auth_events (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id  TEXT   NOT NULL,
    token_id TEXT   NOT NULL DEFAULT '', -- '': every token of the user
    at_ms    BIGINT NOT NULL             -- clock_timestamp() at insert
);

CREATE INDEX auth_events_at_ms ON auth_events (at_ms);
