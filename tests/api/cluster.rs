//! Two instances behind one address: two server processes on one Postgres, one Redis and one
//! key folder, with requests alternating between them inside single flows.

use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::helpers::{
    create_pg_database, new_client, redis_url, reply, run_cli, scratch_dir, Reply,
};
use crate::oidc::{authorize_query, location_params, param, REDIRECT, VERIFIER};
use crate::process::Server;

async fn post(client: &reqwest::Client, server: &Server, path: &str, body: &Value) -> Reply {
    server.post(client, path, body).await
}

async fn get(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_alternate_between_two_instances() {
    let db = create_pg_database();
    let redis = redis_url();
    let prefix = format!("pkidp-test:{}:", uuid::Uuid::new_v4().simple());
    let keys = scratch_dir("cluster").join("keys").display().to_string();
    let common = [
        ("DATABASE_URL", db.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("PASSKEY_IDP__REDIS__KEY_PREFIX", prefix.as_str()),
        ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
        ("PASSKEY_IDP__LOG__LEVEL", "warn"),
    ];
    let a = Server::start(&common);
    // One public origin for both, as behind a load balancer.
    let issuer = a.origin.clone();
    let mut env_b = common.to_vec();
    env_b.push(("PASSKEY_IDP_ISSUER", issuer.as_str()));
    let b = Server::start(&env_b);
    let added = run_cli(
        &[
            "clients",
            "add",
            "--client-id",
            "app",
            "--redirect-uri",
            REDIRECT,
            "--public",
        ],
        &[
            ("DATABASE_URL", db.as_str()),
            ("PASSKEY_IDP_KEYS_DIR", keys.as_str()),
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    // A ceremony begun on one instance finishes on the other, both ways.
    let browser = new_client();
    let mut device = SoftAuthenticator::synced();
    let options = post(
        &browser,
        &a,
        "/webauthn/register/begin",
        &json!({"username": "alice"}),
    )
    .await;
    let created = device
        .create(options.assert_ok(), &issuer, &Tamper::default())
        .expect("create");
    post(&browser, &b, "/webauthn/register/finish", &created)
        .await
        .assert_ok();
    let options = post(&browser, &b, "/webauthn/login/begin", &json!({})).await;
    let assertion = device
        .get(options.assert_ok(), &issuer, &Tamper::default())
        .expect("get");
    post(&browser, &a, "/webauthn/login/finish", &assertion)
        .await
        .assert_ok();

    // The session made on A is honoured by B.
    let listed = reply(get(&browser, format!("{}/account/credentials", b.base)).await).await;
    assert_eq!(listed.assert_ok().as_array().map(Vec::len), Some(1));

    // A code from A is redeemed at B; B's access token is accepted at A.
    let res = get(
        &browser,
        format!("{}/authorize?{}", a.base, authorize_query("app", &[])),
    )
    .await;
    let (_, params) = location_params(&res);
    let code = param(&params, "code").expect("a code").to_string();
    let tokens = token(&browser, &b, &code).await;
    let access = tokens.assert_ok()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let info = browser
        .get(format!("{}/userinfo", a.base))
        .bearer_auth(&access)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(info.status(), 200);

    // A request waiting for sign-in on A continues on B (it travels sealed, in the URL).
    let stranger = new_client();
    let res = get(
        &stranger,
        format!("{}/authorize?{}", a.base, authorize_query("app", &[])),
    )
    .await;
    let (login, params) = location_params(&res);
    assert!(login.ends_with("/login"), "{login}");
    let next = param(&params, "next").expect("next").to_string();
    let options = post(&stranger, &b, "/webauthn/login/begin", &json!({})).await;
    let assertion = device
        .get(options.assert_ok(), &issuer, &Tamper::default())
        .expect("get");
    post(&stranger, &a, "/webauthn/login/finish", &assertion)
        .await
        .assert_ok();
    let res = get(&stranger, format!("{}{next}", b.base)).await;
    let (back, params) = location_params(&res);
    assert_eq!(back, REDIRECT);
    let code = param(&params, "code").expect("a code").to_string();
    token(&stranger, &a, &code).await.assert_ok();
}

async fn token(client: &reqwest::Client, server: &Server, code: &str) -> Reply {
    reply(
        client
            .post(format!("{}/token", server.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", "app"),
            ])
            .send()
            .await
            .expect("token"),
    )
    .await
}
