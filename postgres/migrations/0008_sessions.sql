-- Login sessions (GET /me/sessions): how each was obtained (password,
-- github, refresh, console; '' for API tokens and for sessions issued
-- before this migration), the client address and user agent seen when it
-- was issued, and those seen at its last recorded use (written with
-- last_used_at, in batches, to about a minute).
ALTER TABLE tokens ADD COLUMN obtained_via TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN created_address TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN created_user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_address TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_user_agent TEXT NOT NULL DEFAULT '';
