//! The one mapping from every refusal the service can give to what the client receives: a
//! status, a stable error code (see docs/api.md), a sentence a person can act on, and the
//! headers that go with it. Each domain error enum is matched exhaustively, so a new variant
//! does not compile until it has an answer here.
//!
//! Internal causes are logged once, when the response is built, and never sent to the client.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::account::AccountError;
use crate::admin::AdminError;
use crate::ceremony::{CeremonyError, InputError, Phase};
use crate::fault::Fault;
use crate::oidc::{AuthorizeError, OAuthError};
use crate::session::Denied;

/// Refusals that belong to HTTP itself: the shape of the request, not its meaning.
#[derive(Debug)]
pub enum RequestError {
    NotFound,
    /// The path exists, but not with this method (the handler sets `Allow`).
    MethodNotAllowed,
    /// A JSON endpoint got another content type.
    NotJson,
    /// An OAuth endpoint got something other than a form.
    NotForm,
    TooLarge {
        limit: usize,
    },
    /// The body did not arrive within the request timeout.
    TooSlow,
    Unreadable,
    /// The JSON did not parse, or did not have the expected fields.
    BadJson(&'static str),
    BadForm,
    /// The query string did not parse into the endpoint's parameters.
    BadQuery,
    /// A state-changing request that a browser marked as coming from another site.
    CrossSite,
}

#[derive(Debug)]
pub enum ApiError {
    /// From a ceremony that creates a credential (sign-up, adding a passkey).
    Registration(CeremonyError),
    SignIn(CeremonyError),
    Account(AccountError),
    Session(Denied),
    OAuth(OAuthError),
    Request(RequestError),
    /// An admin API request refused before it was looked at (token, scope, rate).
    AdminAuth(super::admin_api::AuthRefusal),
    Admin(AdminError),
    Fault(Fault),
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        ApiError::Admin(e)
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        ApiError::Account(e)
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError::OAuth(e)
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::Request(e)
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        ApiError::Session(e)
    }
}

impl From<Fault> for ApiError {
    fn from(e: Fault) -> Self {
        ApiError::Fault(e)
    }
}

impl From<crate::ephemeral::StoreError> for ApiError {
    fn from(e: crate::ephemeral::StoreError) -> Self {
        ApiError::Fault(e.into())
    }
}

/// What the client receives for one refusal.
pub struct Answer {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: Cow<'static, str>,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

impl Answer {
    fn retry_after(mut self, secs: u64) -> Answer {
        self.retry_after = Some(secs);
        self
    }
}

pub(super) fn answer(
    status: StatusCode,
    code: &'static str,
    description: impl Into<Cow<'static, str>>,
) -> Answer {
    let retry_after = match status {
        StatusCode::TOO_MANY_REQUESTS => Some(60),
        StatusCode::SERVICE_UNAVAILABLE => Some(5),
        _ => None,
    };
    Answer {
        status,
        code,
        description: description.into(),
        retry_after,
    }
}

pub(super) const BAD: StatusCode = StatusCode::BAD_REQUEST;
pub(super) const UNAUTHORIZED: StatusCode = StatusCode::UNAUTHORIZED;

impl ApiError {
    pub fn answer(&self) -> Answer {
        match self {
            ApiError::Registration(e) => ceremony(e, Phase::Registration),
            ApiError::SignIn(e) => ceremony(e, Phase::SignIn),
            ApiError::Account(e) => account(e),
            ApiError::Session(e) => session(*e),
            ApiError::OAuth(e) => oauth(e),
            ApiError::Request(e) => request(e),
            ApiError::AdminAuth(e) => super::admin_api::refusals::auth(e),
            ApiError::Admin(e) => super::admin_api::refusals::admin(e),
            ApiError::Fault(e) => fault(e),
        }
    }

    /// The stable code, for metrics and security events.
    pub fn code(&self) -> &'static str {
        self.answer().code
    }

    /// The cause behind a 5xx, logged once when the response is built.
    fn fault(&self) -> Option<&Fault> {
        match self {
            ApiError::Registration(CeremonyError::Fault(f))
            | ApiError::SignIn(CeremonyError::Fault(f))
            | ApiError::Account(AccountError::Fault(f))
            | ApiError::OAuth(OAuthError::Fault(f))
            | ApiError::Admin(AdminError::Fault(f))
            | ApiError::Fault(f) => Some(f),
            _ => None,
        }
    }
}

