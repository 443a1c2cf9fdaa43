//! The signed-out page (`GET /signed-out`): where a sign-out lands, and the question of
//! RP-initiated logout (`/logout` without a valid `id_token_hint`) and its answer.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{page, Chrome};
use crate::routes::current_session;
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOut<'a> {
    p: Chrome<'a>,
    /// Ask first (no valid id_token_hint) rather than report.
    confirm: bool,
    /// The service that asked, when it is known.
    service: Option<&'a str>,
    /// Not signed out at all: the browser's session is alive (`GET /signed-out` after a
    /// sign-out that did not happen, or a bookmark).
    still_signed_in: bool,
}

/// The page after RP-initiated logout: `None` when the person is signed out, `Some(service)`
/// to ask first (naming the asking service when it is known).
pub fn signed_out_page(
    app: &AppState,
    req: &HttpRequest,
    ask: Option<Option<&str>>,
) -> Result<HttpResponse, ApiError> {
    let p = Chrome::new(app, req);
    page(
        &p,
        StatusCode::OK,
        SignedOut {
            p,
            confirm: ask.is_some(),
            service: ask.flatten(),
            still_signed_in: false,
        },
    )
}

/// Where the account page's "Sign out" lands: the session is over, and the way back in. While
/// the browser's session lives, the page says so instead, and offers to sign out.
#[get("/signed-out")]
pub async fn signed_out(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let still_signed_in = current_session(&req, &app)
        .await?
        .is_some_and(|s| !s.session.restricted);
    let p = Chrome::new(&app, &req);
    page(
        &p,
        StatusCode::OK,
        SignedOut {
            p,
            confirm: false,
            service: None,
            still_signed_in,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_signed_out_page_has_no_text_outside_the_catalog() {
        for (confirm, service, still_signed_in) in [
            (true, Some("⟦Shop⟧"), false),
            (true, None, false),
            (false, None, false),
            (false, None, true),
        ] {
            check(
                "signed out",
                SignedOut {
                    p: marked_chrome(),
                    confirm,
                    service,
                    still_signed_in,
                },
            );
        }
    }
}
