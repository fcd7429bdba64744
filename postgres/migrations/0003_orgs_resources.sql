-- Organizations, their members and invitations; the applications and
-- dashboards users and organizations own; the devices and flows of an
-- application; each user's recent items.

CREATE TABLE orgs (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    icon_color  TEXT    NOT NULL DEFAULT '',
    mfa_mode    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE org_members (
    org_id     TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- What a user is a member of: visibility checks, counts, org lists.
CREATE INDEX org_members_user_id ON org_members (user_id, org_id);

CREATE TABLE org_invites (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email            TEXT    NOT NULL,
    email_key        TEXT COLLATE "C" NOT NULL, -- lower-cased, trimmed email
    role             TEXT    NOT NULL,
    invited_by_name  TEXT    NOT NULL DEFAULT '',
    invited_by_email TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL,
    answer           TEXT    NOT NULL DEFAULT '' -- '' while pending
);

CREATE INDEX org_invites_org_id ON org_invites (org_id) WHERE answer = '';
CREATE INDEX org_invites_email_key ON org_invites (email_key) WHERE answer = '';

-- owner_id names a user or an organization (owner_type), so it has no
-- foreign key: deleting either is refused while it still owns something.
CREATE TABLE applications (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    owner_type  TEXT    NOT NULL,
    owner_id    TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX applications_owner ON applications (owner_id, owner_type);

CREATE TABLE dashboards (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    owner_type  TEXT    NOT NULL,
    owner_id    TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX dashboards_owner ON dashboards (owner_id, owner_type);

CREATE TABLE devices (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    device_class   TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE INDEX devices_application_id ON devices (application_id);

CREATE TABLE flows (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    flow_class     TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

CREATE INDEX flows_application_id ON flows (application_id);

-- seq orders a list, most recent highest; it counts per list, not by
-- clock, so two uses within one millisecond keep their order.
CREATE TABLE recent_items (
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type TEXT    NOT NULL,
    parent_id TEXT COLLATE "C" NOT NULL DEFAULT '', -- the application of a device or flow
    item_id   TEXT COLLATE "C" NOT NULL,
    seq       BIGINT  NOT NULL,
    PRIMARY KEY (user_id, item_type, parent_id, item_id)
);

-- Deleting an item, or an application with its devices and flows, drops
-- its entries.
CREATE INDEX recent_items_item_id ON recent_items (item_id);
CREATE INDEX recent_items_parent_id ON recent_items (parent_id) WHERE parent_id <> '';
