//! Groups and memberships: `/groups…` of the admin API. Memberships are idempotent: `PUT`
//! of a member and `DELETE` of a non-member answer 204 and change nothing.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{auth, done, json, query, Listing, PageQuery};
use crate::admin::AdminError;
use crate::routes::body::read_json;
use crate::routes::error::ApiError;
use crate::state::AppState;

/// A group and how many people are in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    pub name: String,
    pub members: i64,
}

/// `POST /groups`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GroupRequest {
    /// 1 to 64 letters, digits and `. _ - : @ /`.
    #[schema(pattern = "^[A-Za-z0-9._:@/-]{1,64}$", min_length = 1, max_length = 64)]
    pub name: String,
}

/// Groups, by name.
#[utoipa::path(
    get, path = "/groups", tag = "groups",
    params(PageQuery),
    responses((status = 200, description = "A page of groups", body = Listing<GroupView>)),
    security(("bearer" = ["groups:read"]))
)]
#[get("/groups")]
pub async fn list(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let page: PageQuery = query(&req)?;
    let (limit, after) = (page.limit()?, page.cursor()?);
    let items: Vec<GroupView> = admin
        .groups()
        .await?
        .into_iter()
        .filter(|(name, _)| after.as_ref().is_none_or(|a| name > a))
        .take(limit as usize + 1)
        .map(|(name, members)| GroupView { name, members })
        .collect();
    let listing = Listing::of(items, limit, |g| g.name.clone());
    Ok(json(StatusCode::OK, &listing))
}

/// Creates a group.
#[utoipa::path(
    post, path = "/groups", tag = "groups",
    request_body = GroupRequest,
    responses(
        (status = 201, description = "Created", body = GroupView),
        (status = 409, description = "A group of that name exists (conflict)", body = super::openapi::ErrorAnswer),
    ),
    security(("bearer" = ["groups:write"]))
)]
#[post("/groups")]
pub async fn create(
    app: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let body: GroupRequest = read_json(&req, payload, &app.settings).await?;
    admin.group_add(&body.name).await?;
    let created = GroupView {
        name: body.name,
        members: 0,
    };
    Ok(json(StatusCode::CREATED, &created))
}

/// Removes a group and its memberships.
#[utoipa::path(
    delete, path = "/groups/{name}", tag = "groups",
    params(("name" = String, Path, description = "The group (a `/` in it as %2F)")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = ["groups:write"]))
)]
#[delete("/groups/{name}")]
pub async fn remove(
    app: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    admin.group_remove(&name).await?;
    Ok(done())
}

/// Puts a person in the group; 204 also when they are in it already.
#[utoipa::path(
    put, path = "/groups/{name}/members/{user_id}", tag = "groups",
    params(
        ("name" = String, Path, description = "The group"),
        ("user_id" = String, Path, description = "The user's id or username"),
    ),
    responses((status = 204, description = "The person is in the group")),
    security(("bearer" = ["groups:write"]))
)]
#[put("/groups/{name}/members/{user_id}")]
pub async fn add_member(
    app: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (group, user) = path.into_inner();
    admin.add_to_group(&user, &group).await?;
    Ok(done())
}

/// Takes a person out of the group; 204 also when they were not in it.
#[utoipa::path(
    delete, path = "/groups/{name}/members/{user_id}", tag = "groups",
    params(
        ("name" = String, Path, description = "The group"),
        ("user_id" = String, Path, description = "The user's id or username"),
    ),
    responses((status = 204, description = "The person is not in the group")),
    security(("bearer" = ["groups:write"]))
)]
#[delete("/groups/{name}/members/{user_id}")]
pub async fn remove_member(
    app: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::admin(&req, &app).await?;
    let (group, user) = path.into_inner();
    match admin.remove_from_group(&user, &group).await {
        Ok(()) | Err(AdminError::NotAMember { .. }) => Ok(done()),
        Err(e) => Err(e.into()),
    }
}
