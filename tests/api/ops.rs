//! Operations: health, readiness (including a dependency going away), JWKS caching, metrics,
//! start-up failures that name the setting, concurrent migrations.

use serde_json::json;

use crate::authenticator::SoftAuthenticator;
use crate::faults::FaultProxy;
use crate::helpers::{
    create_pg_database, run_cli, spawn_app, spawn_with, test_settings, Backend, TestConfig,
};
use crate::on_both_backends;

async fn health_and_readiness(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["checks"]["database"], "ok");
    assert_eq!(ready.body["checks"]["challenge_store"], "ok");
    assert!(ready.headers.get("x-request-id").is_some());
    app.get("/no/such/page")
        .await
        .assert_error(404, "not_found");
}
on_both_backends!(health_and_readiness);

async fn jwks_is_cacheable_and_revalidates(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(res.status(), 200);
    let etag = res.headers().get("etag").expect("etag").clone();
    let cache = res
        .headers()
        .get("cache-control")
        .expect("cache-control")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cache.contains("max-age=300"), "{cache}");
    let jwks: serde_json::Value = res.json().await.expect("json");
    let keys = jwks["keys"].as_array().expect("keys");
    // ES256 for access tokens, RS256 for ID tokens (OpenID Connect's default).
    let mut algs: Vec<&str> = keys.iter().filter_map(|k| k["alg"].as_str()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "RS256"]);
    for key in keys {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }
    let again = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("jwks");
    assert_eq!(again.status(), 304);
}
on_both_backends!(jwks_is_cacheable_and_revalidates);

