//! People: `/users…` of the admin API.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{auth, json, query, Listing, PageQuery};
use crate::admin::directory::Wanted;
use crate::admin::{UserDetail, UserSummary};
use crate::routes::error::{ApiError, RequestError};
use crate::state::AppState;

/// `GET /users`'s filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username or email address, any case.
    pub query: Option<String>,
    /// Only members of this group.
    pub group: Option<String>,
    /// `active` or `disabled`.
    #[param(pattern = "^(active|disabled)$")]
    pub status: Option<String>,
}

/// People, in username order.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(UserQuery, PageQuery),
    responses((status = 200, description = "A page of people", body = Listing<UserSummary>)),
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
            query: filters.query,
            group: filters.group,
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
