//! Admin API tokens through the API itself: `/tokens…`, all under `tokens:write` (seeing the
//! tokens is part of managing them). A token can hand out only scopes it holds.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{auth, done, json, query, Listing, PageQuery};
use crate::admin::clients::ScopeList;
use crate::admin::tokens::{NewToken, Scopes, TokenView, DEFAULT_LIFETIME};
use crate::routes::body::read_json;
use crate::routes::error::ApiError;
use crate::state::AppState;

/// `POST /tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// 1 to 64 letters, digits and `. _ -`; events name the token's changes `token:NAME`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub name: String,
    /// `users:read`, `users:write`, `recovery:write`, `groups:read`, `groups:write`,
    /// `clients:read`, `clients:write`, `keys:read`, `keys:write`, `events:read`,
    /// `tokens:write`, `admin`, or `AREA:*`.
    pub scopes: ScopeList,
    /// How long it works, 60 seconds to 366 days (default 90 days).
    #[schema(minimum = 60, maximum = 31622400)]
    pub expires_in_secs: Option<u64>,
}

/// Every token (never the token itself), by name.
#[utoipa::path(
    get, path = "/tokens", tag = "tokens",
    params(PageQuery),
    responses((status = 200, description = "A page of tokens", body = Listing<TokenView>)),
    security(("bearer" = ["tokens:write"]))
)]
#[get("/tokens")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let page: PageQuery = query(&req)?;
    let (limit, after) = (page.limit()?, page.cursor()?);
    let items: Vec<TokenView> = admin
        .tokens()
        .await?
        .into_iter()
        .filter(|t| after.as_ref().is_none_or(|a| &t.name > a))
        .take(limit as usize + 1)
        .collect();
    Ok(json(
        StatusCode::OK,
        &Listing::of(items, limit, |t| t.name.clone()),
    ))
}

/// Creates a token; the answer is the only place the token is ever shown. A token can only
/// be given scopes the caller's token holds (403 otherwise).
#[utoipa::path(
    post, path = "/tokens", tag = "tokens",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, shown once", body = NewToken),
        (status = 409, description = "A token of that name exists (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["tokens:write"]))
)]
#[post("/tokens")]
pub async fn create(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: TokenRequest = read_json(&req, payload, &app.settings).await?;
    let scopes = Scopes::parse(&body.scopes.text())?;
    let lifetime = body
        .expires_in_secs
        .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    let created = admin.token_create(&body.name, &scopes, lifetime).await?;
    Ok(json(StatusCode::CREATED, &created))
}

/// Revokes a token: it stops working on every instance at once.
#[utoipa::path(
    delete, path = "/tokens/{name}", tag = "tokens",
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 204, description = "Revoked")),
    security(("bearer" = ["tokens:write"]))
)]
#[delete("/tokens/{name}")]
pub async fn revoke(
    app: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    admin.token_revoke(&name).await?;
    Ok(done())
}
