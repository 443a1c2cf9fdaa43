-- The signing key set in the database (`keys.store = "database"`), for instances that share no
-- disk. Private parts are sealed with AES-256-GCM under the key-encryption key, the kid and the
-- state being the associated data; kids and public keys are in clear.

-- One row: its version changes with every change to the key set (instances compare it to
-- decide whether to reload), and locking it serialises every change.
CREATE TABLE signing_key_set (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO signing_key_set (id, version) VALUES (1, 0);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- The state history as JSON: [{"state": "next", "at": "…", "by": "cli"}, …].
    transitions TEXT NOT NULL,
    -- The public JWK, so the JWKS can be exported without the key-encryption key.
    public_jwk TEXT NOT NULL,
    -- 12-byte nonce, ciphertext of the PKCS#8 DER, 16-byte tag; NULL once retired or revoked.
    sealed_private BLOB
);

-- Instance-wide secrets (the HMAC keys of signed requests and of the enumeration defence),
-- sealed like the private keys with their name as associated data.
CREATE TABLE stored_secrets (
    name TEXT PRIMARY KEY,
    sealed BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
