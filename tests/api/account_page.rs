//! The account page's "Where you're signed in", "Recent activity" and "Delete my account"
//! sections in headless Chromium (virtual authenticator), with a second session signed in from a
//! separate HTTP client, and the WebAuthn Signal API calls the pages make (Chromium's virtual
//! authenticator acts on them: an unlisted passkey is deleted, an unknown one too).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use passkey_idp::admin::links::InviteSpec;
use serde_json::{json, Value};

use crate::authenticator::{SoftAuthenticator, Tamper};
use crate::browser::{AuthenticatorOptions, Browser, Page};
use crate::helpers::{
    new_client, reply, spawn_app, spawn_with, Backend, Reply, TestApp, TestConfig,
};

const WAIT: Duration = Duration::from_secs(10);

/// A browser, a page and a virtual authenticator (a phone: CTAP2, internal, user verification).
fn open_browser() -> (Browser, Page, String) {
    let mut browser = Browser::launch().expect("Chromium starts (the test command installs it)");
    let mut page = browser.new_page().expect("a page");
    page.enable_webauthn().expect("WebAuthn domain");
    let authenticator = page
        .add_virtual_authenticator(AuthenticatorOptions::default())
        .expect("virtual authenticator");
    (browser, page, authenticator)
}

use crate::pages::shot;

fn status(page: &mut Page) -> String {
    page.text("#status").expect("status")
}

/// Waits until the element `css` exists and its text includes `needle`.
fn wait_text(page: &mut Page, css: &str, needle: &str) {
    let [css_js, needle_js] = [css, needle].map(|s| serde_json::to_string(s).expect("json"));
    let js = format!("(document.querySelector({css_js}) || {{}}).innerText.includes({needle_js})");
    if page.wait_for(&js, WAIT).is_err() {
        let text = page.text(css).unwrap_or_default();
        panic!(
            "{css} never said {needle:?}: {text:?} (status {:?})",
            status(page)
        );
    }
}

fn wait_shown(page: &mut Page, id: &str) {
    let js = format!("!document.getElementById('{id}').hidden");
    if page.wait_for(&js, WAIT).is_err() {
        panic!("#{id} never shown; status {:?}", status(page));
    }
}

fn eval(page: &mut Page, js: &str) -> Value {
    page.eval(js).expect("eval")
}

fn wait_path(page: &mut Page, path: &str) {
    let js = format!("window.location.pathname === '{path}'");
    if page.wait_for(&js, WAIT).is_err() {
        panic!(
            "never reached {path}; at {:?} with status {:?}",
            page.url().unwrap_or_default(),
            status(page)
        );
    }
    page.wait_for("document.readyState === 'complete'", WAIT)
        .expect("loaded");
}

fn sign_up(page: &mut Page, origin: &str, username: &str, display_name: &str) {
    page.goto(&format!("{origin}/register"))
        .expect("register page");
    page.type_into("#username", username).expect("type");
    page.type_into("#display_name", display_name).expect("type");
    page.click("#register-form button[type=submit]")
        .expect("submit");
    wait_path(page, "/account");
}

/// Waits until the sessions section lists `n` sessions (it is filled from `/account/sessions`).
fn wait_sessions(page: &mut Page, n: u64) {
    wait_sections(page);
    let listed = count(page, "#session-list li");
    let note = page.text("#sessions-note").unwrap_or_default();
    assert_eq!(
        listed,
        n,
        "sessions listed (note {note:?}, status {:?})",
        status(page)
    );
}

/// Waits until the sections filled from the JSON endpoints are loaded (they move what is below
/// them, so clicks wait for this).
fn wait_sections(page: &mut Page) {
    page.wait_for(
        "['sessions-section', 'activity-section'].every((id) => \
         document.getElementById(id).getAttribute('aria-busy') === 'false')",
        WAIT,
    )
    .expect("the account page's sections load");
}

fn count(page: &mut Page, css: &str) -> u64 {
    let js = format!("document.querySelectorAll(\"{css}\").length");
    eval(page, &js).as_u64().unwrap_or(0)
}

