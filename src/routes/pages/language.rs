//! A person picks the pages' language (`GET /language/{lang}`, the links in every page's
//! footer).

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::not_found::not_found;
use super::safe_next;
use crate::fault::Fault;
use crate::i18n;
use crate::routes::error::ApiError;
use crate::routes::{cookies, see_other};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct LanguageQuery {
    next: Option<String>,
}

/// The language is remembered for a year in a cookie, then back to the page the person was on.
#[get("/language/{lang}")]
pub async fn language(
    app: web::Data<AppState>,
    req: HttpRequest,
    lang: web::Path<String>,
    query: web::Query<LanguageQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(catalog) = i18n::catalog(&lang) else {
        // Not a shipped language: the 404 page for a browser, JSON for the rest.
        return not_found(req).await;
    };
    let next = match query.next.as_deref() {
        None => "/".to_string(),
        next => safe_next(next, &app.settings.server.site.issuer_url),
    };
    let mut res = see_other(&next);
    let cookie = cookies::make(
        &app.settings,
        cookies::LANGUAGE,
        catalog.lang().to_string(),
        std::time::Duration::from_secs(365 * 86400),
        actix_web::cookie::SameSite::Lax,
    );
    res.add_cookie(&cookie).map_err(Fault::internal)?;
    Ok(res)
}
