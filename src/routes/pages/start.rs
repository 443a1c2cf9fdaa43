//! The start page (`GET /`): what this is, the ways in, and the discovery address for
//! developers.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{html, signup_link, Chrome};
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "index.html")]
struct Index<'a> {
    p: Chrome<'a>,
    issuer: &'a str,
    signup_link: bool,
}

#[get("/")]
pub async fn index(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Index {
            p,
            issuer: &app.settings.server.site.issuer,
            signup_link: signup_link(&app),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_start_page_has_no_text_outside_the_catalog() {
        check(
            "index",
            Index {
                p: marked_chrome(),
                issuer: "https://id.example.com",
                signup_link: true,
            },
        );
    }
}
