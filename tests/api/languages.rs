//! Pages in the person's language and the operator's brand: the catalog chosen from
//! `Accept-Language`, German pages walked in Chromium with no English left on them, and the
//! `[ui]` settings on every page under the same strict CSP.

use std::time::Duration;

use passkey_idp::i18n::{self, Catalog};
use serde_json::json;

use crate::browser::Page;
use crate::helpers::{scratch_dir, spawn_app, spawn_with, Backend, TestConfig};
use crate::pages::{in_browser, shot, wait_path};

const WAIT: Duration = Duration::from_secs(10);

fn german() -> &'static Catalog {
    i18n::catalog("de").expect("German ships")
}

fn english() -> &'static Catalog {
    i18n::catalog("en").expect("English ships")
}

async fn get_page(
    client: &reqwest::Client,
    url: &str,
    language: Option<&str>,
) -> reqwest::Response {
    let mut request = client.get(url).header("Accept", "text/html");
    if let Some(language) = language {
        request = request.header("Accept-Language", language);
    }
    request.send().await.expect("page")
}

#[tokio::test]
async fn pages_follow_accept_language_and_the_default_setting() {
    let app = spawn_app(Backend::Embedded).await;
    for (header, lang) in [
        (Some("de-DE,de;q=0.9,en;q=0.8"), "de"),
        (Some("fr-CH, fr;q=0.9, de;q=0.7, *;q=0.5"), "de"),
        (Some("fr"), "en"),
        (Some("en-GB"), "en"),
        (None, "en"),
    ] {
        let res = get_page(&app.client, &app.url("/login"), header).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-language"], lang, "{header:?}");
        assert_eq!(res.headers()["vary"], "Accept-Language");
        let body = res.text().await.expect("body");
        assert!(
            body.contains(&format!("<html lang=\"{lang}\">")),
            "{header:?}"
        );
        let catalog = i18n::catalog(lang).expect("catalog");
        assert!(body.contains(&format!("<h1>{}</h1>", catalog.t("login.title"))));
        // The scripts' words come along, as data.
        assert!(body.contains(&format!(
            "<script type=\"application/json\" id=\"i18n\">{}</script>",
            catalog.script_json()
        )));
    }
    // The API stays JSON whatever the language.
    let res = app
        .client
        .get(app.url("/nowhere"))
        .header("Accept-Language", "de")
        .send()
        .await
        .expect("api 404");
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json")["error"],
        "not_found"
    );

    // A person picks a language in the footer: remembered, over Accept-Language.
    let body = get_page(&app.client, &app.url("/register?invite=x"), Some("en"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        body.contains("<a href=\"/language/de?next=%2Fregister%3Finvite%3Dx\" lang=\"de\" hreflang=\"de\">Deutsch</a>"),
        "{body}"
    );
    assert!(body.contains("<strong lang=\"en\" aria-current=\"true\">English</strong>"));
    let res = app
        .client
        .get(app.url("/language/de?next=%2Fregister%3Finvite%3Dx"))
        .send()
        .await
        .expect("pick");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/register?invite=x");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        cookie.starts_with("pkidp_lang=de;")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let res = get_page(&app.client, &app.url("/login"), Some("en")).await;
    assert_eq!(res.headers()["content-language"], "de");
    for (path, status, to) in [
        ("/language/en?next=//evil.example/", 303, Some("/account")),
        ("/language/en", 303, Some("/")),
        ("/language/fr?next=/login", 404, None),
    ] {
        let res = app.client.get(app.url(path)).send().await.expect("pick");
        assert_eq!(res.status(), status, "{path}");
        if let Some(to) = to {
            assert_eq!(res.headers()["location"], to, "{path}");
        }
    }
    let res = get_page(&app.client, &app.url("/language/fr"), None).await;
    assert_eq!(res.status(), 404);
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("There is no page here"));
    let res = get_page(&app.client, &app.url("/login"), Some("de")).await;
    assert_eq!(
        res.headers()["content-language"],
        "en",
        "picked English wins"
    );

    let german_default = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__UI__DEFAULT_LANGUAGE", "de"),
    )
    .await;
    for (header, lang) in [(None, "de"), (Some("fr, it"), "de"), (Some("en"), "en")] {
        let res = get_page(
            &german_default.client,
            &german_default.url("/register"),
            header,
        )
        .await;
        assert_eq!(res.headers()["content-language"], lang, "{header:?}");
    }
    let res = get_page(
        &german_default.client,
        &german_default.url("/nowhere"),
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.expect("page");
    assert!(body.contains(german().t("not_found.heading")), "{body}");
}

