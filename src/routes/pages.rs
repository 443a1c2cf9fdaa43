//! Hosted pages (askama, server-rendered) and the plain JavaScript and CSS they load, all
//! served by passkey-idp itself (the CSP allows nothing else).

use std::fmt::Display;

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::cookies;
use super::error::{ApiError, RequestError};
use super::{current_session, see_other};
use crate::account::AccountError;
use crate::ceremony::RegistrationMode;
use crate::fault::Fault;
use crate::i18n::{self, Catalog};
use crate::settings::{Settings, UiSettings as Ui};
use crate::state::AppState;

/// What every page shows around its content: the operator's brand, and the words of the
/// language chosen for this request.
#[derive(Clone, Copy)]
pub struct Chrome<'a> {
    catalog: &'static Catalog,
    ui: &'a Ui,
    /// This page's path and query, for the language links to come back to.
    here: &'a str,
}

impl<'a> Chrome<'a> {
    /// The language is the one the person picked on a page (the `pkidp_lang` cookie), else
    /// the best of `Accept-Language`, else `ui.default_language`.
    pub fn new(app: &'a AppState, req: &'a HttpRequest) -> Chrome<'a> {
        let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
        Chrome {
            catalog: catalog_for(&app.settings, req),
            ui: &app.settings.ui,
            here: if here.len() <= 2048 { here } else { "/" },
        }
    }

    /// The shipped languages, each in its own words, with the link that switches to it and
    /// whether it is this page's.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, String, bool)> {
        let next: String = url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
        i18n::catalogs()
            .iter()
            .map(|c| {
                (
                    c.lang(),
                    c.name(),
                    format!("/language/{}?next={next}", c.lang()),
                    c.lang() == self.lang(),
                )
            })
            .collect()
    }

    /// A chrome with a given catalog (tests render pages with a marked one).
    #[cfg(test)]
    pub(crate) fn with(catalog: &'static Catalog, ui: &'a Ui) -> Chrome<'a> {
        Chrome {
            catalog,
            ui,
            here: "/",
        }
    }

    pub fn lang(&self) -> &'static str {
        self.catalog.lang()
    }

    pub fn product(&self) -> &str {
        &self.ui.product_name
    }

    pub fn logo(&self) -> Option<&'static str> {
        self.ui.logo.as_ref().map(|l| l.file)
    }

    pub fn has_brand_css(&self) -> bool {
        self.ui.brand_css.is_some()
    }

    pub fn support_url(&self) -> Option<&str> {
        self.ui.support_url.as_deref()
    }

    pub fn script_json(&self) -> &'static str {
        self.catalog.script_json()
    }

    /// The catalog's text for `key` (templates escape it).
    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        self.catalog.t(key)
    }

    /// The text for `key` with `{name}` filled in (templates escape the result).
    pub fn f(&self, key: &str, name: &str, value: impl Display) -> String {
        self.catalog.f(key, &[(name, &value.to_string())])
    }

    /// `key.one` / `key.other` for `count` (askama hands its arguments by reference).
    pub fn n(&self, key: &str, count: &i64) -> String {
        self.catalog.n(key, *count, &[])
    }

    /// HTML: the text for `key`, escaped, with `{name}` as `<strong>value</strong>`.
    pub fn strong(&self, key: &str, name: &str, value: impl Display) -> String {
        self.marked(key, name, "<strong>", &value.to_string(), "</strong>")
    }

    /// HTML: the text for `key`, escaped, with `{name}` as `<span id="id">value</span>` (for a
    /// script to update).
    pub fn span(&self, key: &str, name: &str, id: &str, value: impl Display) -> String {
        let open = format!("<span id=\"{}\">", escape(id));
        self.marked(key, name, &open, &value.to_string(), "</span>")
    }

    fn marked(&self, key: &str, name: &str, open: &str, value: &str, close: &str) -> String {
        escape(self.catalog.t(key)).replace(
            &format!("{{{name}}}"),
            &format!("{open}{}{close}", escape(value)),
        )
    }

    /// `Content-Language` and `Vary` for a page in this language.
    fn headers(&self, res: &mut HttpResponse) {
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_LANGUAGE,
            header::HeaderValue::from_static(self.lang()),
        );
        headers.insert(
            header::VARY,
            header::HeaderValue::from_static("Accept-Language"),
        );
    }
}

