//! Nothing at this path: the 404 page, the router's default service.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{page, Chrome};
use crate::routes::error::{ApiError, RequestError};
use crate::routes::request_id;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    p: Chrome<'a>,
    reference: &'a str,
}

/// Nothing at this path: a page for a browser (that asks for HTML), JSON for everyone else.
/// The page gives the request id as a reference a person can pass to support.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let app = req.app_data::<web::Data<AppState>>();
    let (Some(app), true) = (app, wants_html) else {
        return Err(RequestError::NotFound.into());
    };
    let reference = request_id(&req);
    let p = Chrome::new(app, &req);
    page(
        &p,
        StatusCode::NOT_FOUND,
        NotFoundPage {
            p,
            reference: &reference,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_not_found_page_has_no_text_outside_the_catalog() {
        check(
            "not found",
            NotFoundPage {
                p: marked_chrome(),
                reference: "abc",
            },
        );
    }
}
