-- A recovery code is found by a keyed hash (HMAC-SHA256 under keys/recovery.secret) and then
-- checked against its one argon2id hash, so recovery costs the same for every username. Codes
-- issued before this column have none and are checked the old way until replaced.
ALTER TABLE recovery_codes ADD COLUMN lookup TEXT;
CREATE INDEX recovery_codes_lookup ON recovery_codes (lookup);

-- The audiences of a client's access tokens, a JSON array; empty means the client_id.
ALTER TABLE oauth_clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';

-- The IdP session a refresh-token family came from, so that ID tokens minted on refresh carry
-- the same `sid` (RP-initiated logout compares it).
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT;