fn ceremony(e: &CeremonyError, phase: Phase) -> Answer {
    use CeremonyError as E;
    // A failed verification is 401 at sign-in (no one was authenticated) and 400 at
    // registration (the new credential was bad).
    let verification = match phase {
        Phase::Registration => BAD,
        Phase::SignIn => UNAUTHORIZED,
    };
    let v = |code, description: &'static str| answer(verification, code, description);
    match e {
        E::Input(input) => answer(BAD, "invalid_request", input_sentence(*input)),
        E::CredentialIdTooLong => answer(BAD, "invalid_request", "The credential id is longer than WebAuthn allows (1,023 bytes)."),
        E::AuthenticatorDataMismatch => answer(BAD, "invalid_request", "The authenticator data does not match what its flags announce."),
        E::PublicKeyMismatch => answer(BAD, "invalid_request", "The public key in the payload is not the key the authenticator attested."),
        E::CrossOrigin => v("origin_mismatch", "The passkey was used inside a frame on another site; open this site directly and try again."),
        E::UnreadableResponse(detail) => answer(
            BAD,
            "invalid_request",
            format!("The request body is not a valid WebAuthn response ({detail}); send credential.toJSON() as JSON."),
        ),
        E::WrongCredentialType => answer(BAD, "invalid_request", "The credential type must be \"public-key\"."),
        E::IdMismatch => answer(BAD, "invalid_request", "The credential id does not match rawId; send credential.toJSON() unchanged."),
        E::MalformedResponse => answer(BAD, "invalid_request", "The passkey response is malformed or inconsistent; try again with your browser's passkey prompt."),
        E::UnreadableAttestation => answer(BAD, "invalid_request", "The attestation object could not be read."),
        E::ChallengeExpired => v("challenge_expired", "This passkey request has expired or was already used; start again."),
        E::UsernameTaken => answer(StatusCode::CONFLICT, "username_taken", "This username is already taken; choose another one, or sign in if it is yours."),
        E::CredentialExists => answer(StatusCode::CONFLICT, "credential_exists", "This passkey is already registered; use it to sign in, or create a new one on another device."),
        E::AccountGone => answer(UNAUTHORIZED, "login_required", "Your account no longer exists."),
        E::AccountDisabled => answer(StatusCode::FORBIDDEN, "account_disabled", "Your account is disabled; contact your administrator."),
        E::RegistrationClosed => answer(StatusCode::FORBIDDEN, "registration_closed", "Sign-up is closed, or this invitation is used, expired or for another username; ask your administrator for a new invitation."),
        E::RateLimited => answer(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many attempts from this address; wait a minute and try again."),
        E::ChallengeMismatch => v("challenge_mismatch", "The passkey answered a different request than the one in progress; start again."),
        E::OriginMismatch => v("origin_mismatch", "The passkey was used from a page that is not this site; open this site directly and try again."),
        E::RpIdMismatch => v("rp_id_mismatch", "The passkey belongs to a different site; use a passkey created for this site."),
        E::UserVerificationRequired => v("user_verification_required", "Your device did not verify you (PIN, fingerprint or face); try again and complete the check."),
        E::UnknownCredential => v("unknown_credential", "This passkey is not registered here; sign in with another passkey or create an account."),
        E::CounterRegression => v("counter_regression", "This passkey reported a usage count that went backwards, which can mean it was copied; use another passkey and check your account."),
        E::InvalidSignature => v("invalid_signature", "The passkey's signature did not verify; try again, or use another passkey."),
        E::Unverifiable => v("invalid_signature", "The passkey's response could not be verified; try again, or use another passkey."),
        E::InvalidAttestation => v("invalid_attestation", "The new passkey could not be verified; try again or use another authenticator."),
        E::Fault(f) => fault(f),
    }
}

fn input_sentence(e: InputError) -> &'static str {
    match e {
        InputError::UsernameLength => "A username must be 3 to 64 characters long.",
        InputError::UsernameCharacters => {
            "A username may contain only letters a-z, digits and . _ - @ +"
        }
        InputError::UsernameStart => "A username must start with a letter or a digit.",
        InputError::Email => {
            "The email address is not valid; enter it as name@example.com, or leave it empty."
        }
        InputError::DisplayName => {
            "A display name must be at most 64 characters, without control characters."
        }
    }
}

