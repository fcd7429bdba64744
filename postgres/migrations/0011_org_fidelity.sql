-- Organizations keep the billing fields orgPost documents; members and
-- invitations keep per-resource roles and whether the member may transfer
-- resources into the organization.

ALTER TABLE orgs ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN billing_email TEXT NOT NULL DEFAULT '';

ALTER TABLE org_members ADD COLUMN disallow_transfer BOOLEAN NOT NULL DEFAULT FALSE;

-- An invitation's roles are data until it is accepted: a JSON array of
-- {"kind", "resourceId", "role"} objects.
ALTER TABLE org_invites ADD COLUMN resource_roles TEXT NOT NULL DEFAULT '[]';
ALTER TABLE org_invites ADD COLUMN disallow_transfer BOOLEAN NOT NULL DEFAULT FALSE;

-- A member's role on one application or dashboard of the organization,
-- which replaces the member's organization role for it (admins excepted).
-- Resource ids are unique across kinds; a resource's entries go with it,
-- a member's with the membership.
CREATE TABLE org_member_roles (
    org_id      TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    resource_id TEXT COLLATE "C" NOT NULL,
    role        TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_id),
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE
);

CREATE INDEX org_member_roles_member ON org_member_roles (org_id, user_id);
CREATE INDEX org_member_roles_resource_id ON org_member_roles (resource_id);
