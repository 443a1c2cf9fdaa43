//! Loading and validating settings.

use super::*;

fn load(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_sources(
        Some(Path::new("config/default.toml")),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
}

#[test]
fn defaults_are_valid_and_embedded() {
    let s = load(&[]).expect("defaults");
    assert_eq!(s.server.site.issuer, "http://localhost:8080");
    assert_eq!(s.server.site.rp_id, "localhost");
    assert_eq!(s.webauthn.challenge_ttl, Duration::from_secs(300));
    assert!(matches!(s.database.backend, DatabaseBackend::Sqlite { .. }));
    assert!(s.redis.url.is_none());
    assert!(!s.server.site.secure_cookies());
}

#[test]
fn fixed_and_generic_env_overrides() {
    let s = load(&[
        ("PASSKEY_IDP_ISSUER", "https://id.example.com"),
        ("PASSKEY_IDP_RP_ID", "example.com"),
        ("DATABASE_URL", "postgres://u@db/x"),
        ("REDIS_URL", "redis://cache:6379"),
        ("PASSKEY_IDP__SESSION__LIFETIME_SECS", "3600"),
    ])
    .expect("valid");
    assert_eq!(s.server.site.rp_id, "example.com");
    assert!(s.server.site.secure_cookies());
    assert_eq!(s.session.lifetime, Duration::from_secs(3600));
    assert_eq!(s.redis.url.as_deref(), Some("redis://cache:6379"));
}

#[test]
fn rejects_bad_values_naming_the_setting() {
    let cases: &[(&str, &str, &str)] = &[
        ("PASSKEY_IDP_ISSUER", "not a url", "PASSKEY_IDP_ISSUER"),
        (
            "PASSKEY_IDP_ISSUER",
            "http://id.example.com",
            "PASSKEY_IDP_ISSUER",
        ),
        (
            "PASSKEY_IDP_ISSUER",
            "https://id.example.com/path",
            "PASSKEY_IDP_ISSUER",
        ),
        ("PASSKEY_IDP_RP_ID", "evil.com", "PASSKEY_IDP_RP_ID"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://x", "REDIS_URL"),
        (
            "PASSKEY_IDP__WEBAUTHN__USER_VERIFICATION",
            "discouraged",
            "webauthn.user_verification",
        ),
        (
            "PASSKEY_IDP__WEBAUTHN__CHALLENGE_TTL_SECS",
            "0",
            "webauthn.challenge_ttl_secs",
        ),
    ];
    for (k, v, setting) in cases {
        let err = load(&[(k, v)]).expect_err(k);
        assert!(err.to_string().contains(setting), "{k}={v}: {err}");
    }
}

#[test]
fn durations_and_rotation_settings() {
    assert_eq!(parse_duration("30d"), Some(Duration::from_secs(30 * 86400)));
    assert_eq!(parse_duration("90m"), Some(Duration::from_secs(5400)));
    assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
    for bad in ["", "0s", "3w", "d", "-1h"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
    let s = load(&[("PASSKEY_IDP__KEYS__ROTATE_EVERY", "30d")]).expect("valid");
    assert_eq!(s.keys.rotate_every, Some(Duration::from_secs(30 * 86400)));
    let err =
        load(&[("PASSKEY_IDP__KEYS__ROTATE_EVERY", "60s")]).expect_err("too short for the cache");
    assert!(err.to_string().starts_with("keys.rotate_every"), "{err}");
    let err =
        load(&[("PASSKEY_IDP__TOKENS__ACCESS_TOKEN_ALG", "HS256")]).expect_err("no symmetric algs");
    assert!(
        err.to_string().starts_with("tokens.access_token_alg"),
        "{err}"
    );
}

#[test]
fn rp_id_may_be_a_registrable_suffix_only() {
    let ok = load(&[
        ("PASSKEY_IDP_ISSUER", "https://login.id.example.com"),
        ("PASSKEY_IDP_RP_ID", "example.com"),
    ]);
    assert!(ok.is_ok());
    let tld = load(&[
        ("PASSKEY_IDP_ISSUER", "https://id.example.com"),
        ("PASSKEY_IDP_RP_ID", "com"),
    ]);
    assert!(tld.is_err());
    let lookalike = load(&[
        ("PASSKEY_IDP_ISSUER", "https://id.badexample.com"),
        ("PASSKEY_IDP_RP_ID", "example.com"),
    ]);
    assert!(lookalike.is_err());
}

#[test]
fn allowed_origins_are_normalised_and_checked() {
    let s = load(&[(
        "PASSKEY_IDP__WEBAUTHN__ALLOWED_ORIGINS",
        "HTTPS://App.Example.com:443/, http://localhost:3000, android:apk-key-hash:abc_-1",
    )])
    .expect("valid");
    assert_eq!(
        s.webauthn.allowed_origins,
        [
            "https://app.example.com",
            "http://localhost:3000",
            "android:apk-key-hash:abc_-1"
        ]
    );
    assert_eq!(
        s.webauthn.allowed_web_origins().collect::<Vec<_>>(),
        ["https://app.example.com", "http://localhost:3000"]
    );
    for bad in [
        "http://app.example.com",
        "https://app.example.com/path",
        "ftp://x",
        "android:apk-key-hash:",
        "android:apk-key-hash:a+b/c",
        "app.example.com",
    ] {
        let err = load(&[("PASSKEY_IDP__WEBAUTHN__ALLOWED_ORIGINS", bad)]).expect_err(bad);
        assert!(
            err.to_string().starts_with("webauthn.allowed_origins"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn list_settings_take_a_bracketed_list_or_commas_from_the_environment() {
    let name = "PASSKEY_IDP__SERVER__TRUSTED_PROXIES";
    for value in [
        r#"["10.0.0.0/8"]"#,
        r#"[ "10.0.0.0/8", "::1/128" ]"#,
        "['10.0.0.0/8']",
        "10.0.0.0/8",
        "10.0.0.0/8, ::1/128",
    ] {
        let s = load(&[(name, value)]).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(
            s.server.trusted_proxies[0],
            "10.0.0.0/8".parse::<crate::proxy::Cidr>().expect("cidr"),
            "{value}"
        );
        assert_eq!(
            s.server.trusted_proxies.len(),
            1 + usize::from(value.contains("::1"))
        );
    }
    let s = load(&[(
        "PASSKEY_IDP__WEBAUTHN__ALLOWED_ORIGINS",
        r#"["https://app.example.com"]"#,
    )])
    .expect("a bracketed list of origins");
    assert_eq!(s.webauthn.allowed_origins.len(), 1);
    // A bracketed value that is not a list of strings is still refused, naming the setting.
    let e = load(&[(name, r#"["10.0.0.0/8""#)]).expect_err("unclosed");
    assert!(e.to_string().contains("server.trusted_proxies"), "{e}");
}

/// The shipped `config/default.toml` documents the built-in defaults: loading it changes
/// nothing. (A new setting needs only its field, default and check in its section; the file
/// may list it, and then must say the same.)
#[test]
fn the_shipped_file_says_what_the_built_in_defaults_are() {
    let from_file = load(&[]).expect("with config/default.toml");
    let built_in = Settings::assemble(toml::Table::new()).expect("built-in defaults");
    assert_eq!(format!("{from_file:?}"), format!("{built_in:?}"));
}

#[test]
fn unknown_sections_and_keys_are_refused_naming_them() {
    let e = load(&[("PASSKEY_IDP__SERVERS__LISTEN", "x")]).expect_err("unknown section");
    assert!(e.to_string().starts_with("servers:"), "{e}");
    let e = load(&[("PASSKEY_IDP__SERVER__LISTENING", "x")]).expect_err("unknown key");
    assert!(
        e.to_string().starts_with("server:") && e.to_string().contains("listening"),
        "{e}"
    );
}
