-- Usage metering: per-hour sums per owner (the user or organization that
-- owned the application when the usage was recorded), daily sums of
-- payloads for long ranges, and the ids of reported events so that a
-- retried report is counted once. No raw events are kept.

CREATE TABLE usage_payload_hours (
    owner_id   TEXT    NOT NULL,
    owner_type TEXT    NOT NULL,
    hour       INTEGER NOT NULL, -- start of the UTC hour, Unix ms
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    PRIMARY KEY (owner_id, owner_type, hour, type, source)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_payload_days (
    owner_id   TEXT    NOT NULL,
    owner_type TEXT    NOT NULL,
    day        INTEGER NOT NULL, -- start of the UTC day, Unix ms
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    PRIMARY KEY (owner_id, owner_type, day, type, source)
) STRICT, WITHOUT ROWID;

-- net counts devices created and deleted, and those arriving or leaving
-- with an application that changes owner; the sum of net before a moment
-- is how many devices the owner had then.
CREATE TABLE usage_device_hours (
    owner_id   TEXT    NOT NULL,
    owner_type TEXT    NOT NULL,
    hour       INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    net        INTEGER NOT NULL,
    PRIMARY KEY (owner_id, owner_type, hour)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_notebook_hours (
    owner_id   TEXT    NOT NULL,
    owner_type TEXT    NOT NULL,
    hour       INTEGER NOT NULL,
    minutes    INTEGER NOT NULL,
    completed  INTEGER NOT NULL,
    canceled   INTEGER NOT NULL,
    errored    INTEGER NOT NULL,
    timed_out  INTEGER NOT NULL,
    PRIMARY KEY (owner_id, owner_type, hour)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_event_ids (
    id          TEXT    NOT NULL PRIMARY KEY,
    recorded_at INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_event_ids_recorded_at ON usage_event_ids (recorded_at);

-- Devices made before metering count from their creation.
INSERT INTO usage_device_hours (owner_id, owner_type, hour, created, deleted, net)
SELECT a.owner_id, a.owner_type, (d.created_at / 3600000) * 3600000, COUNT(*), 0, COUNT(*)
FROM devices d JOIN applications a ON a.id = d.application_id
GROUP BY a.owner_id, a.owner_type, (d.created_at / 3600000) * 3600000;
