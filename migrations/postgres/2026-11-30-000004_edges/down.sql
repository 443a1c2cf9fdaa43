ALTER TABLE refresh_tokens DROP COLUMN sid;
ALTER TABLE oauth_clients DROP COLUMN audiences;
DROP INDEX recovery_codes_lookup;
ALTER TABLE recovery_codes DROP COLUMN lookup;
