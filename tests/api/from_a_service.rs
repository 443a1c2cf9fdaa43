//! A person who comes from a service (a relying party's `/authorize`) and has no passkey yet, or
//! has lost theirs: sign-up and recovery keep the service's waiting request, and both end at
//! the service with a code, as sign-in does. In headless Chromium with a virtual authenticator.

use std::sync::{Arc, Mutex};

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::oidc::{authorize_query, param, VERIFIER};
use crate::pages::{in_browser, wait_path};

/// A public client named `name` that returns to `redirect`.
pub async fn client_returning_to(app: &TestApp, id: &str, name: &str, redirect: &str) {
    app.operator()
        .client_add(
            &app.app.oidc.clients,
            passkey_idp::oidc::clients::NewClient {
                client_id: id,
                name: Some(name),
                redirect_uris: vec![redirect.to_string()],
                post_logout_redirect_uris: vec![],
                public: true,
                scopes: None,
                id_token_alg: None,
                audiences: vec![],
                allowed_groups: vec![],
            },
        )
        .await
        .expect("client");
}

/// The query of a URL the browser landed on.
fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The service's redirect URI is a page of the IdP itself (`/healthz`), so that the browser
/// lands somewhere real with the code in its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_person_from_a_service_signs_up_or_recovers_and_returns_with_a_code() {
    let app = spawn_app(Backend::Embedded).await;
    let back = format!("{}/healthz", app.origin);
    client_returning_to(&app, "notes", "Notes", &back).await;
    let authorize = format!(
        "{}/authorize?{}",
        app.origin,
        authorize_query("notes", &[("redirect_uri", Some(&back))])
    );
    let landed = Arc::new(Mutex::new(Vec::new()));
    let seen = landed.clone();
    in_browser(&app, move |page, phone, _| {
        // New here: the service sends the person to sign in, and they create an account.
        page.goto(&authorize).expect("authorize");
        wait_path(page, "/login");
        assert_eq!(page.text("h1").expect("h1"), "Sign in to continue to Notes");
        // The tab says it too.
        let product = page.text("header .brand").expect("product");
        assert_eq!(
            page.eval("document.title").expect("title"),
            format!("Sign in to continue to Notes · {product}")
        );
        page.click("#create-account").expect("create an account");
        wait_path(page, "/register");
        assert_eq!(
            page.text("h1").expect("h1"),
            "Create an account to continue to Notes"
        );
        let sign_in_instead = page
            .eval("document.getElementById('sign-in-instead').getAttribute('href')")
            .expect("link");
        assert!(
            sign_in_instead
                .as_str()
                .unwrap_or("")
                .starts_with("/login?next=%2Fauthorize%2Fcontinue"),
            "{sign_in_instead}"
        );
        page.type_into("#username", "nina").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait_path(page, "/healthz");
        seen.lock().expect("lock").push(page.url().expect("url"));

        // Recovery codes made while signed in (the account API, as the account page calls it).
        let code = page
            .eval(
                "fetch('/account/recovery-codes', {method: 'POST', headers: {Accept: 'application/json'}})\
                 .then((r) => r.json()).then((j) => j.codes[0])",
            )
            .expect("codes");
        let code = code.as_str().expect("a code").to_string();

        // The phone is lost, the session with it; the service sends the person to sign in
        // again, and they use a recovery code.
        page.remove_virtual_authenticator(&phone).expect("lost");
        page.call("Network.clearBrowserCookies", serde_json::json!({}))
            .expect("cookies cleared");
        page.add_virtual_authenticator(Default::default())
            .expect("new phone");
        page.goto(&authorize).expect("authorize");
        wait_path(page, "/login");
        page.click("#use-recovery-code").expect("use a recovery code");
        wait_path(page, "/recover");
        page.type_into("#username", "nina").expect("type");
        page.type_into("#code", &code).expect("type");
        page.click("#recover-form button[type=submit]")
            .expect("continue");
        page.wait_for(
            "!document.getElementById('step-passkey').hidden",
            std::time::Duration::from_secs(10),
        )
        .expect("code accepted");
        page.click("#create-passkey").expect("create");
        page.wait_for(
            "!document.getElementById('step-done').hidden",
            std::time::Duration::from_secs(10),
        )
        .expect("passkey created");
        // Signing in with the new passkey (autofill on the sign-in page) continues to Notes.
        page.click("#signin-link").expect("sign in");
        wait_path(page, "/healthz");
        seen.lock().expect("lock").push(page.url().expect("url"));
    })
    .await;
    let landed = landed.lock().expect("lock").clone();
    assert_eq!(landed.len(), 2);
    for url in landed {
        assert!(url.starts_with(&back), "{url}");
        let params = query_of(&url);
        assert_eq!(param(&params, "state"), Some("st&ate=1 ü"), "{url}");
        let code = param(&params, "code").expect("a code");
        crate::oidc::token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &back),
                ("code_verifier", VERIFIER),
                ("client_id", "notes"),
            ],
            None,
        )
        .await
        .assert_ok();
    }
}
