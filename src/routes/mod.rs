//! The HTTP layer, and the only code that knows actix: thin handlers, one file per area, which
//! read the request, call one domain operation and shape its answer; [`error`] maps every
//! refusal to its status, code and sentence.

mod account;
pub mod admin_api;
mod answers;
mod body;
pub mod cookies;
pub mod error;
pub mod middleware;
mod oidc;
mod ops;
mod pages;
mod webauthn;
mod wellknown;

pub use self::pages::not_found::not_found;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use self::error::ApiError;
use crate::events::{browser_family, Caller};
use crate::ids::{SessionSecret, UserId};
use crate::session::{Denied, Need, Session};
use crate::settings::Settings;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    admin_api::configure(cfg);
    cfg.service(webauthn::register_begin)
        .service(webauthn::register_finish)
        .service(webauthn::login_begin)
        .service(webauthn::login_finish)
        .service(account::list)
        .service(account::rename)
        .service(account::remove)
        .service(account::add_begin)
        .service(account::add_finish)
        .service(account::recovery_codes)
        .service(account::recover)
        .service(account::reauth_begin)
        .service(account::reauth_finish)
        .service(account::sessions)
        .service(account::end_other_sessions)
        .service(account::events)
        .service(account::delete_account)
        .service(account::logout)
        .service(wellknown::jwks)
        .service(wellknown::related_origins)
        .service(oidc::discovery)
        .service(oidc::authorize)
        .service(oidc::authorize_continue)
        .service(oidc::token_endpoint)
        .service(oidc::userinfo)
        .service(oidc::end_session)
        .service(oidc::revoke)
        .service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(pages::start::index)
        .service(pages::login::login)
        .service(pages::login::login_posted)
        .service(pages::register::register)
        .service(pages::register::register_posted)
        .service(pages::recover::recover)
        .service(pages::account::account)
        .service(pages::signed_out::signed_out)
        .service(pages::language::language)
        .service(pages::assets::assets)
        .service(pages::assets::favicon);
}

/// The live session of a request, with the secret its cookie presents.
pub struct CurrentSession {
    pub secret: SessionSecret,
    pub session: Session,
}

/// The session of the request's cookie, if it is still alive. Once known, its user is a field
/// of the request's span.
pub async fn current_session(
    req: &HttpRequest,
    app: &AppState,
) -> Result<Option<CurrentSession>, ApiError> {
    let Some(secret) = cookies::session(req, &app.settings) else {
        return Ok(None);
    };
    let Some(session) = app.sessions.get(&secret).await? else {
        return Ok(None);
    };
    known_user(req, &session.user_id);
    Ok(Some(CurrentSession { secret, session }))
}

/// Names the request's user in its span, once the request has proved who it is.
pub fn known_user(req: &HttpRequest, user_id: &UserId) {
    if let Some(span) = req.extensions().get::<middleware::RequestSpan>() {
        span.0.record("user_id", user_id.as_str());
    }
}

pub async fn require_session(
    req: &HttpRequest,
    app: &AppState,
    need: Need,
) -> Result<CurrentSession, ApiError> {
    let signed_in = current_session(req, app)
        .await?
        .ok_or(Denied::NotSignedIn)?;
    signed_in
        .session
        .allows(need, chrono::Utc::now().timestamp())?;
    Ok(signed_in)
}

