-- One-time recovery codes, stored only as argon2id hashes (PHC strings with their own salt).
CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);
