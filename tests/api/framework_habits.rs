//! What relying-party frameworks do that a plain GET flow does not: POST to `/authorize` and to
//! the end-session endpoint from the service's own site (where the browser does not send a
//! SameSite=Lax cookie), `response_mode=form_post`, and discovery that offers only the
//! algorithms the key set can sign with.

use serde_json::Value;

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::oidc::{authorize_query, location_params, param, redeem, register, signed_in};
use crate::oidc::{Registered, REDIRECT};

/// What a browser sends on a form POST from another site: no cookie of ours, its Origin.
fn cross_site_form(app: &TestApp, path: &str, body: String) -> reqwest::RequestBuilder {
    let no_cookies = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    no_cookies
        .post(app.url(path))
        .header("Origin", "http://localhost:9")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

/// A cross-site POST is answered with the same request as a GET (`path?…` on this issuer);
/// the browser follows it with its cookie.
async fn follow_as_get(app: &TestApp, posted: &reqwest::Response, path: &str) -> reqwest::Response {
    let again = location(posted);
    assert!(
        again.starts_with(&format!("{}{path}", app.origin)),
        "{again}"
    );
    let url = again.replace(&app.origin, &app.address);
    app.client.get(url).send().await.expect("get")
}

fn location(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "expected a redirect");
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_to_authorize_keeps_single_sign_on() {
    let app = spawn_app(Backend::Postgres).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    signed_in(&app, "alice").await;
    // The POST carries no cookie: it becomes the same request as a GET, and the browser's
    // top-level GET (with the cookie) gets a code at once, no second passkey prompt.
    let posted = cross_site_form(&app, "/authorize", authorize_query(&c.id, &[]))
        .send()
        .await
        .expect("post");
    let res = follow_as_get(&app, &posted, "/authorize?").await;
    let (base, params) = location_params(&res);
    assert_eq!(base, REDIRECT);
    assert_eq!(param(&params, "state"), Some("st&ate=1 ü"));
    let code = param(&params, "code").expect("a code").to_string();
    redeem(&app, &c, &code).await.assert_ok();
}

/// HTML text with its character references (named and numeric) resolved, as a browser reads
/// an attribute value.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        let entity = &rest[at + 1..at + end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        out.push(decoded.expect("a known character reference"));
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The form a form_post page posts: its action and its fields.
fn form_of(page: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form_tag = page
        .split("<form")
        .nth(1)
        .and_then(|f| f.split('>').next())
        .expect("a form");
    let action = attr(form_tag, "action").expect("action");
    let fields = page
        .split("<input")
        .skip(1)
        .filter_map(|i| {
            let tag = i.split('>').next()?;
            Some((attr(tag, "name")?, attr(tag, "value")?))
        })
        .collect();
    (action, fields)
}

async fn form_post_page(app: &TestApp, c: &Registered, extra: &[(&str, Option<&str>)]) -> String {
    let mut overrides = vec![("response_mode", Some("form_post"))];
    overrides.extend_from_slice(extra);
    let res = crate::oidc::authorize(app, &c.id, &overrides).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.contains("form-action http://localhost:9"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    res.text().await.expect("page")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_post_sends_the_answer_back_as_a_form() {
    let app = spawn_app(Backend::Embedded).await;
    let c = register(&app, "app", false, &[REDIRECT], &[]).await;
    let discovery = app.get("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery.assert_ok()["response_modes_supported"],
        serde_json::json!(["query", "form_post"])
    );
    signed_in(&app, "alice").await;
    let page = form_post_page(&app, &c, &[]).await;
    assert!(
        page.contains("<noscript>"),
        "a button works without JavaScript"
    );
    assert!(page.contains(r#"<script src="/static/form_post.js""#));
    let (action, fields) = form_of(&page);
    assert_eq!(action, REDIRECT);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("state").as_deref(), Some("st&ate=1 ü"));
    assert_eq!(field("iss").as_deref(), Some(app.origin.as_str()));
    redeem(&app, &c, &field("code").expect("code"))
        .await
        .assert_ok();
    assert_eq!(app.get("/static/form_post.js").await.status, 200);

    // Errors go back the same way.
    let page = form_post_page(&app, &c, &[("code_challenge_method", Some("plain"))]).await;
    let (action, fields) = form_of(&page);
    assert_eq!(action, REDIRECT);
    assert!(
        fields
            .iter()
            .any(|(n, v)| n == "error" && v == "invalid_request"),
        "{fields:?}"
    );
    assert!(!fields.iter().any(|(n, _)| n == "code"));
    // An unknown mode is refused in the query.
    let res = crate::oidc::authorize(&app, &c.id, &[("response_mode", Some("fragment"))]).await;
    let (_, params) = location_params(&res);
    assert_eq!(param(&params, "error"), Some("invalid_request"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_initiated_logout_takes_post_like_get() {
    let app = spawn_app(Backend::Postgres).await;
    let back = "http://localhost:9/bye";
    let (_, id_token) = crate::oidc::signed_in_at_app(&app, back).await;
    let form = |hint: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("id_token_hint", hint)
            .append_pair("post_logout_redirect_uri", back)
            .append_pair("state", "bye 1");
        q.finish()
    };
    // From the service's site: no cookie, so the same request as a GET, which carries it.
    let posted = cross_site_form(&app, "/logout", form(&id_token))
        .send()
        .await
        .expect("post");
    assert_eq!(app.get("/account/credentials").await.status, 200, "not yet");
    let res = follow_as_get(&app, &posted, "/logout?").await;
    let (base, params) = location_params(&res);
    assert_eq!(base, back);
    assert_eq!(param(&params, "state"), Some("bye 1"));
    assert_eq!(
        app.get("/account/credentials").await.status,
        401,
        "signed out"
    );

    // A same-site POST that carries the cookie is answered at once, with the same rules: a
    // hint from another session only gets the question.
    signed_in(&app, "bob").await;
    let res = app
        .client
        .post(app.url("/logout"))
        .header("Origin", "http://localhost:9")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&id_token))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    let question = res.text().await.expect("page");
    assert!(question.contains("Sign out of"), "{question}");
    assert!(
        question.contains("app asked to sign you out"),
        "names the service: {question}"
    );
    assert!(
        question.contains(r#"id="stay-signed-in" href="/account""#),
        "{question}"
    );
    assert_eq!(
        app.get("/account/credentials").await.status,
        200,
        "asked, not signed out"
    );
    // The account page's JSON sign-out is unchanged, and still refused from another site.
    let refused = app
        .client
        .post(app.url("/logout"))
        .header("Origin", "http://localhost:9")
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_offers_only_algorithms_with_a_signing_key() {
    let app = spawn_app(Backend::Embedded).await;
    let algs = |d: &Value| d["id_token_signing_alg_values_supported"].clone();
    let d = app.get("/.well-known/openid-configuration").await;
    assert_eq!(algs(d.assert_ok()), serde_json::json!(["RS256", "ES256"]));
    let store = app.app.keys.store().clone();
    passkey_idp::signing::rotation::ensure_active(
        &store,
        passkey_idp::signing::KeyAlg::EdDSA,
        "test",
        chrono::Utc::now(),
    )
    .expect("an EdDSA key");
    let keys = app.app.keys.clone();
    tokio::task::spawn_blocking(move || keys.reload_if_changed())
        .await
        .expect("reload");
    let d = app.get("/.well-known/openid-configuration").await;
    assert_eq!(
        algs(d.assert_ok()),
        serde_json::json!(["RS256", "ES256", "EdDSA"])
    );
}

/// In Chromium: signed in, the person is on a service's page (another site) whose form posts the
/// authorization request. The browser sends no SameSite=Lax cookie with that POST; the code
/// still comes back without a second passkey prompt (the passkey's signature counter does not
/// move), and it redeems.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_site_gets_a_code_without_a_second_prompt() {
    use base64::Engine;
    let app = spawn_app(Backend::Postgres).await;
    let back = format!("{}/healthz", app.origin);
    register(&app, "rp", true, &[&back], &[]).await;
    let query = authorize_query("rp", &[("redirect_uri", Some(&back))]);
    let inputs: String = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let escape = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;");
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(&k),
                escape(&v)
            )
        })
        .collect();
    let service_page = format!(
        r#"<!doctype html><form method="post" action="{}/authorize">{inputs}</form><script>document.forms[0].submit()</script>"#,
        app.origin
    );
    let data_url = format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(service_page)
    );
    let landed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let url_seen = landed.clone();
    crate::pages::in_browser(&app, move |page, authenticator, origin| {
        crate::pages::sign_up(page, origin, "alice", "");
        let counter = |page: &mut crate::browser::Page| {
            page.credentials(&authenticator).expect("credentials")[0]["signCount"].clone()
        };
        let before = counter(page);
        page.goto(&data_url).expect("the service's page");
        crate::pages::wait_path(page, "/healthz");
        assert_eq!(counter(page), before, "no passkey prompt on the way");
        *url_seen.lock().expect("lock") = page.url().expect("url");
    })
    .await;
    let landed = landed.lock().expect("lock").clone();
    let params: Vec<(String, String)> = url::Url::parse(&landed)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(param(&params, "state"), Some("st&ate=1 ü"), "{landed}");
    let code = param(&params, "code").expect("a code");
    let tokens = crate::oidc::token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &back),
            ("code_verifier", crate::oidc::VERIFIER),
            ("client_id", "rp"),
        ],
        None,
    )
    .await;
    tokens.assert_ok();
}
