-- Loose ends: what a disable ended stays ended, and a removed passkey ends the sessions it began.

-- When the user's access was last ended (a disable): access tokens issued at or before it are
-- refused at /userinfo for good, also after the user is enabled again. NULL: never.
ALTER TABLE users ADD COLUMN access_revoked_at TIMESTAMP;

-- The passkey a session was started with (NULL for a recovery session), so that removing the
-- passkey ends the sessions it started.
ALTER TABLE user_sessions ADD COLUMN credential_id TEXT;