/// CDP's base64 (standard, padded) as the pages write it (base64url, unpadded).
fn b64url(cdp: &Value) -> String {
    let bytes = STANDARD
        .decode(cdp.as_str().expect("a base64 string"))
        .expect("base64");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Polls the virtual authenticator until it holds exactly `ids`.
fn wait_credentials(page: &mut Page, authenticator: &str, ids: &[&str], why: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let held = page.credentials(authenticator).expect("credentials");
        let mut held: Vec<String> = held.iter().map(|c| b64url(&c["credentialId"])).collect();
        held.sort();
        let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        want.sort();
        if held == want {
            return;
        }
        if Instant::now() >= deadline {
            panic!("{why}: the authenticator holds {held:?}, expected {want:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The browser's session cookie (HttpOnly, so read over CDP): (name, value).
fn session_cookie(page: &mut Page, origin: &str) -> (String, String) {
    let r = page
        .call("Network.getCookies", json!({ "urls": [origin] }))
        .expect("Network.getCookies");
    let cookies = r["cookies"].as_array().expect("cookies");
    let named = |c: &&Value| {
        c["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("pkidp_session"))
    };
    let c = cookies
        .iter()
        .find(named)
        .expect("the browser's session cookie");
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    (text(&c["name"]), text(&c["value"]))
}

/// An HTTP client that carries the browser's session cookie (and keeps ceremony cookies).
fn client_with_cookie(app: &TestApp, (name, value): &(String, String)) -> reqwest::Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let url: reqwest::Url = app.address.parse().expect("url");
    jar.add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn credentials_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    let res = client
        .get(app.url("/account/credentials"))
        .send()
        .await
        .expect("request");
    reply(res).await.status.as_u16()
}

/// Adds a passkey held by `device` to the account signed in on `client`.
async fn add_passkey(app: &TestApp, client: &reqwest::Client, device: &mut SoftAuthenticator) {
    let begin = app
        .post_json_with(client, "/account/credentials/begin", &json!({}))
        .await;
    let options = begin.assert_ok().clone();
    let response = device
        .create(&options, &app.origin, &Tamper::default())
        .expect("the soft authenticator creates a passkey");
    let finish = app.post_json_with(client, "/account/credentials/finish", &response);
    finish.await.assert_ok();
}

/// A usernameless sign-in with `device` on `client`.
async fn sign_in(app: &TestApp, client: &reqwest::Client, device: &mut SoftAuthenticator) -> Reply {
    let begin = app
        .post_json_with(client, "/webauthn/login/begin", &json!({}))
        .await;
    let options = begin.assert_ok().clone();
    let response = device
        .get(&options, &app.origin, &Tamper::default())
        .expect("the soft authenticator signs");
    app.post_json_with(client, "/webauthn/login/finish", &response)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_activity_signals_and_deleting_the_account() {
    let app = spawn_app(Backend::Postgres).await;
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let (_browser, mut page, authenticator) = open_browser();
        let page = &mut page;
        let origin = app.origin.clone();

        // Signed up in the browser: one session, this one.
        sign_up(page, &origin, "frank", "Frank Example");
        wait_sessions(page, 1);
        assert_eq!(count(page, "#session-list li[data-current=true]"), 1);
        wait_text(page, "#session-list", "This device");
        // Times in local time, the exact value in <time datetime>.
        let iso = eval(page, "document.querySelector('#session-list time').dateTime");
        let rfc3339 = chrono::DateTime::parse_from_rfc3339(iso.as_str().unwrap_or_default());
        assert!(rfc3339.is_ok(), "an RFC 3339 value: {iso}");

        let signal_api = eval(
            page,
            "['signalAllAcceptedCredentials', 'signalCurrentUserDetails', 'signalUnknownCredential']\
             .every((m) => typeof PublicKeyCredential[m] === 'function')",
        ) == Value::Bool(true);
        let held = page.credentials(&authenticator).expect("credentials");
        assert_eq!(held.len(), 1, "one passkey after sign-up: {held:?}");
        let browser_passkey = b64url(&held[0]["credentialId"]);
        let user_handle = b64url(&held[0]["userHandle"]);

        // A second session for frank from another client: it gets a passkey of its own (added
        // with the browser's session) and signs in with it.
        let browser_cookie = session_cookie(page, &origin);
        let with_browser_session = client_with_cookie(&app, &browser_cookie);
        let mut laptop = SoftAuthenticator::new();
        rt.block_on(add_passkey(&app, &with_browser_session, &mut laptop));
        let laptop_passkey = URL_SAFE_NO_PAD.encode(&laptop.credentials()[0].id);
        let other = new_client();
        rt.block_on(sign_in(&app, &other, &mut laptop)).assert_ok();
        assert_eq!(rt.block_on(credentials_status(&app, &other)), 200);

        // A stale passkey for this account on a security key (one the server does not know;
        // an authenticator holds one discoverable passkey per user, so it is on another one):
        // the account page's signalAllAcceptedCredentials makes Chromium drop it.
        let key = page
            .add_virtual_authenticator(AuthenticatorOptions {
                transport: "usb",
                ..AuthenticatorOptions::default()
            })
            .expect("security key");
        let stale = STANDARD.encode([7u8; 16]);
        page.call(
            "WebAuthn.addCredential",
            json!({
                "authenticatorId": key,
                "credential": {
                    "credentialId": stale,
                    "isResidentCredential": true,
                    "rpId": held[0]["rpId"],
                    "privateKey": held[0]["privateKey"],
                    "userHandle": held[0]["userHandle"],
                    "signCount": 0,
                },
            }),
        )
        .expect("stale passkey added");
        assert_eq!(page.credentials(&key).expect("creds").len(), 1);

        page.goto(&format!("{origin}/account")).expect("account");
        wait_sections(page);
        wait_sessions(page, 2);
        assert_eq!(count(page, "#session-list li[data-current=true]"), 1);
        assert_eq!(count(page, "#passkeys .passkey"), 2);
        if signal_api {
            let on_load = "the page signals the accepted passkeys on load";
            wait_credentials(page, &key, &[], on_load);
            wait_credentials(page, &authenticator, &[&browser_passkey], on_load);
            // The page's own signal function, run again: the calls it made.
            let mut calls = eval(page, "window.PasskeyPages.signal()");
            if let Some(ids) = calls[0]["options"]["allAcceptedCredentialIds"].as_array_mut() {
                ids.sort_by_key(Value::to_string);
            }
            let mut ids = [browser_passkey.clone(), laptop_passkey];
            ids.sort();
            let options = json!({ "rpId": "localhost", "userId": user_handle });
            let mut accepted = options.clone();
            accepted["allAcceptedCredentialIds"] = json!(ids);
            let mut details = options;
            details["name"] = json!("frank");
            details["displayName"] = json!("Frank Example");
            let call = |method: &str, options: Value| {
                json!({ "method": method, "options": options, "ok": true, "error": "" })
            };
            assert_eq!(
                calls,
                json!([
                    call("signalAllAcceptedCredentials", accepted),
                    call("signalCurrentUserDetails", details),
                ])
            );
            let held = page.credentials(&authenticator).expect("creds");
            assert_eq!(held.len(), 1, "the real passkey stays: {held:?}");
            assert_eq!(held[0]["userName"], "frank");
            assert_eq!(held[0]["userDisplayName"], "Frank Example");
        } else {
            // Without the Signal API the page does nothing about it (and keeps working).
            assert_eq!(eval(page, "window.PasskeyPages.signal()"), json!([]));
        }

        page.remove_virtual_authenticator(&key)
            .expect("security key put away");

        // Recent activity: the other client's sign-in, in words.
        wait_text(page, "#event-list", "Signed in");
        assert!(count(page, "#event-list li[data-kind=signin_success]") >= 1);
        assert!(count(page, "#event-list time[datetime]") >= 1);
        let activity = page.text("#event-list").expect("events");
        assert!(!activity.contains("signin_success"), "{activity}");
        shot(page, "account-sessions-and-activity");

        // A recovery link used elsewhere (someone holding it): a recovery session, marked as
        // one in the list.
        let admin = passkey_idp::admin::Admin::new(app.app.db.clone(), &origin);
        let link = rt
            .block_on(admin.recovery_link("frank", std::time::Duration::from_secs(3600)))
            .expect("recovery link");
        let token = url::Url::parse(&link.url)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .expect("token");
        let holder = new_client();
        let recovered = rt
            .block_on(
                holder
                    .post(format!("{}/recover", app.address))
                    .json(&json!({ "token": token }))
                    .send(),
            )
            .expect("recover");
        assert_eq!(recovered.status(), 200);
        page.goto(&format!("{origin}/account")).expect("account");
        wait_sections(page);
        wait_sessions(page, 3);
        assert_eq!(count(page, "#session-list li[data-recovery=true]"), 1);
        wait_text(page, "#session-list", "Recovery: can only add a passkey");

        // Sign out everywhere else: the list shrinks to this device, the others are out.
        page.click("[data-action=end-other-sessions]")
            .expect("end other sessions");
        wait_text(page, "#status", "2 sessions ended");
        wait_sessions(page, 1);
        assert_eq!(count(page, "#session-list li[data-current=true]"), 1);
        assert_eq!(rt.block_on(credentials_status(&app, &other)), 401);
        assert_eq!(
            rt.block_on(credentials_status(&app, &with_browser_session)),
            200,
            "this device stays signed in"
        );
        shot(page, "account-other-sessions-ended");

        // Delete the account (the sign-in is recent: no re-authentication).
        page.click("[data-action=delete-account]").expect("delete");
        wait_shown(page, "delete-confirm");
        let warning = page.text("#delete-confirm").expect("confirmation");
        for word in ["passkeys", "sessions", "recovery codes", "cannot be undone"] {
            assert!(warning.contains(word), "{warning}");
        }
        shot(page, "account-delete-confirm");
        page.click("[data-action=confirm-delete-account]")
            .expect("confirm");
        // It ends on a page that says so (and the tab's title too), once: a reload of that
        // page, or a link to it, only says that nobody is signed in.
        wait_path(page, "/signed-out");
        wait_shown(page, "account-deleted");
        let deleted = page.text("#account-deleted h1").expect("heading");
        assert_eq!(deleted, "Your account is deleted");
        assert_eq!(
            eval(page, "document.getElementById('signed-out-note').hidden"),
            true
        );
        assert!(
            eval(page, "document.title")
                .as_str()
                .unwrap_or("")
                .starts_with("Your account is deleted · "),
            "the title says it"
        );
        shot(page, "account-deleted");
        page.goto(&format!("{origin}/signed-out")).expect("again");
        assert_eq!(page.text("h1").expect("h1"), "You are signed out");
        assert_eq!(
            eval(page, "document.getElementById('account-deleted').hidden"),
            true
        );

        // Nothing of the account works any more.
        assert_eq!(
            rt.block_on(credentials_status(&app, &with_browser_session)),
            401
        );
        let refused = rt.block_on(sign_in(&app, &new_client(), &mut laptop));
        assert_eq!(
            (refused.status.as_u16(), refused.error()),
            (401, "unknown_credential"),
            "{}",
            refused.body
        );
        // The browser's passkey: the sign-in page's autofill offers it, the server refuses it,
        // and the page tells the authenticator it is unknown (signalUnknownCredential).
        page.goto(&format!("{origin}/login")).expect("login");
        wait_text(page, "#status", "We don't recognise that passkey");
        assert_eq!(eval(page, "window.location.pathname"), "/login");
        if signal_api {
            let why = "the login page signals the refused passkey as unknown";
            wait_credentials(page, &authenticator, &[], why);
        }
        shot(page, "login-unknown-passkey");
    })
    .await
    .expect("browser test");
}

/// Invite-only sign-up, a recovery link and a re-authentication before deleting the account,
/// through the pages: the invite travels in register/begin, the link is spent only by the
/// button, and an old sign-in is confirmed with the passkey before the account goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_recovery_link_and_reauthenticated_delete() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded)
            .with("PASSKEY_IDP__REGISTRATION__MODE", "invite")
            .with("PASSKEY_IDP__SESSION__REAUTH_MAX_AGE_SECS", "10"),
    )
    .await;
    let admin = passkey_idp::admin::Admin::new(app.app.db.clone(), &app.origin);
    let invite = admin
        .invite(InviteSpec {
            username: Some("grace".into()),
            email: Some("grace@example.com".into()),
            ttl: Duration::from_secs(3600),
            ..InviteSpec::default()
        })
        .await
        .expect("invite");
    let rt = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let (_browser, mut page, phone) = open_browser();
        let page = &mut page;
        let origin = app.origin.clone();

        // Invite-only: no sign-up link, and /register without an invite says so.
        for path in ["/", "/login"] {
            page.goto(&format!("{origin}{path}")).expect("page");
            assert_eq!(count(page, "a[href='/register']"), 0, "{path}");
        }
        page.goto(&format!("{origin}/register")).expect("register");
        assert_eq!(count(page, "#register-form"), 0);
        wait_text(
            page,
            "#signup-closed",
            "Ask an administrator for an invitation",
        );
        shot(page, "register-closed");

        // The invite: username pinned (shown as text, not a field to type in), email
        // prefilled, the token sent with register/begin.
        page.goto(&invite.url).expect("invite page");
        let form = eval(
            page,
            "['username', 'email'].map((id) => document.getElementById(id))\
             .map((input) => [input.value, input.type, input.readOnly])",
        );
        assert_eq!(
            form,
            json!([
                ["grace", "hidden", false],
                ["grace@example.com", "email", false]
            ])
        );
        assert_eq!(count(page, "input[name=username]:not([type=hidden])"), 0);
        assert_eq!(page.text("#username-pinned").expect("pinned"), "grace");
        wait_text(page, "#username-help", "so it can't be changed");
        shot(page, "register-invited");
        page.type_into("#display_name", "Grace").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait_path(page, "/account");
        assert_eq!(page.text("#account-username").expect("name"), "grace");
        // Spent: the same invite no longer opens the form, and the page says what happened.
        page.goto(&invite.url).expect("invite page");
        assert_eq!(count(page, "#register-form"), 0);
        wait_text(
            page,
            "#signup-closed",
            "This invitation was already used or has expired",
        );
        shot(page, "register-invite-spent");

        // The phone is lost, the cookies with it; an administrator sends a recovery link.
        page.remove_virtual_authenticator(&phone).expect("lost");
        page.call("Network.clearBrowserCookies", json!({}))
            .expect("cookies cleared");
        let new_phone = page
            .add_virtual_authenticator(AuthenticatorOptions::default())
            .expect("new phone");
        let link = rt
            .block_on(admin.recovery_link("grace", Duration::from_secs(3600)))
            .expect("recovery link");
        // Opening it (twice) spends nothing: only the button does.
        page.goto(&link.url).expect("recover page");
        page.goto(&link.url).expect("recover page again");
        assert_eq!(count(page, "#recover-form"), 0);
        wait_text(page, "#step-link", "An administrator sent you this link");
        shot(page, "recover-link");
        page.click("#use-link").expect("continue");
        wait_shown(page, "step-passkey");
        page.set_user_verified(&new_phone, false).expect("uv off");
        page.click("#create-passkey").expect("create");
        wait_text(page, "#status", "Your recovery link is used up");
        page.set_user_verified(&new_phone, true).expect("uv on");
        page.click("#create-passkey").expect("create");
        wait_shown(page, "step-done");
        assert_eq!(page.credentials(&new_phone).expect("creds").len(), 1);
        // Sign in with the new passkey (autofill on the login page).
        page.click("#signin-link").expect("sign in");
        wait_path(page, "/account");
        assert_eq!(count(page, "#passkeys .passkey"), 2);
        wait_text(page, "#event-list", "Recovery link used");

        // The link a second time: refused, in words.
        page.goto(&link.url).expect("recover page");
        page.click("#use-link").expect("continue");
        wait_text(page, "#status", "This recovery link doesn't work");
        shot(page, "recover-link-spent");

        // An old sign-in: deleting the account asks for the passkey first, then goes through.
        std::thread::sleep(Duration::from_secs(11));
        page.goto(&format!("{origin}/account")).expect("account");
        let signatures = |page: &mut Page| {
            page.credentials(&new_phone).expect("creds")[0]["signCount"]
                .as_u64()
                .unwrap_or(0)
        };
        let before = signatures(page);
        wait_sections(page);
        page.click("[data-action=delete-account]").expect("delete");
        wait_shown(page, "delete-confirm");
        page.click("[data-action=confirm-delete-account]")
            .expect("confirm");
        wait_path(page, "/signed-out");
        wait_shown(page, "account-deleted");
        // (Chromium probes the allowed passkeys silently first, which also counts.)
        let after = signatures(page);
        assert!(after > before, "a re-authentication: {before} → {after}");
        let gone = rt.block_on(admin.user("grace"));
        assert!(gone.is_err(), "the account is gone");
    })
    .await
    .expect("browser test");
}
