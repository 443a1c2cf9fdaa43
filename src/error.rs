//! One error type for every endpoint: a status, a stable code from API.md and one sentence a
//! person can act on. Internal causes are logged once and never sent to the client.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: Cow<'static, str>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn bad_request(code: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::bad_request("invalid_request", description)
    }

    pub fn unauthorized(code: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, description)
    }

    pub fn conflict(code: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, description)
    }

    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts from this address; wait a minute and try again.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The service is briefly unavailable; try again in a few seconds.",
        )
    }

    /// An unexpected failure: the cause is logged here, once, and the client gets a generic 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Something went wrong on our side; try again shortly.",
        )
    }

    /// The same status, code and description with another status (a code's status differs
    /// between the registration and login ceremonies in API.md).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            res.insert_header((header::RETRY_AFTER, "60"));
        }
        res.json(ErrorBody {
            error: self.code,
            error_description: &self.description,
        })
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::PoolTimeout => ApiError::unavailable(),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "challenge store error");
        ApiError::unavailable()
    }
}
