ALTER TABLE webauthn_credentials DROP COLUMN user_handle;