/// Whatever a person can read on the page: its text, its title and the labels of its controls.
fn readable(page: &mut Page) -> String {
    page.eval(
        "[document.title, document.body.innerText].concat(Array.from(\
         document.querySelectorAll('[aria-label], [placeholder], [title]'), (e) => \
         [e.getAttribute('aria-label'), e.getAttribute('placeholder'), e.getAttribute('title')]\
         .filter(Boolean).join('\\n'))).join('\\n')",
    )
    .expect("text")
    .as_str()
    .unwrap_or("")
    .to_string()
}

/// Fails if the page shows an English sentence of the catalog (any part of three words or
/// more between placeholders) or a catalog key that did not resolve.
fn assert_german(page: &mut Page, place: &str) {
    let lang = page.eval("document.documentElement.lang").expect("lang");
    assert_eq!(lang, "de", "{place}");
    let text = readable(page);
    let left = english_left(&text);
    assert!(
        left.is_empty(),
        "{place}: English left on a German page: {left:?}\n{text}"
    );
    for prefix in ["js.", "error.", "dom."] {
        let raw = text.match_indices(prefix).any(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
        });
        assert!(!raw, "{place}: a key without a string: {text}");
    }
}

/// The English catalog sentences (parts of three words or more between placeholders) in `text`.
fn english_left(text: &str) -> Vec<&'static str> {
    let mut left = Vec::new();
    for (key, english_text) in english().keys() {
        if german().t(key) == english_text {
            continue;
        }
        left.extend(
            english_text
                .split(['{', '}'])
                .step_by(2)
                .map(str::trim)
                .filter(|f| f.split_whitespace().count() >= 3 && text.contains(*f)),
        );
    }
    left
}

fn wait(page: &mut Page, condition: &str, what: &str) {
    if page.wait_for(condition, WAIT).is_err() {
        let status = page.text("#status").unwrap_or_default();
        panic!("{what}: never true: {condition}; status {status:?}");
    }
}

fn wait_status(page: &mut Page, sentence: &str) {
    let js = format!(
        "document.getElementById('status').innerText.includes({})",
        serde_json::to_string(sentence).expect("json")
    );
    wait(page, &js, sentence);
}

