// @generated automatically by Diesel CLI.

diesel::table! {
    api_tokens (name) {
        name -> Text,
        token_sha256 -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    audited_settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_name, user_id) {
        group_name -> Text,
        user_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    invites (token_sha256) {
        token_sha256 -> Text,
        username -> Nullable<Text>,
        email -> Nullable<Text>,
        group_names -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

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
        allowed_groups -> Text,
        updated_at -> Nullable<Timestamp>,
        previous_secret_sha256 -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
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
    recovery_links (token_sha256) {
        token_sha256 -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
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
    security_events (id) {
        id -> Int8,
        occurred_at -> Timestamp,
        kind -> Text,
        user_id -> Nullable<Text>,
        credential_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        actor -> Nullable<Text>,
        username -> Nullable<Text>,
        object -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    signing_key_set (id) {
        id -> Int4,
        version -> Int8,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        state -> Text,
        created_at -> Timestamp,
        transitions -> Text,
        public_jwk -> Text,
        sealed_private -> Nullable<Bytea>,
    }
}

diesel::table! {
    stored_secrets (name) {
        name -> Text,
        sealed -> Bytea,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_groups (name) {
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_sessions (sid) {
        sid -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        browser -> Text,
        restricted -> Bool,
        credential_id -> Nullable<Text>,
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
        disabled_at -> Nullable<Timestamp>,
        last_sign_in_at -> Nullable<Timestamp>,
        access_revoked_at -> Nullable<Timestamp>,
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

diesel::joinable!(group_members -> user_groups (group_name));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(recovery_links -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(webauthn_credentials -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    audited_settings,
    group_members,
    invites,
    oauth_clients,
    recovery_codes,
    recovery_links,
    refresh_tokens,
    security_events,
    signing_key_set,
    signing_keys,
    stored_secrets,
    user_groups,
    user_sessions,
    users,
    webauthn_credentials,
);