/// The catalog of a request: the language the person picked (the `pkidp_lang` cookie), else the
/// best of `Accept-Language`, else `ui.default_language`.
pub fn catalog_for(settings: &Settings, req: &HttpRequest) -> &'static Catalog {
    let picked =
        cookies::read(req, settings, cookies::LANGUAGE).and_then(|lang| i18n::catalog(&lang));
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    picked.unwrap_or_else(|| i18n::choose(accept, &settings.ui.default_language))
}

/// HTML-escaped text, as askama escapes what a template prints.
fn escape(text: &str) -> String {
    use askama::filters::Escaper;
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Html.write_escaped_str(&mut out, text);
    out
}

/// A page in the chrome's language, never cached.
pub fn page(
    chrome: &Chrome,
    status: StatusCode,
    page: impl Template,
) -> Result<HttpResponse, ApiError> {
    let body = page.render().map_err(Fault::internal)?;
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    chrome.headers(&mut res);
    Ok(res)
}

fn html(chrome: &Chrome, template: impl Template) -> Result<HttpResponse, ApiError> {
    page(chrome, StatusCode::OK, template)
}

#[derive(Template)]
#[template(path = "index.html")]
struct Index<'a> {
    p: Chrome<'a>,
    issuer: &'a str,
    signup_link: bool,
}

/// Whether pages offer a sign-up link: only when anyone may sign up.
fn signup_link(app: &AppState) -> bool {
    app.settings.registration.mode == RegistrationMode::Open
}

#[get("/")]
pub async fn index(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Index {
            p,
            issuer: &app.settings.server.site.issuer,
            signup_link: signup_link(&app),
        },
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    p: Chrome<'a>,
    rp_id: &'a str,
    next: &'a str,
    /// `?next=…` for the links to sign-up and recovery, so that they keep a service's request.
    next_query: String,
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

/// Where to go afterwards as a query (`?next=…`) for a link to another page of the way in, so
/// that a service's waiting request travels along; empty for the default, the account page.
fn next_query(next: &str) -> String {
    if next == "/account" {
        return String::new();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("?next={encoded}")
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

#[derive(Debug, Default, Deserialize)]
pub struct LanguageQuery {
    next: Option<String>,
}

/// A person picks the pages' language (the links in every page's footer): remembered for a
/// year in a cookie, then back to the page they were on.
#[get("/language/{lang}")]
pub async fn language(
    app: web::Data<AppState>,
    req: HttpRequest,
    lang: web::Path<String>,
    query: web::Query<LanguageQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(catalog) = i18n::catalog(&lang) else {
        // Not a shipped language: the 404 page for a browser, JSON for the rest.
        return super::not_found(req).await;
    };
    let next = match query.next.as_deref() {
        None => "/".to_string(),
        next => safe_next(next, &app.settings.server.site.issuer_url),
    };
    let mut res = see_other(&next);
    let cookie = cookies::make(
        &app.settings,
        cookies::LANGUAGE,
        catalog.lang().to_string(),
        std::time::Duration::from_secs(365 * 86400),
        actix_web::cookie::SameSite::Lax,
    );
    res.add_cookie(&cookie).map_err(Fault::internal)?;
    Ok(res)
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
    let next = safe_next(query.next.as_deref(), &app.settings.server.site.issuer_url);
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
        Some(s) => app.accounts.display_name(&s.session.user_id).await?,
        None => None,
    };
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Login {
            p,
            rp_id: &app.settings.server.site.rp_id,
            next: &next,
            next_query: next_query(&next),
            login_hint: query.login_hint.as_deref().unwrap_or(""),
            signup_link: signup_link(&app),
            client_name: waiting.map(|w| w.client_name),
            continue_as,
        },
    )
}

#[derive(Template)]
#[template(path = "register.html")]
struct Register<'a> {
    p: Chrome<'a>,
    /// No sign-up for this visitor: closed, or invite-only without a usable invite, or an
    /// invite that is spent or expired.
    closed: bool,
    /// Closed because the invite of the link was used, has expired or is not one at all.
    invite_spent: bool,
    invite: String,
    invite_username: String,
    invite_email: String,
    /// A service's waiting authorization request, where the new account goes once made.
    next: String,
    /// `?next=…` for the link to sign in instead.
    next_query: String,
    /// The service that request comes from.
    client_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    invite: Option<String>,
    next: Option<String>,
}

