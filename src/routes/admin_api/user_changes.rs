//! Changes to one person that leave their status alone: `PATCH /users/{id}` and ending all of
//! their sessions (`DELETE /users/{id}/sessions`).

use actix_web::http::StatusCode;
use actix_web::{delete, patch, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};

use super::{auth, json};
use crate::admin::UserDetail;
use crate::routes::body::read_json;
use crate::routes::error::ApiError;
use crate::state::AppState;

/// `PATCH /users/{id}`: the fields to change; an absent field stays as it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// A new address, or null (or "") to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub email: Option<Option<String>>,
}

/// A field that is present, possibly null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Changes a person's email address.
#[utoipa::path(
    patch, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    request_body = UserChange,
    responses((status = 200, description = "The person, changed", body = UserDetail)),
    security(("bearer" = ["users:write"]))
)]
#[patch("/users/{id}")]
pub async fn update(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let change: UserChange = read_json(&req, payload, &app.settings).await?;
    // Known to exist before anything changes, so that an unknown id is 404 for any body.
    let user = admin.user(&id).await?;
    if let Some(email) = change.email {
        admin
            .set_email(&user.id, email.as_deref().unwrap_or(""))
            .await?;
    }
    Ok(json(StatusCode::OK, &admin.show(&user.id).await?))
}

/// How many sessions ended.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    /// The user's id.
    pub user: String,
    /// The live sessions that ended.
    pub ended: usize,
}

/// Ends all of a person's sessions and refresh tokens, on every instance at once; they can
/// sign in again.
#[utoipa::path(
    delete, path = "/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 200, description = "The sessions ended", body = SessionsEnded)),
    security(("bearer" = ["users:write"]))
)]
#[delete("/users/{id}/sessions")]
pub async fn end_sessions(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (user, ended) = admin.end_sessions(&id).await?;
    Ok(json(
        StatusCode::OK,
        &SessionsEnded {
            user: user.id,
            ended,
        },
    ))
}