#[tokio::test]
async fn a_german_speaker_sees_no_english_from_sign_up_to_sign_out() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, authenticator, origin| {
        page.call("Network.enable", json!({})).expect("network");
        page.call(
            "Network.setExtraHTTPHeaders",
            json!({"headers": {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}}),
        )
        .expect("German first");
        let de = german();

        // Sign-up: the page, the typed check and the server's refusals in German.
        page.goto(&format!("{origin}/register")).expect("register");
        assert_eq!(page.text("h1").expect("h1"), de.t("common.create_account"));
        page.type_into("#username", "greta lang").expect("type");
        wait(
            page,
            "!document.getElementById('username-error').hidden",
            "live check",
        );
        assert_eq!(
            page.text("#username-error").expect("error"),
            de.t("js.register.username_characters")
        );
        page.type_into("#email", "nicht-email").expect("type");
        page.eval("document.getElementById('username').value = 'greta'")
            .expect("fix");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait(
            page,
            "!document.getElementById('email-error').hidden",
            "email check",
        );
        assert_eq!(
            page.text("#email-error").expect("error"),
            de.t("js.register.email_invalid")
        );
        // The username's earlier sentence went with the submit that found it fixed.
        assert_eq!(
            page.eval("document.getElementById('username-error').hidden")
                .expect("cleared"),
            true
        );
        assert_german(page, "register with errors");
        shot(page, "de-register-errors");
        page.eval("document.getElementById('email').value = ''")
            .expect("clear");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait_path(page, "/account");

        // The account page with its lists loaded, new codes, and a refused rename.
        wait(
            page,
            "document.getElementById('sessions-section').getAttribute('aria-busy') === 'false' && \
             document.getElementById('activity-section').getAttribute('aria-busy') === 'false'",
            "lists loaded",
        );
        assert_eq!(page.text("h1").expect("h1"), de.t("account.title"));
        assert_german(page, "account, welcome");
        // The server's English browser name, said in German.
        let browser = de.f(
            "names.browser_on",
            &[("browser", "Chrome"), ("system", "Linux")],
        );
        assert_eq!(
            page.text("#session-list .session .name").expect("session"),
            browser
        );
        // The new passkey is named in German too.
        let named = de.f(
            "names.browser_on",
            &[("browser", "Chrome"), ("system", "Linux")],
        );
        assert_eq!(page.text("#passkeys .passkey .name").expect("name"), named);
        page.click("#step-codes button[data-action=recovery-codes]")
            .expect("codes");
        wait(
            page,
            "document.querySelectorAll('#code-list li').length === 10",
            "codes",
        );
        assert_german(page, "account, recovery codes");
        shot(page, "de-account");
        page.click("#passkeys .passkey button[data-action=rename]")
            .expect("rename");
        page.eval("document.querySelector('form.rename input').value = ' '")
            .expect("blank");
        page.click("form.rename button[type=submit]").expect("save");
        wait(
            page,
            "document.getElementById('status').classList.contains('error')",
            "refused",
        );
        assert_german(page, "account, rename refused");
        // The refusal is said beside the passkey, not above the heading.
        assert_eq!(
            page.eval("!!document.getElementById('status').closest('.passkey')")
                .expect("where"),
            true
        );

        // Signed out: the page that closes the loop, in German.
        page.click("button[data-action=logout]").expect("sign out");
        wait_path(page, "/signed-out");
        assert_eq!(page.text("h1").expect("h1"), de.t("signed_out.title"));
        assert_german(page, "signed out");
        shot(page, "de-signed-out");

        // Sign-in: nothing typed, then a cancelled prompt.
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.goto(&format!("{origin}/login")).expect("login");
        page.click("#username-form button[type=submit]")
            .expect("empty");
        wait_status(page, de.t("js.login.username_missing"));
        assert_german(page, "login");
        shot(page, "de-login");
        // The person closes the prompt (the authenticator cannot verify them).
        page.click("#passkey-signin").expect("passkey");
        wait_status(page, de.t("dom.NotAllowedError"));
        assert_german(page, "login, nothing happened");

        // Recovery with a wrong code, and a page that is not there.
        page.goto(&format!("{origin}/recover")).expect("recover");
        page.type_into("#username", "greta").expect("type");
        page.type_into("#code", "aaaa-bbbb-cccc").expect("type");
        page.click("#recover-form button[type=submit]")
            .expect("submit");
        wait_status(page, de.t("error.invalid_recovery_code"));
        assert_german(page, "recover refused");
        shot(page, "de-recover-refused");
        page.goto(&format!("{origin}/kein-weg")).expect("404");
        assert_eq!(page.text("h1").expect("h1"), de.t("not_found.heading"));
        assert_german(page, "not found");

        // English from the footer, on the same page, and it stays.
        page.click("#languages a[hreflang=en]").expect("English");
        page.wait_for("document.documentElement.lang === 'en'", WAIT)
            .expect("English page");
        assert_eq!(page.eval("location.pathname").expect("path"), "/kein-weg");
        page.goto(&format!("{origin}/login")).expect("login");
        assert_eq!(page.text("h1").expect("h1"), english().t("login.title"));
        // The check above can fail: on the English page it finds English.
        let text = readable(page);
        assert!(
            english_left(&text).contains(&english().t("login.username_help")),
            "{text}"
        );
    })
    .await;
}

const LOGO: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><circle cx=\"16\" cy=\"16\" r=\"14\" fill=\"#7b2cbf\"/></svg>";

