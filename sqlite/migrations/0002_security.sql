-- Two-factor auth, recovery codes, email verification links and GitHub
-- links. Every row belongs to a user and goes with it.

CREATE TABLE two_factor (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     TEXT    NOT NULL DEFAULT '', -- sealed; '' when off
    pending    TEXT    NOT NULL DEFAULT '', -- sealed; '' when none
    last_step  INTEGER NOT NULL DEFAULT 0,  -- TOTP step of the last accepted code
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL, -- SHA-256, hex
    PRIMARY KEY (user_id, code_hash)
) STRICT;

CREATE TABLE email_verifications (
    token_hash TEXT    NOT NULL PRIMARY KEY, -- SHA-256 of the link's token, hex
    user_id    TEXT    NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE github_links (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    github_id  TEXT    NOT NULL UNIQUE,
    login      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
