//! What wraps every request: the CSRF origin check and the request log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpMessage};
use tracing::Instrument;

use super::error::{ApiError, RequestError};
use crate::state::AppState;

/// CSRF defence for everything a session cookie authorises: a state-changing request that a
/// browser marks as coming from another site (Origin or Sec-Fetch-Site) is refused. SameSite
/// cookies and the JSON-only bodies are the other two layers.
pub async fn check_origin(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.path();
    let cookie_authorised = ["/webauthn/", "/account", "/logout", "/recover"]
        .iter()
        .any(|p| path.starts_with(p));
    // RP-initiated logout by form POST comes from the service's site by design; it ends a
    // session only with an ID token of that very session, and asks the person otherwise.
    let rp_logout = path == "/logout" && super::body::is_form_request(req.headers());
    if state_changing && cookie_authorised && !rp_logout {
        let issuer = req
            .app_data::<web::Data<AppState>>()
            .map(|a| a.settings.server.site.issuer.clone())
            .unwrap_or_default();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let origin = header("origin");
        // An app on an allowed origin may run ceremonies (without cookies: CORS gives it no
        // credentials), nothing else.
        let allowed_app = path.starts_with("/webauthn/")
            && origin
                .as_deref()
                .is_some_and(|o| is_allowed_web_origin(&req, o));
        let site = header("sec-fetch-site");
        let foreign_origin = origin
            .as_deref()
            .is_some_and(|o| !is_this_origin(o, site.as_deref(), &issuer));
        let cross_site = site.as_deref().is_some_and(|s| s == "cross-site");
        if (foreign_origin || cross_site) && !allowed_app {
            crate::events::Event::CsrfRefused
                .now()
                .detail(path.to_string())
                .report();
            let err = ApiError::Request(RequestError::CrossSite);
            let res = actix_web::ResponseError::error_response(&err);
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// Whether an `Origin` header names this site. Chromium sends `Origin: null` for a form posted
/// from a page whose referrer policy is `no-referrer`, as every page here is: `null` counts as
/// this site only together with `Sec-Fetch-Site: same-origin`, which the browser sets itself and
/// a page of another site cannot fake; never without it (an old browser, a sandboxed frame or a
/// page elsewhere sends `null` too).
fn is_this_origin(origin: &str, fetch_site: Option<&str>, issuer: &str) -> bool {
    origin == issuer || (origin == "null" && fetch_site == Some("same-origin"))
}

/// Whether a browser says a request was sent by one of this site's own pages: an `Origin` of
/// this site (see [`is_this_origin`]) and no `Sec-Fetch-Site` that says otherwise. A request
/// without `Origin` does not count.
pub fn from_this_site(headers: &HeaderMap, issuer: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let site = header("sec-fetch-site");
    header("origin").is_some_and(|o| is_this_origin(o, site, issuer))
        && site.is_none_or(|s| s == "same-origin")
}

/// The id of a request, as in its log line and `X-Request-Id`; stored events carry it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The request's span, for what the handler learns later (its user).
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Request log and metrics: one line per request with an id, the route pattern (never the
/// raw path or query, which can carry codes), the status and the latency. Every request runs
/// in a span with its id, its route and, once known, its user, and the work it hands to the
/// blocking pool carries that span, so every line a request causes names it.
pub async fn log_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let request_id = crate::random::hex(&crate::random::bytes(8));
    let method = req.method().to_string();
    let app = req.app_data::<web::Data<AppState>>().cloned();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        route = %route,
        user_id = tracing::field::Empty
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    req.extensions_mut().insert(RequestSpan(span.clone()));
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            target: "http",
            method = %method,
            route = %route,
            status,
            latency_ms = start.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Some(app) = app {
        app.metrics.inc(
            "passkey_idp_http_requests_total",
            &[("route", &route), ("status", &status.to_string())],
        );
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

fn is_allowed_web_origin(req: &ServiceRequest, origin: &str) -> bool {
    req.app_data::<web::Data<AppState>>().is_some_and(|a| {
        a.settings
            .webauthn
            .allowed_web_origins()
            .any(|o| o == origin)
    })
}

/// CORS for the ceremony endpoints (`/webauthn/*`), for the allowed web origins only: the
/// origin echoed (never `*`), `Vary: Origin`, no credentials; a preflight gets 204. Other
/// origins get no CORS headers at all.
pub async fn cors(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|o| req.path().starts_with("/webauthn/") && is_allowed_web_origin(&req, o));
    let Some(origin) = origin else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let allow = HeaderValue::from_str(&origin).map_err(actix_web::error::ErrorBadRequest)?;
    if req.method() == Method::OPTIONS {
        let res = actix_web::HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, allow))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(res).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://id.example.com";

    fn headers(origin: Option<&str>, site: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("value"));
        }
        if let Some(s) = site {
            h.insert(
                header::HeaderName::from_static("sec-fetch-site"),
                HeaderValue::from_str(s).expect("value"),
            );
        }
        h
    }

    #[test]
    fn a_null_origin_is_this_site_only_when_the_browser_says_same_origin() {
        assert!(is_this_origin(ISSUER, None, ISSUER));
        assert!(is_this_origin("null", Some("same-origin"), ISSUER));
        for site in [None, Some("cross-site"), Some("same-site"), Some("none")] {
            assert!(!is_this_origin("null", site, ISSUER), "{site:?}");
        }
        assert!(!is_this_origin(
            "https://evil.example",
            Some("same-origin"),
            ISSUER
        ));
        assert!(!is_this_origin("https://id.example.com.evil", None, ISSUER));
    }

    #[test]
    fn only_this_sites_pages_are_from_this_site() {
        for (origin, site) in [
            (Some(ISSUER), None),
            (Some(ISSUER), Some("same-origin")),
            (Some("null"), Some("same-origin")),
        ] {
            assert!(
                from_this_site(&headers(origin, site), ISSUER),
                "{origin:?} {site:?}"
            );
        }
        for (origin, site) in [
            (None, None),
            (None, Some("same-origin")),
            (Some("null"), None),
            (Some("null"), Some("cross-site")),
            (Some(ISSUER), Some("cross-site")),
            (Some(ISSUER), Some("same-site")),
            (Some("http://localhost:9"), Some("cross-site")),
        ] {
            assert!(
                !from_this_site(&headers(origin, site), ISSUER),
                "{origin:?} {site:?}"
            );
        }
    }
}