/// The sign-up page; an invite URL (`/register?invite=…`) opens it prefilled. Looking at the
/// invite does not spend it.
#[get("/register")]
pub async fn register(
    app: web::Data<AppState>,
    req: HttpRequest,
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
        (app.settings.registration.mode, token, &invite),
        (RegistrationMode::Closed, _, _) | (_, Some(_), None) | (RegistrationMode::Invite, None, _)
    );
    let invite_spent = app.settings.registration.mode != RegistrationMode::Closed
        && token.is_some()
        && invite.is_none();
    let (invite_username, invite_email) = invite
        .map(|i| (i.username.unwrap_or_default(), i.email.unwrap_or_default()))
        .unwrap_or_default();
    let next = safe_next(query.next.as_deref(), &app.settings.server.site.issuer_url);
    let waiting = app.oidc.waiting(&next).await?;
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Register {
            p,
            closed,
            invite_spent,
            invite: if closed {
                String::new()
            } else {
                token.unwrap_or_default().to_string()
            },
            invite_username,
            invite_email,
            next_query: next_query(&next),
            next: if waiting.is_some() {
                next
            } else {
                String::new()
            },
            client_name: waiting.map(|w| w.client_name),
        },
    )
}

#[derive(Template)]
#[template(path = "recover.html")]
struct Recover<'a> {
    p: Chrome<'a>,
    /// The token of a recovery link (`/recover?token=…`); the page spends it only when the
    /// person presses the button.
    token: String,
    /// `?next=…` for the links back to sign in: a service's request survives recovery.
    next_query: String,
    /// How long the recovery session lasts, to add the passkey in.
    lifetime_secs: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct RecoverQuery {
    token: Option<String>,
    next: Option<String>,
}

#[get("/recover")]
pub async fn recover(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RecoverQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Recover {
            p,
            token: query
                .token
                .clone()
                .filter(|t| t.len() <= 128)
                .unwrap_or_default(),
            next_query: next_query(&safe_next(
                query.next.as_deref(),
                &app.settings.server.site.issuer_url,
            )),
            lifetime_secs: crate::session::RECOVERY_LIFETIME.as_secs(),
        },
    )
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
    p: Chrome<'a>,
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
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Account {
            p,
            rp_id: &app.settings.server.site.rp_id,
            user_handle,
            username: overview.username,
            display_name: overview.display_name,
            welcome: query.welcome.is_some(),
            credentials,
            unused_codes: overview.unused_recovery_codes,
        },
    )
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

/// The pages' files, and the operator's logo and accent (`[ui]`), which are read at start.
#[get("/static/{file}")]
pub async fn assets(
    app: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ui = &app.settings.ui;
    let branded = match (file.as_str(), &ui.logo, &ui.brand_css) {
        (name, Some(logo), _) if name == logo.file => Some((
            logo.content_type,
            web::Bytes::from_owner(logo.bytes.clone()),
        )),
        ("brand.css", _, Some(css)) => {
            Some(("text/css; charset=utf-8", web::Bytes::from(css.clone())))
        }
        _ => None,
    };
    match branded {
        Some((content_type, body)) => Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .body(body)),
        None => static_file(&file),
    }
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

