//! The signing key set: `/keys…` of the admin API. The server changes its own key store (with
//! its own KEK when the set is in the database); this instance serves the change at once, the
//! others within `keys.reload_interval_secs`, as after a `keys` command.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::clients::alg_of;
use super::{auth, json, optional_json};
use crate::admin::keys::KeySetView;
use crate::admin::Admin;
use crate::routes::error::ApiError;
use crate::signing::KeyAlg;
use crate::state::AppState;

/// The algorithm the key commands default to.
const DEFAULT_ALG: KeyAlg = KeyAlg::ES256;

/// `POST /keys/generate` and `POST /keys/rotate`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyStepBody {
    /// ES256 (default), RS256 or EdDSA.
    pub alg: Option<String>,
    /// Rotate even though caches may not have the new key yet (`rotate` only).
    #[serde(default)]
    pub force: bool,
}

/// `POST /keys/{kid}/retire`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireBody {
    /// Retire even though tokens the key signed may still be valid.
    #[serde(default)]
    pub force: bool,
}

/// Has this instance load a changed key set now rather than at its next reload.
pub(super) async fn reload(app: &AppState) {
    let ring = app.keys.clone();
    let _ = crate::blocking::spawn(move || ring.reload_if_changed()).await;
}

/// The key set after a change, served by this instance from now on.
async fn key_set(app: &AppState, admin: &Admin) -> Result<HttpResponse, ApiError> {
    reload(app).await;
    let keys = admin
        .keys(app.keys.store(), &app.settings.rotation_policy())
        .await?;
    Ok(json(StatusCode::OK, &KeySetView { keys }))
}

/// Every key with its state and what may happen to it next, and when.
#[utoipa::path(
    get, path = "/keys", tag = "keys",
    responses((status = 200, description = "The key set", body = KeySetView)),
    security(("bearer" = ["keys:read"]))
)]
#[get("/keys")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let keys = admin
        .keys(app.keys.store(), &app.settings.rotation_policy())
        .await?;
    Ok(json(StatusCode::OK, &KeySetView { keys }))
}

/// Adds a key in state `next`: published, not yet signing (one per algorithm).
#[utoipa::path(
    post, path = "/keys/generate", tag = "keys",
    request_body(content = Option<KeyStepBody>, description = "Optional: the algorithm"),
    responses(
        (status = 200, description = "The key set", body = KeySetView),
        (status = 409, description = "The rotation rules refuse it now (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["keys:write"]))
)]
#[post("/keys/generate")]
pub async fn generate(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: KeyStepBody = optional_json(&req, payload, &app.settings).await?;
    let alg = alg_of(body.alg.as_deref(), DEFAULT_ALG)?;
    admin.key_generate(app.keys.store(), alg).await?;
    key_set(&app, &admin).await
}

/// For one algorithm: `next` → `active`, `active` → `retiring`.
#[utoipa::path(
    post, path = "/keys/rotate", tag = "keys",
    request_body(content = Option<KeyStepBody>, description = "Optional: the algorithm, and force"),
    responses(
        (status = 200, description = "The key set", body = KeySetView),
        (status = 409, description = "The rotation rules refuse it now (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["keys:write"]))
)]
#[post("/keys/rotate")]
pub async fn rotate(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: KeyStepBody = optional_json(&req, payload, &app.settings).await?;
    let alg = alg_of(body.alg.as_deref(), DEFAULT_ALG)?;
    let policy = app.settings.rotation_policy();
    admin
        .key_rotate(app.keys.store(), alg, body.force, &policy)
        .await?;
    key_set(&app, &admin).await
}

/// A `retiring` key leaves the JWKS once no token it signed can still be valid.
#[utoipa::path(
    post, path = "/keys/{kid}/retire", tag = "keys",
    params(("kid" = String, Path, description = "The key's id")),
    request_body(content = Option<RetireBody>, description = "Optional: force"),
    responses(
        (status = 200, description = "The key set", body = KeySetView),
        (status = 409, description = "The rotation rules refuse it now (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["keys:write"]))
)]
#[post("/keys/{kid}/retire")]
pub async fn retire(
    app: web::Data<AppState>,
    req: HttpRequest,
    kid: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: RetireBody = optional_json(&req, payload, &app.settings).await?;
    let policy = app.settings.rotation_policy();
    admin
        .key_retire(app.keys.store(), &kid, body.force, &policy)
        .await?;
    key_set(&app, &admin).await
}

/// Emergency: the key leaves the JWKS and is not trusted from now on; an active key is
/// replaced at once.
#[utoipa::path(
    post, path = "/keys/{kid}/revoke", tag = "keys",
    params(("kid" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key set", body = KeySetView),
        (status = 409, description = "The key is gone already (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["keys:write"]))
)]
#[post("/keys/{kid}/revoke")]
pub async fn revoke(
    app: web::Data<AppState>,
    req: HttpRequest,
    kid: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    admin.key_revoke(app.keys.store(), &kid).await?;
    key_set(&app, &admin).await
}
