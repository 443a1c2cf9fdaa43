//! `GET /.well-known/webauthn`: the related origins (WebAuthn Level 3) — the issuer's, then the
//! allowed web origins.
//!
//! `GET /.well-known/jwks.json`: the published keys, cacheable for `tokens.jwks_max_age_secs`,
//! with an ETag so caches can revalidate cheaply.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::state::AppState;

/// WebAuthn Level 3 related origins.
#[derive(serde::Serialize)]
struct RelatedOrigins<'a> {
    origins: Vec<&'a str>,
}

#[get("/.well-known/jwks.json")]
pub async fn jwks(app: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let body = serde_json::to_string(&app.keys.current().jwks()).unwrap_or_default();
    let etag = format!("\"{}\"", &crate::random::sha256_hex(body.as_bytes())[..32]);
    let cache = format!(
        "public, max-age={}",
        app.settings.tokens.jwks_max_age.as_secs()
    );
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache));
    if matches {
        res.finish()
    } else {
        res.content_type("application/json").body(body)
    }
}

#[get("/.well-known/webauthn")]
pub async fn related_origins(app: web::Data<AppState>) -> HttpResponse {
    let mut origins = vec![app.settings.server.site.issuer.as_str()];
    origins.extend(app.settings.webauthn.allowed_web_origins());
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(RelatedOrigins { origins })
}
