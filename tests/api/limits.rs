//! Hostile traffic: floods of anonymous requests keep no state and meet 429; rate limits count
//! the real client behind a trusted proxy; slow clients are cut off.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{redis_url, spawn_with, Backend, TestApp, TestConfig};
use crate::oidc::{authorize, register, REDIRECT};
use crate::on_both_backends;

/// The ephemeral store's entry count: the in-process map, or this app's keys in Redis.
fn stored_entries(app: &TestApp, backend: Backend) -> usize {
    match backend {
        Backend::Embedded => app.app.store.local_entries().expect("in-process store"),
        Backend::Postgres => {
            let prefix = &app.app.settings.redis.key_prefix;
            let client = redis::Client::open(redis_url()).expect("redis url");
            let mut conn = client.get_connection().expect("redis");
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query(&mut conn)
                .expect("keys");
            keys.len()
        }
    }
}

async fn made_up_code(app: &TestApp, client: &str, i: usize) -> u16 {
    app.client
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &format!("made-up-{i}")),
            ("redirect_uri", REDIRECT),
            ("code_verifier", crate::oidc::VERIFIER),
            ("client_id", client),
        ])
        .send()
        .await
        .expect("token")
        .status()
        .as_u16()
}

/// Waits for the two maintenance keys every instance keeps (its lock and the sweep marker),
/// which a long reload interval holds still during the test.
async fn maintenance_keys_settled(app: &TestApp, backend: Backend) -> usize {
    for _ in 0..50 {
        if stored_entries(app, backend) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stored_entries(app, backend)
}

async fn anonymous_floods_keep_no_state(backend: Backend) {
    let app = spawn_with(
        TestConfig::new(backend)
            .with("PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE", "0")
            .with("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "300"),
    )
    .await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    let before = maintenance_keys_settled(&app, backend).await;
    assert_eq!(before, 2, "only the maintenance keys");
    for i in 0..500 {
        let res = authorize(&app, &c.id, &[]).await;
        assert_eq!(res.status(), 303, "to the login page");
        assert_eq!(made_up_code(&app, &c.id, i).await, 400, "invalid_grant");
    }
    let after = stored_entries(&app, backend);
    assert!(
        after <= before,
        "500 anonymous /authorize and /token left {} entries behind",
        after - before
    );
}
on_both_backends!(anonymous_floods_keep_no_state);

async fn anonymous_floods_meet_429(backend: Backend) {
    let app = spawn_with(
        TestConfig::new(backend)
            .with("PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE", "20")
            .with("PASSKEY_IDP__KEYS__RELOAD_INTERVAL_SECS", "300"),
    )
    .await;
    maintenance_keys_settled(&app, backend).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    let mut statuses = Vec::new();
    for i in 0..15 {
        statuses.push(authorize(&app, &c.id, &[]).await.status().as_u16());
        statuses.push(made_up_code(&app, &c.id, i).await);
    }
    assert!(statuses[..20].iter().all(|s| *s != 429), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let limited = app
        .client
        .get(app.url("/userinfo"))
        .bearer_auth("x")
        .send()
        .await
        .expect("userinfo");
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "60");
    // At most one counter per address and limit is kept, with a TTL (besides the two
    // maintenance keys).
    assert!(stored_entries(&app, backend) <= 2 + 2);
}
on_both_backends!(anonymous_floods_meet_429);

/// `state` takes up to 2,048 bytes (ASP.NET Core keeps its protected properties in it) and
/// comes back exactly, also after the person signs in first; longer is refused and not echoed.
/// `nonce` stays at 512 bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_parameters_are_bounded() {
    let app = spawn_with(TestConfig::new(Backend::Embedded)).await;
    let c = register(&app, "app", true, &[REDIRECT], &[]).await;
    let long = "s-~._".repeat(410)[..2049].to_string();
    for (name, value) in [("state", &long[..]), ("nonce", &long[..513])] {
        let res = authorize(&app, &c.id, &[(name, Some(value))]).await;
        let (_, params) = crate::oidc::location_params(&res);
        assert_eq!(
            crate::oidc::param(&params, "error"),
            Some("invalid_request"),
            "{name}"
        );
        if name == "state" {
            assert_eq!(
                crate::oidc::param(&params, "state"),
                None,
                "a state that long is not echoed"
            );
        }
    }
    // Not signed in: the request waits behind the sign-in page (sealed into its URL), then
    // comes back with the whole state.
    let state = &long[..2048];
    let res = authorize(
        &app,
        &c.id,
        &[("state", Some(state)), ("nonce", Some(&long[..512]))],
    )
    .await;
    assert_eq!(res.status(), 303);
    let login = url::Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("url");
    assert_eq!(login.path(), "/login");
    let next = login
        .query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .expect("next");
    app.sign_up(
        "ada",
        &mut crate::authenticator::SoftAuthenticator::synced(),
    )
    .await;
    let back = app
        .client
        .get(app.url(&next))
        .send()
        .await
        .expect("continue");
    let (_, params) = crate::oidc::location_params(&back);
    assert!(crate::oidc::param(&params, "code").is_some(), "{params:?}");
    assert_eq!(crate::oidc::param(&params, "state"), Some(state));
}

async fn begin_from(app: &TestApp, forwarded_for: &str) -> u16 {
    app.client
        .post(app.url("/webauthn/login/begin"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({}))
        .send()
        .await
        .expect("begin")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_count_the_client_behind_a_trusted_proxy_only() {
    let limited =
        |config: TestConfig| config.with("PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE", "3");
    let behind = spawn_with(limited(TestConfig::new(Backend::Embedded)).with(
        "PASSKEY_IDP__SERVER__TRUSTED_PROXIES",
        "10.0.0.0/8, 127.0.0.1/32",
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(begin_from(&behind, "198.51.100.1").await, 200);
    }
    assert_eq!(
        begin_from(&behind, "198.51.100.1").await,
        429,
        "the 4th from one client"
    );
    assert_eq!(
        begin_from(&behind, "198.51.100.2").await,
        200,
        "another client has its own budget"
    );
    // A client cannot pick its own address by putting one on the left of the chain.
    assert_eq!(begin_from(&behind, "203.0.113.7, 198.51.100.1").await, 429);

    let direct = spawn_with(limited(TestConfig::new(Backend::Embedded))).await;
    for _ in 0..3 {
        assert_eq!(begin_from(&direct, "198.51.100.1").await, 200);
    }
    assert_eq!(
        begin_from(&direct, "198.51.100.9").await,
        429,
        "without trusted proxies the header is ignored: one peer, one budget"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__SERVER__REQUEST_TIMEOUT_SECS", "1"),
    )
    .await;
    let port = app.address.rsplit(':').next().expect("port").to_string();
    let slow_body = std::thread::spawn(move || {
        let mut stream =
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream
            .write_all(
                b"POST /webauthn/login/begin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
            )
            .expect("headers");
        let started = Instant::now();
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        // Trickle a byte a second; the server must answer (or close) long before we are done.
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(500));
            if stream.write_all(b" ").is_err() {
                break;
            }
            stream.set_nonblocking(true).expect("nonblocking");
            let read = stream.read(&mut buf);
            stream.set_nonblocking(false).expect("blocking");
            match read {
                Ok(0) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    break;
                }
                Err(_) => {}
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).to_string(),
        )
    });
    let (took, answer) = slow_body.join().expect("slow client");
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

/// `rate_limit.admin_per_minute` counts every admin API request from an address, with a token
/// or without, before the token is looked up; the next one is 429 with `Retry-After`. The
/// document itself is not counted.
async fn the_admin_api_meets_429_past_its_limit(backend: Backend) {
    use crate::admin_api_scopes::{token, BASE};
    let app =
        spawn_with(TestConfig::new(backend).with("PASSKEY_IDP__RATE_LIMIT__ADMIN_PER_MINUTE", "5"))
            .await;
    let bearer = format!(
        "Bearer {}",
        token(&app, "counted", "users:read", Duration::from_secs(3600)).await
    );
    let users = app.url(&format!("{BASE}/users"));
    for _ in 0..3 {
        let r = app.client.get(&users).header("Authorization", &bearer);
        assert_eq!(r.send().await.expect("users").status(), 200);
    }
    for _ in 0..2 {
        let r = app.client.get(&users).send().await.expect("no token");
        assert_eq!(r.status(), 401);
    }
    for _ in 0..3 {
        let doc = app.client.get(app.url(&format!("{BASE}/openapi.json")));
        assert_eq!(doc.send().await.expect("document").status(), 200);
    }
    for authorization in [Some(bearer.as_str()), None] {
        let mut r = app.client.get(&users);
        if let Some(value) = authorization {
            r = r.header("Authorization", value);
        }
        let r = crate::helpers::reply(r.send().await.expect("sixth")).await;
        r.assert_error(429, "rate_limited");
        assert_eq!(r.headers["retry-after"], "60", "{:?}", r.headers);
    }
}
on_both_backends!(the_admin_api_meets_429_past_its_limit);
