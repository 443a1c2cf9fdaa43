//! The hosted pages in a real headless Chromium with a WebAuthn virtual authenticator (CTAP2,
//! internal transport, resident keys, user verification), against the real server on Postgres
//! and Redis. Each page is saved as a screenshot under `test-artifacts/screenshots/`.
//!
//! Headless Chromium resolves a conditional (autofill) request at once when the authenticator
//! holds a passkey for the site, and rejects it at once when it does not. Tests of the other
//! two ways in first let that request fail (user verification off while the page loads).

use std::path::PathBuf;
use std::time::Duration;

use crate::browser::{AuthenticatorOptions, Browser, Page};
use crate::helpers::{spawn_app, spawn_with, Backend, TestApp, TestConfig};

const WAIT: Duration = Duration::from_secs(10);

/// Shows the page as a phone does: 390 × 844 CSS pixels, touch, twice the pixel density.
pub fn phone_width(page: &mut Page) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
    )
    .expect("phone width");
}

/// Screenshots under `test-artifacts/screenshots/`: NAME.png at a desktop width (1280 px) and
/// NAME-phone.png at a phone's (390 px). A page already shown at a phone's width is taken as
/// it is, once.
pub fn shot(page: &mut Page, name: &str) {
    let dir = PathBuf::from("test-artifacts/screenshots");
    let width = page
        .eval("window.innerWidth")
        .expect("width")
        .as_f64()
        .unwrap_or(0.0);
    if width <= 400.0 {
        page.screenshot(&dir.join(format!("{name}.png")))
            .expect("screenshot");
        return;
    }
    page.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
    )
    .expect("desktop width");
    page.screenshot(&dir.join(format!("{name}.png")))
        .expect("screenshot");
    phone_width(page);
    page.screenshot(&dir.join(format!("{name}-phone.png")))
        .expect("screenshot");
    page.call(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .expect("back to the window's width");
}

/// Runs `f` with a browser page and a virtual authenticator, on a blocking thread.
pub async fn in_browser<F>(app: &TestApp, f: F)
where
    F: FnOnce(&mut Page, String, &str) + Send + 'static,
{
    let origin = app.origin.clone();
    tokio::task::spawn_blocking(move || {
        let mut browser =
            Browser::launch().expect("Chromium starts (the test command installs it)");
        let mut page = browser.new_page().expect("a page");
        page.enable_webauthn().expect("WebAuthn domain");
        let authenticator = page
            .add_virtual_authenticator(AuthenticatorOptions::default())
            .expect("virtual authenticator");
        f(&mut page, authenticator, &origin);
    })
    .await
    .expect("browser test");
}

fn status(page: &mut Page) -> String {
    page.text("#status").expect("status")
}

fn wait_status(page: &mut Page, contains: &str) {
    let js = format!(
        "document.getElementById('status') && document.getElementById('status').innerText.includes({})",
        serde_json::to_string(contains).expect("json")
    );
    if page.wait_for(&js, WAIT).is_err() {
        panic!("status never said {contains:?}; it says {:?}", status(page));
    }
}

