//! The page of an authorization request refused before its service could be answered (no
//! client, an unregistered redirect URI, an expired request, …).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::{page, Chrome};
use crate::oidc::Refused;
use crate::routes::error::ApiError;
use crate::routes::request_id;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "error.html")]
struct RefusedPage<'a> {
    p: Chrome<'a>,
    /// The catalog key of the sentence.
    message: &'a str,
    /// The request id, for the person to give support.
    reference: &'a str,
}

/// A 400 page that says why, with the request id as a reference for support.
pub fn refused_page(
    app: &AppState,
    req: &HttpRequest,
    refused: Refused,
) -> Result<HttpResponse, ApiError> {
    let reference = request_id(req);
    let p = Chrome::new(app, req);
    page(
        &p,
        StatusCode::BAD_REQUEST,
        RefusedPage {
            p,
            message: refused.key(),
            reference: &reference,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_refused_page_has_no_text_outside_the_catalog() {
        for refused in [
            Refused::NoClientId,
            Refused::UnknownClient,
            Refused::NoRedirectUri,
            Refused::UnregisteredRedirectUri,
            Refused::RequestExpired,
            Refused::ClientGone,
            Refused::Unreadable,
        ] {
            let key = refused.key();
            assert_ne!(crate::i18n::catalog("en").expect("en").t(key), key);
            check(
                "error",
                RefusedPage {
                    p: marked_chrome(),
                    message: key,
                    reference: "abc",
                },
            );
        }
    }
}
