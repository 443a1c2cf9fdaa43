-- Administration: disabled accounts, the last sign-in, IdP sessions as the operator and the
-- person see them, groups, invites, recovery links and stored security events.

-- A disabled user cannot sign in; NULL means active.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;

-- The public record of each IdP session. The session's secret id lives only in the ephemeral
-- store (as its SHA-256); a session whose row is gone is over, on every instance.
CREATE TABLE user_sessions (
    sid TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- A coarse browser and OS family ("Firefox on Linux"), never the User-Agent itself.
    browser TEXT NOT NULL,
    restricted BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX user_sessions_user_id ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at ON user_sessions (expires_at);

CREATE TABLE user_groups (
    name TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES user_groups(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);

-- One-time sign-up invitations, known only by the SHA-256 of their token.
CREATE TABLE invites (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT,
    email TEXT,
    -- JSON array of group names the new account joins.
    group_names TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX invites_expires_at ON invites (expires_at);

-- One-time recovery links an operator issues, known only by the SHA-256 of their token.
CREATE TABLE recovery_links (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_links_expires_at ON recovery_links (expires_at);

-- Security and audit events. No foreign keys: an event outlives the user it names.
CREATE TABLE security_events (
    id BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    credential_id TEXT,
    client_id TEXT,
    request_id TEXT
);
CREATE INDEX security_events_occurred_at ON security_events (occurred_at);
CREATE INDEX security_events_user_id ON security_events (user_id, occurred_at);

-- Groups a client admits (JSON array; empty admits everyone).
ALTER TABLE oauth_clients ADD COLUMN allowed_groups TEXT NOT NULL DEFAULT '[]';
-- `groups` joins the default scopes: clients registered with the old default get it too.
UPDATE oauth_clients SET scopes = scopes || ' groups' WHERE scopes = 'openid profile email offline_access';
