//! What every browser visit meets: a favicon, a page (not JSON) where nothing is found, with a
//! reference a person can give support, and a notice when JavaScript is off.

use std::time::Duration;

use crate::helpers::{spawn_app, Backend, TestApp};

/// A public client with a display name, returning to `crate::oidc::REDIRECT`.
async fn named_client(app: &TestApp, id: &str, name: &str) {
    app.operator()
        .client_add(
            &app.app.oidc.clients,
            passkey_idp::oidc::clients::NewClient {
                client_id: id,
                name: Some(name),
                redirect_uris: vec![crate::oidc::REDIRECT.to_string()],
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

/// A page's HTML.
async fn html(app: &TestApp, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.expect("page");
    res.text().await.expect("html")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_pages_and_an_icon_where_api_clients_get_json() {
    let app = spawn_app(Backend::Embedded).await;
    let res = app
        .client
        .get(app.url("/no/such/page"))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let page = res.text().await.expect("page");
    assert!(page.contains("There is no page here"), "{page}");
    assert!(
        page.contains(&request_id),
        "the reference is the request id"
    );

    let api = app.get("/no/such/page").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.body["error"], "not_found");

    let icon = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .expect("icon");
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.expect("svg").starts_with("<svg"));

    for path in ["/login", "/register", "/recover"] {
        let page = html(&app, path).await;
        assert!(
            page.contains("<noscript>"),
            "{path} says when JavaScript is off"
        );
        assert!(page.contains(r#"rel="icon""#), "{path} names its icon");
    }
}

/// During a service's sign-in the page names the service; a person whose session already does
/// is offered to continue as themselves (and the link gets the code), unless the service asked
/// for a fresh sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_names_the_service_and_offers_to_continue() {
    use crate::oidc::{authorize, location_params, param, REDIRECT};
    let app = spawn_app(Backend::Embedded).await;
    named_client(&app, "shop", "Example <Shop>").await;
    let page = |path: String| {
        let app = &app;
        async move {
            let res = app.client.get(app.url(&path)).send().await.expect("page");
            assert_eq!(res.status(), 200);
            res.text().await.expect("html")
        }
    };
    let login_of = |res: &reqwest::Response| {
        let (login, params) = location_params(res);
        assert!(login.ends_with("/login"), "{login}");
        let next = param(&params, "next").expect("next").to_string();
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("next", &next);
        (format!("/login?{}", q.finish()), next)
    };

    // Nobody signed in: who is asking, and no offer.
    let (login, _) = login_of(&authorize(&app, "shop", &[]).await);
    let html = page(login.clone()).await;
    assert!(
        html.contains("Sign in to continue to Example &#60;Shop&#62;"),
        "{html}"
    );
    assert!(!html.contains("continue-as"));

    // Signed in: the same page offers to continue, and the link gets the code.
    app.sign_up(
        "alice",
        &mut crate::authenticator::SoftAuthenticator::synced(),
    )
    .await;
    let html = page(login).await;
    assert!(html.contains("Continue as alice"), "{html}");
    let href = html
        .split(r#"id="continue-as" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the link")
        .replace("&#38;", "&");
    let res = app
        .client
        .get(app.url(&href))
        .send()
        .await
        .expect("continue");
    let (back, params) = location_params(&res);
    assert_eq!(back, REDIRECT);
    assert!(param(&params, "code").is_some());

    // prompt=login asks for a new sign-in: no offer to continue with the old one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (login, _) = login_of(&authorize(&app, "shop", &[("prompt", Some("login"))]).await);
    let html = page(login).await;
    assert!(html.contains("Sign in to continue to"), "{html}");
    assert!(!html.contains("continue-as"), "{html}");

    // Without a service: continue to the account.
    let html = page("/login".to_string()).await;
    assert!(
        html.contains(r#"id="continue-as" href="/account""#),
        "{html}"
    );
}

/// With JavaScript off a form still posts (`method="post"`): what was typed never reaches the
/// address bar, and the browser is sent back to the page, whose notice says what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_posted_without_javascript_come_back_to_their_page() {
    let app = spawn_app(Backend::Embedded).await;
    for (path, form) in [
        ("/register", "username=ann&email=ann%40example.com"),
        ("/login?next=%2Faccount", "username=ann"),
        ("/recover", "username=ann&code=XXXX"),
    ] {
        let page = html(&app, path).await;
        assert!(page.contains(r#"method="post""#), "{path}");
        let res = app
            .client
            .post(app.url(path))
            .header("Origin", app.origin.as_str())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], path);
    }
    // Chromium posts a form of a `no-referrer` page with `Origin: null`: this site's own page
    // when the browser says same-origin, and only then.
    let posted = |origin: &'static str, site: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/recover"))
            .header("Origin", origin)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("username=ann&code=XXXX");
        if let Some(site) = site {
            req = req.header("Sec-Fetch-Site", site);
        }
        async move { req.send().await.expect("post").status().as_u16() }
    };
    assert_eq!(posted("null", Some("same-origin")).await, 303);
    for site in [None, Some("cross-site"), Some("same-site")] {
        assert_eq!(posted("null", site).await, 403, "{site:?}");
    }
    assert_eq!(posted("http://localhost:9", Some("same-origin")).await, 403);
}

/// The start page speaks to people (the developers' discovery address sits in the footer), and
/// a refused sign-in request's page gives the request id as a reference for support.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_and_error_pages_speak_to_people() {
    let app = spawn_app(Backend::Embedded).await;
    let home = html(&app, "/").await;
    let main = home
        .split("<main")
        .nth(1)
        .and_then(|m| m.split("</main>").next())
        .expect("main");
    assert!(!main.contains("openid-configuration"), "{main}");
    assert!(!main.contains("jwks"), "{main}");
    assert!(home.contains(r#"id="for-developers""#));

    let res = app
        .client
        .get(app.url("/authorize?client_id=nobody&redirect_uri=https://evil.example/"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 400);
    let id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let page = res.text().await.expect("page");
    assert!(
        page.contains(&format!(
            "If you ask for help, give this reference: <code>{id}</code>"
        )),
        "{page}"
    );
}

/// The README's two pictures, taken from the real pages: a service's sign-in on a phone and
/// the account page on a desktop. They land in `test-artifacts/readme/`; docs/screenshots/
/// holds the copies the README shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_pictures() {
    let app = spawn_app(Backend::Postgres).await;
    named_client(&app, "notes", "Notes").await;
    let authorize = format!(
        "{}/authorize?{}",
        app.origin,
        crate::oidc::authorize_query("notes", &[])
    );
    crate::pages::in_browser(&app, move |page, authenticator, origin| {
        let dir = std::path::PathBuf::from("test-artifacts/readme");
        crate::pages::sign_up(page, origin, "ada", "Ada Lovelace");
        // A second passkey, on a security key, and recovery codes made: a lived-in account.
        page.remove_virtual_authenticator(&authenticator).expect("away");
        page.add_virtual_authenticator(crate::browser::AuthenticatorOptions {
            transport: "usb",
            ..Default::default()
        })
        .expect("security key");
        page.click("#passkeys ~ button[data-action=add-passkey]").expect("add");
        crate::pages::wait_path(page, "/account");
        page.wait_for("document.querySelectorAll('#passkeys .passkey').length === 2", Duration::from_secs(10))
            .expect("two passkeys");
        page.goto(&format!("{origin}/account")).expect("account");
        page.wait_for(
            "document.getElementById('sessions-section').getAttribute('aria-busy') === 'false'",
            Duration::from_secs(10),
        )
        .expect("sessions");
        page.call(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": 1000, "height": 800, "deviceScaleFactor": 1, "mobile": false}),
        )
        .expect("desktop");
        page.screenshot(&dir.join("account.png")).expect("account picture");
        // Signed out, a service sends the person to sign in.
        page.click("button[data-action=logout]").expect("sign out");
        crate::pages::wait_path(page, "/signed-out");
        crate::pages::phone_width(page);
        page.goto(&authorize).expect("authorize");
        crate::pages::wait_path(page, "/login");
        assert_eq!(page.text("h1").expect("h1"), "Sign in to continue to Notes");
        page.screenshot(&dir.join("sign-in-phone.png")).expect("sign-in picture");
    })
    .await;
}

/// With JavaScript off, each page says why nothing would work, where the person reads first,
/// at both widths; a form submitted anyway comes back to its page; and on the account page
/// Sign out still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_javascript_off_every_page_says_so() {
    let app = spawn_app(Backend::Embedded).await;
    let notice = passkey_idp::i18n::catalog("en")
        .expect("English")
        .t("base.noscript")
        .to_string();
    crate::pages::in_browser(&app, move |page, _, origin| {
        page.call(
            "Emulation.setScriptExecutionDisabled",
            serde_json::json!({"value": true}),
        )
        .expect("JavaScript off");
        let notice_shown = |page: &mut crate::browser::Page, name: &str| {
            let shown = page
                .eval(
                    "(() => { const p = document.querySelector('main .notice'); const r = p.getBoundingClientRect(); \
                     return [p.innerText, r.height > 0, r.top < innerHeight / 2]; })()",
                )
                .unwrap_or_else(|e| panic!("{name}: no notice ({e}): {:?}", page.text("body")));
            assert_eq!(shown[0], notice.as_str(), "{name}");
            assert_eq!(shown[1], true, "{name}: shown");
            assert_eq!(shown[2], true, "{name}: near the top");
        };
        for name in ["login", "register", "recover"] {
            page.goto(&format!("{origin}/{name}")).expect("page");
            notice_shown(page, name);
            crate::pages::shot(page, &format!("{name}-without-javascript"));
            // Submitted anyway: back to the page (Chromium posts it with `Origin: null`), which
            // says again what is missing; not an error in another format.
            page.type_into("#username", "ann").expect("type");
            page.eval("window.beforeSubmit = true").expect("mark");
            page.click("main form button[type=submit]").expect("submit");
            page.wait_for(
                "!window.beforeSubmit && document.readyState === 'complete'",
                Duration::from_secs(10),
            )
            .expect("a new page");
            assert_eq!(
                page.eval("location.pathname").expect("path"),
                format!("/{name}")
            );
            notice_shown(page, &format!("{name}, submitted"));
        }

        // Signed in (with JavaScript, which passkeys need), then without it: the account page
        // says what needs JavaScript, shows no endless "Loading…", and Sign out works.
        let en = passkey_idp::i18n::catalog("en").expect("English");
        page.call(
            "Emulation.setScriptExecutionDisabled",
            serde_json::json!({"value": false}),
        )
        .expect("JavaScript on");
        crate::pages::sign_up(page, origin, "olga", "");
        page.call(
            "Emulation.setScriptExecutionDisabled",
            serde_json::json!({"value": true}),
        )
        .expect("JavaScript off");
        page.goto(&format!("{origin}/account")).expect("account");
        assert_eq!(
            page.text("main .notice").expect("notice"),
            en.t("account.noscript")
        );
        let main = page.text("main").expect("main");
        for loading in ["account.sessions_loading", "account.activity_loading"] {
            assert!(!main.contains(en.t(loading)), "{loading} shown: {main}");
        }
        for note in ["account.sessions_noscript", "account.activity_noscript"] {
            assert!(main.contains(en.t(note)), "{note} missing: {main}");
        }
        crate::pages::shot(page, "account-without-javascript");
        page.click("button[data-action=logout]").expect("sign out");
        crate::pages::wait_path(page, "/signed-out");
        assert_eq!(page.text("h1").expect("h1"), en.t("signed_out.title"));
        page.goto(&format!("{origin}/account")).expect("account");
        crate::pages::wait_path(page, "/login");
    })
    .await;
}
