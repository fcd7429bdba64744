-- Every documented property of a new application, dashboard, device or
-- flow is kept. What has no behaviour here is one JSON object in data ('' for
-- none); what lists filter on or the service checks has its own column.

ALTER TABLE applications ADD COLUMN data TEXT NOT NULL DEFAULT '';

ALTER TABLE dashboards ADD COLUMN data TEXT NOT NULL DEFAULT '';
ALTER TABLE dashboards ADD COLUMN application_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE dashboards ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

ALTER TABLE devices ADD COLUMN data TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN parent_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN gateway_id TEXT COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE flows ADD COLUMN data TEXT NOT NULL DEFAULT '';

-- A device's tags, as rows tagFilter can look up: a devices list reads an
-- application's devices in order and checks each one's tags by the key.
CREATE TABLE device_tags (
    device_id      TEXT COLLATE "C" NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (device_id, key, value)
);

-- Lists filtered by what they document, read in order off an index: an
-- application's children of one device and its flows of one class (flows
-- lists default to the cloud class) by name; the dashboards linked to one
-- application by name; an owner's dashboards by application.
CREATE INDEX devices_application_parent_name ON devices (application_id, parent_id, name, id);
CREATE INDEX flows_application_class_name ON flows (application_id, flow_class, name, id);
CREATE INDEX dashboards_application_name ON dashboards (application_id, name, id);
CREATE INDEX dashboards_owner_application ON dashboards (owner_id, owner_type, application_id, id);
