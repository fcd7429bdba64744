-- Payload counts appended by device states, one row a committed batch, not
-- yet folded into usage_payload_hours and usage_payload_days. Appending
-- conflicts with nothing, so batches commit side by side; usage reads add
-- these rows to the sums, and a folder moves them into the sums in bounded
-- batches (service/statebuf.go).

CREATE TABLE usage_payload_pending (
    seq        INTEGER PRIMARY KEY, -- the order rows are folded in
    owner_id   TEXT    NOT NULL,
    owner_type TEXT    NOT NULL,
    hour       INTEGER NOT NULL, -- start of the UTC hour, Unix ms
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL
) STRICT;

CREATE INDEX usage_payload_pending_owner ON usage_payload_pending (owner_id, owner_type, hour);