/// Text of a page that did not come from the catalog: `html` was rendered with a marked catalog
/// ([`Catalog::marked`]) and marked data, so whatever is left once the marked parts, markup,
/// scripts and punctuation are gone was written into a template, untranslatable.
#[cfg(test)]
pub(crate) fn untranslated(html: &str) -> Vec<String> {
    fn strip(html: &str, open: &str, close: &str) -> String {
        let mut kept = String::new();
        let mut rest = html;
        while let Some(start) = rest.find(open) {
            kept.push_str(&rest[..start]);
            rest = rest[start..]
                .find(close)
                .map_or("", |end| &rest[start + end + close.len()..]);
        }
        kept.push_str(rest);
        kept
    }
    // Scripts (the catalog's own data block included) and code samples are not prose; the
    // language list names each language in its own words, on purpose.
    let without = strip(
        &strip(&strip(html, "<script", "</script>"), "<code>", "</code>"),
        "<nav class=\"languages\"",
        "</nav>",
    );
    let rest = without.as_str();
    // What people read in attributes.
    let mut readable = Vec::new();
    for attribute in ["aria-label=\"", "placeholder=\"", "title=\"", "alt=\""] {
        let mut scan = rest;
        while let Some(at) = scan.find(attribute) {
            let value = &scan[at + attribute.len()..];
            let end = value.find('"').unwrap_or(value.len());
            readable.push(value[..end].to_string());
            scan = &value[end..];
        }
    }
    let mut visible = String::new();
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                visible.push(' ');
            }
            c if !in_tag => visible.push(c),
            _ => {}
        }
    }
    readable.push(visible);
    let mut left = Vec::new();
    for chunk in readable {
        let mut outside = String::new();
        let mut depth = 0usize;
        for c in chunk.chars() {
            match c {
                '⟦' => depth += 1,
                '⟧' => depth = depth.saturating_sub(1),
                c if depth == 0 => outside.push(c),
                _ => {}
            }
        }
        for word in outside.split_whitespace() {
            let bare: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
            // A format hint is no sentence.
            if !bare.is_empty() && word != "xxxx-xxxx-xxxx" {
                left.push(word.to_string());
            }
        }
    }
    left
}

/// A chrome with the marked English catalog and a marked brand with a support link.
#[cfg(test)]
pub(crate) fn marked_chrome() -> Chrome<'static> {
    let en = i18n::catalog("en").expect("english");
    let ui = Ui {
        product_name: "⟦Example ID⟧".into(),
        support_url: Some("https://help.example.com/".into()),
        default_language: "en".into(),
        ..Ui::default()
    };
    Chrome::with(Box::leak(Box::new(en.marked())), Box::leak(Box::new(ui)))
}

