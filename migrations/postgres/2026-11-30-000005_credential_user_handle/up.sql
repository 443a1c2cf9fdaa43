-- The user handle the authenticator was given for this credential, when it is not the user's
-- own (clients such as the passwordless-id library pick their own); a returned userHandle is
-- checked against it.
ALTER TABLE webauthn_credentials ADD COLUMN user_handle BYTEA;