async fn metrics_count_requests_and_ceremonies(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut device = SoftAuthenticator::new();
    app.sign_up("wendy", &mut device).await;
    app.login_finish(&json!({})).await; // a failure: no ceremony
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("# TYPE passkey_idp_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"passkey_idp_ceremonies_total{kind="register",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/webauthn/register/begin",status="200""#),
        "{text}"
    );
    // Security events are counted under the names they are logged and stored with (per
    // process: other tests' servers count too).
    let count = |event: &str| -> u64 {
        let prefix = format!("passkey_idp_security_events_total{{event=\"{event}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {event} count in {text}"))
    };
    assert!(count("passkey_added") >= 1);
    assert!(count("registration_failure") + count("signin_failure") >= 1);
    count("key_changed");
}
on_both_backends!(metrics_count_requests_and_ceremonies);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_redis_goes_away() {
    let relay = FaultProxy::start("127.0.0.1:6379".to_string()).await;
    let app = spawn_with(
        TestConfig::new(Backend::Postgres)
            .with("REDIS_URL", &format!("redis://127.0.0.1:{}", relay.port))
            .with("PASSKEY_IDP__REDIS__CONNECT_TIMEOUT_SECS", "1"),
    )
    .await;
    assert_eq!(app.get("/readyz").await.status, 200);
    relay.go_away();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body["checks"]["challenge_store"], "unavailable");
    assert_eq!(ready.body["checks"]["database"], "ok");
    // A ceremony now fails cleanly: JSON, 503, no Redis message.
    let reply = app.login_begin(json!({})).await;
    reply.assert_error(503, "temporarily_unavailable");
    assert!(!reply.body.to_string().to_lowercase().contains("redis"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_postgres_goes_away() {
    let relay = FaultProxy::start("127.0.0.1:5432".to_string()).await;
    let direct = create_pg_database();
    let name = direct.rsplit('/').next().expect("db name").to_string();
    let app = spawn_with(TestConfig {
        database_url: Some(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            relay.port
        )),
        ..TestConfig::new(Backend::Postgres)
            .with("PASSKEY_IDP__DATABASE__CONNECT_TIMEOUT_SECS", "1")
    })
    .await;
    assert_eq!(app.get("/readyz").await.status, 200);
    relay.go_away();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body["checks"]["database"], "unavailable");
    let reply = app.register_begin(json!({"username": "zed"})).await;
    assert!(reply.status.is_server_error(), "{}", reply.body);
    assert!(
        reply.body["error"].is_string(),
        "a JSON error: {}",
        reply.body
    );
    let text = reply.body.to_string().to_lowercase();
    assert!(
        !text.contains("sql") && !text.contains("postgres"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_migrate_one_database_at_once() {
    let url = create_pg_database();
    let a = spawn_with(TestConfig {
        database_url: Some(url.clone()),
        ..TestConfig::new(Backend::Postgres)
    });
    let b = spawn_with(TestConfig {
        database_url: Some(url.clone()),
        ..TestConfig::new(Backend::Postgres)
    });
    let (a, b) = tokio::join!(a, b);
    // Both serve, on the same data: a user made through one signs in through the other.
    let mut device = SoftAuthenticator::new();
    let _ = (a.get("/readyz").await, b.get("/readyz").await);
    a.sign_up("uma", &mut device).await;
    let found = b
        .query(|c| passkey_idp::db::users::find_by_username(c, "uma"))
        .await;
    assert!(found.is_some());
}

/// Settings for a start that is meant to fail: the address is any free port the system picks
/// (a port chosen beforehand could be taken by a parallel test before the start binds it).
fn settings_for(env: &[(&str, &str)]) -> passkey_idp::settings::Settings {
    let mut config = TestConfig::new(Backend::Embedded).with("PASSKEY_IDP_LISTEN", "127.0.0.1:0");
    for (k, v) in env {
        config = config.with(k, v);
    }
    test_settings(&config, 8080).0
}

#[tokio::test]
async fn start_up_failures_name_the_setting() {
    let unreachable_db = settings_for(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nope")]);
    let err = passkey_idp::startup::Application::build(unreachable_db)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().starts_with("DATABASE_URL"), "{err:#}");

    let unreachable_redis = settings_for(&[
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("PASSKEY_IDP__REDIS__CONNECT_TIMEOUT_SECS", "1"),
    ]);
    let err = passkey_idp::startup::Application::build(unreachable_redis)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().starts_with("REDIS_URL"), "{err:#}");
}

#[test]
fn cli_migrate_and_one_line_failures() {
    let url = create_pg_database();
    let ok = run_cli(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("migrations applied"));
    // A second run is a no-op that also succeeds.
    let again = run_cli(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let embedded = run_cli(&["migrate"], &[]);
    assert!(
        embedded.status.success(),
        "{}",
        String::from_utf8_lossy(&embedded.stderr)
    );

    for (env, setting) in [
        (("PASSKEY_IDP_ISSUER", "ftp://x"), "PASSKEY_IDP_ISSUER"),
        (
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"),
            "DATABASE_URL",
        ),
        (("PASSKEY_IDP_RP_ID", "example.org"), "PASSKEY_IDP_RP_ID"),
    ] {
        let out = run_cli(&["migrate"], &[env]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("passkey-idp: ") && last.contains(setting),
            "{stderr}"
        );
    }
}

/// The command line exits 0 every time on Postgres (it once crashed at exit now and then, while
/// a pool thread was still in a TLS handshake).
#[test]
fn postgres_commands_exit_cleanly_every_time() {
    let url = create_pg_database();
    let keys = crate::helpers::scratch_dir("cli-keys").join("keys");
    let keys = keys.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
    ];
    let add = run_cli(
        &[
            "clients",
            "add",
            "--client-id",
            "app",
            "--redirect-uri",
            "https://app.example/cb",
        ],
        &env,
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    for round in 0..40 {
        for args in [&["migrate"][..], &["clients", "list"][..]] {
            let out = run_cli(args, &env);
            assert!(
                out.status.success(),
                "round {round}, {args:?}: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Registering a client before the first start (a deploy script's order) leaves a key set the
/// server starts with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_added_before_the_first_start_does_not_block_it() {
    let url = create_pg_database();
    let keys = crate::helpers::scratch_dir("first-keys").join("keys");
    let keys_str = keys.display().to_string();
    let add = run_cli(
        &[
            "clients",
            "add",
            "--client-id",
            "app",
            "--redirect-uri",
            "https://app.example/cb",
        ],
        &[
            ("DATABASE_URL", url.as_str()),
            ("PASSKEY_IDP_KEYS_DIR", keys_str.as_str()),
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let app = spawn_with(TestConfig {
        database_url: Some(url),
        keys_dir: Some(keys),
        ..TestConfig::new(Backend::Postgres)
    })
    .await;
    let jwks = app.get("/.well-known/jwks.json").await;
    let algs: Vec<&str> = jwks.assert_ok()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["alg"].as_str())
        .collect();
    assert!(
        algs.contains(&"ES256") && algs.contains(&"RS256"),
        "{algs:?}"
    );
}
