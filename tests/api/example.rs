//! The example app of `examples/spa/`, served from its own origin, signs up and in against the
//! IdP in headless Chromium: cross-origin, with CORS and the ceremony field, no IdP cookie.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::browser::{AuthenticatorOptions, Browser};
use crate::helpers::{spawn_with, Backend, TestConfig};

/// Serves `files` (URL path → file in the repository, content type) on a free port; GET only.
fn serve(files: &'static [(&'static str, &'static str, &'static str)]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            let found = files.iter().find(|(url, _, _)| *url == path);
            let kind = found.map(|(_, _, kind)| *kind).unwrap_or("");
            let body = found.and_then(|(_, file, _)| std::fs::read(file).ok());
            let mut stream = reader.into_inner();
            let _ = match body {
                Some(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(&body))
                }
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    port
}

/// The origin of the page server on `port`, and an IdP that allows it.
async fn idp_allowing(port: u16) -> (String, crate::helpers::TestApp) {
    let origin = format!("http://localhost:{port}");
    let app = spawn_with(
        TestConfig::new(Backend::Postgres).with("PASSKEY_IDP__WEBAUTHN__ALLOWED_ORIGINS", &origin),
    )
    .await;
    (origin, app)
}

/// Chromium with a virtual authenticator, at `url`. Keep the browser alive while using the page.
fn open_with_authenticator(url: &str) -> (Browser, crate::browser::Page) {
    let mut browser = Browser::launch().expect("Chromium starts (the test command installs it)");
    let mut page = browser.new_page().expect("a page");
    page.enable_webauthn().expect("WebAuthn domain");
    page.add_virtual_authenticator(AuthenticatorOptions::default())
        .expect("virtual authenticator");
    page.goto(url).expect("page");
    (browser, page)
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_app_signs_up_and_in_from_another_origin() {
    let example_port = serve(&[
        ("/", "examples/spa/index.html", HTML),
        ("/app.js", "examples/spa/app.js", JS),
    ]);
    let (example, app) = idp_allowing(example_port).await;
    let idp = app.origin.clone();
    tokio::task::spawn_blocking(move || {
        let wait = Duration::from_secs(10);
        let (_browser, mut page) = open_with_authenticator(&format!("{example}/"));
        page.eval(&format!(
            "document.getElementById('idp').value = {}",
            serde_json::to_string(&idp).expect("json")
        ))
        .expect("set idp");
        page.type_into("#username", "spa-user").expect("type");
        page.click("#signup").expect("sign up");
        page.wait_for(
            "document.getElementById('out').textContent.includes('signed_up')",
            wait,
        )
        .unwrap_or_else(|_| panic!("{:?}", page.text("#out")));
        page.click("#signin").expect("sign in");
        page.wait_for(
            "document.getElementById('out').textContent.includes('signed_in')",
            wait,
        )
        .unwrap_or_else(|_| panic!("{:?}", page.text("#out")));
        let out = page.text("#out").expect("out");
        assert!(out.contains("access_token"), "{out}");
        let cookies = page
            .eval("document.cookie")
            .expect("cookies")
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(
            !cookies.contains("pkidp"),
            "the app holds no IdP cookie: {cookies}"
        );
    })
    .await
    .expect("browser test");
}

/// Runs the real `@passwordless-id/webauthn` browser build `library` (installed from the
/// lockfile in `tests/js/` by the test command) through `page`, in Chromium on another origin:
/// registration, then a usernameless sign-in (the library's own user handle comes back and must
/// match what the server recorded).
async fn passwordless_id(page: &'static str, library: &'static str, username: &'static str) {
    assert!(
        std::path::Path::new(library).exists(),
        "{library} is missing: run `npm ci --prefix tests/js` (the test command does)"
    );
    let files: &'static [(&str, &str, &str)] = Box::leak(Box::new([
        ("/", page, HTML),
        ("/webauthn.min.js", library, JS),
    ]));
    let (page_origin, app) = idp_allowing(serve(files)).await;
    let idp = app.origin.clone();
    tokio::task::spawn_blocking(move || {
        let wait = Duration::from_secs(10);
        let (_browser, mut page) = open_with_authenticator(&format!("{page_origin}/"));
        page.wait_for("window.ready === true", wait)
            .expect("library loaded");
        let result = page
            .eval(&format!(
                "window.run({}, {})",
                serde_json::to_string(&idp).expect("json"),
                serde_json::to_string(username).expect("json")
            ))
            .unwrap_or_else(|e| panic!("the library's ceremonies failed: {e}"));
        assert!(result["access_token"].is_string(), "{result}");
    })
    .await
    .expect("browser test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_passwordless_id_library_2_registers_and_signs_in() {
    passwordless_id(
        "tests/js/passwordless-id.html",
        "tests/js/node_modules/@passwordless-id/webauthn/dist/browser/webauthn.min.js",
        "libuser2",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_passwordless_id_library_1_registers_and_signs_in() {
    passwordless_id(
        "tests/js/passwordless-id-v1.html",
        "tests/js/node_modules/passwordless-id-webauthn-1/dist/webauthn.min.js",
        "libuser1",
    )
    .await;
}