fn account(e: &AccountError) -> Answer {
    use AccountError as E;
    match e {
        E::InvalidPasskeyName => answer(BAD, "invalid_request", "A passkey name must be 1 to 64 characters, without control characters."),
        E::PasskeyNotFound => answer(StatusCode::NOT_FOUND, "not_found", "There is no such passkey on your account; reload the page."),
        E::LastPasskey => answer(StatusCode::CONFLICT, "last_credential", "This is your only passkey, so it cannot be deleted; add another passkey first."),
        E::AccountGone => answer(UNAUTHORIZED, "login_required", "Your account no longer exists."),
        E::RecoveryRefused => answer(UNAUTHORIZED, "invalid_recovery_code", "That username and recovery code do not match, or the code was already used; check both and try again."),
        E::RecoveryRateLimited => answer(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many recovery attempts; wait 15 minutes and try again.").retry_after(crate::rate_limit::RECOVERY_WINDOW.as_secs()),
        E::RecoveryLinkRefused => answer(BAD, "invalid_recovery_code", "This recovery link was already used, has expired or is not valid; ask your administrator for a new one."),
        E::AccountDisabled => answer(StatusCode::FORBIDDEN, "account_disabled", "Your account is disabled; contact your administrator."),
        E::Fault(f) => fault(f),
    }
}

fn session(e: Denied) -> Answer {
    match e {
        Denied::NotSignedIn => answer(
            UNAUTHORIZED,
            "login_required",
            "You are not signed in, or your session ended; sign in again.",
        ),
        Denied::ReauthenticationRequired => answer(
            UNAUTHORIZED,
            "reauthentication_required",
            "This needs a recent sign-in; confirm it is you with your passkey, then try again.",
        ),
        Denied::RecoveryOnly => answer(
            StatusCode::FORBIDDEN,
            "login_required",
            "A recovery session can only add a new passkey; add one, then sign in with it.",
        ),
    }
}

fn oauth(e: &OAuthError) -> Answer {
    use OAuthError as E;
    match e {
        E::InvalidRequest(d) => answer(BAD, "invalid_request", *d),
        E::InvalidClient(d) => answer(UNAUTHORIZED, "invalid_client", *d),
        E::InvalidGrant(d) => answer(BAD, "invalid_grant", *d),
        E::InvalidScope(d) => answer(BAD, "invalid_scope", *d),
        E::UnsupportedGrantType => answer(
            BAD,
            "unsupported_grant_type",
            "Only authorization_code and refresh_token grants are supported.",
        ),
        E::InvalidToken(d) => answer(UNAUTHORIZED, "invalid_token", *d),
        E::RateLimited => answer(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests from this address; wait a minute and try again.",
        ),
        E::NoBearerToken => answer(
            UNAUTHORIZED,
            "invalid_token",
            "A Bearer access token is required.",
        ),
        E::Fault(f) => fault(f),
    }
}

/// The `error` and `error_description` of an error sent back to a client's redirect URI.
pub fn authorize(e: &AuthorizeError) -> (&'static str, &'static str) {
    use AuthorizeError as E;
    match e {
        E::InvalidRequest(d) => ("invalid_request", d),
        E::UnsupportedResponseType => (
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ),
        E::InvalidScope(d) => ("invalid_scope", d),
        E::RequestNotSupported => (
            "request_not_supported",
            "Request objects are not supported.",
        ),
        E::RequestUriNotSupported => ("request_uri_not_supported", "request_uri is not supported."),
        E::LoginRequired(d) => ("login_required", d),
        E::AccessDenied => (
            "access_denied",
            "Your account is not allowed to sign in to this service.",
        ),
    }
}

fn request(e: &RequestError) -> Answer {
    use RequestError as E;
    match e {
        E::NotFound => answer(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address.",
        ),
        E::MethodNotAllowed => answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "This address does not take that method; see the Allow header.",
        ),
        E::NotJson => answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Send the request body as JSON with Content-Type: application/json.",
        ),
        E::NotForm => answer(
            BAD,
            "invalid_request",
            "Send the parameters as application/x-www-form-urlencoded.",
        ),
        E::TooLarge { limit } => answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("The request body is larger than {} KiB.", limit / 1024),
        ),
        E::BadQuery => answer(
            BAD,
            "invalid_request",
            "The query parameters could not be read.",
        ),
        E::TooSlow => answer(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
            "The request body did not arrive in time; send it at once.",
        ),
        E::Unreadable => answer(
            BAD,
            "invalid_request",
            "The request body could not be read.",
        ),
        E::BadJson(what) => answer(
            BAD,
            "invalid_request",
            format!("The request body is not the expected JSON ({what})."),
        ),
        E::BadForm => answer(
            BAD,
            "invalid_request",
            "The form parameters could not be read.",
        ),
        E::CrossSite => answer(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "This request came from another site and was refused; use this site's own pages.",
        ),
    }
}

