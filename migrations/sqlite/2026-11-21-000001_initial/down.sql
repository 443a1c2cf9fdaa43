DROP TABLE webauthn_credentials;
DROP TABLE users;
