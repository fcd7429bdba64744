-- The login throttle's failed-attempt counters and trust marks, where
-- every instance using the database counts together. Names are digests
-- the service makes. A counter counts attempts from started_ms until
-- expires_ms, at most max_attempts (the limit it was last counted
-- against); a trust mark (attempts 0) lasts until expires_ms. Pruning
-- deletes through the expires_ms index, reading only what has lapsed.

CREATE TABLE throttle (
    name         TEXT    NOT NULL PRIMARY KEY,
    started_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX throttle_expires ON throttle (expires_ms);
