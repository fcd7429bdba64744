-- The security log: what happened to an account (logins, credential
-- changes, tokens, ...), when and from which client. Pages are read newest
-- first per user off security_log_user_at; pruning deletes the oldest rows
-- in bounded batches off security_log_at. detail is a small JSON object of
-- names and categories, never a secret.

CREATE TABLE security_log (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at_ms       BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    address     TEXT   NOT NULL DEFAULT '',
    user_agent  TEXT   NOT NULL DEFAULT '',
    object_type TEXT   NOT NULL DEFAULT '',
    object_id   TEXT   NOT NULL DEFAULT '',
    detail      TEXT   NOT NULL DEFAULT '{}'
);

CREATE INDEX security_log_user_at ON security_log (user_id, at_ms, id);
CREATE INDEX security_log_at ON security_log (at_ms);

-- The last notification of each kind sent to a user, so that at most one
-- of a kind goes out per interval, whichever instance sends it.
CREATE TABLE security_notices (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT   NOT NULL,
    sent_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- API tokens whose expiry reminder was sent: one row each, claimed by the
-- instance that sends it.
CREATE TABLE token_reminders (
    token_id TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
    sent_ms  BIGINT NOT NULL
);
