-- Payload counts appended by device states, one row a committed batch, not
-- yet folded into usage_payload_hours and usage_payload_days. Appending
-- conflicts with nothing, so batches commit side by side; usage reads add
-- these rows to the sums, and folders (one a second on every instance) move
-- them into the sums in bounded batches, each taking rows the others have
-- not locked (service/statebuf.go).

CREATE TABLE usage_payload_pending (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order rows are folded in
    owner_id   TEXT COLLATE "C" NOT NULL,
    owner_type TEXT    NOT NULL,
    hour       BIGINT  NOT NULL, -- start of the UTC hour, Unix ms
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    count      BIGINT  NOT NULL,
    bytes      BIGINT  NOT NULL
);

CREATE INDEX usage_payload_pending_owner ON usage_payload_pending (owner_id, owner_type, hour);
