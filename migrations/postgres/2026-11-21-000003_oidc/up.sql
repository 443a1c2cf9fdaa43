-- Relying services. A confidential client's secret is stored only as its SHA-256 (the secret is
-- 256 random bits, so a fast hash is enough); public clients have none.
CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Refresh tokens, stored only as SHA-256 hashes. Each use rotates the token within its family;
-- presenting a used token revokes the whole family. expires_at is the family's absolute end.
CREATE TABLE refresh_tokens (
    token_sha256 TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
