//! The recovery page (`GET /recover`): a recovery code, or the button of a recovery link, then
//! a new passkey.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{html, next_query, safe_next, Chrome};
use crate::routes::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "recover.html")]
struct Recover<'a> {
    p: Chrome<'a>,
    /// The token of a recovery link (`/recover?token=…`); the page spends it only when the
    /// person presses the button.
    token: String,
    /// `?next=…` for the links back to sign in: a service's request survives recovery.
    next_query: String,
    /// How long the recovery session lasts, to add the passkey in.
    lifetime_secs: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct RecoverQuery {
    token: Option<String>,
    next: Option<String>,
}

#[get("/recover")]
pub async fn recover(
    app: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RecoverQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = Chrome::new(&app, &req);
    html(
        &p,
        Recover {
            p,
            token: query
                .token
                .clone()
                .filter(|t| t.len() <= 128)
                .unwrap_or_default(),
            next_query: next_query(&safe_next(
                query.next.as_deref(),
                &app.settings.server.site.issuer_url,
            )),
            lifetime_secs: crate::session::RECOVERY_LIFETIME.as_secs(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::{check, marked_chrome};
    use super::*;

    #[test]
    fn the_recovery_page_has_no_text_outside_the_catalog() {
        for token in ["", "tok"] {
            check(
                "recover",
                Recover {
                    p: marked_chrome(),
                    token: token.into(),
                    next_query: "?next=%2Fauthorize".into(),
                    lifetime_secs: 600,
                },
            );
        }
    }
}
