//! Server-rendered pages (askama). The full sign-up and sign-in pages build on this layout.

use actix_web::{get, web, HttpResponse};
use askama::Template;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "index.html")]
struct Index<'a> {
    issuer: &'a str,
    rp_id: &'a str,
}

#[get("/")]
pub async fn index(app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let page = Index {
        issuer: &app.settings.issuer,
        rp_id: &app.settings.rp_id,
    }
    .render()
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}