#[tokio::test]
async fn the_operators_brand_is_on_every_page_under_the_same_csp() {
    let dir = scratch_dir("brand");
    let logo = dir.join("acme.svg");
    std::fs::write(&logo, LOGO).expect("logo");
    let app = spawn_with(
        TestConfig::new(Backend::Embedded)
            .with("PASSKEY_IDP__UI__PRODUCT_NAME", "Acme ID")
            .with("PASSKEY_IDP__UI__LOGO_FILE", logo.to_str().expect("path"))
            .with("PASSKEY_IDP__UI__ACCENT_COLOR", "#7b2cbf")
            .with(
                "PASSKEY_IDP__UI__SUPPORT_URL",
                "https://help.acme.example/passkeys",
            ),
    )
    .await;
    for path in [
        "/",
        "/login",
        "/register",
        "/recover",
        "/signed-out",
        "/nowhere",
    ] {
        let res = get_page(&app.client, &app.url(path), None).await;
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        let body = res.text().await.expect("page");
        assert!(body.contains("Acme ID</title>"), "{path}: {body}");
        assert!(body.contains("<img class=\"logo\" src=\"/static/logo.svg\" alt=\"\" height=\"32\"><span>Acme ID</span>"), "{path}");
        assert!(
            body.contains("<link rel=\"stylesheet\" href=\"/static/brand.css\">"),
            "{path}"
        );
        assert!(
            body.contains("<a href=\"https://help.acme.example/passkeys\">Contact support</a>"),
            "{path}"
        );
        assert!(
            !body.contains("passkey-idp"),
            "{path}: the default name shows"
        );
    }
    let css = app
        .client
        .get(app.url("/static/brand.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.expect("css");
    assert!(
        css.contains("--accent: #7b2cbf; --accent-fg: #ffffff;"),
        "{css}"
    );
    let served = app
        .client
        .get(app.url("/static/logo.svg"))
        .send()
        .await
        .expect("logo");
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    assert_eq!(served.text().await.expect("svg"), LOGO);
    assert_eq!(
        app.client
            .get(app.url("/static/logo.png"))
            .send()
            .await
            .expect("png")
            .status(),
        404
    );

    // Without a brand, none of it.
    let plain = spawn_app(Backend::Embedded).await;
    let body = get_page(&plain.client, &plain.url("/login"), None)
        .await
        .text()
        .await
        .expect("page");
    assert!(
        !body.contains("brand.css")
            && !body.contains("class=\"logo\"")
            && !body.contains("id=\"support\"")
    );
    assert_eq!(
        plain
            .client
            .get(plain.url("/static/brand.css"))
            .send()
            .await
            .expect("css")
            .status(),
        404
    );

    // In the browser, at both widths: the accent colours the main button.
    in_browser(&app, |page, _, origin| {
        page.goto(&format!("{origin}/login")).expect("login");
        assert_eq!(
            page.eval(
                "getComputedStyle(document.getElementById('passkey-signin')).backgroundColor"
            )
            .expect("colour"),
            "rgb(123, 44, 191)"
        );
        assert_eq!(
            page.eval("document.querySelector('header .logo').naturalWidth > 0")
                .expect("logo"),
            true
        );
        shot(page, "brand-login");
    })
    .await;
}

#[test]
fn a_brand_that_would_not_read_stops_the_start_with_one_line() {
    for (setting, value, says) in [
        (
            "PASSKEY_IDP__UI__ACCENT_COLOR",
            "#ffdd00",
            "ui.accent_color",
        ),
        ("PASSKEY_IDP__UI__ACCENT_COLOR", "purple", "ui.accent_color"),
        (
            "PASSKEY_IDP__UI__LOGO_FILE",
            "/nonexistent/logo.svg",
            "ui.logo_file",
        ),
        (
            "PASSKEY_IDP__UI__SUPPORT_URL",
            "http://help.example.com",
            "ui.support_url",
        ),
        (
            "PASSKEY_IDP__UI__DEFAULT_LANGUAGE",
            "fr",
            "ui.default_language",
        ),
    ] {
        let out = crate::helpers::run_cli(&["migrate"], &[(setting, value)]);
        assert!(!out.status.success(), "{setting}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{setting}={value}: {stderr}");
        assert!(stderr.trim().lines().count() <= 2, "{stderr}");
    }
}
