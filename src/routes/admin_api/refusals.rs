//! What a refused admin API request answers: its status, code and sentence, for the one
//! mapping in `routes/error.rs`.

use actix_web::http::StatusCode;

use super::AuthRefusal;
use crate::admin::{AdminError, Refusal};
use crate::routes::error::{answer, fault, unavailable, Answer, BAD, UNAUTHORIZED};

pub fn auth(e: &AuthRefusal) -> Answer {
    use AuthRefusal as R;
    match e {
        R::NoToken => answer(
            UNAUTHORIZED,
            "invalid_token",
            "This needs an admin API token (Authorization: Bearer <token>).",
        ),
        R::BadToken => answer(
            UNAUTHORIZED,
            "invalid_token",
            "The token is unknown, revoked or expired; ask for a new one.",
        ),
        R::MissingScope(scope) => answer(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This token's scopes do not allow this; it needs {scope}."),
        ),
        R::RateLimited => answer(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests; wait a minute and try again.",
        ),
    }
}

/// An administrative act refused: the sentence is the command line's, in printable ASCII.
pub fn admin(e: &AdminError) -> Answer {
    let sentence = || -> String {
        e.to_string()
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .take(300)
            .collect()
    };
    match e.refusal() {
        Refusal::NotFound => answer(StatusCode::NOT_FOUND, "not_found", sentence()),
        Refusal::Conflict => answer(StatusCode::CONFLICT, "conflict", sentence()),
        Refusal::Invalid => answer(BAD, "invalid_request", sentence()),
        Refusal::Forbidden => answer(StatusCode::FORBIDDEN, "insufficient_scope", sentence()),
        Refusal::Fault => match e.fault() {
            Some(f) => fault(f),
            None => unavailable(),
        },
    }
}
