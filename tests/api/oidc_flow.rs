//! The whole OIDC flow with the `openidconnect` crate — a relying-party library nobody on this
//! team wrote — unmodified: discovery, authorization with PKCE, state and nonce, the passkey
//! sign-in in headless Chromium, code exchange, ID token validation by the library, userinfo,
//! refresh, revocation and RP-initiated logout.

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, ProviderMetadata, RedirectUrl, RevocationUrl,
    Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::browser::{AuthenticatorOptions, Browser};
use crate::helpers::{spawn_app, Backend};
use crate::oidc::register;

#[derive(Clone, Debug, Deserialize, Serialize)]
struct RevocationMetadata {
    revocation_endpoint: String,
}
impl AdditionalProviderMetadata for RevocationMetadata {}

type Metadata = ProviderMetadata<
    RevocationMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The library's HTTP client (no redirects followed) and the provider's metadata, discovered.
async fn discover(app: &crate::helpers::TestApp) -> (openidconnect::reqwest::Client, Metadata) {
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let issuer = IssuerUrl::new(app.origin.clone()).expect("issuer");
    let metadata = Metadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    (http, metadata)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certified_relying_party_library_runs_the_whole_flow() {
    let app = spawn_app(Backend::Postgres).await;
    let (rp_port, rp_seen) = relying_service();
    let redirect = format!("http://localhost:{rp_port}/callback");
    let signed_out = format!("http://localhost:{rp_port}/signed-out");
    let c = register(&app, "notes-app", false, &[&redirect], &[&signed_out]).await;

    let (http, metadata) = discover(&app).await;
    let revocation = metadata.additional_metadata().revocation_endpoint.clone();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(c.id.clone()),
        Some(ClientSecret::new(c.secret.clone().expect("secret"))),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.clone()).expect("redirect"))
    .set_revocation_url(RevocationUrl::new(revocation).expect("revocation"));

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person: signs up once, signs out, then follows the service's sign-in link and
    // signs in with the passkey on the hosted page.
    let origin = app.origin.clone();
    let auth_url = auth_url.to_string();
    let callback_prefix = redirect.clone();
    let landed = tokio::task::spawn_blocking(move || {
        let mut browser = Browser::launch().expect("Chromium");
        let mut page = browser.new_page().expect("page");
        page.enable_webauthn().expect("webauthn");
        let authenticator = page
            .add_virtual_authenticator(AuthenticatorOptions::default())
            .expect("authenticator");
        page.goto(&format!("{origin}/register")).expect("register");
        page.type_into("#username", "rita").expect("type");
        page.type_into("#email", "rita@example.com").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        page.wait_for("location.pathname === '/account'", Duration::from_secs(10))
            .expect("signed up");
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.click("button[data-action=logout]").expect("sign out");
        page.wait_for(
            "location.pathname === '/signed-out'",
            Duration::from_secs(10),
        )
        .expect("signed out");
        page.set_user_verified(&authenticator, true).expect("uv on");

        page.goto(&auth_url).expect("authorize");
        let js = format!(
            "location.href.startsWith({})",
            serde_json::to_string(&callback_prefix).expect("json")
        );
        // Passkey autofill signs the person in on its own; on a loaded machine it may not have
        // been offered in time, and then the person presses the button.
        if page.wait_for(&js, Duration::from_secs(10)).is_err() {
            let _ = page.click("#passkey-signin");
            if page.wait_for(&js, Duration::from_secs(20)).is_err() {
                panic!("never came back to the service: at {:?}", page.url());
            }
        }
        let landed = page.url().expect("url");
        std::fs::create_dir_all("test-artifacts/screenshots").ok();
        (landed, browser, page, authenticator)
    })
    .await
    .expect("browser");
    let (landed, browser, mut page, authenticator) = landed;
    let landed = url::Url::parse(&landed).expect("callback url");
    let q = |name: &str| {
        landed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        q("state").as_deref(),
        Some(csrf.secret().as_str()),
        "state echoed"
    );
    assert_eq!(
        q("iss").as_deref(),
        Some(app.origin.as_str()),
        "RFC 9207 iss"
    );
    let code = q("code").expect("code");
    assert!(rp_seen
        .lock()
        .expect("lock")
        .iter()
        .any(|(method, path, _)| method == "GET" && path.starts_with("/callback?")));

    // Code exchange and ID token validation, by the library.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the library validates the ID token")
        .clone();
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(
        amr.contains(&"hwk".to_string())
            && amr.contains(&"user".to_string())
            && amr.contains(&"mfa".to_string()),
        "{amr:?}"
    );
    let at_hash = claims.access_token_hash().expect("at_hash");
    assert!(!at_hash.to_string().is_empty());

    // Userinfo, for the ID token's subject.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("rita"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("rita@example.com"));

    // Refresh: new tokens, rotated refresh token, same subject.
    let refresh = tokens
        .refresh_token()
        .expect("a refresh token (offline_access)")
        .clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.refresh_token().map(|r| r.secret()),
        Some(refresh.secret())
    );
    let second = client
        .exchange_refresh_token(&refresh)
        .expect("token endpoint")
        .request_async(&http)
        .await;
    assert!(second.is_err(), "a used refresh token is refused");

    // Revoke the access token: userinfo refuses it from now on.
    // (The library refuses to send revocation requests to a non-https endpoint, which the
    // test server on localhost is; so this one RFC 7009 request is made by hand.)
    let revoked = http
        .post(format!("{}/revoke", app.origin))
        .basic_auth(&c.id, c.secret.as_deref())
        .form(&[
            ("token", refreshed.access_token().secret().as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    let after: Result<CoreUserInfoClaims, _> = client
        .user_info(refreshed.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&http)
        .await;
    assert!(after.is_err(), "a revoked access token is refused");

    // RP-initiated logout: back to the service's registered address, with its state; the IdP
    // session is over.
    let logout = format!(
        "{}/logout?{}",
        app.origin,
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", &id_token.to_string())
            .append_pair("post_logout_redirect_uri", &signed_out)
            .append_pair("state", "bye")
            .finish()
    );
    let origin = app.origin.clone();
    tokio::task::spawn_blocking(move || {
        let _browser = browser;
        page.goto(&logout).expect("logout");
        page.wait_for(
            "location.pathname === '/signed-out'",
            Duration::from_secs(10),
        )
        .unwrap_or_else(|_| panic!("not sent back after logout: {:?}", page.url()));
        assert!(page.url().expect("url").ends_with("state=bye"));
        // (The login page would sign straight back in by autofill; keep it from doing so.)
        page.set_user_verified(&authenticator, false)
            .expect("uv off");
        page.goto(&format!("{origin}/account")).expect("account");
        page.wait_for("location.pathname === '/login'", Duration::from_secs(10))
            .expect("signed out at the IdP");
    })
    .await
    .expect("browser");
}

/// Requests a relying service received: method, path and body.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// The relying service's own little web server (answers by redirect or by form POST): records
/// each request's method, path and body, answers 200.
fn relying_service() -> (u16, Received) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: Received = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length.min(64 * 1024)];
            let _ = reader.read_exact(&mut body);
            log.lock().expect("lock").push((
                method,
                path,
                String::from_utf8_lossy(&body).into_owned(),
            ));
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_takes_the_code_by_form_post() {
    let app = spawn_app(Backend::Postgres).await;
    let (rp_port, posts) = relying_service();
    let redirect = format!("http://localhost:{rp_port}/signin-oidc");
    let c = register(&app, "dotnet-style-app", false, &[&redirect], &[]).await;
    let (http, metadata) = discover(&app).await;
    // Discovery says the provider answers by form POST.
    assert!(metadata
        .response_modes_supported()
        .expect("response_modes_supported")
        .contains(&CoreResponseMode::FormPost));
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(c.id.clone()),
        Some(ClientSecret::new(c.secret.clone().expect("secret"))),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.clone()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_extra_param("response_mode", "form_post")
        .set_pkce_challenge(challenge)
        .url();
    assert!(auth_url.as_str().contains("response_mode=form_post"));

    // The person, signed in already, follows the link: the page posts the answer back.
    let origin = app.origin.clone();
    let auth_url = auth_url.to_string();
    let seen = posts.clone();
    tokio::task::spawn_blocking(move || {
        let mut browser = Browser::launch().expect("Chromium");
        let mut page = browser.new_page().expect("page");
        page.enable_webauthn().expect("webauthn");
        page.add_virtual_authenticator(AuthenticatorOptions::default())
            .expect("authenticator");
        page.goto(&format!("{origin}/register")).expect("register");
        page.type_into("#username", "fiona").expect("type");
        page.click("#register-form button[type=submit]")
            .expect("submit");
        page.wait_for("location.pathname === '/account'", Duration::from_secs(10))
            .expect("signed up");
        page.goto(&auth_url).expect("authorize");
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while seen.lock().expect("lock").is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing was posted back; at {:?}",
                page.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("browser");

    let (method, path, body) = posts.lock().expect("lock")[0].clone();
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/signin-oidc"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(field("iss").as_deref(), Some(app.origin.as_str()));
    let code = field("code").expect("code in the posted form");

    // The library exchanges the posted code and validates the ID token.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the library validates the ID token");
    assert!(claims.auth_time().is_some());
}
