-- The control plane: API tokens with scopes, events with their actor and object, clients that
-- can be edited and whose secret can be rotated, settings whose changes are audited.

-- Admin API tokens. Only the SHA-256 of the token is kept; the token is shown once.
CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    -- Space-separated scopes.
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    -- The actor who created it (`cli:root`, `token:ops`).
    created_by TEXT
);

-- Who made a change (`cli:USER`, `token:NAME`, `instance:ID`; NULL: the person themselves),
-- the username at the time, what it was done to (a client id, a group, a kid, a token name)
-- and what changed (a JSON object).
ALTER TABLE security_events ADD COLUMN actor TEXT;
ALTER TABLE security_events ADD COLUMN username TEXT;
ALTER TABLE security_events ADD COLUMN object TEXT;
ALTER TABLE security_events ADD COLUMN detail TEXT;
CREATE INDEX security_events_kind ON security_events (kind, occurred_at);
CREATE INDEX security_events_actor ON security_events (actor, occurred_at);

-- A client's last change, and the secret it had before a rotation, accepted until it expires.
ALTER TABLE oauth_clients ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE oauth_clients ADD COLUMN previous_secret_sha256 TEXT;
ALTER TABLE oauth_clients ADD COLUMN previous_secret_expires_at TIMESTAMP;

-- The last value seen of a setting whose changes are events (registration.mode).
CREATE TABLE audited_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
