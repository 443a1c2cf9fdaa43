DROP TABLE refresh_tokens;
DROP TABLE oauth_clients;
