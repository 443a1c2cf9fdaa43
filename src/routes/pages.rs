//! Hosted pages (askama, server-rendered) and the plain JavaScript and CSS they load, all
//! served by passkey-idp itself (the CSP allows nothing else).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::{ApiError, RequestError};
use super::{current_session, see_other};
use crate::account::AccountError;
use crate::fault::Fault;
use crate::settings::RegistrationMode;
use crate::state::AppState;

fn html(page: impl Template) -> Result<HttpResponse, ApiError> {
    let body = page.render().map_err(Fault::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Template)]
#[template(path = "index.html")]
struct Index<'a> {
    rp_name: &'a str,
    issuer: &'a str,
    signup_link: bool,
}

/// Whether pages offer a sign-up link: only when anyone may sign up.
fn signup_link(app: &AppState) -> bool {
    app.settings.registration_mode == RegistrationMode::Open
}

#[get("/")]
pub async fn index(app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    html(Index {
        rp_name: &app.settings.rp_name,
        issuer: &app.settings.issuer,
        signup_link: signup_link(&app),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    rp_name: &'a str,
    rp_id: &'a str,
    next: &'a str,
    login_hint: &'a str,
    signup_link: bool,
    /// The service a waiting authorization request comes from.
    client_name: Option<String>,
    /// The signed-in person's name, when their session already does for `next`.
    continue_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    login_hint: Option<String>,
}

/// Where to go after sign-in: a path on this site only. Browsers drop tabs and line breaks
/// from URLs and read `\` as `/`, so a target with either (or any control character), or one
/// that resolves to another origin, falls back to the account page.
pub fn safe_next(next: Option<&str>, issuer: &url::Url) -> String {
    const HOME: &str = "/account";
    let Some(next) = next else {
        return HOME.to_string();
    };
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    let same_origin = issuer
        .join(next)
        .is_ok_and(|u| u.origin() == issuer.origin() && u.path().starts_with('/'));
    if plain && same_origin {
        next.to_string()
    } else {
        HOME.to_string()
    }
}

/// A page's form submitted with JavaScript off (`method="post"` keeps what was typed out of the
/// address bar and the logs): back to the page, whose notice says JavaScript is needed. What was
/// typed is not read.
pub fn without_script(req: &HttpRequest) -> HttpResponse {
    let back = match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_string(),
    };
    see_other(&back)
}

#[post("/login")]
pub async fn login_posted(req: HttpRequest) -> HttpResponse {
    without_script(&req)
}

#[post("/register")]
pub async fn register_posted(req: HttpRequest) -> HttpResponse {
    without_script(&req)
}

/// The sign-in page. During a service's sign-in it names the service; a person whose session
/// already does for where they are going is offered to continue as themselves.
#[get("/login")]
pub async fn login(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    let next = safe_next(query.next.as_deref(), &app.settings.issuer_url);
    let waiting = app.oidc.waiting(&next).await?;
    let fresh_enough = |auth_time: i64| {
        waiting
            .as_ref()
            .is_none_or(|w| auth_time >= w.min_auth_time)
    };
    let session = current_session(&req, &app)
        .await?
        .filter(|s| !s.session.restricted && fresh_enough(s.session.auth_time));
    let continue_as = match session {
        Some(s) => app
            .db
            .users()
            .find_by_id(&s.session.user_id)
            .await
            .map_err(Fault::from)?
            .map(|u| {
                if u.display_name.trim().is_empty() {
                    u.username
                } else {
                    u.display_name
                }
            }),
        None => None,
    };
    html(Login {
        rp_name: &app.settings.rp_name,
        rp_id: &app.settings.rp_id,
        next: &next,
        login_hint: query.login_hint.as_deref().unwrap_or(""),
        signup_link: signup_link(&app),
        client_name: waiting.map(|w| w.client_name),
        continue_as,
    })
}

#[derive(Template)]
#[template(path = "register.html")]
struct Register<'a> {
    rp_name: &'a str,
    /// No sign-up for this visitor: closed, or invite-only without a usable invite, or an
    /// invite that is spent or expired.
    closed: bool,
    invite: String,
    invite_username: String,
    invite_email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    invite: Option<String>,
}

/// The sign-up page; an invite URL (`/register?invite=…`) opens it prefilled. Looking at the
/// invite does not spend it.
#[get("/register")]
pub async fn register(
    app: web::Data<AppState>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128);
    let invite = match token {
        Some(t) => app.passkeys.usable_invite(t).await?,
        None => None,
    };
    let closed = matches!(
        (app.settings.registration_mode, token, &invite),
        (RegistrationMode::Closed, _, _) | (_, Some(_), None) | (RegistrationMode::Invite, None, _)
    );
    let (invite_username, invite_email) = invite
        .map(|i| (i.username.unwrap_or_default(), i.email.unwrap_or_default()))
        .unwrap_or_default();
    html(Register {
        rp_name: &app.settings.rp_name,
        closed,
        invite: if closed {
            String::new()
        } else {
            token.unwrap_or_default().to_string()
        },
        invite_username,
        invite_email,
    })
}

