// @generated automatically by Diesel CLI.

diesel::table! {
    oauth_clients (client_id) {
        client_id -> Text,
        name -> Text,
        secret_sha256 -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        scopes -> Text,
        id_token_alg -> Text,
        created_at -> Timestamp,
        audiences -> Text,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        lookup -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_sha256) {
        token_sha256 -> Text,
        family_id -> Text,
        client_id -> Text,
        user_id -> Text,
        scope -> Text,
        auth_time -> Int8,
        amr -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        sid -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        display_name -> Text,
        user_handle -> Bytea,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webauthn_credentials (credential_id) {
        credential_id -> Text,
        user_id -> Text,
        public_key -> Bytea,
        aaguid -> Text,
        sign_count -> Int8,
        credential_type -> Text,
        attestation_format -> Text,
        transports -> Text,
        backup_eligible -> Bool,
        backup_state -> Bool,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        clone_suspected -> Bool,
        credential_json -> Text,
        user_handle -> Nullable<Bytea>,
    }
}

diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(webauthn_credentials -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    oauth_clients,
    recovery_codes,
    refresh_tokens,
    users,
    webauthn_credentials,
);
