-- Indexes in the order lists are read: a list selects the rows of one
-- owner (a user's tokens of a kind, an owner's applications and
-- dashboards, an application's devices and flows) and sorts them by name
-- by default, with the id as the tie-breaker, so the first page is read
-- off the index in order without sorting. Each replaces the index on the
-- owner alone, which it covers.

CREATE INDEX tokens_user_kind_name ON tokens (user_id, kind, name, id);
DROP INDEX tokens_user_id_kind;

CREATE INDEX applications_owner_name ON applications (owner_id, owner_type, name, id);
DROP INDEX applications_owner;

CREATE INDEX dashboards_owner_name ON dashboards (owner_id, owner_type, name, id);
DROP INDEX dashboards_owner;

CREATE INDEX devices_application_name ON devices (application_id, name, id);
DROP INDEX devices_application_id;

CREATE INDEX flows_application_name ON flows (application_id, name, id);
DROP INDEX flows_application_id;