#[derive(Template)]
#[template(path = "recover.html")]
struct Recover<'a> {
    rp_name: &'a str,
    /// The token of a recovery link (`/recover?token=…`); the page spends it only when the
    /// person presses the button.
    token: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RecoverQuery {
    token: Option<String>,
}

#[get("/recover")]
pub async fn recover(
    app: web::Data<AppState>,
    query: web::Query<RecoverQuery>,
) -> Result<HttpResponse, ApiError> {
    html(Recover {
        rp_name: &app.settings.rp_name,
        token: query
            .token
            .clone()
            .filter(|t| t.len() <= 128)
            .unwrap_or_default(),
    })
}

struct PasskeyRow {
    id: String,
    name: String,
    initial: String,
    authenticator: String,
    icon_light: Option<String>,
    icon_dark: Option<String>,
    synced: bool,
    /// RFC 3339, for the page to show in local time.
    created: String,
    last_used: Option<String>,
    /// Made with the account, at sign-up.
    at_sign_up: bool,
    clone_suspected: bool,
    /// base64url of the user handle this passkey was created with.
    user_handle: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct Account<'a> {
    rp_name: &'a str,
    rp_id: &'a str,
    /// base64url of the user's WebAuthn user handle (Signal API).
    user_handle: String,
    username: String,
    display_name: String,
    welcome: bool,
    credentials: Vec<PasskeyRow>,
    unused_codes: i64,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    welcome: Option<String>,
}

#[get("/account")]
pub async fn account(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(signed_in) = current_session(&req, &app)
        .await?
        .filter(|s| !s.session.restricted)
    else {
        return Ok(see_other("/login?next=/account"));
    };
    let overview = match app.accounts.overview(&signed_in.session.user_id).await {
        Ok(overview) => overview,
        Err(AccountError::AccountGone) => return Ok(see_other("/login")),
        Err(e) => return Err(e.into()),
    };
    let fmt = |t: chrono::NaiveDateTime| t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let account_created = overview.created_at;
    let b64 = |h: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h)
    };
    let user_handle = b64(&overview.user_handle);
    let credentials = overview
        .credentials
        .into_iter()
        .map(|c| PasskeyRow {
            initial: c
                .authenticator
                .name
                .chars()
                .next()
                .unwrap_or('P')
                .to_uppercase()
                .to_string(),
            authenticator: c.authenticator.name,
            icon_light: c.authenticator.icon_light,
            icon_dark: c.authenticator.icon_dark,
            id: c.id,
            name: c.name,
            synced: c.synced,
            // Sign-up writes the account and its passkey with one timestamp.
            at_sign_up: c.created == account_created,
            created: fmt(c.created),
            last_used: c.last_used.map(fmt),
            clone_suspected: c.clone_suspected,
            user_handle: c
                .user_handle
                .as_deref()
                .map(b64)
                .unwrap_or_else(|| user_handle.clone()),
        })
        .collect();
    html(Account {
        rp_name: &app.settings.rp_name,
        rp_id: &app.settings.rp_id,
        user_handle,
        username: overview.username,
        display_name: overview.display_name,
        welcome: query.welcome.is_some(),
        credentials,
        unused_codes: overview.unused_recovery_codes,
    })
}

/// The pages' CSS and JavaScript, built into the binary.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../templates/static/app.css"),
    ),
    (
        "webauthn.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/webauthn.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/login.js"),
    ),
    (
        "register.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/register.js"),
    ),
    (
        "account.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/account.js"),
    ),
    (
        "recover.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/recover.js"),
    ),
    (
        "form_post.js",
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/form_post.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../templates/static/favicon.svg"),
    ),
];

/// Browsers ask for `/favicon.ico` whatever the page says: the same SVG icon.
#[get("/favicon.ico")]
pub async fn favicon() -> Result<HttpResponse, ApiError> {
    static_file("favicon.svg")
}

#[get("/static/{file}")]
pub async fn assets(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    static_file(&file)
}

fn static_file(file: &str) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = STATIC
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or(RequestError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(*body))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_plain_paths_on_this_site_are_followed() {
        let issuer = url::Url::parse("https://id.example.com").expect("url");
        for ok in [
            "/account",
            "/authorize/continue?request=abc.def",
            "/a/b?c=%2F%2Fx",
        ] {
            assert_eq!(safe_next(Some(ok), &issuer), ok);
        }
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "/ /evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad), &issuer), "/account", "{bad:?}");
        }
        assert_eq!(safe_next(None, &issuer), "/account");
    }
}