pub fn wait_path(page: &mut Page, path: &str) {
    let js = format!(
        "window.location.pathname === {}",
        serde_json::to_string(path).expect("json")
    );
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

pub fn sign_up(page: &mut Page, origin: &str, username: &str, display_name: &str) {
    page.goto(&format!("{origin}/register"))
        .expect("register page");
    page.type_into("#username", username).expect("type");
    if !display_name.is_empty() {
        page.type_into("#display_name", display_name).expect("type");
    }
    page.click("#register-form button[type=submit]")
        .expect("submit");
    wait_path(page, "/account");
}

fn delete_buttons(page: &mut Page) -> u64 {
    page.eval("document.querySelectorAll('#passkeys button[data-action=delete]').length")
        .expect("count")
        .as_u64()
        .unwrap_or(0)
}

/// The text of the focused element.
fn focused(page: &mut Page) -> String {
    page.eval("document.activeElement ? document.activeElement.textContent.trim() : ''")
        .expect("focus")
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn passkey_count(page: &mut Page) -> usize {
    page.eval("document.querySelectorAll('#passkeys .passkey').length")
        .expect("count")
        .as_u64()
        .unwrap_or(0) as usize
}

/// Signs out from the account page, which lands on the signed-out page: it says so, offers
/// the way back in (with the focus-visible button) and starts no passkey request of its own.
fn sign_out(page: &mut Page, authenticator: &str) {
    page.set_user_verified(authenticator, false)
        .expect("uv off");
    page.click("button[data-action=logout]").expect("sign out");
    wait_path(page, "/signed-out");
    assert_eq!(page.text("h1").expect("h1"), "You are signed out");
    assert_eq!(
        page.eval("document.querySelector('main a.button[href=\"/login\"]').textContent")
            .expect("the way back in"),
        serde_json::json!("Sign in again")
    );
    page.set_user_verified(authenticator, true).expect("uv on");
}

/// Loads /login so that its autofill request fails (as when nothing is offered), then turns
/// user verification back on for the way in under test.
fn login_page_without_autofill(page: &mut Page, origin: &str, authenticator: &str) {
    page.set_user_verified(authenticator, false)
        .expect("uv off");
    page.goto(&format!("{origin}/login")).expect("login page");
    std::thread::sleep(Duration::from_millis(300));
    page.set_user_verified(authenticator, true).expect("uv on");
    assert_eq!(status(page), "", "a failed autofill request says nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_sign_out_and_every_way_to_sign_in() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, authenticator, origin| {
        page.goto(&format!("{origin}/register")).expect("register");
        shot(page, "register");
        sign_up(page, origin, "alice", "Alice Example");
        assert!(page
            .text("#welcome")
            .expect("welcome")
            .contains("Add a second passkey"));
        assert!(page
            .text("#welcome")
            .expect("welcome")
            .contains("Save recovery codes"));
        assert_eq!(passkey_count(page), 1);
        let list = page.text("#passkeys").expect("list");
        assert!(list.contains("This device only"), "{list}");
        // Named after where it was made (the provider is shown beside it), created at sign-up.
        assert_eq!(
            page.text("#passkeys .passkey .name").expect("name"),
            "Chrome on Linux"
        );
        assert!(list.contains("Created at sign-up"), "{list}");
        assert!(!list.contains("Never used"), "{list}");
        shot(page, "account-welcome");
        // Shown once: a reload has no welcome box.
        page.goto(&format!("{origin}/account")).expect("account");
        assert_eq!(
            page.eval("!!document.getElementById('welcome')")
                .expect("eval"),
            false
        );

        sign_out(page, &authenticator);
        shot(page, "signed-out");
        // Signed out for real: the account page sends us to sign in.
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.goto(&format!("{origin}/account")).expect("account");
        wait_path(page, "/login");

        // Username-first.
        login_page_without_autofill(page, origin, &authenticator);
        page.type_into("#username", "alice").expect("type");
        page.click("#username-form button[type=submit]")
            .expect("continue");
        wait_path(page, "/account");
        sign_out(page, &authenticator);

        // Usernameless: the button.
        login_page_without_autofill(page, origin, &authenticator);
        page.click("#passkey-signin").expect("button");
        wait_path(page, "/account");
        sign_out(page, &authenticator);

        // Autofill: the conditional request started on load signs in.
        page.goto(&format!("{origin}/login")).expect("login");
        let hint = page
            .eval("document.getElementById('username').getAttribute('autocomplete')")
            .expect("attr");
        assert_eq!(hint, "username webauthn");
        wait_path(page, "/account");
        let creds = page.credentials(&authenticator).expect("credentials");
        assert_eq!(creds.len(), 1);
        assert!(
            creds[0]["signCount"].as_u64().unwrap_or(0) >= 3,
            "three sign-ins: {creds:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_prompts_and_errors_speak_plainly() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, authenticator, origin| {
        sign_up(page, origin, "bob", "");
        // Each ceremony's closed prompt says what to do next in that ceremony: adding a
        // passkey is no sign-in, and a recovery code would not help.
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.click("#passkeys ~ button[data-action=add-passkey]")
            .expect("add");
        wait_status(page, "no passkey was added");
        assert!(!status(page).contains("recovery code"), "{}", status(page));
        page.set_user_verified(&authenticator, true).expect("uv on");
        sign_out(page, &authenticator);
        // The person closes the passkey prompt.
        login_page_without_autofill(page, origin, &authenticator);
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.click("#passkey-signin").expect("button");
        wait_status(page, "The passkey prompt closed without a passkey");
        assert_eq!(
            page.eval("document.activeElement.id").expect("focus"),
            "try-again",
            "the next step has the focus"
        );
        let class = page
            .eval("document.getElementById('status').className")
            .expect("class");
        assert_eq!(
            class, "status",
            "a cancelled prompt is not shown as an error"
        );
        shot(page, "login-cancelled");
        page.set_user_verified(&authenticator, true).expect("uv on");
        // Try again signs in.
        page.click("#try-again").expect("try again");
        wait_path(page, "/account");
        sign_out(page, &authenticator);

        // A username that is taken, in words.
        page.goto(&format!("{origin}/register")).expect("register");
        page.type_into("#username", "bob").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait_status(page, "That username is taken");
        let text = status(page);
        assert!(
            !text.contains("username_taken") && !text.contains("409"),
            "{text}"
        );
        shot(page, "register-taken");
        // A closed prompt at sign-up: no account yet, try again and pick where to save it.
        page.eval("document.getElementById('username').value = ''")
            .expect("clear");
        page.type_into("#username", "bobby").expect("type");
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        wait_status(page, "your account isn't created yet");
        assert!(!status(page).contains("recovery code"), "{}", status(page));
        shot(page, "register-cancelled");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manage_passkeys_on_the_account_page() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, first, origin| {
        sign_up(page, origin, "carol", "Carol");
        // The only passkey offers no Delete, and says why.
        assert_eq!(delete_buttons(page), 0);
        assert!(page
            .text("#only-passkey")
            .expect("hint")
            .contains("only passkey"));
        // The same authenticator again: refused kindly (excludeCredentials).
        page.click("#passkeys ~ button[data-action=add-passkey]")
            .expect("add");
        wait_status(page, "already has a passkey");
        assert_eq!(passkey_count(page), 1);

        // A second device: a security key.
        page.remove_virtual_authenticator(&first)
            .expect("put the phone away");
        let key = page
            .add_virtual_authenticator(AuthenticatorOptions {
                transport: "usb",
                ..AuthenticatorOptions::default()
            })
            .expect("security key");
        page.click("#passkeys ~ button[data-action=add-passkey]")
            .expect("add");
        page.wait_for(
            "document.querySelectorAll('#passkeys .passkey').length === 2",
            WAIT,
        )
        .unwrap_or_else(|_| panic!("second passkey not listed; status {:?}", status(page)));
        // Named so that it differs from the phone's passkey.
        assert_eq!(
            page.text("#passkeys .passkey:nth-child(2) .name").expect("name"),
            "Security key"
        );
        // The page reloaded to list it, and still says so: beside the new passkey, whose
        // Rename button has the focus.
        wait_status(page, "Passkey added:");
        assert_eq!(
            page.eval("document.getElementById('status').closest('.passkey') === document.querySelector('#passkeys .passkey:nth-child(2)')")
                .expect("where"),
            true
        );
        assert_eq!(
            page.eval("document.activeElement === document.querySelector('#passkeys .passkey:nth-child(2) [data-action=rename]')")
                .expect("focus"),
            true
        );
        assert_eq!(
            page.eval("sessionStorage.getItem('passkey-idp:flash')").expect("flash"),
            serde_json::Value::Null,
            "said once"
        );
        // The second passkey's time in the person's terms, the local date on hover.
        let shown = page
            .eval(
                "(() => { const t = document.querySelector('#passkeys .passkey:nth-child(2) time'); \
                 return [t.textContent, t.getAttribute('datetime'), t.title]; })()",
            )
            .expect("time");
        assert_ne!(shown[0], shown[1], "converted from UTC: {shown}");
        assert!(!shown[0].as_str().unwrap_or("").contains("UTC"), "{shown}");
        assert!(!shown[2].as_str().unwrap_or("").is_empty(), "{shown}");
        // The welcome checklist stays, its first step ticked, until the second is done too.
        assert!(page
            .text("#step-passkey")
            .expect("step")
            .contains("Done: a second passkey"));
        assert!(page
            .text("#step-codes")
            .expect("step")
            .contains("Save recovery codes"));
        assert_eq!(
            page.eval("document.getElementById('all-set').hidden")
                .expect("eval"),
            true
        );
        page.click("#step-codes button[data-action=recovery-codes]")
            .expect("codes");
        page.wait_for(
            "document.getElementById('step-codes').classList.contains('done')",
            WAIT,
        )
        .unwrap_or_else(|_| panic!("codes step not ticked; status {:?}", status(page)));
        assert_eq!(
            page.eval("document.getElementById('all-set').hidden")
                .expect("eval"),
            false
        );
        shot(page, "account-two-passkeys");

        // The inline editors close with Escape, Cancel or Keep, and the focus goes back to the
        // row's button that opened them.
        let row = "#passkeys .passkey:nth-child(2)";
        let on = |page: &mut Page, css: &str| {
            page.eval(&format!(
                "document.activeElement === document.querySelector('{css}')"
            ))
            .expect("focus")
        };
        for (action, close) in [
            ("rename", "Escape"),
            ("rename", "form.rename button.cancel"),
            ("delete", "Escape"),
            ("delete", "form.confirm-delete button.cancel"),
        ] {
            page.click(&format!("{row} button[data-action={action}]"))
                .expect("open");
            if close == "Escape" {
                for kind in ["keyDown", "keyUp"] {
                    page.call(
                        "Input.dispatchKeyEvent",
                        serde_json::json!({"type": kind, "key": "Escape", "code": "Escape",
                            "windowsVirtualKeyCode": 27, "nativeVirtualKeyCode": 27}),
                    )
                    .expect("Escape");
                }
            } else {
                page.click(close).expect("close");
            }
            assert_eq!(
                page.eval("document.querySelectorAll('form.inline').length")
                    .expect("editors"),
                0,
                "{action}, {close}: closed"
            );
            let opener = format!("{row} [data-action={action}]");
            assert_eq!(on(page, &opener), true, "{action}, {close}: focus on {action}");
        }

        // Rename the second, with a name that tries to be HTML.
        page.click("#passkeys .passkey:nth-child(2) button[data-action=rename]")
            .expect("rename");
        page.eval("document.querySelector('form.rename input').value = ''")
            .expect("clear");
        page.type_into(
            "form.rename input",
            "<img src=x onerror=\"window.__xss=1\">Blue key",
        )
        .expect("type");
        assert_eq!(delete_buttons(page), 2);
        page.click("form.rename button[type=submit]").expect("save");
        wait_status(page, "Renamed");
        assert_eq!(
            focused(page),
            "Rename",
            "focus back on the row's Rename button"
        );
        page.goto(&format!("{origin}/account")).expect("reload");
        let names = page.text("#passkeys").expect("list");
        assert!(
            names.contains("<img src=x onerror=\"window.__xss=1\">Blue key"),
            "{names}"
        );
        assert_eq!(page.eval("window.__xss === undefined").expect("eval"), true);

        // Delete the first (asks first): focus moves to the passkey left, which can no longer
        // be deleted.
        page.click("#passkeys .passkey:nth-child(1) button[data-action=delete]")
            .expect("delete");
        page.click("form.confirm-delete button[type=submit]")
            .expect("confirm");
        wait_status(page, "Deleted");
        assert_eq!(passkey_count(page), 1);
        assert_eq!(focused(page), "Rename", "focus on the passkey left");
        assert_eq!(delete_buttons(page), 0);
        assert_eq!(
            page.eval("document.getElementById('only-passkey').hidden")
                .expect("eval"),
            false
        );
        page.goto(&format!("{origin}/account")).expect("reload");
        assert_eq!(passkey_count(page), 1);
        assert_eq!(delete_buttons(page), 0);
        let _ = key;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_codes_get_a_person_back_in() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, phone, origin| {
        let authenticator = phone.clone();
        sign_up(page, origin, "dave", "Dave");
        // On a phone.
        phone_width(page);
        page.click("#recovery-title ~ button[data-action=recovery-codes]")
            .expect("codes");
        page.wait_for(
            "document.querySelectorAll('#code-list li').length === 10",
            WAIT,
        )
        .expect("ten codes shown");
        wait_status(page, "New recovery codes made");
        let code = page.text("#code-list li:nth-child(2)").expect("a code");
        // The focus is on the first way to keep them, not lost to the page, and on screen once
        // the words above the codes are shown.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            page.eval("document.activeElement.dataset.action").expect("focus"),
            "copy-codes"
        );
        let copy = page
            .eval(
                "(() => { const r = document.activeElement.getBoundingClientRect(); \
                 return [r.top, r.bottom, innerHeight]; })()",
            )
            .expect("rect");
        let [top, bottom, height] = [0, 1, 2].map(|i| copy[i].as_f64().unwrap_or(-1.0));
        assert!(
            top >= 0.0 && bottom <= height,
            "Copy is off screen on a phone: {copy}"
        );
        page.call("Emulation.clearDeviceMetricsOverride", serde_json::json!({}))
            .expect("desktop");
        shot(page, "account-recovery-codes");
        // One column, each code on one line, even on a phone; ways to keep them.
        for action in ["copy-codes", "download-codes", "print-codes"] {
            let present = format!("!!document.querySelector('#codes [data-action={action}]')");
            assert_eq!(page.eval(&present).expect("eval"), true, "{action}");
        }
        phone_width(page);
        assert_eq!(
            page.eval("getComputedStyle(document.getElementById('code-list')).columnCount")
                .expect("columns"),
            "1"
        );
        let wrapped = page
            .eval(
                "Array.from(document.querySelectorAll('#code-list li')).filter((li) => \
                 li.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(li).fontSize)).length",
            )
            .expect("eval");
        assert_eq!(wrapped, 0, "a code broke across lines");
        shot(page, "account-recovery-codes-phone");
        page.call("Emulation.clearDeviceMetricsOverride", serde_json::json!({}))
            .expect("desktop");
        // New codes would void these: asked first; keeping them changes nothing.
        page.click("#recovery-title ~ button[data-action=recovery-codes]")
            .expect("make new");
        assert_eq!(
            page.eval("document.getElementById('replace-codes').hidden")
                .expect("eval"),
            false
        );
        assert!(page
            .text("#replace-codes")
            .expect("text")
            .contains("voids your 10 unused"));
        page.click("button[data-action=keep-recovery-codes]")
            .expect("keep");
        assert_eq!(
            page.eval("document.getElementById('replace-codes').hidden")
                .expect("eval"),
            true
        );
        assert_eq!(
            page.text("#code-list li:nth-child(2)").expect("a code"),
            code,
            "the codes are unchanged"
        );
        sign_out(page, &authenticator);

        // The phone is lost.
        page.remove_virtual_authenticator(&phone).expect("lost");
        let new_phone = page
            .add_virtual_authenticator(AuthenticatorOptions::default())
            .expect("new phone");
        page.goto(&format!("{origin}/recover")).expect("recover");
        shot(page, "recover");
        page.type_into("#username", "dave").expect("type");
        page.type_into("#code", &code).expect("type");
        page.click("#recover-form button[type=submit]")
            .expect("continue");
        page.wait_for("!document.getElementById('step-passkey').hidden", WAIT)
            .unwrap_or_else(|_| panic!("code not accepted: {:?}", status(page)));
        // The prompt closed: the code is spent, but the passkey can still be made, for the
        // recovery session's ten minutes.
        page.set_user_verified(&new_phone, false).expect("uv off");
        page.click("#create-passkey").expect("create");
        wait_status(page, "Your recovery code is used up");
        assert!(status(page).contains("for the next 10 minutes"), "{}", status(page));
        page.set_user_verified(&new_phone, true).expect("uv on");
        page.click("#create-passkey").expect("create");
        page.wait_for("!document.getElementById('step-done').hidden", WAIT)
            .unwrap_or_else(|_| panic!("passkey not created: {:?}", status(page)));
        shot(page, "recover-done");
        // Sign in with the new passkey (autofill on the login page).
        page.click("#signin-link").expect("sign in");
        wait_path(page, "/account");
        assert_eq!(passkey_count(page), 2);
        assert_eq!(page.credentials(&new_phone).expect("creds").len(), 1);
        sign_out(page, &new_phone);

        // The same code a second time is refused.
        page.goto(&format!("{origin}/recover")).expect("recover");
        page.type_into("#username", "dave").expect("type");
        page.type_into("#code", &code).expect("type");
        page.click("#recover-form button[type=submit]")
            .expect("continue");
        wait_status(page, "don't match, or the code was already used");
        shot(page, "recover-refused");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_in_a_display_name_stays_text() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, _, origin| {
        let evil = "<img src=x onerror=\"window.__xss=1\"><script>x()</script>";
        sign_up(page, origin, "eve", evil);
        assert_eq!(page.text("#account-name").expect("name"), evil);
        assert_eq!(page.eval("window.__xss === undefined").expect("eval"), true);
        assert_eq!(
            page.eval("document.querySelectorAll('main img[src=x], main script').length")
                .expect("eval"),
            0
        );
        shot(page, "account-xss-inert");
    })
    .await;
}

/// A sensitive action with an old sign-in: the page asks for the passkey again (re-auth); a
/// prompt closed there changes nothing; once confirmed, the page says what the next prompt is
/// for before it comes, and the action goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_sign_in_is_confirmed_with_the_passkey_first() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__SESSION__REAUTH_MAX_AGE_SECS", "10"),
    )
    .await;
    in_browser(&app, |page, authenticator, origin| {
        sign_up(page, origin, "gail", "Gail");
        std::thread::sleep(Duration::from_secs(11));
        // The confirmation's prompt closed: nothing changed, and no sign-in advice.
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.click("#recovery-title ~ button[data-action=recovery-codes]")
            .expect("codes");
        wait_status(
            page,
            "it wasn't confirmed that it's you and nothing was changed",
        );
        assert!(!status(page).contains("recovery code"), "{}", status(page));
        page.set_user_verified(&authenticator, true).expect("uv on");
        // Adding a passkey: the confirmation's prompt, then the one that creates the passkey.
        // What the page says when the second one opens (this authenticator holds the account's
        // passkey already, so that one is refused, as a phone would).
        page.eval(
            "(() => { const create = navigator.credentials.create.bind(navigator.credentials); \
             navigator.credentials.create = (options) => { \
               window.saidAtCreate = document.getElementById('status').innerText; \
               return create(options); }; })()",
        )
        .expect("watch the prompt");
        page.click("#passkeys ~ button[data-action=add-passkey]")
            .expect("add");
        wait_status(page, "already has a passkey");
        assert_eq!(
            page.eval("window.saidAtCreate").expect("said"),
            "Confirmed. Now follow your browser's prompt to create the passkey…"
        );
        // Confirmed a moment ago: new codes come at once.
        page.click("#recovery-title ~ button[data-action=recovery-codes]")
            .expect("codes");
        page.wait_for(
            "document.querySelectorAll('#code-list li').length === 10",
            WAIT,
        )
        .unwrap_or_else(|_| panic!("no codes after re-authentication: {:?}", status(page)));
        shot(page, "account-reauthenticated");
    })
    .await;
}

/// WCAG 1.4.11: a field's border against the page, 3:1 at least, in light and dark; WCAG 2.5.5:
/// links in text 44 px tall on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_visible_and_links_easy_to_hit_on_a_phone() {
    const CONTRAST: &str = "(() => {
        const rgb = (s) => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
            .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
        const a = lum(rgb(getComputedStyle(document.getElementById('username')).borderTopColor));
        const b = lum(rgb(getComputedStyle(document.body).backgroundColor));
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    })()";
    let app = spawn_app(Backend::Embedded).await;
    in_browser(&app, |page, _, origin| {
        phone_width(page);
        for scheme in ["light", "dark"] {
            page.call(
                "Emulation.setEmulatedMedia",
                serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
            )
            .expect("scheme");
            page.goto(&format!("{origin}/login")).expect("login");
            let ratio = page.eval(CONTRAST).expect("contrast").as_f64().expect("number");
            assert!(ratio >= 3.0, "{scheme}: field border contrast {ratio:.2}:1");
            let short = page
                .eval(
                    "Array.from(document.querySelectorAll('main p a')).filter((a) => \
                     a.getBoundingClientRect().height < 44).map((a) => a.textContent)",
                )
                .expect("links");
            assert_eq!(short, serde_json::json!([]), "{scheme}: links under 44 px");
            shot(page, &format!("login-phone-{scheme}"));
        }
    })
    .await;
}

