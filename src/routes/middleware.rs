//! What wraps every request: the CSRF origin check and the request log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
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
        let foreign_origin = origin.as_deref().is_some_and(|o| o != issuer);
        let cross_site = header("sec-fetch-site").is_some_and(|s| s == "cross-site");
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

/// The id of a request, as in its log line and `X-Request-Id`; stored events carry it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Request log and metrics: one line per request with an id, the route pattern (never the
/// raw path or query, which can carry codes), the status and the latency.
pub async fn log_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let request_id = crate::random::hex(&crate::random::bytes(8));
    let method = req.method().to_string();
    let app = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
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
