ALTER TABLE user_sessions DROP COLUMN credential_id;
ALTER TABLE users DROP COLUMN access_revoked_at;