/// What is wrong with a field is said under it, with aria-invalid and aria-describedby: the
/// username's characters as they are typed, the server's own sentence for the email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_errors_are_said_under_the_field() {
    let app = spawn_app(Backend::Embedded).await;
    in_browser(&app, |page, _, origin| {
        page.goto(&format!("{origin}/register")).expect("register");
        page.type_into("#username", "Ann Lee!").expect("type");
        assert!(page
            .text("#username-error")
            .expect("error")
            .contains("only letters a-z"));
        let attr = |page: &mut Page, id: &str, name: &str| {
            page.eval(&format!(
                "document.getElementById('{id}').getAttribute('{name}')"
            ))
            .expect("attr")
        };
        assert_eq!(attr(page, "username", "aria-invalid"), "true");
        assert_eq!(
            attr(page, "username", "aria-describedby"),
            "username-help username-error"
        );
        page.eval("document.getElementById('username').value = ''")
            .expect("clear");
        page.type_into("#username", "ann").expect("type");
        assert_eq!(
            attr(page, "username", "aria-invalid"),
            serde_json::Value::Null,
            "fixed: no longer invalid"
        );
        // The server's sentence for a bad email, under the email field.
        page.type_into("#email", "ann at example").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        page.wait_for("!document.getElementById('email-error').hidden", WAIT)
            .unwrap_or_else(|_| panic!("no field error; status {:?}", status(page)));
        let said = page.text("#email-error").expect("error");
        assert!(said.contains("name@example.com"), "{said}");
        assert!(!status(page).contains("Something about that request"));
        assert_eq!(attr(page, "email", "aria-invalid"), "true");
        assert_eq!(
            page.eval("document.activeElement.id").expect("focus"),
            "email"
        );
        shot(page, "register-field-error");
    })
    .await;
}

