//! Hosted pages (askama, server-rendered) and the plain JavaScript and CSS they load, all
//! served by passkey-idp itself (the CSP allows nothing else). This module is the frame every
//! page shares: its language and brand ([`Chrome`]), how it is answered ([`page`]), and where
//! a page may send a person next ([`safe_next`]). Each page is its own module, with its
//! template, its handlers and its test; [`assets`] serves the files they load.

pub mod account;
pub mod assets;
pub mod form_post;
pub mod language;
pub mod login;
pub mod not_found;
pub mod recover;
pub mod refused;
pub mod register;
pub mod signed_out;
pub mod start;

use std::fmt::Display;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::cookies;
use super::error::ApiError;
use super::see_other;
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

/// Whether pages offer a sign-up link: only when anyone may sign up.
fn signup_link(app: &AppState) -> bool {
    app.settings.registration.mode == RegistrationMode::Open
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
