-- Token lineage and credential generations (see README, "Security model").
--
-- users.token_gen moves when every token of the user is invalidated at once
-- (a password change with invalidateExistingTokens); a token is valid only
-- while its user_gen equals its user's token_gen, which makes the cut-off
-- exact whatever the clocks of the instances that issued the tokens say.
-- tokens.parent_id names the token a token was obtained with, when that one
-- is a personal API token or was itself obtained with one: the child is
-- refused as soon as any ancestor is.
-- auth_events.org_id names an organization whose members' summary counts
-- changed (its resources, or the organization itself).
ALTER TABLE users ADD COLUMN token_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN user_gen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tokens_parent_id ON tokens (parent_id) WHERE parent_id <> '';
ALTER TABLE auth_events ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
