-- Users sign in with passkeys only: there is no password column, by design.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    display_name TEXT NOT NULL,
    -- Random, opaque WebAuthn user handle; not derived from the username or id.
    user_handle BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webauthn_credentials (
    -- The WebAuthn credential id, base64url without padding (what the browser calls credential.id).
    credential_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- COSE_Key of the credential public key, as the authenticator sent it.
    public_key BYTEA NOT NULL,
    aaguid TEXT NOT NULL,
    sign_count BIGINT NOT NULL,
    credential_type TEXT NOT NULL,
    attestation_format TEXT NOT NULL,
    transports TEXT NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backup_state BOOLEAN NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    clone_suspected BOOLEAN NOT NULL DEFAULT FALSE,
    -- webauthn-rs's own serialized Credential (public data only).
    credential_json TEXT NOT NULL
);

CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id);
