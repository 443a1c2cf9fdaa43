//! One-time URLs of the admin API: recovery links (a person who lost their passkeys adds a new
//! one) and sign-up invites. The URL is in the answer only; what is stored is its hash.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{auth, json, optional_json};
use crate::admin::links::{InviteSpec, OneTimeUrl};
use crate::routes::body::read_json;
use crate::routes::error::ApiError;
use crate::state::AppState;

/// How long a recovery link lives unless told (as `users recovery-link`).
const LINK_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an invite lives unless told (as `users invite`).
const INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// `POST /users/{id}/recovery-links`; the whole body may be left out.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LinkRequest {
    /// How long the link works, 1 second to 90 days (default 24 hours).
    #[schema(minimum = 1, maximum = 7776000)]
    pub ttl_secs: Option<u64>,
}

/// `POST /invites`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct InviteRequest {
    /// The username the invite is for (the person cannot choose another).
    pub username: Option<String>,
    /// The email address the sign-up form is prefilled with.
    pub email: Option<String>,
    /// Existing groups the new account joins.
    pub groups: Option<Vec<String>>,
    /// How long the invite works, 1 second to 90 days (default 7 days).
    #[schema(minimum = 1, maximum = 7776000)]
    pub ttl_secs: Option<u64>,
}

/// A one-time URL, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedUrl {
    pub url: String,
    /// When it stops working, RFC 3339 UTC.
    pub expires: String,
}

impl From<OneTimeUrl> for IssuedUrl {
    fn from(link: OneTimeUrl) -> IssuedUrl {
        IssuedUrl {
            url: link.url,
            expires: crate::events::rfc3339(link.expires.naive_utc()),
        }
    }
}

/// A recovery link (`ISSUER/recover?token=…`) for an active person: whoever holds it adds a
/// passkey to their account, once. Their older unused links stop working.
#[utoipa::path(
    post, path = "/users/{id}/recovery-links", tag = "recovery",
    params(("id" = String, Path, description = "The user's id or username")),
    request_body(content = Option<LinkRequest>, description = "Optional; no body means the defaults"),
    responses(
        (status = 201, description = "The link, shown once", body = IssuedUrl),
        (status = 409, description = "The person is disabled (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["recovery:write"]))
)]
#[post("/users/{id}/recovery-links")]
pub async fn recovery_link(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: LinkRequest = optional_json(&req, payload, &app.settings).await?;
    let ttl = body.ttl_secs.map_or(LINK_TTL, Duration::from_secs);
    let link = admin.recovery_link(&id, ttl).await?;
    Ok(json(StatusCode::CREATED, &IssuedUrl::from(link)))
}

/// A sign-up invite (`ISSUER/register?invite=…`), good for one new account.
#[utoipa::path(
    post, path = "/invites", tag = "recovery",
    request_body = InviteRequest,
    responses(
        (status = 201, description = "The invite, shown once", body = IssuedUrl),
        (status = 404, description = "One of the groups does not exist (not_found)", body = super::openapi::ErrorAnswer),
        (status = 409, description = "The username is taken (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["recovery:write"]))
)]
#[post("/invites")]
pub async fn invite(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: InviteRequest = read_json(&req, payload, &app.settings).await?;
    let spec = InviteSpec {
        username: body.username,
        email: body.email,
        groups: body.groups.unwrap_or_default(),
        ttl: body.ttl_secs.map_or(INVITE_TTL, Duration::from_secs),
    };
    let link = admin.invite(spec).await?;
    Ok(json(StatusCode::CREATED, &IssuedUrl::from(link)))
}