/// Who is asking, as stored events and the session list see it: the request id and a coarse
/// browser family (never the User-Agent or the address).
pub fn caller(req: &HttpRequest) -> Caller {
    // The extensions' borrow ends here, before the language is chosen (which may use them).
    let request_id = Some(request_id(req)).filter(|id| !id.is_empty());
    Caller {
        request_id,
        browser: browser_family(
            req.headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ),
        language: req
            .app_data::<web::Data<AppState>>()
            .map_or("en", |app| pages::catalog_for(&app.settings, req).lang()),
        actor: None,
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The id of the request (as in its log line and `X-Request-Id`), for a page to show as a
/// reference a person can give support.
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<middleware::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// The address a rate limit counts against: the TCP peer, or behind a trusted proxy the
/// address the proxy names (`server.trusted_proxies`).
pub fn client_addr(req: &HttpRequest, settings: &Settings) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    if settings.server.trusted_proxies.is_empty() {
        return peer.to_string();
    }
    let values = |name: header::HeaderName| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    crate::proxy::client_address(
        peer,
        &settings.server.trusted_proxies,
        &values(header::FORWARDED),
        &values(header::HeaderName::from_static("x-forwarded-for")),
    )
    .to_string()
}

pub fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod documented {
    //! `docs/api.md` and the router list the same endpoints: every route a handler declares
    //! (`#[get("…")]`, `#[route("…", method = …)]`, …) is in a table of the docs, every endpoint
    //! a table lists is served, and `configure` registers every declared handler.

    use std::collections::BTreeSet;
    use std::path::Path;

    const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "DELETE", "PUT"];

    /// `/account/credentials/{id}` → `/account/credentials/{}`; a query is dropped; the pages'
    /// files are one route, `/static/{}`.
    fn normal(path: &str) -> String {
        let path = path.split(['?', ' ']).next().unwrap_or(path);
        let mut out = String::new();
        let mut depth = 0;
        for c in path.chars() {
            match c {
                '{' => {
                    if depth == 0 {
                        out.push_str("{}");
                    }
                    depth += 1;
                }
                '}' => depth -= 1,
                c if depth == 0 => out.push(c),
                _ => {}
            }
        }
        if out.starts_with("/static/") {
            return "/static/{}".to_string();
        }
        out
    }

    /// The strings between double quotes in `text`.
    fn quoted(text: &str) -> Vec<&str> {
        text.split('"').skip(1).step_by(2).collect()
    }

    /// (method, path) of every route attribute under `dir`, and how many there are.
    fn declared(dir: &Path, found: &mut BTreeSet<(String, String)>, count: &mut usize) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("src/routes")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            // The admin API has its own table of routes and its own document (admin-api.md).
            if path.ends_with("admin_api") {
                continue;
            }
            if path.is_dir() {
                declared(&path, found, count);
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("source");
            for line in source.lines().map(str::trim) {
                let Some(rest) = line.strip_prefix("#[") else {
                    continue;
                };
                let Some((macro_name, args)) = rest.split_once('(') else {
                    continue;
                };
                let strings = quoted(args);
                let methods: Vec<String> = match macro_name {
                    "route" => strings[1..].iter().map(|m| m.to_string()).collect(),
                    name if METHODS.contains(&name.to_uppercase().as_str()) => {
                        vec![name.to_uppercase()]
                    }
                    _ => continue,
                };
                *count += 1;
                for method in methods {
                    found.insert((method, normal(strings[0])));
                }
            }
        }
    }

    /// (method, path) of every endpoint in the first cell of a table row of `docs`:
    /// "`GET, POST /userinfo`", "`POST /account/credentials/begin`, `/finish`" (the same
    /// method, the last segment replaced), "`GET /static/brand.css`, `GET /static/logo.svg`".
    fn documented(docs: &str) -> BTreeSet<(String, String)> {
        let mut found = BTreeSet::new();
        for line in docs.lines().filter(|l| l.starts_with("| `")) {
            let cell = line[1..].split(" | ").next().unwrap_or("");
            let mut last: Option<(Vec<String>, String)> = None;
            for span in cell.split('`').skip(1).step_by(2) {
                let (methods, path) = match span.split_once(" /") {
                    Some((m, p)) if m.split(", ").all(|m| METHODS.contains(&m)) => (
                        m.split(", ").map(str::to_string).collect::<Vec<_>>(),
                        format!("/{p}"),
                    ),
                    _ if span.starts_with('/') => match &last {
                        Some((methods, previous)) => {
                            let base = previous.rsplit_once('/').map_or("", |(b, _)| b);
                            (methods.clone(), format!("{base}{span}"))
                        }
                        None => continue,
                    },
                    _ => continue,
                };
                for method in &methods {
                    found.insert((method.clone(), normal(&path)));
                }
                last = Some((methods, path));
            }
        }
        found
    }

    #[test]
    fn the_docs_list_exactly_the_endpoints_the_router_serves() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut served = BTreeSet::new();
        let mut handlers = 0;
        declared(&root.join("src/routes"), &mut served, &mut handlers);
        assert!(served.len() >= 40, "the scan finds the routes: {served:?}");
        let configure = include_str!("mod.rs");
        let configure = &configure[configure.find("pub fn configure").expect("configure")..];
        let configure = &configure[..configure.find("\n}").expect("its end")];
        assert_eq!(
            configure.matches(".service(").count(),
            handlers,
            "configure registers every handler that declares a route"
        );
        let docs = std::fs::read_to_string(root.join("docs/api.md")).expect("docs/api.md");
        let listed = documented(&docs);
        let unlisted: Vec<_> = served.difference(&listed).collect();
        let unserved: Vec<_> = listed.difference(&served).collect();
        assert!(
            unlisted.is_empty() && unserved.is_empty(),
            "served but not in docs/api.md: {unlisted:?}; in docs/api.md but not served: {unserved:?}"
        );
    }

    #[test]
    fn the_scan_reads_the_shorthands_of_the_docs() {
        let docs = "| `GET, POST /userinfo` | x |\n| `POST /a/b/begin`, `/finish` | x |\n\
                    | `GET /login?next=…` | x |\n| `DELETE /c/{id}` | x |\n| `pkidp_lang` | x |";
        let found: Vec<String> = documented(docs)
            .into_iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        assert_eq!(
            found,
            [
                "DELETE /c/{}",
                "GET /login",
                "GET /userinfo",
                "POST /a/b/begin",
                "POST /a/b/finish",
                "POST /userinfo"
            ]
        );
    }
}