/// Fails with the words of `page` that do not come from the catalog.
#[cfg(test)]
pub(crate) fn check(name: &str, page: impl Template) {
    let html = page.render().expect("renders");
    let left = untranslated(&html);
    assert!(
        left.is_empty(),
        "{name}: text not from the catalog: {left:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, at_sign_up: bool, used: bool) -> PasskeyRow {
        PasskeyRow {
            id: id.into(),
            name: format!("⟦Chrome on Mac {id}⟧"),
            initial: "⟦C⟧".into(),
            authenticator: "⟦iCloud Keychain⟧".into(),
            icon_light: None,
            icon_dark: None,
            synced: !at_sign_up,
            created: "⟦2026-11-30T10:00:00Z⟧".into(),
            last_used: used.then(|| "⟦2026-11-30T11:00:00Z⟧".into()),
            at_sign_up,
            clone_suspected: used,
            user_handle: "abc".into(),
        }
    }

    #[test]
    fn no_page_has_text_outside_the_catalog() {
        let p = marked_chrome();
        check(
            "index",
            Index {
                p,
                issuer: "https://id.example.com",
                signup_link: true,
            },
        );
        for (client, who) in [
            (None, None),
            (Some("⟦Shop⟧".to_string()), Some("⟦Ada⟧".to_string())),
        ] {
            check(
                "login",
                Login {
                    p,
                    rp_id: "id.example.com",
                    next: "/account",
                    next_query: "?next=%2Fauthorize".into(),
                    login_hint: "",
                    signup_link: true,
                    client_name: client,
                    continue_as: who,
                },
            );
        }
        for (closed, invite_spent, invite, username, client) in [
            (false, false, "", "", None),
            (true, false, "", "", None),
            (true, true, "", "", None),
            (false, false, "tok", "⟦ada⟧", Some("⟦Notes⟧".to_string())),
        ] {
            check(
                "register",
                Register {
                    p,
                    closed,
                    invite_spent,
                    invite: invite.into(),
                    invite_username: username.into(),
                    invite_email: String::new(),
                    next: "/authorize/continue?request=x".into(),
                    next_query: "?next=%2Fauthorize".into(),
                    client_name: client,
                },
            );
        }
        for token in ["", "tok"] {
            check(
                "recover",
                Recover {
                    p,
                    token: token.into(),
                    next_query: "?next=%2Fauthorize".into(),
                    lifetime_secs: 600,
                },
            );
        }
        for (welcome, rows, codes) in [
            (true, vec![row("a", true, false)], 0),
            (true, vec![row("a", true, false), row("b", false, true)], 10),
            (
                false,
                vec![row("a", false, false), row("b", false, true)],
                1,
            ),
        ] {
            check(
                "account",
                Account {
                    p,
                    rp_id: "id.example.com",
                    user_handle: "abc".into(),
                    username: "⟦ada⟧".into(),
                    display_name: "⟦Ada⟧".into(),
                    welcome,
                    credentials: rows,
                    unused_codes: codes,
                },
            );
        }
    }

    /// The catalog keys a script names as string literals (`t("js.login.signed_in")`); a
    /// literal ending in `.` is the start of a key made at run time, not a key.
    fn script_keys(script: &str) -> Vec<&str> {
        let mut keys = Vec::new();
        for (at, _) in script.match_indices('"') {
            let rest = &script[at + 1..];
            let end = rest.find('"').unwrap_or(0);
            let literal = &rest[..end];
            let is_key = ["js.", "dom.", "error.", "names."]
                .iter()
                .any(|p| literal.starts_with(p))
                && !literal.ends_with('.')
                && literal
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
            if is_key {
                keys.push(literal);
            }
        }
        keys
    }

    #[test]
    fn every_key_a_script_names_is_in_every_catalog() {
        let mut named = 0;
        for (file, _, script) in STATIC.iter().filter(|(f, _, _)| f.ends_with(".js")) {
            for key in script_keys(script) {
                named += 1;
                for catalog in i18n::catalogs() {
                    let has = |k: &str| catalog.keys().any(|(have, _)| have == k);
                    assert!(
                        has(key) || has(&format!("{key}.other")),
                        "{file} names {key}, which the {} catalog lacks",
                        catalog.lang()
                    );
                }
            }
        }
        assert!(named > 50, "the scan finds the scripts' keys ({named})");
        assert_eq!(
            script_keys(r#"t("js.a.b", x); t("js.event." + k); t("not.a.key")"#),
            vec!["js.a.b"]
        );
    }

    #[test]
    fn the_marker_finds_text_written_into_a_template() {
        assert!(untranslated("<p>⟦Hello⟧</p><script>var x = \"not prose\";</script>").is_empty());
        assert_eq!(untranslated("<p>⟦Hello⟧ world</p>"), vec!["world"]);
        assert_eq!(
            untranslated("<button aria-label=\"Close\">⟦x⟧</button>"),
            vec!["Close"]
        );
    }

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

    #[test]
    fn links_keep_a_services_request_but_not_the_default() {
        assert_eq!(next_query("/account"), "");
        assert_eq!(
            next_query("/authorize/continue?request=a.b&x=1"),
            "?next=%2Fauthorize%2Fcontinue%3Frequest%3Da.b%26x%3D1"
        );
    }
}
