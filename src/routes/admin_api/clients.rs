//! Relying services: `/clients…` of the admin API. Clients declared in `oidc.clients_file` are
//! shown but not changed (409).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{auth, json, optional_json, query, Listing, PageQuery};
use crate::admin::clients::{ClientChanges, ClientView, RotatedSecret, ScopeList, DEFAULT_GRACE};
use crate::admin::{Admin, AdminError};
use crate::oidc::clients::{Client, NewClient};
use crate::routes::body::read_json;
use crate::routes::error::ApiError;
use crate::signing::KeyAlg;
use crate::state::AppState;

/// `POST /clients`: a client as the clients file describes one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientBody {
    /// 1 to 128 letters, digits and `- . _ ~`.
    #[schema(pattern = "^[A-Za-z0-9._~-]{1,128}$", min_length = 1, max_length = 128)]
    pub client_id: String,
    /// Defaults to the client id; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Exact redirect URIs (at least one), matched byte for byte: https, http on a loopback
    /// host, or a private-use scheme with a dot (`com.example.app:/cb`); no fragment.
    #[schema(min_items = 1)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client has no secret (PKCE proves possession).
    #[serde(default)]
    pub public: bool,
    /// Default: `openid profile email offline_access groups`.
    pub scopes: Option<ScopeList>,
    /// RS256 (default), ES256 or EdDSA.
    pub id_token_alg: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub allowed_groups: Vec<String>,
}

/// A new client, with its secret: shown this once (null for a public client).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddedClient {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: Option<String>,
}

/// `POST /clients/{client_id}/secret`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// How long the previous secret stays accepted, in seconds (default 86400; 0 ends it now;
    /// at most 30 days).
    #[schema(minimum = 0, maximum = 2592000)]
    pub grace_secs: Option<u64>,
}

/// Makes sure the client's ID token algorithm has a signing key on this server's key store,
/// and that this instance serves it at once.
async fn signing_key_for(app: &AppState, admin: &Admin, client: &Client) -> Result<(), ApiError> {
    let made = admin
        .ensure_signing_key(app.keys.store(), client.id_token_alg)
        .await?;
    if !made.is_empty() {
        super::keys::reload(app).await;
    }
    Ok(())
}

/// Clients, declared and registered, by client id.
#[utoipa::path(
    get, path = "/clients", tag = "clients",
    params(PageQuery),
    responses((status = 200, description = "A page of clients", body = Listing<ClientView>)),
    security(("bearer" = ["clients:read"]))
)]
#[get("/clients")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let page: PageQuery = query(&req)?;
    let (limit, after) = (page.limit()?, page.cursor()?);
    let items: Vec<ClientView> = admin
        .clients(&app.oidc.clients)
        .await?
        .iter()
        .filter(|c| after.as_deref().is_none_or(|a| c.client_id.as_str() > a))
        .take(limit as usize + 1)
        .map(ClientView::from)
        .collect();
    let listing = Listing::of(items, limit, |c| c.client_id.clone());
    Ok(json(StatusCode::OK, &listing))
}

/// Registers a client; a confidential client's secret is in this answer only.
#[utoipa::path(
    post, path = "/clients", tag = "clients",
    request_body = NewClientBody,
    responses(
        (status = 201, description = "The client, and its secret (shown once)", body = AddedClient),
        (status = 409, description = "The client id is taken or declared in the clients file (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[post("/clients")]
pub async fn add(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: NewClientBody = read_json(&req, payload, &app.settings).await?;
    let scopes = body.scopes.as_ref().map(ScopeList::text);
    let new = NewClient {
        client_id: &body.client_id,
        name: body.name.as_deref(),
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        public: body.public,
        scopes: scopes.as_deref(),
        id_token_alg: body.id_token_alg.as_deref(),
        audiences: body.audiences,
        allowed_groups: body.allowed_groups,
    };
    let (client, secret) = admin.client_add(&app.oidc.clients, new).await?;
    signing_key_for(&app, &admin, &client).await?;
    let added = AddedClient {
        client: ClientView::from(&client),
        client_secret: secret,
    };
    Ok(json(StatusCode::CREATED, &added))
}

/// One client.
#[utoipa::path(
    get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    responses((status = 200, description = "The client", body = ClientView)),
    security(("bearer" = ["clients:read"]))
)]
#[get("/clients/{client_id}")]
pub async fn show(
    app: web::Data<AppState>,
    req: HttpRequest,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let client = admin.client(&app.oidc.clients, &client_id).await?;
    Ok(json(StatusCode::OK, &ClientView::from(&client)))
}

/// Changes the fields given (each replaces the one the client has), checked as a new client's
/// are.
#[utoipa::path(
    patch, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    request_body = ClientChanges,
    responses(
        (status = 200, description = "The client as it is now", body = ClientView),
        (status = 409, description = "The client is declared in the clients file (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[patch("/clients/{client_id}")]
pub async fn update(
    app: web::Data<AppState>,
    req: HttpRequest,
    client_id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let changes: ClientChanges = read_json(&req, payload, &app.settings).await?;
    let client = admin
        .client_update(&app.oidc.clients, &client_id, changes)
        .await?;
    signing_key_for(&app, &admin, &client).await?;
    Ok(json(StatusCode::OK, &ClientView::from(&client)))
}

/// A new secret (in this answer only); the previous one stays accepted for the grace period.
#[utoipa::path(
    post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    request_body(content = Option<RotateSecretBody>, description = "Optional; an empty body keeps the default grace period"),
    responses(
        (status = 200, description = "The client and its new secret", body = RotatedSecret),
        (status = 409, description = "The client is public or declared in the clients file (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[post("/clients/{client_id}/secret")]
pub async fn rotate_secret(
    app: web::Data<AppState>,
    req: HttpRequest,
    client_id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: RotateSecretBody = optional_json(&req, payload, &app.settings).await?;
    let grace = body
        .grace_secs
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_GRACE);
    let (client, secret) = admin
        .client_rotate_secret(&app.oidc.clients, &client_id, grace)
        .await?;
    let view = ClientView::from(&client);
    let rotated = RotatedSecret {
        previous_secret_expires: view.previous_secret_expires.clone(),
        client: view,
        client_secret: secret,
    };
    Ok(json(StatusCode::OK, &rotated))
}

/// Removes a client: its refresh tokens are revoked, and codes and access tokens issued to it
/// are refused from now on.
#[utoipa::path(
    delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The client is declared in the clients file (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[delete("/clients/{client_id}")]
pub async fn remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    client_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    admin.client_remove(&app.oidc.clients, &client_id).await?;
    Ok(super::done())
}

/// A key algorithm named in a body, or `default`.
pub(super) fn alg_of(name: Option<&str>, default: KeyAlg) -> Result<KeyAlg, AdminError> {
    match name {
        None => Ok(default),
        Some(n) => KeyAlg::parse(n).ok_or_else(|| AdminError::BadAlg(n.to_string())),
    }
}
