DROP TABLE stored_secrets;
DROP TABLE signing_keys;
DROP TABLE signing_key_set;