/// A sign-out that fails is said beside the button, and nothing claims the person is signed
/// out while the session lives. A session that ends while the account page is open: the page
/// stops saying who is signed in and offers the way back in, focused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_closes_the_loop() {
    let app = spawn_app(Backend::Embedded).await;
    in_browser(&app, |page, authenticator, origin| {
        sign_up(page, origin, "erin", "");
        // The sign-out request never reaches the server.
        page.call("Network.enable", serde_json::json!({}))
            .expect("network");
        page.call(
            "Network.setBlockedURLs",
            serde_json::json!({"urls": ["*/logout"]}),
        )
        .expect("block sign-out");
        page.click("button[data-action=logout]").expect("sign out");
        wait_status(page, "We couldn't reach the server");
        assert_eq!(page.eval("location.pathname").expect("path"), "/account");
        assert_eq!(
            page.eval("!!document.getElementById('status').closest('form[action=\"/logout\"]')")
                .expect("where"),
            true,
            "said beside the button"
        );
        shot(page, "account-sign-out-failed");
        page.call("Network.setBlockedURLs", serde_json::json!({"urls": []}))
            .expect("unblock");
        // The signed-out page does not claim it either, and offers to sign out.
        page.goto(&format!("{origin}/signed-out"))
            .expect("signed-out");
        assert_eq!(page.text("h1").expect("h1"), "You are still signed in");
        shot(page, "signed-out-still-signed-in");
        page.click("button[data-action=logout]").expect("sign out");
        page.wait_for("document.getElementById('signed-out')", WAIT)
            .unwrap_or_else(|_| panic!("not signed out; status {:?}", status(page)));
        assert_eq!(page.text("h1").expect("h1"), "You are signed out");
        // Back in (autofill), for what follows.
        page.goto(&format!("{origin}/login")).expect("login");
        wait_path(page, "/account");
        let _ = authenticator;
        page.call("Network.clearBrowserCookies", serde_json::json!({}))
            .expect("the session ends");
        page.click("#recovery-title ~ button[data-action=recovery-codes]")
            .expect("codes");
        page.wait_for("!document.getElementById('session-ended').hidden", WAIT)
            .unwrap_or_else(|_| panic!("no way back; status {:?}", status(page)));
        assert_eq!(
            page.eval("document.getElementById('account-who').hidden")
                .expect("eval"),
            true,
            "no longer says who is signed in"
        );
        assert_eq!(
            page.eval("document.activeElement.getAttribute('href')")
                .expect("focus"),
            "/login?next=/account"
        );
        shot(page, "account-session-ended");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_appears_beside_the_control_on_a_phone() {
    let app = spawn_app(Backend::Postgres).await;
    in_browser(&app, |page, _authenticator, origin| {
        sign_up(page, origin, "dora", "Dora");
        phone_width(page);
        page.goto(&format!("{origin}/account")).expect("account");
        // Far down the page: the same authenticator again is refused, and the sentence is
        // under the button that was pressed, on screen, not above the heading.
        page.eval("document.querySelector('#passkeys ~ [data-action=add-passkey]').scrollIntoView({block: 'end'})")
            .expect("scroll");
        page.click("#passkeys ~ button[data-action=add-passkey]").expect("add");
        wait_status(page, "already has a passkey");
        let placed = page
            .eval(
                "(() => { const s = document.getElementById('status'); const r = s.getBoundingClientRect(); \
                 const b = document.querySelector('#passkeys ~ [data-action=add-passkey]'); \
                 return [r.top >= 0 && r.bottom <= innerHeight, \
                         b.compareDocumentPosition(s) === Node.DOCUMENT_POSITION_FOLLOWING, \
                         s.getBoundingClientRect().top - b.getBoundingClientRect().bottom]; })()",
            )
            .expect("where");
        // The button was disabled while the prompt ran; the focus is back on it.
        assert_eq!(
            page.eval("document.activeElement === document.querySelector('#passkeys ~ [data-action=add-passkey]')")
                .expect("focus"),
            true
        );
        assert_eq!(placed[0], true, "on screen: {placed}");
        assert_eq!(placed[1], true, "after the button: {placed}");
        assert!(placed[2].as_f64().unwrap_or(999.0) < 40.0, "right under it: {placed}");
        shot(page, "account-feedback-phone");
        // A rename refused: said inside that passkey's row.
        page.click("#passkeys .passkey button[data-action=rename]").expect("rename");
        page.eval("document.querySelector('form.rename input').value = ' '").expect("blank");
        page.click("form.rename button[type=submit]").expect("save");
        page.wait_for("document.getElementById('status').classList.contains('error')", WAIT)
            .expect("refused");
        assert_eq!(
            page.eval("!!document.getElementById('status').closest('.passkey')").expect("where"),
            true
        );
        let on_screen = page
            .eval("(() => { const r = document.getElementById('status').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()")
            .expect("visible");
        assert_eq!(on_screen, true);
    })
    .await;
}

/// Too many recovery attempts: the page says the wait the server asks for (`Retry-After`, 15
/// minutes for recovery), in the page's language, not the minute of other limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_lockout_says_how_long_to_wait() {
    let app = spawn_with(
        TestConfig::new(Backend::Embedded).with("PASSKEY_IDP__RATE_LIMIT__RECOVERY_PER_USER", "2"),
    )
    .await;
    in_browser(&app, |page, _, origin| {
        page.goto(&format!("{origin}/recover")).expect("recover");
        let attempt = |page: &mut Page| {
            page.eval("document.getElementById('status').textContent = ''")
                .expect("clear");
            page.eval("document.getElementById('username').value = ''; document.getElementById('code').value = ''")
                .expect("clear");
            page.type_into("#username", "hank").expect("type");
            page.type_into("#code", "aaaa-bbbb-cccc").expect("type");
            page.click("#recover-form button[type=submit]")
                .expect("continue");
        };
        for _ in 0..2 {
            attempt(page);
            wait_status(page, "don't match, or the code was already used");
        }
        attempt(page);
        wait_status(page, "Too many attempts. Wait 15 minutes and try again.");
        shot(page, "recover-locked");
        // In German, the same wait.
        page.click("#languages a[hreflang=de]").expect("Deutsch");
        page.wait_for("document.documentElement.lang === 'de'", WAIT)
            .expect("German page");
        attempt(page);
        wait_status(
            page,
            "Zu viele Versuche. Warten Sie 15 Minuten und versuchen Sie es dann erneut.",
        );
    })
    .await;
}
