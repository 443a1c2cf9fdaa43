//! The pages' CSS, JavaScript and icon, built into the binary, and the operator's logo and
//! accent (`[ui]`), read at start: all served by passkey-idp itself (the CSP allows nothing
//! else).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::routes::error::{ApiError, RequestError};
use crate::state::AppState;

/// The pages' CSS and JavaScript, built into the binary.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../../templates/static/app.css"),
    ),
    (
        "webauthn.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/webauthn.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/login.js"),
    ),
    (
        "register.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/register.js"),
    ),
    (
        "account.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account.js"),
    ),
    (
        "account_passkeys.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_passkeys.js"),
    ),
    (
        "account_signal.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_signal.js"),
    ),
    (
        "account_codes.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_codes.js"),
    ),
    (
        "account_sessions.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_sessions.js"),
    ),
    (
        "account_activity.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_activity.js"),
    ),
    (
        "account_delete.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/account_delete.js"),
    ),
    (
        "signed_out.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/signed_out.js"),
    ),
    (
        "recover.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/recover.js"),
    ),
    (
        "form_post.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../templates/static/form_post.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../../templates/static/favicon.svg"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;

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
}