pub(super) fn fault(e: &Fault) -> Answer {
    match e {
        Fault::Database(db) if db.is_outage() => unavailable(),
        Fault::Store(_) => unavailable(),
        Fault::Database(_) | Fault::Internal(_) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Something went wrong on our side; try again shortly.",
        ),
    }
}

/// A dependency did not answer: the outage itself is logged where it is noticed (`Outage`).
pub(super) fn unavailable() -> Answer {
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "The service is briefly unavailable; try again in a few seconds.",
    )
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.answer();
        write!(f, "{}: {}", a.code, a.description)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.answer().status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = self.fault() {
            match cause {
                Fault::Store(_) => {}
                Fault::Database(db) if db.is_outage() => {}
                other => tracing::error!(error = %other, "internal error"),
            }
        }
        let a = self.answer();
        let mut res = HttpResponse::build(a.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(secs) = a.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(challenge) = oauth_challenge(self, &a) {
            res.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        res.json(ErrorBody {
            error: a.code,
            error_description: &a.description,
        })
    }
}

/// The `WWW-Authenticate` challenge of RFC 6749 §5.2 (client authentication) and RFC 6750
/// §3 (bearer tokens).
fn oauth_challenge(e: &ApiError, a: &Answer) -> Option<String> {
    if let ApiError::AdminAuth(refusal) = e {
        return super::admin_api::challenge(refusal);
    }
    let ApiError::OAuth(e) = e else {
        return None;
    };
    match e {
        OAuthError::InvalidClient(_) => Some("Basic realm=\"passkey-idp\"".to_string()),
        OAuthError::NoBearerToken => Some("Bearer realm=\"passkey-idp\"".to_string()),
        OAuthError::InvalidToken(_) => Some(format!(
            "Bearer realm=\"passkey-idp\", error=\"invalid_token\", error_description=\"{}\"",
            a.description.replace(['"', '\\'], "")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod page_sentences {
    /// Every code this module can answer with: the literals of the form `word_word`.
    fn codes() -> Vec<String> {
        let source = include_str!("error.rs");
        let source = &source[..source.find("mod page_sentences").unwrap_or(source.len())];
        let mut codes: Vec<String> = source
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.contains('_') && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_string)
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }

    #[test]
    fn every_error_code_has_a_page_sentence_in_every_language() {
        let codes = codes();
        // The scan itself works: the codes of docs/api.md are all found.
        for known in [
            "invalid_request",
            "username_taken",
            "server_error",
            "temporarily_unavailable",
            "access_denied",
            "invalid_grant",
        ] {
            assert!(
                codes.iter().any(|c| c == known),
                "{known} not found in {codes:?}"
            );
        }
        assert!(codes.len() >= 25, "{codes:?}");
        for catalog in crate::i18n::catalogs() {
            for code in &codes {
                let key = format!("error.{code}");
                assert_ne!(
                    catalog.t(&key),
                    key,
                    "{}: no sentence for {code}",
                    catalog.lang()
                );
            }
        }
    }
}
