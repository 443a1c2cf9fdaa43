//! Reading request bodies: bounded in size and in time, JSON or form only as each endpoint
//! expects.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::RequestError;
use crate::settings::Settings;

/// Reads the body up to `server.max_body_bytes`, refusing anything larger with a JSON 413, and
/// a body that has not arrived within `server.request_timeout_secs` with a 408.
pub async fn read_body(
    payload: web::Payload,
    settings: &Settings,
) -> Result<web::Bytes, RequestError> {
    let limit = settings.server.max_body_bytes;
    tokio::time::timeout(settings.server.request_timeout, read_within(payload, limit))
        .await
        .map_err(|_| RequestError::TooSlow)?
}

async fn read_within(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, RequestError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| RequestError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(RequestError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn content_type_is(req: &HttpRequest, expected: &str) -> bool {
    header_is(req.headers(), expected)
}

/// Whether a request's body is a form (`application/x-www-form-urlencoded`).
pub fn is_form_request(headers: &actix_web::http::header::HeaderMap) -> bool {
    header_is(headers, "application/x-www-form-urlencoded")
}

fn header_is(headers: &actix_web::http::header::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(expected)
        })
}

/// JSON bodies only: a form or text post (as a cross-site form could send) is refused.
pub fn require_json(req: &HttpRequest) -> Result<(), RequestError> {
    if content_type_is(req, "application/json") {
        Ok(())
    } else {
        Err(RequestError::NotJson)
    }
}

/// A JSON body, read within `limit` bytes.
pub async fn read_raw_json(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<web::Bytes, RequestError> {
    require_json(req)?;
    read_body(payload, settings).await
}

pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<T, RequestError> {
    let body = read_raw_json(req, payload, settings).await?;
    parse_json(&body)
}

/// A body that may be left out: no body at all (whatever its content type) is `None`, as is a
/// JSON `null`; anything else must be JSON of `T`.
pub async fn read_optional_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<Option<T>, RequestError> {
    let body = read_body(payload, settings).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    require_json(req)?;
    parse_json(&body)
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    serde_json::from_slice(body).map_err(|e| {
        RequestError::BadJson(match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            serde_json::error::Category::Data => "a field is missing or has the wrong type",
            serde_json::error::Category::Io => "unreadable",
        })
    })
}

/// A form body (`application/x-www-form-urlencoded`) as it came, for parsers of their own.
/// Control bytes (CR, LF, NUL, ESC, DEL, …) have no place in a form, whose encoding
/// percent-encodes them: such a body is refused as unreadable.
pub async fn read_form_bytes(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<web::Bytes, RequestError> {
    if !content_type_is(req, "application/x-www-form-urlencoded") {
        return Err(RequestError::NotForm);
    }
    let body = read_body(payload, settings).await?;
    if body.iter().any(|b| b.is_ascii_control()) {
        return Err(RequestError::BadForm);
    }
    Ok(body)
}

/// Form bodies only (`application/x-www-form-urlencoded`), as OAuth prescribes.
pub async fn read_form<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    settings: &Settings,
) -> Result<T, RequestError> {
    let body = read_form_bytes(req, payload, settings).await?;
    serde_urlencoded::from_bytes(&body).map_err(|_| RequestError::BadForm)
}
