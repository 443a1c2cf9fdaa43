//! People: `/users…` of the admin API (recovery links are in `recovery.rs`). A user in a path
//! is an id or a username.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{auth, done, json, query, Listing, PageQuery};
use crate::admin::directory::Wanted;
use crate::admin::{SessionDetail, UserDetail, UserSummary};
use crate::routes::error::{ApiError, RequestError};
use crate::state::AppState;

/// `GET /users`'s filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username or email address, any case.
    pub query: Option<String>,
    /// Only members of this group (404 when there is no such group).
    pub group: Option<String>,
    /// `active` or `disabled`.
    #[param(pattern = "^(active|disabled)$")]
    pub status: Option<String>,
}

/// People, in username order.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(UserQuery, PageQuery),
    responses(
        (status = 200, description = "A page of people", body = Listing<UserSummary>),
        (status = 404, description = "There is no such group (not_found)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["users:read"]))
)]
#[get("/users")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (filters, page): (UserQuery, PageQuery) = (query(&req)?, query(&req)?);
    let limit = page.limit()?;
    let active = match filters.status.as_deref() {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(RequestError::BadQuery.into()),
    };
    let found = admin
        .find_users(Wanted {
            query: filters.query.filter(|q| !q.is_empty()),
            group: filters.group.filter(|g| !g.is_empty()),
            active,
            after: page.cursor()?,
            limit: limit + 1,
        })
        .await?;
    let listing = Listing::of(found, limit, |u| u.username.clone());
    Ok(json(StatusCode::OK, &listing))
}

/// One person (by id or username): passkeys, groups and sessions.
#[utoipa::path(
    get, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 200, description = "The person", body = UserDetail)),
    security(("bearer" = ["users:read"]))
)]
#[get("/users/{id}")]
pub async fn show(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let user = admin.show(&id).await?;
    Ok(json(StatusCode::OK, &user))
}

/// Disables the person: they cannot sign in, and their sessions and refresh tokens end at
/// once on every instance. Disabling a disabled person changes nothing (and stores no event).
#[utoipa::path(
    post, path = "/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 200, description = "The person, now disabled", body = UserDetail)),
    security(("bearer" = ["users:write"]))
)]
#[post("/users/{id}/disable")]
pub async fn disable(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (user, _) = admin.disable(&id).await?;
    Ok(json(StatusCode::OK, &admin.show(&user.id).await?))
}

/// Lets a disabled person sign in again (ended sessions stay ended). Enabling an active
/// person changes nothing.
#[utoipa::path(
    post, path = "/users/{id}/enable", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 200, description = "The person, now active", body = UserDetail)),
    security(("bearer" = ["users:write"]))
)]
#[post("/users/{id}/enable")]
pub async fn enable(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (user, _) = admin.enable(&id).await?;
    Ok(json(StatusCode::OK, &admin.show(&user.id).await?))
}

/// Erases the person with their passkeys, sessions, refresh tokens and recovery codes; their
/// events stay and still name them.
#[utoipa::path(
    delete, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 204, description = "Erased")),
    security(("bearer" = ["users:write"]))
)]
#[delete("/users/{id}")]
pub async fn erase(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    admin.delete(&id).await?;
    Ok(done())
}

/// Removes one of the person's passkeys, and the sessions it started.
#[utoipa::path(
    delete, path = "/users/{id}/passkeys/{credential_id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's id or username"),
        ("credential_id" = String, Path, description = "The passkey's id (base64url), as GET /users/{id} lists it"),
    ),
    responses((status = 204, description = "Removed")),
    security(("bearer" = ["users:write"]))
)]
#[delete("/users/{id}/passkeys/{credential_id}")]
pub async fn passkey_remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (id, credential_id) = path.into_inner();
    admin.passkey_remove(&id, &credential_id).await?;
    Ok(done())
}

/// Clears the "possibly cloned" flag of one of the person's passkeys, so that it signs in
/// again (`users passkey-unflag`). A passkey that is not flagged stays as it is.
#[utoipa::path(
    post, path = "/users/{id}/passkeys/{credential_id}/unflag", tag = "users",
    params(
        ("id" = String, Path, description = "The user's id or username"),
        ("credential_id" = String, Path, description = "The passkey's id (base64url)"),
    ),
    responses((status = 204, description = "The passkey is not flagged")),
    security(("bearer" = ["users:write"]))
)]
#[post("/users/{id}/passkeys/{credential_id}/unflag")]
pub async fn passkey_unflag(
    app: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (id, credential_id) = path.into_inner();
    admin.passkey_unflag(&id, &credential_id).await?;
    Ok(done())
}

/// The person's live sessions, as `sessions` in `GET /users/{id}`: all of them on one page
/// (`next_cursor` is always null).
#[utoipa::path(
    get, path = "/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "The user's id or username")),
    responses((status = 200, description = "The person's sessions", body = Listing<SessionDetail>)),
    security(("bearer" = ["users:read"]))
)]
#[get("/users/{id}/sessions")]
pub async fn sessions(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let items = admin.sessions(&id).await?;
    Ok(json(
        StatusCode::OK,
        &Listing {
            items,
            next_cursor: None,
        },
    ))
}
